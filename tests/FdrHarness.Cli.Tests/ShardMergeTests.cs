using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;

namespace FdrHarness.Cli.Tests;

/// <summary>The four shards of ci-smoke, run once for the class, and the same scenario and seed as one process.</summary>
public sealed class ShardRuns : IDisposable
{
    public const int Count = 4;
    public static readonly string Smoke = RepoPaths.Scenario("ci-smoke.yaml");
    public string Root { get; } = Directory.CreateTempSubdirectory("fdr-shards-").FullName;
    public string One { get; }
    public IReadOnlyList<string> Shards { get; }

    public ShardRuns()
    {
        One = Run("one");
        // One fdr invocation per shard, as the Indexed Job's pods run them (here one after another in this process).
        Shards = [.. Enumerable.Range(0, Count).Select(i => Run($"shard-{i}", "--shard", $"{i}/{Count}"))];
    }

    public string Run(string name, params string[] extra)
    {
        var output = Path.Combine(Root, name);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(["run", Smoke, "--out", output, .. extra], stdout, stderr);
        Assert.True(code == ExitCodes.Success, $"exit {code}: {stderr}");
        return output;
    }

    /// <summary>A copy of a run folder, to spoil.</summary>
    public string Copy(string from, string name)
    {
        var to = Path.Combine(Root, name);
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        return to;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// fdr run --shard i/N and fdr merge: four shard runs merged give the counts, transfer matrix, events and report of one
/// process's run on the same scenario and seed; merge refuses what is not the complete, finished set of one run's shards.
/// </summary>
public sealed class ShardMergeTests(ShardRuns runs) : IClassFixture<ShardRuns>
{
    private (int Code, string Stdout, string Stderr) Merge(string outName, params string[] dirs)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(["merge", .. dirs, "--out", Path.Combine(runs.Root, outName)], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static JsonNode RunJson(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunDirectory.RunFile)))!;

    [Fact]
    public void Four_shards_merged_count_and_report_what_one_process_does()
    {
        var (code, stdout, stderr) = Merge("merged", [.. runs.Shards.Reverse()]); // any order
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("Merged 4 shards", stdout, StringComparison.Ordinal);
        var merged = Path.Combine(runs.Root, "merged");

        // A shard is a part: its own counts, its shard in run.json, no report of its own.
        foreach (var (dir, i) in runs.Shards.Select((d, i) => (d, i)))
        {
            Assert.Equal(i, (int)RunJson(dir)["shard"]!["index"]!);
            Assert.Equal(ShardRuns.Count, (int)RunJson(dir)["shard"]!["count"]!);
            Assert.False(File.Exists(Path.Combine(dir, "report.html")));
        }
        Assert.True(runs.Shards.Count(d => (double)RunJson(d)["summary"]![RunCounters.TransfersSubmitted]! > 0) >= 2, "the work is spread over the shards");

        // run.json's counters: equal, every one.
        var one = RunJson(runs.One)["summary"]!.AsObject();
        var all = RunJson(merged)["summary"]!.AsObject();
        Assert.Equal(one.Select(kv => (kv.Key, (double)kv.Value!)).Order(), all.Select(kv => (kv.Key, (double)kv.Value!)).Order());
        Assert.Null(RunJson(merged)["shard"]);
        Assert.Equal(runs.Shards.Select(Path.GetFullPath), RunJson(merged)["merged_from"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(0, (int)RunJson(merged)["exit_status"]!);

        // The transfer matrix and the rest of the report's figures, from the merged observation files.
        Assert.Equal(File.ReadAllText(Path.Combine(runs.One, "transfer-matrix.csv")), File.ReadAllText(Path.Combine(merged, "transfer-matrix.csv")));
        var summaryOne = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.One, "summary.json")))!;
        var summaryAll = JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "summary.json")))!;
        Assert.True(summaryOne["transfer_matrix"] is not null || summaryOne.AsObject().Count > 3);
        Assert.Equal(summaryOne.ToJsonString(), summaryAll.ToJsonString());
        Assert.True(File.Exists(Path.Combine(merged, "report.html")));
        Assert.True(File.Exists(Path.Combine(merged, "thresholds.junit.xml")));
        Assert.Empty(Directory.GetFiles(Path.Combine(merged, "plots"), "*.png")); // only with --png (the merge below)

        // Every observation once: the merged files hold the one run's rows (in time order; ties may interleave differently).
        var a = new ObservationReader(runs.One);
        var b = new ObservationReader(merged);
        Assert.Equal(a.Events().Select(e => e.ToString()).Order(StringComparer.Ordinal), b.Events().Select(e => e.ToString()).Order(StringComparer.Ordinal));
        Assert.True(b.Events().Zip(b.Events().Skip(1)).All(p => p.First.CreatedAt <= p.Second.CreatedAt));
        Assert.Equal(a.Samples(), b.Samples());
        Assert.Equal(a.Lifecycle(), b.Lifecycle());
        Assert.Equal(a.Faults(), b.Faults());
        // Injection rows: each written by the shard of its DID, in time order; the merged total is the one run's and run.json's.
        Assert.Equal(a.Injections().Select(r => r.ToString()).Order(StringComparer.Ordinal), b.Injections().Select(r => r.ToString()).Order(StringComparer.Ordinal));
        Assert.True(b.Injections().Zip(b.Injections().Skip(1)).All(p => p.First.Time <= p.Second.Time));
        Assert.Equal((double)RunJson(merged)["summary"]![RunCounters.FilesInjected]!, b.Injections().Sum(r => r.Files));
        Assert.True(b.Injections().Sum(r => r.Files) > 0);
        Assert.Empty(Directory.GetFiles(merged, "*.tmp"));
        Assert.False(File.Exists(Path.Combine(merged, RunDirectory.ClaimFile)));

        // --png: the merged report's plots as PNG too.
        var (pngCode, _, pngErr) = Merge("merged-png", [.. runs.Shards, "--png"]);
        Assert.True(pngCode == ExitCodes.Success, pngErr);
        var plots = Path.Combine(runs.Root, "merged-png", "plots");
        Assert.Equal(Directory.GetFiles(plots, "*.svg").Length, Directory.GetFiles(plots, "*.png").Length);
        Assert.NotEmpty(Directory.GetFiles(plots, "*.png"));
    }

    [Fact]
    public void Merge_tells_every_mistake_in_one_line_each_and_writes_nothing()
    {
        var s = runs.Shards;
        // One shard given twice, two missing.
        var (code, _, stderr) = Merge("out-a", s[0], s[1], s[1]);
        Assert.Equal(ExitCodes.InvalidInput, code);
        var lines = stderr.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.Contains("shard 1/4 given 2 times", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("shard 2/4 is missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("shard 3/4 is missing", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(runs.Root, "out-a")));

        // Unfinished, interrupted, another seed, another shard count, not a shard, no such folder: one line each.
        var unfinished = runs.Copy(s[1], "unfinished");
        Spoil(unfinished, j => j["exit_status"] = null);
        var interrupted = runs.Copy(s[2], "interrupted");
        Spoil(interrupted, j => j["exit_status"] = ExitCodes.Interrupted);
        var otherSeed = runs.Run("seed-43", "--shard", "3/4", "--seed", "43");
        var (code2, _, stderr2) = Merge("out-b", s[0], unfinished, interrupted, otherSeed, runs.One, Path.Combine(runs.Root, "nowhere"));
        Assert.Equal(ExitCodes.InvalidInput, code2);
        lines = stderr2.Trim().Split('\n');
        Assert.All(lines, l => Assert.StartsWith("fdr merge: ", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(unfinished, StringComparison.Ordinal) && l.Contains("has not finished", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(interrupted, StringComparison.Ordinal) && l.Contains("exit 130 (interrupted)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(otherSeed, StringComparison.Ordinal) && l.Contains("seed 43", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(runs.One, StringComparison.Ordinal) && l.Contains("not a shard", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("nowhere: no such run folder", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr2, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(runs.Root, "out-b")));

        var twoShards = runs.Run("of-two", "--shard", "1/2");
        var (code3, _, stderr3) = Merge("out-c", s[0], twoShards, s[2], s[3]);
        Assert.Equal(ExitCodes.InvalidInput, code3);
        Assert.Contains("one of 4 shards", stderr3, StringComparison.Ordinal);

        // A merged run never lands in a folder that holds something.
        var taken = Path.Combine(runs.Root, "taken");
        Directory.CreateDirectory(taken);
        File.WriteAllText(Path.Combine(taken, "keep.txt"), "mine");
        var (code4, _, stderr4) = Merge("taken", [.. s]);
        Assert.Equal(ExitCodes.InvalidInput, code4);
        Assert.Contains("is not empty", stderr4, StringComparison.Ordinal);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(taken).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("4/4", "the index must be from 0 to 3")]
    [InlineData("0/0", "the count must be from 1 to")]
    [InlineData("one/4", "expected INDEX/COUNT")]
    [InlineData("-1/4", "expected INDEX/COUNT")]
    public void A_wrong_shard_is_refused_before_anything_runs(string shard, string message)
    {
        var output = Path.Combine(runs.Root, "bad-" + shard.Replace('/', '-'));
        var stderr = new StringWriter();
        var code = FdrApp.Run(["run", ShardRuns.Smoke, "--shard", shard, "--out", output], new StringWriter(), stderr);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    private static void Spoil(string dir, Action<JsonObject> change)
    {
        var path = Path.Combine(dir, RunDirectory.RunFile);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
