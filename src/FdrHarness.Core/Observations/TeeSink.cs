namespace FdrHarness.Core.Observations;

/// <summary>
/// Writes every observation to <paramref name="inner"/>, then shows it to <paramref name="observer"/> (the live metrics):
/// whoever watches a run sees exactly what its files will hold, on either target.
/// </summary>
public sealed class TeeSink(IObservationSink inner, IObservationSink observer) : IObservationSink
{
    public void Event(in HermesEvent e)
    {
        inner.Event(e);
        observer.Event(e);
    }

    public void Sample(in PodSample s)
    {
        inner.Sample(s);
        observer.Sample(s);
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        inner.Lifecycle(e);
        observer.Lifecycle(e);
    }

    public void Fault(in FaultRecord f)
    {
        inner.Fault(f);
        observer.Fault(f);
    }

    public void Injection(in InjectionRecord r)
    {
        inner.Injection(r);
        observer.Injection(r);
    }

    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows)
    {
        inner.ApiLatency(rows);
        observer.ApiLatency(rows);
    }
}
