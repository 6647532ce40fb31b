using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>
/// A phase of work. It starts at <see cref="Start"/> or when the phase named by <see cref="After"/> ends. Its kinds, each a
/// file of Planning/Phases, are those <see cref="PhaseKind.All"/> lists.
/// </summary>
[Union(Registry = typeof(PhaseKind))]
public abstract record Phase
{
    [Doc("Name other phases and thresholds refer to; defaults to the kind and its position, e.g. inject-1.")]
    public string? Name { get; init; }

    [Doc("Start, as an offset from the run's start (e.g. 2h).")]
    public TimeSpan? Start { get; init; }

    [Doc("Start when this phase has ended.")]
    public string? After { get; init; }

    [Doc("Experiments the phase works on; all when omitted.")]
    public IReadOnlyList<string> Experiments { get; init; } = [];
}

public enum RuleGrouping { All, Dataset, None }

public enum NotifyMode { N, Y, C, P }

/// <summary>A Rucio replication rule, in the words of POST /rules/.</summary>
public sealed record RuleSpec
{
    [Doc("Number of replicas.")]
    public int Copies { get; init; } = 1;

    [RequiredKey, Doc("Where the replicas go, e.g. QOS=SAFE.")]
    public RseExpression RseExpression { get; init; } = null!;

    [Doc("ALL, DATASET or NONE: how files of a DID are kept together.")]
    public RuleGrouping Grouping { get; init; } = RuleGrouping.Dataset;

    [Doc("The rule expires after this long.")]
    public TimeSpan? Lifetime { get; init; }

    [Doc("FTS activity of the transfers.")]
    public string Activity { get; init; } = "User Subscriptions";

    [Doc("Created by the judge-injector instead of in the API call.")]
    public bool Asynchronous { get; init; }

    [Doc("Where transfers may read from.")]
    public RseExpression? SourceReplicaExpression { get; init; }

    [Doc("N, Y, C or P: which rule events Rucio emits.")]
    public NotifyMode Notify { get; init; } = NotifyMode.N;

    [Doc("Rucio rule priority, 1 (low) to 5.")]
    public int Priority { get; init; } = 3;
}

/// <summary>NBomber's load simulations. Rates count operations (files, rules) per interval.</summary>
[Union(typeof(Inject), typeof(RampingInject), typeof(InjectRandom), typeof(IterationsForInject), typeof(KeepConstant), typeof(RampingConstant), typeof(Pause))]
public abstract record LoadSimulation;

[UnionCase("inject"), Doc("Start rate operations every interval, during the given time.")]
public sealed record Inject : LoadSimulation
{
    [RequiredKey] public double Rate { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    [RequiredKey] public TimeSpan During { get; init; }
}

[UnionCase("ramping_inject"), Doc("Move the rate linearly from the previous step's rate to this one.")]
public sealed record RampingInject : LoadSimulation
{
    [RequiredKey] public double Rate { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    [RequiredKey] public TimeSpan During { get; init; }
}

[UnionCase("inject_random"), Doc("A rate drawn between min_rate and max_rate every interval.")]
public sealed record InjectRandom : LoadSimulation
{
    [RequiredKey] public double MinRate { get; init; }
    [RequiredKey] public double MaxRate { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    [RequiredKey] public TimeSpan During { get; init; }
}

[UnionCase("iterations_for_inject"), Doc("Inject at the rate until the given number of operations were started.")]
public sealed record IterationsForInject : LoadSimulation
{
    [RequiredKey] public double Rate { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    [RequiredKey] public long Iterations { get; init; }
}

[UnionCase("keep_constant"), Doc("Closed model: this many concurrent workers, each starting the next operation when one ends.")]
public sealed record KeepConstant : LoadSimulation
{
    [RequiredKey] public int Copies { get; init; }
    [RequiredKey] public TimeSpan During { get; init; }
}

[UnionCase("ramping_constant"), Doc("Closed model: move the number of workers linearly to copies.")]
public sealed record RampingConstant : LoadSimulation
{
    [RequiredKey] public int Copies { get; init; }
    [RequiredKey] public TimeSpan During { get; init; }
}

[UnionCase("pause"), Doc("Do nothing for this long.")]
public sealed record Pause : LoadSimulation
{
    [Positional, RequiredKey] public TimeSpan During { get; init; }
}
