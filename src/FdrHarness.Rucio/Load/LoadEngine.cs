using System.Threading.RateLimiting;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Rucio.Load;

/// <summary>What one started operation is asked to do: <see cref="Count"/> items (files, rules) from <see cref="First"/>.</summary>
public readonly record struct LoadOperation(long Sequence, long First, long Count, DateTimeOffset IntendedStart, DateTimeOffset ActualStart);

public sealed record LoadEngineOptions
{
    /// <summary>Name the statistics are kept under.</summary>
    public string Operation { get; init; } = "op";
    /// <summary>Items one operation carries (the batch size of a bulk call).</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Operations in flight at once.</summary>
    public int Concurrency { get; init; } = 8;
    /// <summary>Operations that may wait for a free slot; beyond this they are dropped (the load is more than the target takes).</summary>
    public int QueueLimit { get; init; } = 10_000;
    /// <summary>An operation starting later than this after its intended instant counts as late.</summary>
    public TimeSpan LateAfter { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Counts of one run of the engine.</summary>
public sealed record LoadResult(long Started, long Ok, long Failed, long Late, long Dropped, long Items, bool Cancelled);

/// <summary>
/// The open model of NBomber on wall-clock time: the scenario's load simulations fix when each operation is INTENDED to start;
/// operations start at that instant whatever the target's speed (a slow target does not slow the schedule), wait for a
/// concurrency slot when all are busy (late) or are dropped when the queue is full. Latency is measured from the intended
/// start, so a stalled target shows in the percentiles instead of hiding (no coordinated omission).
/// </summary>
public sealed class LoadEngine(TimeProvider time, OperationStats stats, LoadEngineOptions options)
{
    public OperationStats Stats { get; } = stats;

    /// <summary>Ticks from <see cref="LoadSchedule"/> for the load simulations of a phase.</summary>
    public static IEnumerable<LoadTick> Plan(IReadOnlyList<LoadSimulation> steps, double scale, ulong streamKey, long? untilTotal) =>
        LoadSchedule.Ticks(steps, scale, streamKey, untilTotal);

    /// <param name="progress">Called after every finished operation (live progress).</param>
    public async Task<LoadResult> RunAsync(IEnumerable<LoadTick> ticks, Func<LoadOperation, CancellationToken, ValueTask<OperationResult>> operation,
        CancellationToken ct, Action<LoadResult>? progress = null)
    {
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Math.Max(1, options.Concurrency),
            QueueLimit = Math.Max(0, options.QueueLimit),
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var origin = time.GetUtcNow();
        var running = new List<Task>();
        long seq = 0, item = 0, started = 0, ok = 0, failed = 0, late = 0, dropped = 0, items = 0;
        var cancelled = false;
        LoadResult Snapshot() => new(Interlocked.Read(ref started), Interlocked.Read(ref ok), Interlocked.Read(ref failed),
            Interlocked.Read(ref late), Interlocked.Read(ref dropped), Interlocked.Read(ref items), cancelled);

        async Task Execute(RateLimitLease lease, LoadOperation op)
        {
            using (lease)
            {
                var actual = time.GetUtcNow();
                op = op with { ActualStart = actual };
                if (actual - op.IntendedStart > options.LateAfter)
                {
                    Interlocked.Increment(ref late);
                    Stats.Late(options.Operation);
                }
                Interlocked.Increment(ref started);
                OperationResult result;
                try { result = await operation(op, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { result = OperationResult.Failed; }
                catch (Exception) { result = OperationResult.Failed; } // the operation's own stats say why
                Stats.Record(options.Operation, time.GetUtcNow() - op.IntendedStart, result);
                if (result == OperationResult.Ok) { Interlocked.Increment(ref ok); Interlocked.Add(ref items, op.Count); }
                else Interlocked.Increment(ref failed);
            }
            progress?.Invoke(Snapshot());
        }

        async Task Queued(ValueTask<RateLimitLease> pending, LoadOperation op)
        {
            var lease = await pending.ConfigureAwait(false);
            if (!lease.IsAcquired) { lease.Dispose(); Interlocked.Increment(ref dropped); Stats.Dropped(options.Operation); return; }
            await Execute(lease, op).ConfigureAwait(false);
        }

        try
        {
            foreach (var tick in ticks)
            {
                var intended = origin + tick.At;
                var wait = intended - time.GetUtcNow();
                if (wait > TimeSpan.Zero) await Task.Delay(wait, time, ct).ConfigureAwait(false);
                for (var left = tick.Operations; left > 0;)
                {
                    var n = Math.Min(left, Math.Max(1, options.BatchSize));
                    left -= n;
                    var op = new LoadOperation(seq++, item, n, intended, default);
                    item += n;
                    var lease = limiter.AttemptAcquire();
                    if (lease.IsAcquired) { running.Add(Execute(lease, op)); continue; }
                    lease.Dispose();
                    var pending = limiter.AcquireAsync(1, ct);
                    if (pending.IsCompleted && !pending.Result.IsAcquired)
                    {
                        pending.Result.Dispose();
                        Interlocked.Increment(ref dropped);
                        Stats.Dropped(options.Operation);
                        continue;
                    }
                    running.Add(Queued(pending, op));
                }
                if (running.Count > 1024) running.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            cancelled = true; // Ctrl-C: no new operations; those in flight finish or observe the token
        }
        try { await Task.WhenAll(running).ConfigureAwait(false); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { cancelled = true; }
        return Snapshot() with { Cancelled = cancelled || ct.IsCancellationRequested };
    }
}
