namespace FdrHarness.Lake.Simulation;

/// <summary>
/// The discrete-event queue: actions at virtual instants, run in time order; actions at the same instant run in the
/// order they were scheduled (a sequence number breaks ties), so a run never depends on heap internals.
/// </summary>
public sealed class EventQueue
{
    private readonly PriorityQueue<Action, (long At, long Seq)> _queue = new();
    private long _seq;

    public int Count => _queue.Count;

    public void Schedule(long atMs, Action action) => _queue.Enqueue(action, (atMs, _seq++));

    public bool TryPeekTime(out long atMs)
    {
        if (_queue.TryPeek(out _, out var p))
        {
            atMs = p.At;
            return true;
        }
        atMs = 0;
        return false;
    }

    /// <summary>Runs every action due at or before <paramref name="untilMs"/>, advancing the clock to each one.</summary>
    public void RunUntil(VirtualClock clock, long untilMs, CancellationToken ct)
    {
        var n = 0;
        while (_queue.TryPeek(out _, out var p) && p.At <= untilMs)
        {
            var action = _queue.Dequeue();
            clock.AdvanceTo(p.At);
            action();
            if ((++n & 4095) == 0) ct.ThrowIfCancellationRequested();
        }
        clock.AdvanceTo(untilMs);
    }
}
