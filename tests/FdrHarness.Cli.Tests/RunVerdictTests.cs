using FdrHarness.Cli.Commands;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Cli.Tests;

/// <summary>Abort-on-fail as a live run uses it: the scenario's marked thresholds judged on the events so far.</summary>
public sealed class RunVerdictTests
{
    private static Core.Scenarios.Model.Scenario Smoke(string thresholds)
    {
        var yaml = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));
        var cut = yaml.IndexOf("\nthresholds:", StringComparison.Ordinal);
        var r = ScenarioLoader.Parse((cut < 0 ? yaml : yaml[..cut]) + "\nthresholds:\n" + thresholds);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        return r.Scenario!;
    }

    [Fact]
    public void No_abort_check_when_no_threshold_asks_for_one()
    {
        Assert.Null(RunVerdict.AbortOnFail(Smoke("  - transfers.efficiency >= 90%\n"), TextWriter.Null));
    }

    [Fact]
    public void The_abort_check_names_the_failed_threshold_once_the_events_break_it()
    {
        var start = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        var check = RunVerdict.AbortOnFail(Smoke("  - {expression: transfers.efficiency >= 90%, abort_on_fail: true}\n  - transfers.done >= 1000000000\n"), TextWriter.Null)!(start);
        Assert.Equal(RunVerdict.CheckInterval, check.Interval);

        for (var i = 0; i < 19; i++) check.Observe(new HermesEvent { EventType = "transfer-done", CreatedAt = start.AddSeconds(i) });
        check.Observe(new HermesEvent { EventType = "transfer-failed", CreatedAt = start.AddSeconds(20) });
        Assert.Null(check.Check(start.AddMinutes(1))); // 95 %: holds

        for (var i = 0; i < 10; i++) check.Observe(new HermesEvent { EventType = "transfer-failed", CreatedAt = start.AddSeconds(30 + i) });
        var reason = check.Check(start.AddMinutes(2));
        Assert.NotNull(reason);
        Assert.Contains("transfers.efficiency >= 90%", reason);
        Assert.DoesNotContain("transfers.done", reason); // only thresholds marked abort_on_fail stop a run
    }

    [Fact]
    public void An_oom_kill_of_a_watched_daemon_stops_the_run_and_other_daemons_do_not()
    {
        var start = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        var check = RunVerdict.AbortOnFail(Smoke("  - {expression: \"daemons[judge-evaluator].oom_kills == 0\", abort_on_fail: true}\n"), TextWriter.Null)!(start);
        Assert.NotNull(check.ObservePod);
        var first = check.Check(start.AddMinutes(1));
        Assert.True(first is null, first); // no pod change yet: holds, and is not an error

        check.ObservePod!(new PodLifecycleEvent { Time = start.AddMinutes(2), Daemon = "reaper", Pod = "reaper-0", Event = "oom-killed" });
        check.ObservePod!(new PodLifecycleEvent { Time = start.AddMinutes(2), Daemon = "judge-evaluator", Pod = "judge-evaluator-0", Event = "restarted" });
        Assert.Null(check.Check(start.AddMinutes(3)));

        check.ObservePod!(new PodLifecycleEvent { Time = start.AddMinutes(4), Daemon = "judge-evaluator", Pod = "judge-evaluator-0", Event = "oom-killed" });
        var reason = check.Check(start.AddMinutes(5));
        Assert.NotNull(reason);
        Assert.Contains("daemons[judge-evaluator].oom_kills == 0", reason);
    }

    [Fact]
    public void A_figure_only_the_report_has_is_judged_at_the_end_and_said_so_not_watched()
    {
        var start = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        var output = new StringWriter();
        var check = RunVerdict.AbortOnFail(Smoke("  - {expression: \"events.total >= 1\", abort_on_fail: true}\n"), output)!(start);
        Assert.Contains("'events.total >= 1' is judged at the end only", output.ToString());
        Assert.Null(check.Check(start.AddMinutes(1))); // an unwatched figure never stops a run
    }
}
