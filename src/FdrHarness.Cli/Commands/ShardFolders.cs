using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Decisions.Shards;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// The folders fdr merge joins. A folder named that is no shard itself (no run.json, no points.json) but holds folders
/// stands for every folder in it but --out — as /runs/RELEASE holds the chart's shard-0 … shard-N-1 — so a merge Job
/// needs no list of the shards. With --wait, fdr merge first waits until every shard of the job has finished: a run's
/// run.json has its exit status, a sweep's, baseline's or prediction's points.json is written, every index is there.
/// </summary>
public static class ShardFolders
{
    /// <summary>How often the folders are looked at again while waiting (a claim's files; no event tells a change on NFS).</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<string> Expand(IReadOnlyList<string> inputs, string outDir)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir));
        var dirs = new List<string>();
        foreach (var input in inputs)
        {
            var inner = IsShard(input) || !Directory.Exists(input) ? [] :
                Directory.GetDirectories(input).Where(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)) != output).Order(StringComparer.Ordinal).ToList();
            if (inner.Count > 0) dirs.AddRange(inner);
            else dirs.Add(input);
        }
        return dirs;
    }

    private static bool IsShard(string dir) => File.Exists(Path.Combine(dir, RunDirectory.RunFile)) || PointShard.IsShardFolder(dir);

    /// <summary>What has not finished yet among <paramref name="dirs"/>, one phrase each; empty when every shard of the job has (or cannot: fdr merge then says why).</summary>
    public static IReadOnlyList<string> Unfinished(IReadOnlyList<string> dirs)
    {
        ArgumentNullException.ThrowIfNull(dirs);
        var waiting = new List<string>();
        var seen = new HashSet<int>();
        int? count = null;
        foreach (var dir in dirs)
        {
            if (PointShard.IsShardFolder(dir))
            {
                if (PointShard.ShardOf(dir) is { } point) (count, _) = (point.Count, seen.Add(point.Index));
                continue;
            }
            RunInfo? info = null;
            try
            {
                if (File.Exists(Path.Combine(dir, RunDirectory.RunFile))) info = RunDirectory.Open(dir).ReadRunInfo();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
            {
                continue; // unreadable: fdr merge says so
            }
            if (info is null) waiting.Add($"{dir} (not started)");
            else
            {
                if (info.Shard is { } shard) (count, _) = (shard.Count, seen.Add(shard.Index));
                if (info.ExitStatus is null) waiting.Add($"{dir} (running)");
            }
        }
        if (count is { } n)
            waiting.AddRange(Enumerable.Range(0, n).Where(i => !seen.Contains(i)).Select(i => $"shard {i}/{n} (no folder yet)"));
        return waiting;
    }

    /// <summary>
    /// Waits until every shard has finished, at most <paramref name="wait"/>, then gives the folders to join (fdr merge
    /// checks them, so a shard still missing then is told as missing). Says what it waits for whenever that changes.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WaitAsync(IReadOnlyList<string> inputs, string outDir, TimeSpan wait, TimeProvider time, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(log);
        var deadline = time.GetUtcNow() + wait;
        string? told = null;
        while (true)
        {
            var dirs = Expand(inputs, outDir);
            var waiting = Unfinished(dirs);
            var left = deadline - time.GetUtcNow();
            if (waiting.Count == 0 || left <= TimeSpan.Zero) return dirs;
            // The timer is set before saying so: whoever reads the line may move the clock on at once.
            var next = Task.Delay(left < Poll ? left : Poll, time, ct);
            var line = $"Waiting for {string.Join(", ", waiting)}";
            if (line != told) log.WriteLine($"{line} (up to {Durations.Format(TimeSpan.FromSeconds(Math.Ceiling(left.TotalSeconds)))} more)");
            told = line;
            await next.ConfigureAwait(false);
        }
    }
}
