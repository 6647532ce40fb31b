using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using FdrHarness.Cli.Commands;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Decisions.Shards;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Cli.Tests;

/// <summary>fdr sweep, baseline and predict on ci-smoke (small: two points each), once in one process and once as two shards, run once for the class.</summary>
public sealed class PointRuns : IDisposable
{
    public static readonly string Smoke = RepoPaths.Scenario("ci-smoke.yaml");
    public string Root { get; } = Directory.CreateTempSubdirectory("fdr-points-").FullName;
    public string Calibration { get; }
    public (string Stdout, string Dir) SweepOne { get; }
    public IReadOnlyList<string> SweepShards { get; }
    public (string Stdout, string Dir) BaselineOne { get; }
    public IReadOnlyList<string> BaselineShards { get; }
    public (string Stdout, string Dir) PredictOne { get; }
    public IReadOnlyList<string> PredictShards { get; }

    private static readonly string[] Sweep = ["sweep", Smoke, "--scale", "0.25,0.5"];
    private static readonly string[] Baseline = ["baseline", Smoke, "--seeds", "2", "--set", "run.scale=0.25"];
    private string[] Predict => ["predict", Smoke, "--calibration", Calibration, "--scale", "0.5,0.25", "--draws", "2"];

    public PointRuns()
    {
        // A calibration overlay as fdr calibrate writes one: a daemon's model keys changed, with their intervals (two draws per scale).
        Calibration = Path.Combine(Root, "calibration.yaml");
        File.WriteAllText(Calibration, "daemons:\n  judge-evaluator:\n    model:\n      memory_per_item: 400000\n      cost_per_item: 0.002s\n"
            + "calibration:\n  intervals:\n    judge-evaluator: {memory_per_item: 100000, cost_per_item: 0.0005}\n");
        SweepOne = (Run([.. Sweep, "--out", Path.Combine(Root, "sweep-one")]), Path.Combine(Root, "sweep-one"));
        BaselineOne = (Run([.. Baseline, "--out", Path.Combine(Root, "baseline-one", "baseline.json")]), Path.Combine(Root, "baseline-one"));
        PredictOne = (Run([.. Predict, "--out", Path.Combine(Root, "predict-one")]), Path.Combine(Root, "predict-one"));
        // One fdr invocation per shard, as the Indexed Job's pods run them (here one after another in this process).
        SweepShards = Shards("sweep", Sweep);
        BaselineShards = Shards("baseline", Baseline);
        PredictShards = Shards("predict", Predict);
    }

    private List<string> Shards(string name, string[] args) =>
        [.. Enumerable.Range(0, 2).Select(i =>
        {
            var dir = Path.Combine(Root, $"{name}-shard-{i}");
            Run([.. args, "--shard", $"{i}/2", "--out", dir]);
            return dir;
        })];

    public static string Run(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        Assert.True(code == ExitCodes.Success, $"fdr {string.Join(' ', args)}: exit {code}: {stderr}");
        return stdout.ToString();
    }

    /// <summary>A copy of a shard folder, to spoil.</summary>
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
/// --shard i/N on fdr sweep, baseline and predict, and fdr merge of the shards: the joined output is the one-process
/// command's (same files, same figures, same table); merge refuses what is not the complete set of one job's shards.
/// </summary>
public sealed class PointMergeTests(PointRuns runs) : IClassFixture<PointRuns>
{
    private (int Code, string Stdout, string Stderr, string Out) Merge(string outName, params string[] dirs)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var output = Path.Combine(runs.Root, outName);
        var code = FdrApp.Run(["merge", .. dirs, "--out", output], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString(), output);
    }

    /// <summary>sweep.txt without what is measured rather than computed: the header's wall time and where it ran, each point's run seconds.</summary>
    private static string Untimed(string text) =>
        Regex.Replace(Regex.Replace(text, @"\A[^\n]*\n", ""), @"(?m)^(\s*\S+(?:\s+\S+){6})\s+\d+\.\d$", "$1");

