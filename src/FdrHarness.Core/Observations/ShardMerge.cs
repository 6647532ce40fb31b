using System.Globalization;
using System.Text.Json;

namespace FdrHarness.Core.Observations;

/// <summary>A finished shard's run folder, as `fdr merge` reads it.</summary>
public sealed record ShardRun(string Path, RunInfo Info);

/// <summary>
/// Joins the run folders of the N shards of one run (<c>fdr run --shard i/N</c>) into one run folder: the observation
/// files merged in time order, each shard's API calls, run.json's counters summed. Each observation was written by
/// exactly one shard (see <c>ShardSink</c>), so the merged files hold what one process's run would.
/// </summary>
public static class ShardMerge
{
    /// <summary>
    /// Checks that <paramref name="dirs"/> are the finished shards of one run, each exactly once: one line per mistake
    /// (empty when they are). <paramref name="shards"/> is ordered by shard index when there is no mistake.
    /// </summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<string> dirs, out IReadOnlyList<ShardRun> shards)
    {
        ArgumentNullException.ThrowIfNull(dirs);
        var errors = new List<string>();
        var runs = new List<ShardRun>();
        foreach (var dir in dirs)
        {
            if (Read(dir, errors) is { } run) runs.Add(run);
        }
        shards = [];
        if (dirs.Count == 0) errors.Add("no shard run folders given: fdr merge RUN_DIR... --out DIR");
        if (runs.Count == 0) return errors;

        var first = runs[0];
        var scenarioText = ScenarioText(first.Path);
        foreach (var run in runs.Skip(1))
        {
            var (a, b) = (first.Info, run.Info);
            if (a.Scenario != b.Scenario) errors.Add($"{run.Path}: scenario '{b.Scenario}', but {first.Path} ran '{a.Scenario}'");
            else if (ScenarioText(run.Path) != scenarioText)
                errors.Add($"{run.Path}: its scenario.yaml differs from {first.Path}'s (the shards of a run share one scenario, seed and scale)");
            if (a.Seed != b.Seed) errors.Add($"{run.Path}: seed {b.Seed}, but {first.Path} has seed {a.Seed}");
            if (a.Scale != b.Scale)
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{run.Path}: scale {b.Scale}, but {first.Path} has scale {a.Scale}"));
            if (a.Target != b.Target) errors.Add($"{run.Path}: target {b.Target}, but {first.Path} ran on {a.Target}");
            if (a.Shard!.Count != b.Shard!.Count)
                errors.Add($"{run.Path}: shard {b.Shard.Index}/{b.Shard.Count}, but {first.Path} is one of {a.Shard.Count} shards");
        }
        var count = first.Info.Shard!.Count;
        foreach (var group in runs.Where(r => r.Info.Shard!.Count == count).GroupBy(r => r.Info.Shard!.Index).Where(g => g.Count() > 1))
            errors.Add($"shard {group.Key}/{count} given {group.Count()} times: {string.Join(", ", group.Select(r => r.Path))}");
        var present = runs.Where(r => r.Info.Shard!.Count == count).Select(r => r.Info.Shard!.Index).ToHashSet();
        // Missing shards are only told when every folder could be read: an unreadable one may be the missing shard.
        if (runs.Count == dirs.Count)
            foreach (var i in Enumerable.Range(0, count).Where(i => !present.Contains(i)))
                errors.Add($"shard {i}/{count} is missing: give the folders of all {count} shards");
        if (errors.Count == 0) shards = [.. runs.OrderBy(r => r.Info.Shard!.Index)];
        return errors;
    }

