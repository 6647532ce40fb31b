using FdrHarness.Core.Observations;

/// <summary>What every benchmark prints beside its figures: the machine's load, which says what the figures are worth.</summary>
internal static class Machine
{
    /// <summary>The load averages over the last 1 (5, 15) minutes, as many as <paramref name="fields"/>; "?" where /proc is absent.</summary>
    public static string LoadAverage(int fields = 1)
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(fields)); }
        catch (IOException) { return "?"; }
    }
}

/// <summary>An observation sink that only counts the events: the lake or the consumer measured without writing Parquet.</summary>
internal sealed class EventCountingSink : IObservationSink
{
    public long Events;
    public void Event(in HermesEvent e) => Events++;
    public void Sample(in PodSample s) { }
    public void Lifecycle(in PodLifecycleEvent e) { }
    public void Fault(in FaultRecord f) { }
    public void Injection(in InjectionRecord r) { }
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }
}
