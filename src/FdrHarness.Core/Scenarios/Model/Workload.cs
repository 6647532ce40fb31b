using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A phase of work. It starts at <see cref="Start"/> or when the phase named by <see cref="After"/> ends.</summary>
[Union(typeof(InjectPhase), typeof(ReplicatePhase), typeof(QosTransitionPhase), typeof(DeletePhase), typeof(NoisePhase))]
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

[UnionCase("inject"), Doc("Write the experiments' files at the pace of the load simulations.")]
public sealed record InjectPhase : Phase
{
    [RequiredKey, Doc("NBomber-style load simulations, one after another; rates are files per interval.")]
    public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
}

public enum RuleLevel { File, Dataset, Container }

[UnionCase("replicate"), Doc("Add a rule on each injected dataset (or container, or file).")]
public sealed record ReplicatePhase : Phase
{
    [RequiredKey, Doc("The rule to add.")]
    public RuleSpec Rule { get; init; } = null!;

    [Doc("The DIDs that receive the rule: file, dataset or container.")]
    public RuleLevel Level { get; init; } = RuleLevel.Dataset;

    [Doc("Share of the DIDs that receive the rule, 0 to 1.")]
    public double Fraction { get; init; } = 1.0;

    [Doc("Pace of rule creation; when omitted, a rule as soon as its DID is complete.")]
    public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
}

[UnionCase("qos_transition"), Doc("Move DIDs to another QoS class: a new rule, then the old rule removed.")]
public sealed record QosTransitionPhase : Phase
{
    [RequiredKey, Doc("The replicate phase whose rules are replaced.")]
    public string From { get; init; } = "";

    [RequiredKey, Doc("The new rule.")]
    public RuleSpec Rule { get; init; } = null!;

    [Doc("Remove the old rule once the new one is OK.")]
    public bool RemoveOld { get; init; } = true;

    [Doc("Share of the rules that move, 0 to 1.")]
    public double Fraction { get; init; } = 1.0;

    public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
}

[UnionCase("delete"), Doc("Expire or remove rules and DIDs; the cleaner, reaper and undertaker do the rest.")]
public sealed record DeletePhase : Phase
{
    [Doc("Replicate or qos_transition phases whose rules are removed (all rules of the experiments when omitted).")]
    public IReadOnlyList<string> RulesOf { get; init; } = [];

    [Doc("Set this lifetime on the rules instead of removing them at once.")]
    public TimeSpan? RuleLifetime { get; init; }

    [Doc("Set this lifetime on the datasets: the undertaker deletes them when it runs out.")]
    public TimeSpan? DidLifetime { get; init; }

    [Doc("Share of the DIDs affected, 0 to 1.")]
    public double Fraction { get; init; } = 1.0;

    public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
}

[UnionCase("noise"), Doc("ESCAPE's background: per ordered RSE pair a file written at the source and a 1-copy rule to the destination.")]
public sealed record NoisePhase : Phase
{
    [Doc("Size of each noise file.")]
    public ByteSize FileSize { get; init; } = new(100_000_000);

    [Doc("How often a round of noise files is written.")]
    public TimeSpan Every { get; init; } = TimeSpan.FromHours(1);

    [Doc("Lifetime of each noise rule.")]
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    [Doc("RSEs that take part (an RSE expression).")]
    public RseExpression? Rses { get; init; }

    [Doc("Rule activity.")]
    public string Activity { get; init; } = "Functional Test";

    [Doc("Scope of the noise files.")]
    public string Scope { get; init; } = "noise";

    [Doc("How long the noise goes on; until the run ends when omitted.")]
    public TimeSpan? During { get; init; }
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
