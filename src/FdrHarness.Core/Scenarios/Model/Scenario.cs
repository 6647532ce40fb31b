using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A full-dress rehearsal: the data lake, its load, its daemons, the faults to inject and the verdicts to reach.</summary>
public sealed record Scenario
{
    [RequiredKey, Doc("Name, seed, length and pace of the rehearsal.")]
    public RunSettings Run { get; init; } = new();

    [Doc("The Kubernetes nodes the Rucio pods are scheduled on.")]
    public ClusterSpec Cluster { get; init; } = new();

    [KeyedBy(nameof(QosClass.Name)), Doc("QoS classes, the values RSEs carry in their QOS attribute.")]
    public IReadOnlyList<QosClass> QosClasses { get; init; } = [];

    [RequiredKey, KeyedBy(nameof(RseSpec.Name)), Doc("Rucio Storage Elements by name.")]
    public IReadOnlyList<RseSpec> Rses { get; init; } = [];

    [Doc("The network between RSEs as FTS sees it.")]
    public LinkSettings Links { get; init; } = new();

    [RequiredKey, KeyedBy(nameof(ExperimentSpec.Name)), Doc("Experiments (Rucio scopes) and the files they write.")]
    public IReadOnlyList<ExperimentSpec> Experiments { get; init; } = [];

    [Doc("Phases of work, sequential (after) or overlapping (start).")]
    public IReadOnlyList<Phase> Workload { get; init; } = [];

    [KeyedBy(nameof(DaemonSpec.Name)), Doc("Rucio daemons and servers with their pods, threads, requests and limits.")]
    public IReadOnlyList<DaemonSpec> Daemons { get; init; } = [];

    [Doc("Faults to inject: pod kills, limit changes, RSE outages, link degradation.")]
    public IReadOnlyList<ChaosAction> Chaos { get; init; } = [];

    [Doc("Pass/fail conditions on report figures.")]
    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    [Doc("Where the rehearsal runs: the embedded data lake (default) or a real Rucio.")]
    public TargetSettings Target { get; init; } = new();
}

public sealed record RunSettings
{
    [RequiredKey, Doc("Scenario name; names the report folder.")]
    public string Name { get; init; } = "";

    [Doc("What this rehearsal is for.")]
    public string? Description { get; init; }

    [Doc("Seed of every random choice; same seed, same run.")]
    public long Seed { get; init; } = 1;

    [Doc("Length of the rehearsal, e.g. 24h.")]
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(24);

    [Doc("How often pod resources are sampled, e.g. 1m.")]
    public TimeSpan ObservationInterval { get; init; } = TimeSpan.FromMinutes(1);

    [Doc("Multiplies file counts and injection rates: 0.01 for a quick look, 10 for a stress run.")]
    public double Scale { get; init; } = 1.0;

    [Doc("Serve Prometheus metrics on this port while running (http://HOST:PORT/metrics); --metrics-port overrides.")]
    public int? MetricsPort { get; init; }

    [Doc("With metrics on: wait up to this long for a first scrape before starting and for two scrapes after the end, so Prometheus holds the whole run; --metrics-wait overrides.")]
    public TimeSpan MetricsWait { get; init; } = TimeSpan.Zero;
}

public sealed record ClusterSpec
{
    [Doc("Node pools.")]
    public IReadOnlyList<NodePool> Nodes { get; init; } = [];

    [Doc("Namespace the Rucio pods run in.")]
    public string Namespace { get; init; } = "rucio";
}

public sealed record NodePool
{
    [Doc("Pool name.")]
    public string Name { get; init; } = "worker";

    [Doc("Number of nodes.")]
    public int Count { get; init; } = 1;

    [RequiredKey, Doc("Allocatable CPU per node, e.g. 8 or 7500m.")]
    public Quantities.CpuQuantity Cpu { get; init; }

    [RequiredKey, Doc("Allocatable memory per node, e.g. 16Gi.")]
    public Quantities.ByteSize Memory { get; init; }
}

public sealed record QosClass
{
    [FromKey] public string Name { get; init; } = "";

    [Doc("What the class promises.")]
    public string? Description { get; init; }
}
