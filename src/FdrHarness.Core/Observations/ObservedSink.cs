namespace FdrHarness.Core.Observations;

/// <summary>
/// Writes to <paramref name="inner"/>, then shows every event and pod change written to <paramref name="onEvent"/> and
/// <paramref name="onLifecycle"/> (abort-on-fail and the progress line watch them).
/// </summary>
public sealed class ObservedSink(IObservationSink inner, Action<HermesEvent>? onEvent = null, Action<PodLifecycleEvent>? onLifecycle = null) : IObservationSink
{
    public void Event(in HermesEvent e)
    {
        inner.Event(e);
        onEvent?.Invoke(e);
    }

    public void Sample(in PodSample s) => inner.Sample(s);

    public void Lifecycle(in PodLifecycleEvent e)
    {
        inner.Lifecycle(e);
        onLifecycle?.Invoke(e);
    }

    public void Fault(in FaultRecord f) => inner.Fault(f);

    public void Injection(in InjectionRecord r) => inner.Injection(r);

    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) => inner.ApiLatency(rows);
}