    private static JsonObject Points(string dir) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PointShard.FileName)))!;

    [Fact]
    public void Sweep_shards_merged_write_the_files_one_process_writes()
    {
        // Each shard ran its one point (j mod 2 = i), and wrote no sweep of its own.
        foreach (var (dir, i) in runs.SweepShards.Select((d, i) => (d, i)))
        {
            var result = Assert.Single(Points(dir)["results"]!.AsArray());
            Assert.Equal(i, (int)result!["index"]!);
            Assert.False(File.Exists(Path.Combine(dir, "sweep.csv")));
        }

        var (code, stdout, stderr, merged) = Merge("sweep-merged", [.. runs.SweepShards.Reverse()]); // any order
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("Merged 2 shards of fdr sweep", stdout, StringComparison.Ordinal);
        var one = runs.SweepOne.Dir;
        Assert.Equal(Directory.GetFiles(one).Select(Path.GetFileName).Order(StringComparer.Ordinal), Directory.GetFiles(merged).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllText(Path.Combine(one, "sweep.csv")), File.ReadAllText(Path.Combine(merged, "sweep.csv")));
        foreach (var png in Directory.GetFiles(one, "*.png"))
            Assert.True(File.ReadAllBytes(png).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(merged, Path.GetFileName(png)))), $"{Path.GetFileName(png)} differs");
        var (a, b) = (File.ReadAllText(Path.Combine(one, "sweep.txt")), File.ReadAllText(Path.Combine(merged, "sweep.txt")));
        Assert.Contains("judge-evaluator", b, StringComparison.Ordinal);
        Assert.NotEqual(a, Untimed(a)); // the timing is there, and taken out
        Assert.Equal(Untimed(a), Untimed(b));
        Assert.StartsWith("sweep of ci-smoke over scale: 2 runs on 2 shards", b, StringComparison.Ordinal);
        Assert.Contains(Untimed(b), Untimed(stdout), StringComparison.Ordinal);
    }

    [Fact]
    public void Baseline_shards_merged_write_the_baseline_one_process_writes()
    {
        var (code, stdout, stderr, merged) = Merge("baseline-merged", [.. runs.BaselineShards]);
        Assert.True(code == ExitCodes.Success, stderr);
        var one = File.ReadAllText(Path.Combine(runs.BaselineOne.Dir, "baseline.json"));
        Assert.Equal(one, File.ReadAllText(Path.Combine(merged, "baseline.json")));
        Assert.Equal(2, JsonNode.Parse(one)!["seeds"]!.AsArray().Count);
        Assert.Contains("median and spread over 2 seeds", stdout, StringComparison.Ordinal);
        // Each shard ran one of the two seeds.
        Assert.Equal(JsonNode.Parse(one)!["seeds"]!.AsArray().Select(s => (long)s!),
            runs.BaselineShards.Select(d => (long)Points(d)["results"]![0]!["seed"]!));
    }

    [Fact]
    public void Predict_shards_merged_print_and_write_the_files_one_process_does()
    {
        // 2 scales × 2 draws: each shard ran two of the four points.
        Assert.All(runs.PredictShards, d => Assert.Equal(2, Points(d)["results"]!.AsArray().Count));
        var (code, stdout, stderr, merged) = Merge("predict-merged", [.. runs.PredictShards]);
        Assert.True(code == ExitCodes.Success, stderr);
        var one = runs.PredictOne.Dir;
        var table = File.ReadAllText(Path.Combine(one, "predict.txt"));
        Assert.StartsWith(table, runs.PredictOne.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 draws of the calibrated values", table, StringComparison.Ordinal);
        Assert.Contains(table, stdout, StringComparison.Ordinal);
        string[] Files(string dir) => [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(one), Files(merged));
        Assert.Contains(Path.Combine("values", "scale-0.25", "rucio-daemons.values.yaml"), Files(one));
        foreach (var f in Files(one))
            Assert.True(File.ReadAllBytes(Path.Combine(one, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(merged, f))), $"{f} differs");
    }

    [Fact]
    public void Merge_tells_every_mistake_of_point_shards_in_one_line_each_and_writes_nothing()
    {
        var (s0, s1) = (runs.SweepShards[0], runs.SweepShards[1]);
        void Refused(string name, string[] dirs, params string[] expected)
        {
            var (code, _, stderr, output) = Merge(name, dirs);
            Assert.Equal(ExitCodes.InvalidInput, code);
            var lines = stderr.Trim().Split('\n');
            Assert.Equal(expected.Length, lines.Length);
            foreach (var e in expected) Assert.Contains(lines, l => l.StartsWith("fdr merge: ", StringComparison.Ordinal) && l.Contains(e, StringComparison.Ordinal));
            Assert.False(Directory.Exists(output), "merge wrote something");
        }

        Refused("o1", [s0], "shard 1/2 is missing");
        Refused("o2", [s0, s0, s1], "shard 0/2 given 2 times");
        var otherScenario = runs.Copy(s1, "other-scenario");
        File.WriteAllText(Path.Combine(otherScenario, "scenario.yaml"), File.ReadAllText(Path.Combine(otherScenario, "scenario.yaml")).Replace("seed: 42", "seed: 43", StringComparison.Ordinal));
        Refused("o3", [s0, otherScenario], "its scenario.yaml differs");
        var otherOptions = runs.Copy(s1, "other-options");
        var points = Points(otherOptions);
        points["options"]!["scale"] = "0.25,0.5,1";
        File.WriteAllText(Path.Combine(otherOptions, PointShard.FileName), points.ToJsonString());
        Refused("o4", [s0, otherOptions], "every shard takes the same options");
        Refused("o5", [s0, runs.PredictShards[1]], "a shard of fdr predict, but", "its scenario.yaml differs"); // predict's is calibrated
        Refused("o6", [s0, s1, runs.BaselineOne.Dir], "no points.json");
        Refused("o7", [runs.BaselineShards[0], runs.BaselineShards[1], runs.BaselineShards[0]], "shard 0/2 given 2 times");
    }

    [Theory]
    [InlineData("0/3", "give at most 2 shards")]
    [InlineData("2/2", "the index must be from 0 to 1")]
    [InlineData(null, "needs --out")]
    public void A_shard_that_cannot_be_is_refused_before_anything_runs(string? shard, string expected)
    {
        var output = Path.Combine(runs.Root, "refused-" + (shard ?? "no-out").Replace('/', '-'));
        string[] args = shard is null ? ["sweep", PointRuns.Smoke, "--scale", "0.25,0.5", "--shard", "0/2"] : ["sweep", PointRuns.Smoke, "--scale", "0.25,0.5", "--shard", shard, "--out", output];
        var stderr = new StringWriter();
        Assert.Equal(ExitCodes.InvalidInput, FdrApp.Run(args, new StringWriter(), stderr));
        // One line says what is wrong (the parser's own refusal adds its usual "Try 'fdr --help'.").
        Assert.Single(stderr.ToString().Trim().Split('\n'), l => l.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>A log whose lines can be awaited: the merge says what it waits for after its timer is set.</summary>
    private sealed class Lines : StringWriter
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            _lines.Writer.TryWrite(value ?? "");
        }

        public ValueTask<string> Next() => _lines.Reader.ReadAsync();
    }

    [Fact]
    public async Task A_merge_job_waits_until_every_shard_has_finished_then_joins_the_folder_that_holds_them()
    {
        // The chart's layout: /runs/RELEASE holds shard-0 … shard-N-1 and, once merged, merged.
        var job = Directory.CreateDirectory(Path.Combine(runs.Root, "job-waits")).FullName;
        runs.Copy(runs.SweepShards[0], Path.Combine("job-waits", "shard-0"));
        var merged = Path.Combine(job, "merged");
        var time = new FakeTimeProvider();
        var log = new Lines();
        var stderr = new StringWriter();
        var merge = Task.Run(() => MergeCommand.Merge([job], merged, TimeSpan.FromHours(26), time, log, stderr, CancellationToken.None));

        Assert.Equal("Waiting for shard 1/2 (no folder yet) (up to 26h more)", await log.Next());
        Assert.False(merge.IsCompleted);
        Assert.False(Directory.Exists(merged));
        runs.Copy(runs.SweepShards[1], Path.Combine("job-waits", "shard-1"));
        time.Advance(ShardFolders.Poll);

        Assert.Equal(ExitCodes.Success, await merge.WaitAsync(TimeSpan.FromMinutes(5)));
        Assert.Equal(File.ReadAllText(Path.Combine(runs.SweepOne.Dir, "sweep.csv")), File.ReadAllText(Path.Combine(merged, "sweep.csv")));
        Assert.Empty(stderr.ToString());
    }

    [Fact]
    public async Task A_merge_that_waited_in_vain_says_which_shard_did_not_finish_and_writes_nothing()
    {
        var job = Directory.CreateDirectory(Path.Combine(runs.Root, "job-in-vain")).FullName;
        runs.Copy(runs.BaselineShards[1], Path.Combine("job-in-vain", "shard-1"));
        // A run's shard still running: its run.json has no exit status yet.
        var running = RunDirectory.Create(job, new RunInfo { Scenario = "ci-smoke", Seed = 42, Shard = new RunShard(0, 2) }, Path.Combine(job, "run-shard"));
        running.WriteRunInfo(new RunInfo { Scenario = "ci-smoke", Seed = 42, Shard = new RunShard(0, 2) });
        Assert.Equal([$"{running.Path} (running)", "shard 1/2 (no folder yet)"], ShardFolders.Unfinished([running.Path]));
        Directory.Delete(running.Path, recursive: true);

        var merged = Path.Combine(job, "merged");
        var time = new FakeTimeProvider();
        var log = new Lines();
        var stderr = new StringWriter();
        var merge = Task.Run(() => MergeCommand.Merge([job], merged, TimeSpan.FromSeconds(15), time, log, stderr, CancellationToken.None));

        Assert.Equal("Waiting for shard 0/2 (no folder yet) (up to 15s more)", await log.Next());
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(ExitCodes.InvalidInput, await merge.WaitAsync(TimeSpan.FromMinutes(5)));
        Assert.Equal("fdr merge: shard 0/2 is missing: give the folders of all 2 shards", stderr.ToString().Trim());
        Assert.False(Directory.Exists(merged));
    }
}
