using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Reporting;

namespace FdrHarness.Cli.Commands;

/// <summary>How every run ends, embedded or live: the report, then the thresholds' ✓/✗ and thresholds.junit.xml.</summary>
public static class RunVerdict
{
    /// <summary>Builds the report of <paramref name="runDir"/> and judges it; returns 0, or 99 when a threshold fails.</summary>
    /// <param name="feed">The run's events as its sink wrote them (<see cref="ReportOptions.Feed"/>), or null: the files are read.</param>
    /// <param name="png">--png: plots/*.png too.</param>
    public static int ReportAndJudge(Scenario scenario, string runDir, TextWriter stdout, RunMetrics? metrics = null, Reporting.Input.ObservationFeed? feed = null, bool png = false)
    {
        // The summary reads the scenario the run wrote to scenario.yaml (written exactly, secrets aside), not the file again.
        var (report, verdict) = ThresholdGate.ReportAndJudge(scenario, runDir, new ReportOptions { Feed = feed, Scenario = new Lazy<Scenario?>(scenario), Png = png });
        stdout.WriteLine($"Report: {Path.Combine(report.Directory, "report.html")} (and report.md, summary.json, CSVs, plots/)");
        if (scenario.Thresholds.Count == 0) return ExitCodes.Success;
        ThresholdGate.Write(verdict, runDir, stdout);
        metrics?.Judged(verdict);
        return verdict.ExitCode;
    }

    /// <summary>Abort-on-fail for a live run, when some threshold asks for it: the events and pod changes so far, judged every 10 s.</summary>
    public static Func<DateTime, AbortCheck>? AbortOnFail(Scenario scenario, TextWriter stdout)
    {
        if (!scenario.Thresholds.Any(t => t.AbortOnFail)) return null;
        return start =>
        {
            var monitor = new LiveThresholdMonitor(scenario, start);
            foreach (var t in monitor.NotWatched)
                stdout.WriteLine($"abort_on_fail: '{t.Expression}' is judged at the end only; live runs watch transfers.*, throughput.*, links.*, rules.* and daemons[..].oom_kills / restarts");
            var gate = new Lock(); // observations arrive on the sink's producers, checks on the run's timer
            return new AbortCheck(
                e => { lock (gate) monitor.Observe(e); },
                now =>
                {
                    lock (gate)
                        return monitor.ShouldAbort(now, out var failed) ? string.Join("; ", failed.Select(f => $"{f.Name} failed ({f.Detail})")) : null;
                },
                CheckInterval,
                e => { lock (gate) monitor.Observe(e); });
        };
    }

    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);
}

/// <summary>Abort-on-fail for a live run: <paramref name="Observe"/> gets each event kept and <paramref name="ObservePod"/> each
/// pod change; <paramref name="Check"/> answers why the run must stop (a line for the operator), or null to go on; asked
/// every <paramref name="Interval"/>.</summary>
public sealed record AbortCheck(Action<Core.Observations.HermesEvent> Observe, Func<DateTime, string?> Check, TimeSpan Interval,
    Action<Core.Observations.PodLifecycleEvent>? ObservePod = null);
