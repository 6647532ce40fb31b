using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Shards;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

public static class SweepCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenarioPath = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var scales = new Option<string?>("--scale") { Description = "Scales to run, e.g. 0.5,1,2,5,10 (default when --set is not given)." };
        var set = new Option<string?>("--set") { Description = "Sweep one setting instead, e.g. daemons.judge-evaluator.limits.memory=1Gi,2Gi,3Gi." };
        var outDir = new Option<string?>("--out") { Description = "Folder for sweep.txt, sweep.csv and the plots (default: reports/<scenario>/sweep)." };
        var helmValues = HelmValuesOption.Create();
        var shard = ShardOption.Create("Run only the points j with j mod COUNT = INDEX (e.g. $JOB_COMPLETION_INDEX/5: one point per pod) into --out; join the shards with fdr merge.");
        var command = new Command("sweep", "Run the embedded lake at several scales (or values of one setting) on every core: peaks, growth, first OOM, plots.")
        {
            scenarioPath, scales, set, outDir, helmValues, shard,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioPath)!;
            if (InputFile.Problem(path) is { } problem)
            {
                stderr.WriteLine($"{(path.Length == 0 ? "''" : path)}: error: {problem}");
                return ExitCodes.InvalidInput;
            }
            var loaded = ScenarioLoader.Load(path);
            if (!loaded.Ok)
            {
                stderr.WriteLine($"{path}: error: invalid scenario ({loaded.Diagnostics.Count} problem{(loaded.Diagnostics.Count == 1 ? "" : "s")}); run 'fdr validate {path}'");
                return ExitCodes.InvalidInput;
            }
            if (HelmValuesOption.Apply(loaded.Scenario!, parse.GetValue(helmValues), stdout, stderr) is not { } scenario) return ExitCodes.InvalidInput;
            if (scenario.Target.Kind != Core.Scenarios.Model.TargetKind.Embedded)
            {
                stderr.WriteLine($"{path}: error: sweep runs the embedded lake; this scenario targets a real Rucio");
                return ExitCodes.InvalidInput;
            }
            try
            {
                var setting = parse.GetValue(set);
                var scaleText = parse.GetValue(scales);
                if (setting is not null && scaleText is not null)
                    throw new SweepInputException("give --scale or --set, not both");
                var points = setting is not null ? SweepRunner.Setting(scenario, setting) : SweepRunner.Scales(scenario, ParseScales(scaleText ?? "0.5,1,2,5,10"));
                var dir = parse.GetValue(outDir) ?? Path.Combine(RunDirectory.DefaultReportsRoot, scenario.Run.Name, "sweep");
                if (OutputFolder.Problem(dir) is { } unusable) throw new SweepInputException(unusable);
                var swept = setting is not null ? setting[..setting.IndexOf('=')] : "scale";
                foreach (var point in points)
                    if (ResourceBudget.Exceeded(point.Scenario, loaded.Map) is [var over, ..])
                        throw new SweepInputException($"at {swept} {point.Label}: {over.Message} ({over.Suggestion})");
                if (parse.GetValue(shard) is { } part)
                {
                    var options = setting is not null ? new JsonObject { ["set"] = setting } : new JsonObject { ["scale"] = scaleText ?? "0.5,1,2,5,10" };
                    var indices = PointMerge.Prepare(part, points.Count, "sweep", parse.GetValue(outDir));
                    var clock = Stopwatch.StartNew();
                    var measured = SweepRunner.RunPoints(swept, points, indices, new LineProgress(stderr));
                    return PointMerge.Finish(new PointShard("sweep", options, part, points.Count, clock.Elapsed, [.. measured.Select((p, k) => p.ToJson(indices[k]))]),
                        scenario, dir, $"{swept} {string.Join(", ", indices.Select(j => points[j].Label))}", stdout);
                }
                Write(SweepRunner.Run(scenario.Run.Name, swept, points, new LineProgress(stderr)), dir, stdout);
                return ExitCodes.Success;
            }
            catch (SweepInputException e)
            {
                stderr.WriteLine($"fdr sweep: error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }

    /// <summary>A sweep's files into <paramref name="dir"/> and its table on stdout: one process's sweep, or its shards' joined by fdr merge.</summary>
    internal static void Write(SweepResult result, string dir, TextWriter stdout)
    {
        var files = SweepRunner.Write(result, dir);
        stdout.Write(SweepRunner.Text(result));
        stdout.WriteLine($"\nSweep in {Path.GetFullPath(dir)}: {string.Join(", ", files)}");
    }

    /// <summary>Prints at once, from whichever core finished (Progress&lt;T&gt; would post later, possibly after the command returned).</summary>
    private sealed class LineProgress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (writer) writer.WriteLine(value);
        }
    }

    internal static List<double> ParseScales(string text)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0 && x <= 1000) values.Add(x);
            else throw new SweepInputException($"--scale {text}: '{part}' is not a scale; expected positive numbers such as 0.5,1,2");
        if (values.Count == 0) throw new SweepInputException($"--scale {text}: no scale given");
        return values.Distinct().ToList();
    }
}
