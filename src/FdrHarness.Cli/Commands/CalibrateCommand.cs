using System.CommandLine;
using System.Globalization;
using System.Text;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Calibration;

namespace FdrHarness.Cli.Commands;

public static class CalibrateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDir = new Argument<string?>("run-dir") { Description = "A run directory (samples.parquet, events.parquet, scenario.yaml).", Arity = ArgumentArity.ZeroOrOne };
        var outFile = new Option<string?>("--out") { Description = "The calibration file to write (default: RUN_DIR/calibration.yaml)." };
        var reference = ReferenceCalibration.Options();
        var passes = new Option<int>("--passes") { Description = $"Replays of the run: the defaults', then one per refit until the values settle (default {Calibrator.DefaultPasses}).", DefaultValueFactory = _ => Calibrator.DefaultPasses };
        var command = new Command("calibrate", "Fit the embedded lake's work models (daemons' memory and CPU) and links' failure probabilities to a run's observations, or (--reference) to a table of measured usage.")
        {
            runDir, outFile, passes, reference.Reference, reference.Scenario, reference.Matrix,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(reference.Reference) is not null || parse.GetValue(reference.Scenario) is not null || parse.GetValue(reference.Matrix) is not null)
                return reference.Run(parse, parse.GetValue(runDir), parse.GetValue(outFile), stdout, stderr);
            var dir = parse.GetValue(runDir) ?? "";
            var shown = dir.Length == 0 ? "''" : dir;
            if (parse.GetValue(passes) is var n && n is < 1 or > 20)
            {
                stderr.WriteLine($"--passes {n}: error: give 1 to 20 replays");
                return ExitCodes.InvalidInput;
            }
            foreach (var needed in new[] { ParquetObservationSink.SamplesFile, ParquetObservationSink.EventsFile, RunDirectory.ScenarioFile })
                if (string.IsNullOrWhiteSpace(dir) || !Directory.Exists(dir) || !File.Exists(Path.Combine(dir, needed)))
                {
                    stderr.WriteLine($"{shown}: error: not a run directory with {needed} (calibration fits samples and events and replays the run's scenario)");
                    return ExitCodes.InvalidInput;
                }
            var output = parse.GetValue(outFile) ?? Path.Combine(dir, "calibration.yaml");
            if (Directory.Exists(output) || Path.GetDirectoryName(Path.GetFullPath(output)) is not { } parent || !Directory.Exists(parent))
            {
                stderr.WriteLine($"--out {output}: error: {(Directory.Exists(output) ? "is a folder; give a file name" : "its folder does not exist")}");
                return ExitCodes.InvalidInput;
            }
            var loaded = ScenarioLoader.Load(Path.Combine(dir, RunDirectory.ScenarioFile), ResourceBudget.Unlimited);
            if (!loaded.Ok)
            {
                stderr.WriteLine($"{Path.Combine(dir, RunDirectory.ScenarioFile)}: error: the run's scenario is not valid ({loaded.Diagnostics[0].Message})");
                return ExitCodes.InvalidInput;
            }
            Calibration calibration;
            IReadOnlyList<CallLatencyFit> server;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                calibration = Calibrator.Run(dir, loaded.Scenario!, parse.GetValue(passes));
                server = ServerCalibration.Fit(dir);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or Parquet.ParquetException)
            {
                stderr.WriteLine($"{dir}: error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
            File.WriteAllText(output, CalibrationFile.Yaml(calibration, dir, loaded.Scenario, server));
            stdout.Write(Text(calibration));
            if (server.Count > 0) stdout.Write(ServerText(server));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nCalibrated in {clock.Elapsed.TotalSeconds:0.0} s ({calibration.Passes} replay passes): {Path.GetFullPath(output)}"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static string ServerText(IReadOnlyList<CallLatencyFit> fits)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder($"\n{"server call (api-latency.csv)",-40} {"calls",9} {"median ms",10} {"± 95 %",8} {"sigma",7} {"p99 err",8}  (reported; the lake has one cost per call)\n");
        foreach (var f in fits)
            sb.Append(f.MedianMs is { } m
                ? string.Create(ci, $"{f.Operation,-40} {f.Calls,9} {m,10:0.###} {f.MedianHalfWidthMs,8:0.###} {f.Sigma,7:0.###} {f.Error,8:P1}\n")
                : string.Create(ci, $"{f.Operation,-40} {f.Calls,9} {f.Note}\n"));
        return sb.ToString();
    }

    private static string Text(Calibration c)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append($"{"daemon",-26} {"parameter",-16} {"fitted",14} {"± 95 %",12}  note\n");
        foreach (var d in c.Daemons)
            foreach (var v in d.Values)
                sb.Append($"{d.Daemon,-26} {v.Key,-16} {CalibrationFile.Format(v),14} {(v.Written ? (PredictionIntervals.HalfWidth(d, v) / Math.Max(Math.Abs(v.Value), 1e-300)).ToString("P1", ci) : "-"),12}  {v.Note ?? d.Note}\n");
        sb.Append($"\n{"link",-40} {"attempts",9} {"failed",8} {"p",9} {"± 95 %",9} {"MB/s",9} {"± 95 %",8} {"max_active",10}\n");
        foreach (var l in c.Links)
            sb.Append(ci, $"{l.Source + " -> " + l.Destination,-40} {l.Attempts,9} {l.Failures,8} {l.Probability,9:0.0000} {l.HalfWidth * 100,7:0.00}pp {(l.Bandwidth is { } b ? (b / 1e6).ToString("0.0", ci) : "-"),9} {(l.Bandwidth is null ? "-" : (l.BandwidthHalfWidth / 1e6).ToString("0.00", ci)),8} {(l.MaxActive is { } m ? m.ToString(ci) : $">={l.PeakActive}"),10}\n");
        return sb.ToString();
    }
}
