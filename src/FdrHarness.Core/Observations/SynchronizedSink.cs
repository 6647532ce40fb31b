namespace FdrHarness.Core.Observations;

/// <summary>
/// One sink for several producers of a live run (the broker's events, the cluster's pods and samples): each call holds a
/// lock, because the Parquet sink underneath takes one producer. Hooks of an <see cref="ObservedSink"/> inside run under
/// the same lock. The lake, one thread, goes without it.
/// </summary>
public sealed class SynchronizedSink(IObservationSink inner) : IObservationSink
{
    private readonly Lock _gate = new();

    public void Event(in HermesEvent e)
    {
        lock (_gate) inner.Event(e);
    }

    public void Sample(in PodSample s)
    {
        lock (_gate) inner.Sample(s);
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        lock (_gate) inner.Lifecycle(e);
    }

    public void Fault(in FaultRecord f)
    {
        lock (_gate) inner.Fault(f);
    }

    public void Injection(in InjectionRecord r)
    {
        lock (_gate) inner.Injection(r);
    }

    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows)
    {
        lock (_gate) inner.ApiLatency(rows);
    }
}
