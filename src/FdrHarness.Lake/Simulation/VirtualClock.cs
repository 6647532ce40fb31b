namespace FdrHarness.Lake.Simulation;

/// <summary>
/// Virtual time for the embedded lake: a <see cref="TimeProvider"/> that only moves when the simulation advances it.
/// Simulation time is kept in milliseconds since the run's start; <see cref="Epoch"/> maps it to UTC.
/// </summary>
public sealed class VirtualClock : TimeProvider
{
    /// <summary>The virtual start of every run (fixed, so event timestamps are reproducible).</summary>
    public static readonly DateTime Epoch = new(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);

    public long NowMs { get; private set; }

    public override DateTimeOffset GetUtcNow() => new(ToUtc(NowMs), TimeSpan.Zero);

    public override long TimestampFrequency => 1000;

    public override long GetTimestamp() => NowMs;

    public static DateTime ToUtc(long ms) => Epoch.AddTicks(ms * TimeSpan.TicksPerMillisecond);

    public DateTime UtcNow => ToUtc(NowMs);

    internal void AdvanceTo(long ms)
    {
        if (ms < NowMs) throw new InvalidOperationException($"time cannot go back from {NowMs} ms to {ms} ms");
        NowMs = ms;
    }
}
