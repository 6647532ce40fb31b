using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

[Union(typeof(PodKill), typeof(LimitChange), typeof(RseOutage), typeof(LinkDegradation))]
public abstract record ChaosAction
{
    [Doc("Name shown on plots and in the audit log.")]
    public string? Name { get; init; }
}

/// <summary>Chaos Mesh's modes: how many of the selected pods are hit.</summary>
public enum SelectionMode { One, All, Fixed, FixedPercent, RandomMaxPercent }

/// <summary>Which pods: by daemon (the Helm chart's labels), labels, namespaces or names.</summary>
public sealed record PodSelector
{
    [Doc("A daemon of the daemons section, e.g. judge-evaluator.")]
    public string? Daemon { get; init; }

    [Doc("Label selector (all must match).")]
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    [Doc("Namespaces to look in.")]
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    [Doc("Pod names.")]
    public IReadOnlyList<string> Pods { get; init; } = [];
}

/// <summary>When an action happens: once at a time, or every interval between two times.</summary>
public sealed record Schedule
{
    [Doc("Once, at this offset from the start.")]
    public TimeSpan? At { get; init; }

    [Doc("Repeatedly, with this period.")]
    public TimeSpan? Every { get; init; }

    [Doc("First repetition (default: one period after the start).")]
    public TimeSpan? From { get; init; }

    [Doc("No repetition after this time.")]
    public TimeSpan? Until { get; init; }
}

[UnionCase(ChaosKinds.PodKill), Doc("Delete pods; their Deployment replaces them.")]
public sealed record PodKill : ChaosAction
{
    [RequiredKey] public PodSelector Selector { get; init; } = new();
    public SelectionMode Mode { get; init; } = SelectionMode.One;

    [Doc("Pods for fixed; percent for fixed-percent and random-max-percent.")]
    public double? Value { get; init; }

    [RequiredKey] public Schedule Schedule { get; init; } = new();
    public TimeSpan GracePeriod { get; init; } = TimeSpan.Zero;
}

[UnionCase(ChaosKinds.LimitChange), Doc("Change a daemon's requests or limits at a time (a rolling restart).")]
public sealed record LimitChange : ChaosAction
{
    [RequiredKey] public string Daemon { get; init; } = "";
    [RequiredKey] public TimeSpan At { get; init; }
    public Resources? Limits { get; init; }
    public Resources? Requests { get; init; }
}

public enum RseOperation { Read, Write, Delete }

[UnionCase(ChaosKinds.RseOutage), Doc("Make an RSE unavailable for some operations for a while.")]
public sealed record RseOutage : ChaosAction
{
    [RequiredKey] public string Rse { get; init; } = "";
    [RequiredKey] public TimeSpan From { get; init; }
    [RequiredKey] public TimeSpan During { get; init; }

    [Doc("Operations that stop working.")]
    public IReadOnlyList<RseOperation> Unavailable { get; init; } = [RseOperation.Read, RseOperation.Write, RseOperation.Delete];
}

[UnionCase(ChaosKinds.LinkDegradation), Doc("Slow down or break the links between two RSE sets for a while.")]
public sealed record LinkDegradation : ChaosAction
{
    [RequiredKey] public RseExpression Source { get; init; } = null!;
    [RequiredKey] public RseExpression Destination { get; init; } = null!;
    [RequiredKey] public TimeSpan From { get; init; }
    [RequiredKey] public TimeSpan During { get; init; }

    [Doc("Multiplies the links' bandwidth, 0 to 1.")]
    public double BandwidthFactor { get; init; } = 1.0;

    [Doc("Failure probability while degraded.")]
    public double? FailureProbability { get; init; }
}
