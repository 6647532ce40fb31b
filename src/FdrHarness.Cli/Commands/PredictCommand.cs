using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Calibration;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

public static class PredictCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenarioPath = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var calibration = new Option<string>("--calibration") { Description = "A calibration file written by fdr calibrate.", Required = true };
        var scales = new Option<string>("--scale") { Description = "Scales to predict, e.g. 1,2,5,10.", DefaultValueFactory = _ => "1,2,5,10" };
        var command = new Command("predict", "The calibrated embedded lake at several scales: peak memory and CPU per daemon, and the first scale at which each is OOMKilled.")
        {
            scenarioPath, calibration, scales,
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
                var predictions = Predictor.Predict(calibrated, points);
                stdout.Write(Predictor.Text(predictions, points));
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
}
