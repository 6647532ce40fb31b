using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Decisions.Compare;

namespace FdrHarness.Cli.Commands;

public static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var baseline = new Argument<string>("baseline") { Description = "Baseline: a run directory, its summary.json, or a file written by --save-baseline." };
        var current = new Argument<string?>("current") { Description = "Current run: a run directory or its summary.json.", Arity = ArgumentArity.ZeroOrOne };
        var save = new Option<string?>("--save-baseline") { Description = "Write BASELINE's judged figures to this small JSON file (to keep in a repository) and stop." };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the Markdown (for a pull-request comment) to this file." };
        var tolerance = new Option<string[]>("--tolerance") { Description = "Override a figure's noise: FIGURE=5% (relative) or FIGURE=0.02 (absolute); FIGURE may use *.", AllowMultipleArgumentsPerToken = false };
        var command = new Command("compare", "Compare a run with a baseline, figure by figure; exit 99 when a figure regressed beyond its noise.")
        {
            baseline, current, save, markdown, tolerance,
        };
        command.SetAction(parse =>
        {
            var b = parse.GetValue(baseline)!;
            var c = parse.GetValue(current);
            try
            {
                if (parse.GetValue(save) is { } savePath)
                {
                    File.WriteAllText(savePath, SummaryComparer.SaveBaseline(b));
                    stdout.WriteLine($"Baseline of {b} written to {savePath}.");
                    return ExitCodes.Success;
                }
                if (c is null)
                {
                    stderr.WriteLine("fdr compare: error: give BASELINE and CURRENT (or --save-baseline FILE with one run)");
                    return ExitCodes.InvalidInput;
                }
                var overrides = (parse.GetValue(tolerance) ?? []).Select(SummaryComparer.ParseTolerance).ToList();
                var comparison = SummaryComparer.Compare(b, c, overrides);
                var text = SummaryComparer.ToMarkdown(comparison);
                stdout.Write(text);
                if (parse.GetValue(markdown) is { } md) File.WriteAllText(md, text);
                stderr.WriteLine(comparison.Regressions.Count > 0
                    ? $"fdr compare: {comparison.Regressions.Count} regressed: {string.Join(", ", comparison.Regressions.Take(8).Select(r => r.Figure))}{(comparison.Regressions.Count > 8 ? ", …" : "")}"
                    : "fdr compare: no regression");
                return comparison.ExitCode;
            }
            catch (Exception e) when (e is CompareInputException or IOException or UnauthorizedAccessException or InvalidDataException or Parquet.ParquetException)
            {
                stderr.WriteLine($"fdr compare: error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }
}
