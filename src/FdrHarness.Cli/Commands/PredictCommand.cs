using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Calibration;
using FdrHarness.Decisions.Shards;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

public static class PredictCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenarioPath = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var overlay = OverlayOption.Create("--calibration");
        overlay.Description = "An overlay merged over the scenario, e.g. the file fdr calibrate writes (repeatable, in order; --calibration is the same option).";
        var scales = new Option<string>("--scale") { Description = "Scales to predict, e.g. 1,2,5,10.", DefaultValueFactory = _ => "1,2,5,10" };
        var draws = new Option<int>("--draws")
        {
            Description = "Runs per scale: the fitted values, then draws within the calibrated intervals (1 to 50; one run when the overlays carry no intervals).",
            DefaultValueFactory = _ => DefaultDraws,
        };
        var outDir = new Option<string?>("--out") { Description = $"With --shard (required there): the shard's folder. Else a folder for the table ({PredictionReport.TextFile}, .csv, .json), plots and a Helm values override per scale." };
        var shard = ShardOption.Create("Run only the points j (scale × draw) with j mod COUNT = INDEX (e.g. $JOB_COMPLETION_INDEX/4) into --out; join the shards with fdr merge.");
        var command = new Command("predict", "The calibrated embedded lake at several scales: per daemon peak memory and CPU with intervals, the first scale at which its limit is exceeded, the limits to set and the nodes needed.")
        {
            scenarioPath, overlay, scales, draws, outDir, shard,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioPath)!;
            if (InputFile.Problem(path) is { } problem)
            {
                stderr.WriteLine($"{(path.Length == 0 ? "''" : path)}: error: {problem}");
                return ExitCodes.InvalidInput;
            }
            var n = parse.GetValue(draws);
            if (n is < 1 or > 50)
            {
                stderr.WriteLine($"fdr predict: --draws {n.ToString(CultureInfo.InvariantCulture)}: expected 1 to 50");
                return ExitCodes.InvalidInput;
            }
            if (OverlayOption.Load(path, parse.GetValue(overlay), stderr) is not { } loaded) return ExitCodes.InvalidInput;
            if (!loaded.Ok)
            {
                stderr.WriteLine($"{path}: error: invalid scenario with the overlays ({loaded.Diagnostics.Count} problem{(loaded.Diagnostics.Count == 1 ? "" : "s")}, the first: {loaded.Diagnostics[0]})");
                return ExitCodes.InvalidInput;
            }
            try
            {
                var points = SweepCommand.ParseScales(parse.GetValue(scales)!);
                var calibrated = loaded.Scenario!;
                var intervals = PredictionIntervals.From(loaded.Calibrations);
                foreach (var s in points)
                    if (ResourceBudget.Exceeded(calibrated with { Run = calibrated.Run with { Scale = s } }, loaded.Map) is [var over, ..])
                        throw new SweepInputException($"at scale {s}: {over.Message} ({over.Suggestion})");
                var sweepPoints = Predictor.Points(calibrated, intervals, points, n);
                var dir = parse.GetValue(outDir);
                if (parse.GetValue(shard) is { } part)
                {
                    var indices = PointMerge.Prepare(part, sweepPoints.Count, "predict", dir);
                    var clock = Stopwatch.StartNew();
                    var measured = SweepRunner.RunPoints("scale", sweepPoints, indices);
                    var options = new JsonObject { ["scale"] = parse.GetValue(scales), ["draws"] = n, ["intervals"] = intervals.ToJson() };
                    return PointMerge.Finish(new PointShard("predict", options, part, sweepPoints.Count, clock.Elapsed,
                        [.. measured.Select((p, k) => p.ToJson(indices[k]))]), calibrated, dir!, "scale " + string.Join(", ", indices.Select(j => sweepPoints[j].Label)), stdout);
                }
                if (dir is not null && OutputFolder.Problem(dir) is { } unusable) throw new SweepInputException(unusable);
                return Write(Predictor.Predict(calibrated, intervals, points, n), dir, stdout);
            }
            catch (Exception e) when (e is SweepInputException or CalibrationInputException)
            {
                stderr.WriteLine($"fdr predict: error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }

    /// <summary>The table on stdout, and with --out every file of the prediction (one process's, or fdr merge's of its shards).</summary>
    public static int Write(Prediction prediction, string? dir, TextWriter stdout)
    {
        stdout.Write(PredictionReport.Text(prediction));
        if (dir is not null)
        {
            var files = PredictionReport.Write(prediction, dir);
            stdout.WriteLine($"Written to {Path.GetFullPath(dir)}: {string.Join(", ", files.Where(f => !f.StartsWith("values", StringComparison.Ordinal)))} and values/scale-*/ (Helm values per scale)");
        }
        return ExitCodes.Success;
    }

    public const int DefaultDraws = 5;

    /// <summary>The table's file in --out, and in the folder fdr merge writes from predict's shards.</summary>
    public const string FileName = PredictionReport.TextFile;
}
