using System.CommandLine;
using System.Diagnostics;
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
        var calibration = new Option<string>("--calibration") { Description = "A calibration file written by fdr calibrate.", Required = true };
        var scales = new Option<string>("--scale") { Description = "Scales to predict, e.g. 1,2,5,10.", DefaultValueFactory = _ => "1,2,5,10" };
        var outDir = new Option<string?>("--out") { Description = $"With --shard (required there): the shard's folder. Else a folder to write the table to as well ({FileName})." };
        var shard = ShardOption.Create("Run only the scales j with j mod COUNT = INDEX (e.g. $JOB_COMPLETION_INDEX/4: one scale per pod) into --out; join the shards with fdr merge.");
        var command = new Command("predict", "The calibrated embedded lake at several scales: peak memory and CPU per daemon, and the first scale at which each is OOMKilled.")
        {
            scenarioPath, calibration, scales, outDir, shard,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioPath)!;
            if (InputFile.Problem(path) is { } problem)
            {
                stderr.WriteLine($"{(path.Length == 0 ? "''" : path)}: error: {problem}");
                return ExitCodes.InvalidInput;
            }
            var calibrationPath = parse.GetValue(calibration)!;
            if (InputFile.Problem(calibrationPath) is { } calibrationProblem)
            {
                stderr.WriteLine($"--calibration {(calibrationPath.Length == 0 ? "''" : calibrationPath)}: error: {calibrationProblem}");
                return ExitCodes.InvalidInput;
            }
            var loaded = ScenarioLoader.Load(path);
            if (!loaded.Ok)
            {
                stderr.WriteLine($"{path}: error: invalid scenario ({loaded.Diagnostics.Count} problem{(loaded.Diagnostics.Count == 1 ? "" : "s")}); run 'fdr validate {path}'");
                return ExitCodes.InvalidInput;
            }
            try
            {
                var points = SweepCommand.ParseScales(parse.GetValue(scales)!);
                var (models, links) = CalibrationFile.Read(calibrationPath);
                var calibrated = CalibrationFile.Apply(loaded.Scenario!, models, links);
                foreach (var s in points)
                    if (ResourceBudget.Exceeded(calibrated with { Run = calibrated.Run with { Scale = s } }, loaded.Map) is [var over, ..])
                        throw new SweepInputException($"at scale {s}: {over.Message} ({over.Suggestion})");
                var dir = parse.GetValue(outDir);
                if (parse.GetValue(shard) is { } part)
                {
                    var sweepPoints = SweepRunner.Scales(calibrated, points);
                    var indices = PointMerge.Prepare(part, sweepPoints.Count, "predict", dir);
                    var clock = Stopwatch.StartNew();
                    var measured = SweepRunner.RunPoints("scale", sweepPoints, indices);
                    return PointMerge.Finish(new PointShard("predict", new JsonObject { ["scale"] = parse.GetValue(scales) }, part, sweepPoints.Count, clock.Elapsed,
                        [.. measured.Select((p, k) => p.ToJson(indices[k]))]), calibrated, dir!, "scale " + string.Join(", ", indices.Select(j => sweepPoints[j].Label)), stdout);
                }
                if (dir is not null && OutputFolder.Problem(dir) is { } unusable) throw new SweepInputException(unusable);
                var table = Predictor.Text(Predictor.Predict(calibrated, points), points);
                if (dir is not null)
                {
                    Directory.CreateDirectory(dir);
                    Core.Observations.RunDirectory.WriteAtomically(Path.Combine(dir, FileName), table);
                }
                stdout.Write(table);
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is SweepInputException or CalibrationInputException)
            {
                stderr.WriteLine($"fdr predict: error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }

    /// <summary>The table's file in --out, and in the folder fdr merge writes from predict's shards.</summary>
    public const string FileName = "predict.txt";
}
