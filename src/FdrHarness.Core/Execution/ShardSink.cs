using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;

namespace FdrHarness.Core.Execution;

/// <summary>
/// What a shard writes of what its target shows it: the events of the DIDs in its part of the plan (<see
/// cref="PlanShard.OwnsDidNamed"/>) and the injections into them, and the cluster's observations (pod samples, lifecycle, chaos faults) only on the
/// shard that owns the cluster. Every observation of the run is thus written by exactly one shard, so the merged shards
/// hold what one process would. An event without a scope and name is the cluster shard's.
/// </summary>
/// <remarks>
/// On a live run every shard reads the same broker; on the embedded lake every shard simulates the whole lake. Either
/// way each sees all events, and this is the one place that decides which are its own.
/// </remarks>
public sealed class ShardSink(IObservationSink inner, PlanShard shard) : IObservationSink
{
    private long _events;

    /// <summary>Events written (kept) so far.</summary>
    public long Events => Interlocked.Read(ref _events);

    public void Event(in HermesEvent e)
    {
        var mine = e.Scope is { } scope && e.Name is { } name ? shard.OwnsDidNamed(scope, name) : shard.OwnsCluster;
        if (!mine) return;
        inner.Event(e);
        Interlocked.Increment(ref _events);
    }

    public void Sample(in PodSample s)
    {
        if (shard.OwnsCluster) inner.Sample(s);
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        if (shard.OwnsCluster) inner.Lifecycle(e);
    }

    public void Fault(in FaultRecord f)
    {
        if (shard.OwnsCluster) inner.Fault(f);
    }

    /// <summary>Injections into the shard's own DIDs (a dataset of its part, or its noise file).</summary>
    public void Injection(in InjectionRecord r)
    {
        if (shard.OwnsDidNamed(r.Scope, r.Name)) inner.Injection(r);
    }

    /// <summary>Each shard's own calls (a shard makes only its own).</summary>
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) => inner.ApiLatency(rows);
}
