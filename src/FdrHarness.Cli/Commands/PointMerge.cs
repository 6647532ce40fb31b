using System.Globalization;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Decisions.Baseline;
using FdrHarness.Decisions.Calibration;
using FdrHarness.Decisions.Shards;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// --shard i/N on fdr sweep, baseline and predict (a shard runs its points into its folder), and fdr merge of those
/// folders into exactly what the one-process command writes: the same sweep files, baseline.json, prediction table.
/// </summary>
public static class PointMerge
{
    /// <summary>Before any work: the shard's points, or <see cref="SweepInputException"/> when the split or the folder cannot be.</summary>
    public static IReadOnlyList<int> Prepare(ShardSpec shard, int points, string command, string? outDir)
    {
        if (outDir is null) throw new SweepInputException($"--shard {shard} needs --out: the shard's folder, which fdr merge joins with the others");
        if (PointShard.Problem(points, shard, command) is { } split) throw new SweepInputException(split);
        if (OutputFolder.Problem(outDir) is { } problem) throw new SweepInputException(problem);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new SweepInputException($"--out {outDir} is not empty; give a new or empty folder for shard {shard}");
        return PointShard.Indices(points, shard);
    }

    /// <summary>Writes the shard's folder (scenario.yaml, then points.json) and says what to do next.</summary>
    public static int Finish(PointShard shard, Scenario scenario, string outDir, string which, TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(shard);
        shard.Write(outDir, ScenarioWriter.ToYaml(scenario));
        stdout.WriteLine($"Shard {shard.Shard} of fdr {shard.Command} ({which}) in {Path.GetFullPath(outDir)}: join every shard's folder with fdr merge DIR... --out DIR");
        return ExitCodes.Success;
    }

    /// <summary>fdr merge of point shards: every mistake one line and exit 2 with nothing written, else the command's output in <paramref name="outDir"/>.</summary>
    public static int Merge(IReadOnlyList<string> dirs, string outDir, List<string> errors, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.AddRange(PointShard.Check(dirs, out var shards));
        Action? write = null;
        if (errors.Count == 0)
        {
            try
            {
                write = Join(shards, outDir, stdout);
            }
            catch (Exception e) when (e is SweepInputException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                errors.Add($"{shards[0].Path}: the shards cannot be joined ({e.Message.ReplaceLineEndings(" ")})");
            }
        }
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"fdr merge: {e}");
            return ExitCodes.InvalidInput;
        }
        var existed = Directory.Exists(outDir);
        Directory.CreateDirectory(outDir);
        try
        {
            stdout.WriteLine($"Merged {shards.Count} shards of fdr {shards[0].Shard.Command} into {Path.GetFullPath(outDir)}");
            write!();
            return ExitCodes.Success;
        }
        catch
        {
            // Nothing half-written: the folder goes back to how it was (absent, or empty).
            if (existed) foreach (var entry in new DirectoryInfo(outDir).EnumerateFileSystemInfos()) Remove(entry);
            else Directory.Delete(outDir, recursive: true);
            throw;
        }
    }

    /// <summary>Joins the shards' results as the one-process command would have them; returns what writes the output (nothing is written yet).</summary>
    private static Action Join(IReadOnlyList<(string Path, PointShard Shard)> shards, string outDir, TextWriter stdout)
    {
        var file = Path.Combine(shards[0].Path, RunDirectory.ScenarioFile);
        var loaded = ScenarioLoader.Load(file, ResourceBudget.Unlimited);
        var scenario = loaded.Scenario ?? throw new FormatException($"{file} is not a scenario fdr can read ({loaded.Diagnostics.FirstOrDefault()?.Message ?? "no scenario"})");
        var first = shards[0].Shard;
        var results = shards.SelectMany(s => s.Shard.Results).OfType<JsonObject>().OrderBy(r => r["index"]!.GetValue<int>()).ToList();
        var wall = shards.Max(s => s.Shard.Wall);
        string? Option(string key) => first.Options[key]?.ToString();
        switch (first.Command)
        {
            case "sweep":
            {
                var setting = Option("set");
                var points = setting is not null ? SweepRunner.Setting(scenario, setting)
                    : SweepRunner.Scales(scenario, SweepCommand.ParseScales(Option("scale") ?? throw new FormatException("no --scale among the options")));
                var measured = results.Select(SweepPoint.FromJson).ToList();
                Same(points.Count, first.Points, measured.Select(p => p.Label), points.Select(p => p.Label));
                var swept = setting is not null ? setting[..setting.IndexOf('=', StringComparison.Ordinal)] : "scale";
                var sweep = SweepRunner.Join(scenario.Run.Name, swept, points, measured, wall, shards.Count);
                return () => SweepCommand.Write(sweep, outDir, stdout);
            }
            case "predict":
            {
                // The points the one process ran: the shard's scenario (the overlays merged), its scales and draws, the intervals it drew within.
                var scales = SweepCommand.ParseScales(Option("scale") ?? throw new FormatException("no --scale among the options"));
                var draws = first.Options["draws"]?.GetValue<int>() ?? throw new FormatException("no --draws among the options");
                var intervals = PredictionIntervals.FromJson(first.Options["intervals"] as JsonObject);
                var points = Predictor.Points(scenario, intervals, scales, draws);
                var measured = results.Select(SweepPoint.FromJson).ToList();
                Same(points.Count, first.Points, measured.Select(p => p.Label), points.Select(p => p.Label));
                var prediction = Predictor.From(scenario, scales, draws, !intervals.IsEmpty, measured);
                return () => PredictCommand.Write(prediction, outDir, stdout);
            }
            case "baseline":
            {
                var count = int.Parse(Option("seeds") ?? throw new FormatException("no --seeds among the options"), CultureInfo.InvariantCulture);
                var runs = results.Select(BaselineRun.FromJson).ToList();
                Same(count, first.Points, runs.Select(r => r.Seed), BaselineRunner.Seeds(scenario.Run.Seed, count));
                var baseline = BaselineRunner.Join(scenario.Run.Seed, runs, wall);
                var target = Path.Combine(outDir, BaselineCommand.FileName);
                return () =>
                {
                    RunDirectory.WriteAtomically(target, baseline.ToJson());
                    BaselineCommand.Written(baseline, target, stdout);
                };
            }
            default:
                throw new FormatException($"fdr {first.Command} is not a command whose shards fdr merge joins");
        }
    }

    /// <summary>The shards ran the points the scenario and options make, all of them, each once.</summary>
    private static void Same<T>(int made, int recorded, IEnumerable<T> ran, IEnumerable<T> expected)
    {
        if (made != recorded) throw new FormatException($"points.json counts {recorded} points, but the scenario and options make {made}");
        if (!ran.SequenceEqual(expected)) throw new FormatException($"the shards ran {string.Join(", ", ran)}, but the scenario and options make {string.Join(", ", expected)}");
    }

    private static void Remove(FileSystemInfo entry)
    {
        if (entry is DirectoryInfo d) d.Delete(recursive: true);
        else entry.Delete();
    }
}
