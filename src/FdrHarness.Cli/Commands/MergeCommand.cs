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
        var runDirs = new Argument<string[]>("dir")
        {
            Description = "The folders of every shard of one job (fdr run, sweep, baseline or predict --shard i/N), or a folder holding them (every folder in it but --out).",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--out") { Description = "The merged run's (or sweep's, baseline's, prediction's) folder: new, or empty.", Required = true };
        var wait = new Option<TimeSpan?>("--wait")
        {
            Description = "First wait up to this long (e.g. 26h) until every shard has finished, as a Job beside the shards' Indexed Job does.",
            CustomParser = r =>
            {
                if (Core.Quantities.Durations.TryParse(r.Tokens.Single().Value, out var d, out _) && d >= TimeSpan.Zero) return d;
                r.AddError($"--wait '{r.Tokens.Single().Value}': expected a duration such as 26h or 30m");
                return null;
            },
        };
        var png = PngOption.Create();
        var command = new Command("merge", "Join the folders of a job's shards: a run's into one run folder and report; a sweep's, baseline's or prediction's into that command's output.")
        {
            runDirs, output, wait, png,
        };
        command.SetAction(parse =>
        {
            using var signals = new Signals(); // Ctrl-C or SIGTERM while waiting: nothing written
            return signals.ExitCode(Merge(parse.GetValue(runDirs)!, parse.GetValue(output)!, parse.GetValue(wait), TimeProvider.System, stdout, stderr, signals.Token, parse.GetValue(png)));
        });
        return command;
    }

    /// <summary>Waits for the shards when asked (<paramref name="wait"/>), then joins them.</summary>
    public static int Merge(IReadOnlyList<string> inputs, string outDir, TimeSpan? wait, TimeProvider time, TextWriter stdout, TextWriter stderr, CancellationToken ct, bool png = false)
    {
        IReadOnlyList<string> dirs;
        try
        {
            dirs = wait is { } w ? ShardFolders.WaitAsync(inputs, outDir, w, time, stdout, ct).GetAwaiter().GetResult() : ShardFolders.Expand(inputs, outDir);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            stderr.WriteLine("fdr merge: interrupted while waiting for the shards; nothing written");
            return ExitCodes.Interrupted;
        }
        return Merge(dirs, outDir, stdout, stderr, png);
    }

    public static int Merge(IReadOnlyList<string> dirs, string outDir, TextWriter stdout, TextWriter stderr, bool png = false)
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
            var exit = RunVerdict.ReportAndJudge(scenario!, dir.Path, stdout, png: png);
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
