namespace FdrHarness.Lake.Simulation;

/// <summary>
/// The discrete-event queue: actions at virtual instants, run in time order; actions at the same instant run in the
/// order they were scheduled, so a run never depends on the queue's internals.
/// </summary>
public sealed class EventQueue
{
    // Mostly the daemons' and FTS's periodic ticks, popped about a million times a run: their periods are whole seconds,
    // so the few dozen pending actions fall on a handful of instants. Each instant keeps its actions in scheduling order
    // (what a heap keyed by instant and sequence number gave, a sift per action); the instants are kept latest first, so
    // the earliest is taken from the end.
    private sealed class Instant
    {
        public long At;
        public Action[] Actions = new Action[16];
        public int Count, Next;

        public void Add(Action action)
        {
            if (Count == Actions.Length) Array.Resize(ref Actions, 2 * Count);
            Actions[Count++] = action;
        }
    }

    private Instant[] _instants = new Instant[16];
    private int _instantCount;
    private readonly Stack<Instant> _free = new();

    public int Count { get; private set; }

    public void Schedule(long atMs, Action action)
    {
        Count++;
        // From the earliest instant on: the insertion point is after every later instant.
        var i = _instantCount - 1;
        while (i >= 0 && _instants[i].At < atMs) i--;
        if (i >= 0 && _instants[i].At == atMs)
        {
            _instants[i].Add(action);
            return;
        }
        var instant = _free.Count > 0 ? _free.Pop() : new Instant();
        instant.At = atMs;
        instant.Add(action);
        if (_instantCount == _instants.Length) Array.Resize(ref _instants, 2 * _instantCount);
        Array.Copy(_instants, i + 1, _instants, i + 2, _instantCount - (i + 1));
        _instants[i + 1] = instant;
        _instantCount++;
    }

    public bool TryPeekTime(out long atMs)
    {
        atMs = _instantCount > 0 ? _instants[_instantCount - 1].At : 0;
        return _instantCount > 0;
    }

    /// <summary>Runs every action due at or before <paramref name="untilMs"/>, advancing the clock to each one.</summary>
    public void RunUntil(VirtualClock clock, long untilMs, CancellationToken ct)
    {
        var n = 0;
        while (_instantCount > 0)
        {
            var instant = _instants[_instantCount - 1];
            if (instant.At > untilMs) break;
            clock.AdvanceTo(instant.At);
            // Actions scheduled for this instant while it runs join its end; one scheduled earlier (an error the clock
            // refuses) comes after it in the array and is taken next.
            while (instant.Next < instant.Count && _instants[_instantCount - 1] == instant)
            {
                var action = instant.Actions[instant.Next];
                instant.Actions[instant.Next++] = null!;
                Count--;
                action();
                if ((++n & 4095) == 0) ct.ThrowIfCancellationRequested();
            }
            if (instant.Next < instant.Count || _instants[_instantCount - 1] != instant) continue;
            _instants[--_instantCount] = null!;
            instant.Count = instant.Next = 0;
            _free.Push(instant);
        }
        clock.AdvanceTo(untilMs);
    }
}
