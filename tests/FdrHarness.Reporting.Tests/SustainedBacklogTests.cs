using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// The judged backlog figure: the longest queue held over 5 minutes of samples. A restart's pile-up is one or two
/// samples and must not move it (escape-fdr-2020's judge-evaluator: 22 items, 58 or 100 for one sample when its pods
/// are OOMKilled together); a daemon that falls behind must.
/// </summary>
public sealed class SustainedBacklogTests
{
    private static readonly DateTime T0 = new(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Window = ResourceAnalysis.SustainedWindow;

    // One sample a minute, as escape-fdr-2020 observes.
    private static List<ResourceAnalysis.Instant> Minutes(params long[] backlog) =>
        backlog.Select((b, i) => new ResourceAnalysis.Instant(T0.AddMinutes(i), 0, 0, b, null, null, 3)).ToList();

    [Fact]
    public void A_restarts_pile_up_does_not_move_it_but_is_the_peak()
    {
        var steady = Enumerable.Repeat(22L, 30).ToArray();
        var bothDown = (long[])steady.Clone();
        bothDown[15] = 58;
        var allDown = (long[])steady.Clone();
        allDown[15] = 100;
        allDown[16] = 40; // still draining a minute later
        Assert.Equal(22, ResourceAnalysis.SustainedBacklog(Minutes(steady), Window));
        Assert.Equal(22, ResourceAnalysis.SustainedBacklog(Minutes(bothDown), Window));
        Assert.Equal(22, ResourceAnalysis.SustainedBacklog(Minutes(allDown), Window));
        Assert.Equal(100, Minutes(allDown).Max(t => t.Backlog));
    }

    [Fact]
    public void A_queue_that_keeps_growing_or_stays_long_moves_it()
    {
        // Falling behind by 10 items a minute for 30 minutes: the queue held over the last 5 minutes of samples is
        // the lowest of them, 250 (minutes 25..29; the window (t − 5 min, t] holds five one-minute samples).
        var growing = Enumerable.Range(0, 30).Select(i => 10L * i).ToArray();
        Assert.Equal(250, ResourceAnalysis.SustainedBacklog(Minutes(growing), Window));
        // A plateau of 500 for 6 minutes in a quiet run counts whole; one of 4 minutes counts for nothing.
        var plateau = Enumerable.Repeat(0L, 30).ToArray();
        for (var i = 10; i < 16; i++) plateau[i] = 500;
        Assert.Equal(500, ResourceAnalysis.SustainedBacklog(Minutes(plateau), Window));
        plateau[10] = plateau[11] = 0;
        Assert.Equal(0, ResourceAnalysis.SustainedBacklog(Minutes(plateau), Window));
    }

    [Fact]
    public void A_run_shorter_than_the_window_is_one_window_and_no_samples_is_zero()
    {
        Assert.Equal(7, ResourceAnalysis.SustainedBacklog(Minutes(9, 7, 30), Window));
        Assert.Equal(0, ResourceAnalysis.SustainedBacklog([], Window));
    }
}