    private static ShardRun? Read(string dir, List<string> errors)
    {
        if (!Directory.Exists(dir))
        {
            errors.Add($"{dir}: no such run folder");
            return null;
        }
        RunInfo info;
        try
        {
            info = RunDirectory.Open(dir).ReadRunInfo();
        }
        catch (FileNotFoundException)
        {
            errors.Add($"{dir}: no {RunDirectory.RunFile}: not a run folder, or its run never started");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            errors.Add($"{dir}: {RunDirectory.RunFile} cannot be read ({e.Message.ReplaceLineEndings(" ")})");
            return null;
        }
        if (info.Shard is not { } shard || shard.Count < 1 || shard.Index < 0 || shard.Index >= shard.Count)
        {
            errors.Add($"{dir}: not a shard of a run (run without --shard i/N)");
            return null;
        }
        if (info.ExitStatus is not { } exit)
        {
            errors.Add($"{dir}: shard {shard.Index}/{shard.Count} has not finished (run.json has no exit status: still running, or its process died); run that shard again");
            return null;
        }
        if (exit != ExitCodes.Success)
        {
            errors.Add($"{dir}: shard {shard.Index}/{shard.Count} ended with exit {exit}{ExitMeaning(exit)}; run that shard again");
            return null;
        }
        var missing = ObservationFiles.Select(f => f.Name).Append(RunDirectory.ScenarioFile).Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count > 0)
        {
            errors.Add($"{dir}: shard {shard.Index}/{shard.Count} lacks {string.Join(", ", missing)}");
            return null;
        }
        return new ShardRun(Path.GetFullPath(dir), info);
    }

    private static string ExitMeaning(int exit) => exit switch
    {
        ExitCodes.Interrupted => " (interrupted)",
        ExitCodes.Terminated => " (stopped by SIGTERM)",
        ExitCodes.TargetUnreachable => " (target unreachable)",
        ExitCodes.ThresholdsFailed => " (aborted on a threshold)",
        _ => "",
    };

    private static string ScenarioText(string dir) => File.ReadAllText(Path.Combine(dir, RunDirectory.ScenarioFile));

    private sealed record ObservationFile(string Name, Action<IReadOnlyList<ObservationReader>, ParquetObservationSink> Merge);

    private static readonly ObservationFile[] ObservationFiles =
    [
        new(ParquetObservationSink.EventsFile, (r, sink) => { foreach (var e in ByTime(r.Select(x => x.Events()), e => e.CreatedAt.Ticks)) sink.Event(e); }),
        new(ParquetObservationSink.SamplesFile, (r, sink) => { foreach (var s in ByTime(r.Select(x => x.Samples()), s => s.Time.Ticks)) sink.Sample(s); }),
        new(ParquetObservationSink.LifecycleFile, (r, sink) => { foreach (var e in ByTime(r.Select(x => x.Lifecycle()), e => e.Time.Ticks)) sink.Lifecycle(e); }),
        new(ParquetObservationSink.FaultsFile, (r, sink) => { foreach (var f in ByTime(r.Select(x => x.Faults()), f => f.Start.Ticks)) sink.Fault(f); }),
        new(ParquetObservationSink.InjectionsFile, (r, sink) => { foreach (var i in ByTime(r.Select(x => x.Injections()), i => i.Time.Ticks)) sink.Injection(i); }),
    ];

    /// <summary>Files a shard may hold besides its observations that belong to the merged run: the cluster side's (only the cluster shard has them).</summary>
    private static readonly string[] ClusterFiles = ["audit.jsonl", "restore.json"];

    /// <summary>
    /// Writes the merged observation files of <paramref name="shards"/> into <paramref name="outDir"/> (each whole or
    /// not at all, as a run writes them): every file merged in time order (ties in shard order), api-latency.csv with
    /// each shard's rows named after their shard, the cluster shard's audit and restore files, and scenario.yaml.
    /// </summary>
    public static async Task WriteObservationsAsync(IReadOnlyList<ShardRun> shards, string outDir)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var readers = shards.Select(s => new ObservationReader(s.Path)).ToList();
        await using (var sink = new ParquetObservationSink(outDir))
        {
            foreach (var file in ObservationFiles) file.Merge(readers, sink);
            var latency = shards.SelectMany(s => ApiLatencyFile.Read(s.Path).Select(r => r with { Operation = $"shard {s.Info.Shard!.Index}/{s.Info.Shard.Count} {r.Operation}" })).ToList();
            if (latency.Count > 0) sink.ApiLatency(latency);
            await sink.CompleteAsync().ConfigureAwait(false);
        }
        File.Copy(Path.Combine(shards[0].Path, RunDirectory.ScenarioFile), Path.Combine(outDir, RunDirectory.ScenarioFile));
        foreach (var name in ClusterFiles)
        {
            var from = shards.Select(s => Path.Combine(s.Path, name)).Where(File.Exists).ToList();
            if (from.Count > 0) RunDirectory.WriteAtomically(Path.Combine(outDir, name), string.Concat(from.Select(File.ReadAllText)));
        }
    }

    /// <summary>run.json's counters of the merged run: each summed over the shards (each counts its own part).</summary>
    public static Dictionary<string, double> Counters(IReadOnlyList<ShardRun> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var s in shards)
            foreach (var (name, value) in s.Info.Summary ?? new Dictionary<string, double>())
                sum[name] = sum.GetValueOrDefault(name) + value;
        return sum;
    }

    /// <summary>The merged run's run.json before its end: the first shard's run, from the earliest start, naming its shards.</summary>
    public static RunInfo Info(IReadOnlyList<ShardRun> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var first = shards[0].Info;
        return first with
        {
            ToolVersion = RunDirectory.ToolVersion,
            StartedUtc = shards.Min(s => s.Info.StartedUtc),
            EndedUtc = null,
            ExitStatus = null,
            Host = string.Join(",", shards.Select(s => s.Info.Host).Distinct(StringComparer.Ordinal)),
            Summary = null,
            Shard = null,
            MergedFrom = [.. shards.Select(s => s.Path)],
        };
    }

    /// <summary>Merges sequences each in time order into one in time order; equal times keep the sources' order.</summary>
    public static IEnumerable<T> ByTime<T>(IEnumerable<IEnumerable<T>> sources, Func<T, long> ticks)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(ticks);
        var enumerators = sources.Select(s => s.GetEnumerator()).ToList();
        try
        {
            var queue = new PriorityQueue<int, (long Ticks, int Source)>();
            for (var i = 0; i < enumerators.Count; i++)
                if (enumerators[i].MoveNext()) queue.Enqueue(i, (ticks(enumerators[i].Current), i));
            while (queue.TryDequeue(out var i, out _))
            {
                yield return enumerators[i].Current;
                if (enumerators[i].MoveNext()) queue.Enqueue(i, (ticks(enumerators[i].Current), i));
            }
        }
        finally
        {
            foreach (var e in enumerators) e.Dispose();
        }
    }
}
