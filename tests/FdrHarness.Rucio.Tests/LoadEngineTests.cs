using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Load;

namespace FdrHarness.Rucio.Tests;

/// <summary>The engine on a manual clock: no sleeps, no timing asserts; time moves only when the test says.</summary>
public sealed class LoadEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static async Task Step(ManualTimeProvider clock, TimeSpan by)
    {
        var armed = clock.TimerCreated;
        clock.Advance(by);
        await armed.WaitAsync(TimeSpan.FromSeconds(30)); // the engine is waiting for its next tick again
    }

    [Fact]
    public async Task Operations_start_at_their_intended_instants_in_batches()
    {
        var clock = new ManualTimeProvider(T0);
        var stats = new OperationStats();
        var engine = new LoadEngine(clock, stats, new LoadEngineOptions { Operation = "register", BatchSize = 2, Concurrency = 4 });
        var seen = new List<LoadOperation>();
        var ticks = LoadEngine.Plan([new Inject { Rate = 3, Interval = TimeSpan.FromSeconds(1), During = TimeSpan.FromSeconds(3) }], 1, 1, null).ToList();
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], ticks.Select(t => t.At));

        var run = engine.RunAsync(ticks, (op, _) => { lock (seen) seen.Add(op); return ValueTask.FromResult(OperationResult.Ok); }, CancellationToken.None);
        await Step(clock, TimeSpan.FromSeconds(1));
        var armed = clock.TimerCreated;
        clock.Advance(TimeSpan.FromSeconds(1));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((6L, 9L, 0L, 0L), (result.Ok, result.Items, result.Late, result.Dropped));
        Assert.Equal(6, seen.Count);
        // 3 per second in batches of 2: a batch of 2 and one of 1 at each tick, the items numbered in order.
        Assert.Equal([2L, 1, 2, 1, 2, 1], seen.OrderBy(o => o.Sequence).Select(o => o.Count));
        Assert.Equal([0L, 2, 3, 5, 6, 8], seen.OrderBy(o => o.Sequence).Select(o => o.First));
        Assert.All(seen, o => Assert.Equal(o.IntendedStart, o.ActualStart));
        Assert.Equal([T0, T0, T0.AddSeconds(1), T0.AddSeconds(1), T0.AddSeconds(2), T0.AddSeconds(2)], seen.OrderBy(o => o.Sequence).Select(o => o.IntendedStart));
        var s = stats.Summary("register")!;
        Assert.Equal((6L, 6L, 0L), (s.Count, s.Ok, s.Failed));
        Assert.Equal(0, s.MaxMs);
    }

    [Fact]
    public async Task A_stalled_target_makes_operations_late_and_latency_counts_from_the_intended_start()
    {
        var clock = new ManualTimeProvider(T0);
        var stats = new OperationStats();
        var engine = new LoadEngine(clock, stats, new LoadEngineOptions { Operation = "op", Concurrency = 1, QueueLimit = 10 });
        var stall = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var starts = new List<LoadOperation>();
        var done = new CountdownEvent(3);
        LoadTick[] ticks = [new(TimeSpan.Zero, 1), new(TimeSpan.FromSeconds(1), 1), new(TimeSpan.FromSeconds(2), 1)];

        var run = engine.RunAsync(ticks, async (op, _) =>
        {
            lock (starts) starts.Add(op);
            var r = op.Sequence == 0 ? await stall.Task : OperationResult.Ok;
            return r;
        }, CancellationToken.None);
        await Step(clock, TimeSpan.FromSeconds(1));   // tick 1: the only slot is busy → queued
        clock.Advance(TimeSpan.FromSeconds(1));         // tick 2: queued too
        clock.Advance(TimeSpan.FromMilliseconds(500));  // the target answers the first call at 2.5 s
        stall.SetResult(OperationResult.Ok);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((3L, 3L, 2L, 0L), (result.Started, result.Ok, result.Late, result.Dropped));
        var byStart = starts.OrderBy(o => o.Sequence).ToList();
        Assert.Equal([T0, T0.AddSeconds(2.5), T0.AddSeconds(2.5)], byStart.Select(o => o.ActualStart));
        var s = stats.Summary("op")!;
        Assert.Equal(2, s.Late);
        Assert.InRange(s.MaxMs, 2490, 2510);        // the first call: 0 → 2.5 s
        Assert.InRange(s.P50Ms, 1490, 1510);        // the call meant for 1 s that only started at 2.5 s counts 1.5 s, not 0
    }

    [Fact]
    public async Task Operations_beyond_the_queue_are_dropped_and_counted()
    {
        var clock = new ManualTimeProvider(T0);
        var stats = new OperationStats();
        var engine = new LoadEngine(clock, stats, new LoadEngineOptions { Operation = "op", Concurrency = 1, QueueLimit = 0 });
        var stall = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        LoadTick[] ticks = [new(TimeSpan.Zero, 1), new(TimeSpan.FromSeconds(1), 2), new(TimeSpan.FromSeconds(2), 1)];
        var run = engine.RunAsync(ticks, async (op, _) => op.Sequence == 0 ? await stall.Task : OperationResult.Ok, CancellationToken.None);
        await Step(clock, TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        stall.SetResult(OperationResult.Failed);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((1L, 0L, 1L, 3L), (result.Started, result.Ok, result.Failed, result.Dropped));
        var s = stats.Summary("op")!;
        Assert.Equal((1L, 1L, 3L), (s.Count, s.Failed, s.Dropped));
    }

    [Fact]
    public async Task Cancellation_stops_new_operations_and_reports_a_partial_result()
    {
        var clock = new ManualTimeProvider(T0);
        var engine = new LoadEngine(clock, new OperationStats(), new LoadEngineOptions());
        using var cts = new CancellationTokenSource();
        LoadTick[] ticks = [new(TimeSpan.Zero, 1), new(TimeSpan.FromHours(1), 1)];
        var run = engine.RunAsync(ticks, (_, _) => ValueTask.FromResult(OperationResult.Ok), cts.Token);
        await cts.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.Cancelled);
        Assert.Equal(1, result.Ok);
    }

    [Fact]
    public void Statistics_table_has_percentiles_and_status_codes()
    {
        var s = new OperationStats();
        for (var i = 1; i <= 100; i++) s.Record("add_replicas", TimeSpan.FromMilliseconds(i), OperationResult.Ok, 201);
        s.Record("add_replicas", TimeSpan.FromSeconds(2), OperationResult.Failed, 503);
        s.Retry("add_replicas", 503);
        var r = s.Summary("add_replicas")!;
        Assert.Equal((101L, 100L, 1L, 1L), (r.Count, r.Ok, r.Failed, r.Retries));
        Assert.InRange(r.P50Ms, 49.5, 51.5); // HdrHistogram: 3 significant digits
        Assert.InRange(r.P95Ms, 94.5, 96.5);
        Assert.InRange(r.MaxMs, 1990, 2010);
        Assert.Equal(100, r.StatusCodes[201]);
        Assert.Equal(2, r.StatusCodes[503]);
        Assert.StartsWith("operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes\nadd_replicas,101,100,1,1,0,0,", Core.Observations.ApiLatencyFile.ToCsv(s.Rows()));
    }
}
