using FdrHarness.Core;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Reporting;
using FdrHarness.Rucio;

namespace FdrHarness.Cli.Commands;

/// <summary>How every run ends, embedded or live: the report, then the thresholds' ✓/✗ and thresholds.junit.xml.</summary>
public static class RunVerdict
{
    /// <summary>Builds the report of <paramref name="runDir"/> and judges it; returns 0, or 99 when a threshold fails.</summary>
    public static int ReportAndJudge(Scenario scenario, string runDir, TextWriter stdout)
    {
        var report = ReportBuilder.Build(runDir);
        stdout.WriteLine($"Report: {Path.Combine(report.Directory, "report.html")} (and report.md, summary.json, CSVs, plots/)");
        if (scenario.Thresholds.Count == 0) return ExitCodes.Success;
        var verdict = ThresholdGate.Evaluate(scenario, report.Summary, runDir);
        ThresholdGate.Write(verdict, runDir, stdout);
        return verdict.ExitCode;
    }

    /// <summary>Abort-on-fail for a live run, when some threshold asks for it: the events so far, judged every 10 s.</summary>
    public static Func<DateTime, LiveAbortCheck>? AbortOnFail(Scenario scenario)
    {
        if (!scenario.Thresholds.Any(t => t.AbortOnFail)) return null;
        return start =>
        {
            var monitor = new LiveThresholdMonitor(scenario, start);
            return new LiveAbortCheck(e => monitor.Observe(e), now => monitor.ShouldAbort(now, out var failed)
                ? string.Join("; ", failed.Select(f => $"{f.Name} failed ({f.Detail})"))
                : null, CheckInterval);
        };
    }

    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);
}
