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
        Assert.Null(RunVerdict.AbortOnFail(Smoke("  - transfers.efficiency >= 90%\n")));
    }

    [Fact]
    public void The_abort_check_names_the_failed_threshold_once_the_events_break_it()
    {
        var start = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        var check = RunVerdict.AbortOnFail(Smoke("  - {expression: transfers.efficiency >= 90%, abort_on_fail: true}\n  - rules.created >= 1\n"))!(start);
        Assert.Equal(RunVerdict.CheckInterval, check.Interval);

        for (var i = 0; i < 19; i++) check.Observe(new HermesEvent { EventType = "transfer-done", CreatedAt = start.AddSeconds(i) });
        check.Observe(new HermesEvent { EventType = "transfer-failed", CreatedAt = start.AddSeconds(20) });
        Assert.Null(check.Check(start.AddMinutes(1))); // 95 %: holds

        for (var i = 0; i < 10; i++) check.Observe(new HermesEvent { EventType = "transfer-failed", CreatedAt = start.AddSeconds(30 + i) });
        var reason = check.Check(start.AddMinutes(2));
        Assert.NotNull(reason);
        Assert.Contains("transfers.efficiency >= 90%", reason);
        Assert.DoesNotContain("rules.created", reason); // only thresholds marked abort_on_fail stop a run
    }
}
