using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Reporting;
using FdrHarness.Rucio;

namespace FdrHarness.Cli.Commands;

public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var target = new Option<string>("--target") { Description = "embedded (the simulated data lake) or rucio; default: the scenario's target." };
        target.AcceptOnlyFromAmong("embedded", "rucio");
        var output = new Option<string?>("--out") { Description = "Run directory; default reports/<name>/<UTC time>-<seed>/." };
        var seed = new Option<long?>("--seed")
        {
            Description = "Overrides run.seed.",
            CustomParser = r => long.TryParse(r.Tokens.Single().Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : Invalid<long>(r, "--seed", "a whole number such as 7"),
        };
        var scale = new Option<double?>("--scale")
        {
            Description = "Overrides run.scale (file counts and rates).",
            CustomParser = r => double.TryParse(r.Tokens.Single().Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v : Invalid<double>(r, "--scale", "a factor such as 0.5 or 10"),
        };
        var rucioUrl = new Option<Uri?>("--rucio-url")
        {
            Description = "With --target rucio: the Rucio server, overriding target.rucio.url and FDR_RUCIO_URL.",
            CustomParser = r => Uri.TryCreate(r.Tokens.Single().Value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
                ? u : InvalidUri(r),
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan and every chaos action; touch nothing." };
        var helmValues = HelmValuesOption.Create();
        var metricsOptions = new MetricsOptions();
        var command = new Command("run", "Run a rehearsal and write its run directory.") { scenario, target, output, seed, scale, rucioUrl, dryRun, helmValues, metricsOptions.Port, metricsOptions.Wait };
        command.SetAction(parse =>
        {
            var result = ScenarioLoader.Load(parse.GetValue(scenario)!);
            if (!ValidateCommand.Report(result, stderr)) return ExitCodes.InvalidInput;
            var s = result.Scenario!;
            if (parse.GetValue(scale) is { } f)
            {
                if (f is <= 0 or > 1000)
                {
                    stderr.WriteLine($"fdr run: --scale {f}: expected a factor above 0, at most 1000");
                    return ExitCodes.InvalidInput;
                }
                s = s with { Run = s.Run with { Scale = f } };
            }
            if (parse.GetValue(seed) is { } n) s = s with { Run = s.Run with { Seed = n } };
            if (parse.GetValue(target) is { } t)
                s = s with { Target = s.Target with { Kind = t == "rucio" ? TargetKind.Rucio : TargetKind.Embedded } };
            if (HelmValuesOption.Apply(s, parse.GetValue(helmValues), stdout, stderr) is not { } withValues) return ExitCodes.InvalidInput;
            s = withValues;
            if (ResourceBudget.Exceeded(s, result.Map) is { Count: > 0 } over) // --scale or --helm-values may have grown it
            {
                ValidateCommand.Report(over, stderr);
                return ExitCodes.InvalidInput;
            }
            PlanPrinter.Print(s, stdout);
            if (parse.GetValue(dryRun))
            {
                var planned = s.Target.Kind == TargetKind.Rucio ? ClusterSide.PrintPlan(s, result.Map, stdout, stderr) : ExitCodes.Success;
                stdout.WriteLine("Dry run: nothing was started.");
                return planned;
            }
            using var signals = new Signals(); // Ctrl-C and SIGTERM stop cleanly: the observations so far are completed and kept
            // Live metrics wrap the whole run (the seam for the run lifecycle): RunMetrics observes the sink, reads progress.
            return signals.ExitCode(metricsOptions.Around(parse, s, stdout, stderr, signals.Token, metrics =>
            {
                if (s.Target.Kind == TargetKind.Embedded)
                    return EmbeddedRun.Execute(s, parse.GetValue(output), stdout, stderr, signals, metrics);
                var prepared = ClusterSide.Prepare(s, result.Map, stdout, stderr, signals.Token, out var cluster);
                if (prepared != ExitCodes.Success) return prepared;
                var options = new LiveRunOptions
                {
                    RucioUrl = parse.GetValue(rucioUrl), OutDir = parse.GetValue(output),
                    Conclude = dir => RunVerdict.ReportAndJudge(s, dir, stdout, metrics),
                    AbortOnFail = RunVerdict.AbortOnFail(s, stdout),
                    Alongside = cluster is null ? null : ClusterSide.Alongside(s, cluster, stdout, stderr),
                    Observer = metrics, Started = metrics is null ? null : metrics.Watch,
                };
                return LiveRun.ExecuteAsync(s, options, stdout, stderr, signals.Token).GetAwaiter().GetResult();
            }));
        });
        return command;
    }

    private static Uri? InvalidUri(ArgumentResult result)
    {
        result.AddError($"--rucio-url '{result.Tokens.Single().Value}': expected an http or https URL such as https://rucio.example:443");
        return null;
    }

    private static T? Invalid<T>(ArgumentResult result, string option, string expected) where T : struct
    {
        result.AddError($"{option} '{result.Tokens.Single().Value}': expected {expected}");
        return null;
    }
}
