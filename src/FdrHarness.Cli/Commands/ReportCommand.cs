using System.CommandLine;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Reporting;

namespace FdrHarness.Cli.Commands;

public static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run directory (reports/<scenario>/<time>-<seed>/)." };
        var linkTarget = new Option<double?>("--link-target")
        {
            Description = "Per-link target of done/submitted, e.g. 0.9: each matrix cell gets ok or below-target.",
        };
        var png = PngOption.Create();
        var command = new Command("report", "Rebuild a run's report from its events.parquet and samples.parquet.") { runDir, linkTarget, png };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            var target = parse.GetValue(linkTarget);
            if (target is { } t && !(t is >= 0 and <= 1))
            {
                stderr.WriteLine($"--link-target {t.ToString(CultureInfo.InvariantCulture)}: error: expected a ratio of done to submitted from 0 to 1, such as 0.9");
                return ExitCodes.InvalidInput;
            }
            if (string.IsNullOrWhiteSpace(dir) || !Directory.Exists(dir))
            {
                stderr.WriteLine($"{(dir.Length == 0 ? "''" : dir)}: error: no such run directory (a folder under reports/<scenario>/)");
                return ExitCodes.InvalidInput;
            }
            ReportResult result;
            Decisions.Thresholds.ThresholdVerdict? verdict = null;
            try
            {
                // The verdict at the report's top comes from the run's own scenario.yaml, when it has one: loaded by the
                // summary once the event pass runs, not before it, and judged as ThresholdGate.ReportAndJudge does.
                var scenario = new Lazy<Core.Scenarios.Model.Scenario?>(() => Reporting.Analysis.SummaryBuilder.LoadScenario(dir));
                Decisions.Thresholds.ThresholdVerdict? judged = null;
                result = ReportBuilder.Build(dir, new ReportOptions
                {
                    LinkTarget = target, Scenario = scenario, Png = parse.GetValue(png),
                    Judge = summary => scenario.Value is { } s
                        ? Decisions.Thresholds.ThresholdGate.ToReport(judged = Decisions.Thresholds.ThresholdGate.Evaluate(s, summary, dir))
                        : null,
                });
                if (scenario.Value is { Thresholds.Count: > 0 }) verdict = judged;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or Parquet.ParquetException)
            {
                // A missing, damaged or foreign run directory is the input's problem, not a bug in fdr: say which and stop.
                stderr.WriteLine($"{dir}: error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
            stdout.WriteLine($"Report in {result.Directory}: {string.Join(", ", result.Files.Where(f => !f.StartsWith("plots/", StringComparison.Ordinal)))}" +
                $" and {result.Files.Count(f => f.StartsWith("plots/", StringComparison.Ordinal))} plots ({result.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s).");
            if (verdict is null) return ExitCodes.Success;
            // A rebuilt report gates like the run it rebuilds: the same ✓/✗, thresholds.junit.xml and exit code.
            Decisions.Thresholds.ThresholdGate.Write(verdict, dir, stdout);
            return verdict.ExitCode;
        });
        return command;
    }
}
