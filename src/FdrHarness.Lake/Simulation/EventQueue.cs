namespace FdrHarness.Lake.Simulation;

/// <summary>
/// The discrete-event queue: actions at virtual instants, run in time order; actions at the same instant run in the
/// order they were scheduled (a sequence number breaks ties), so a run never depends on heap internals.
/// </summary>
public sealed class EventQueue
{
    // Mostly the daemons' and FTS's periodic ticks: a few dozen pending at a time, popped hundreds of thousands of times.
    private readonly TimedHeap<Action> _queue = new();
    private long _seq;

    public int Count => _queue.Count;

    public void Schedule(long atMs, Action action) => _queue.Enqueue(atMs, _seq++, action);

    public bool TryPeekTime(out long atMs) => _queue.TryPeek(out atMs, out _);

    /// <summary>Runs every action due at or before <paramref name="untilMs"/>, advancing the clock to each one.</summary>
    public void RunUntil(VirtualClock clock, long untilMs, CancellationToken ct)
    {
        var n = 0;
        while (_queue.TryPeek(out var at, out var action) && at <= untilMs)
        {
            _queue.RemoveFirst();
            clock.AdvanceTo(at);
            action();
            if ((++n & 4095) == 0) ct.ThrowIfCancellationRequested();
        }
        clock.AdvanceTo(untilMs);
    }
}
