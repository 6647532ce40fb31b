using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Shards;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// fdr merge: the run folders of a run's N shards (fdr run --shard i/N) joined into one run folder, with its report and
/// thresholds judged — as if one process had run the plan. Every mistake in the inputs is one line, exit 2, nothing written.
/// </summary>
public static class MergeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDirs = new Argument<string[]>("run-dir") { Description = "The run folders of every shard of one run (fdr run --shard i/N).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "The merged run's folder: new, or empty.", Required = true };
        var command = new Command("merge", "Join the run folders of a run's shards into one run folder and report.") { runDirs, output };
        command.SetAction(parse => Merge(parse.GetValue(runDirs)!, parse.GetValue(output)!, stdout, stderr));
        return command;
    }

    public static int Merge(IReadOnlyList<string> dirs, string outDir, TextWriter stdout, TextWriter stderr)
    {
        var errors = new List<string>();
        if (OutputFolder.Problem(outDir) is { } problem) errors.Add(problem);
        else if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            errors.Add($"--out {outDir} is not empty; give a new or empty folder for the merged run");
        // Shards of fdr sweep, baseline or predict (points.json) are joined into that command's output instead of a run.
        if (dirs.Any(PointShard.IsShardFolder)) return PointMerge.Merge(dirs, outDir, errors, stdout, stderr);
        errors.AddRange(ShardMerge.Check(dirs, out var shards));
        Core.Scenarios.Model.Scenario? scenario = null;
        if (errors.Count == 0)
        {
            var file = Path.Combine(shards[0].Path, RunDirectory.ScenarioFile);
            var loaded = ScenarioLoader.Load(file, ResourceBudget.Unlimited);
            if (loaded.Scenario is null) errors.Add($"{file}: not a scenario fdr can read ({loaded.Diagnostics.FirstOrDefault()?.Message ?? "no scenario"})");
            scenario = loaded.Scenario;
        }
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"fdr merge: {e}");
            return ExitCodes.InvalidInput;
        }

        var existed = Directory.Exists(outDir);
        var info = ShardMerge.Info(shards);
        var dir = RunDirectory.Create(RunDirectory.DefaultReportsRoot, info, outDir);
        try
        {
            ShardMerge.WriteObservationsAsync(shards, dir.Path).GetAwaiter().GetResult();
            dir.WriteRunInfo(info);
            stdout.WriteLine($"Merged {shards.Count} shards of {info.Scenario} (seed {info.Seed}) into {dir.Path}");
            var exit = RunVerdict.ReportAndJudge(scenario!, dir.Path, stdout);
            dir.Finish(info, exit, ShardMerge.Counters(shards));
            return exit;
        }
        catch
        {
            // Nothing half-written: the folder goes back to how it was (absent, or empty).
            if (existed) foreach (var entry in new DirectoryInfo(dir.Path).EnumerateFileSystemInfos()) Remove(entry);
            else Directory.Delete(dir.Path, recursive: true);
            throw;
        }
    }

    private static void Remove(FileSystemInfo entry)
    {
        if (entry is DirectoryInfo d) d.Delete(recursive: true);
        else entry.Delete();
    }
}
