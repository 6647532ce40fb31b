using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Decisions.Compare;

namespace FdrHarness.Cli.Commands;

public static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var baseline = new Argument<string>("baseline") { Description = "Baseline: a file written by 'fdr baseline' (median and spread over seeds), a run directory, its summary.json, or a file written by --save-baseline." };
        var current = new Argument<string?>("current") { Description = "Current run: a run directory or its summary.json.", Arity = ArgumentArity.ZeroOrOne };
        var save = new Option<string?>("--save-baseline") { Description = "Write BASELINE's judged figures to this small JSON file (one run, no spread) and stop." };
        var format = new Option<string>("--format") { Description = "text (default), md (for a pull-request comment) or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "md", "json");
        var markdown = new Option<string?>("--markdown") { Description = "Also write the Markdown to this file." };
        var tolerance = new Option<string[]>("--tolerance") { Description = "Override a figure's noise: FIGURE=5% (relative) or FIGURE=0.02 (absolute, in the figure's unit); FIGURE may use *.", AllowMultipleArgumentsPerToken = false };
        var allowDifferent = new Option<bool>("--allow-different") { Description = "Compare runs of different scenarios (another name, target, scale or RSEs) anyway." };
        var command = new Command("compare", "Compare a run with a baseline, figure by figure; exit 99 when a figure regressed beyond its noise.")
        {
            baseline, current, save, format, markdown, tolerance, allowDifferent,
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
                if (comparison.Differences.Count > 0 && !parse.GetValue(allowDifferent))
                {
                    stderr.WriteLine($"fdr compare: error: {b} and {c} are runs of different scenarios ({string.Join("; ", comparison.Differences)}); pass --allow-different to compare them anyway");
                    return ExitCodes.InvalidInput;
                }
                var md = SummaryComparer.ToMarkdown(comparison);
                stdout.Write(parse.GetValue(format) switch
                {
                    "md" => md,
                    "json" => SummaryComparer.ToJson(comparison),
                    _ => SummaryComparer.ToText(comparison),
                });
                if (parse.GetValue(markdown) is { } mdFile) File.WriteAllText(mdFile, md);
                // The verdict line on stderr too when stdout is a document for a machine or a comment.
                if (parse.GetValue(format) != "text") stderr.WriteLine(SummaryComparer.Headline(comparison));
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
