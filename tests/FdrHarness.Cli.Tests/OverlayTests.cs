using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Cli.Tests;

/// <summary>--overlay on fdr run, predict and recommend: Helm-style layering, its mistakes, what run.json records, the calibrated label, predict's files.</summary>
public sealed class OverlayTests : IDisposable
{
    private static readonly string Smoke = RepoPaths.Scenario("ci-smoke.yaml");
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-overlay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Stdout, string Stderr) Fdr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Overlays_merge_in_order_mappings_key_by_key_lists_replaced_and_null_removes()
    {
        var first = Write("first.yaml", """
            daemons:
              judge-evaluator:
                replicas: 3
                model: {memory_per_item: 1Mi, bulk: 7}
            links:
              overrides:
                - {source: ALPHA-DISK, destination: BETA-DISK, failure_probability: 0.5}
            """);
        var second = Write("second.yaml", "daemons:\n  judge-evaluator:\n    model: {memory_per_item: 2Mi}\n    limits: null\n");
        var plain = ScenarioLoader.Load(Smoke).Scenario!;
        Assert.Equal("DELTA-SAFE", Assert.Single(plain.Links.Overrides).Destination.Text); // ci-smoke's own, to be replaced

        var loaded = ScenarioLoader.Load(Smoke, overlays: [first, second]);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var evaluator = loaded.Scenario!.Daemons.Single(d => d.Name == "judge-evaluator");
        Assert.Equal(3, evaluator.Replicas);                                   // from the first
        Assert.Equal(plain.Daemons.Single(d => d.Name == "judge-evaluator").Threads, evaluator.Threads); // the scenario's, kept
        Assert.Equal("2Mi", evaluator.Model["memory_per_item"]);              // the second wins
        Assert.Equal("7", evaluator.Model["bulk"]);                           // the first's other key kept
        Assert.Null(evaluator.Limits.Memory);                                 // removed by null
        var replaced = Assert.Single(loaded.Scenario.Links.Overrides); // the list replaced whole
        Assert.Equal(("BETA-DISK", 0.5), (replaced.Destination.Text, replaced.FailureProbability));
        Assert.Equal(plain.Daemons.Count(d => d.Name != "judge-evaluator"), loaded.Scenario.Daemons.Count(d => d.Name != "judge-evaluator"));
        Assert.Equal([first, second], loaded.Overlays.Select(o => o.Path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(second))), loaded.Overlays[1].Sha256);
        Assert.All(loaded.Overlays, o => Assert.False(o.Calibrated));

        // The other order: the first wins.
        var reversed = ScenarioLoader.Load(Smoke, overlays: [second, first]).Scenario!.Daemons.Single(d => d.Name == "judge-evaluator");
        Assert.Equal("1Mi", reversed.Model["memory_per_item"]);
    }

    [Theory]
    [InlineData("missing", null, "no such file")]
    [InlineData("yaml", "daemons: {judge-evaluator: [\n", "bad.yaml:")]
    [InlineData("value", "daemons:\n  judge-evaluator:\n    replicas: many\n", "bad.yaml:3:15")]
    [InlineData("model", "daemons:\n  judge-evaluator:\n    model: {bulk: three}\n", "bad.yaml:3:")]
    [InlineData("key", "dameons:\n  judge-evaluator: {replicas: 2}\n", "bad.yaml:1:1")]
    [InlineData("list", "- daemons\n", "bad.yaml:1:1")]
    public void A_bad_overlay_is_one_line_at_its_file_exit_2_and_nothing_is_written(string what, string? text, string expected)
    {
        var bad = Path.Combine(_dir, "bad.yaml");
        if (text is not null) File.WriteAllText(bad, text);
        var outDir = Path.Combine(_dir, "out-" + what);
        foreach (var args in new[]
        {
            new[] { "run", Smoke, "--overlay", bad, "--out", outDir },
            ["predict", Smoke, "--overlay", bad, "--scale", "0.25", "--out", outDir],
        })
        {
            var (code, _, stderr) = Fdr(args);
            Assert.Equal(ExitCodes.InvalidInput, code);
            var line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(outDir), $"fdr {args[0]} wrote {outDir}");
        }
    }

    [Fact]
    public void Run_json_records_the_overlays_and_the_same_scenario_overlay_and_seed_give_identical_observations()
    {
        var overlay = Write("evaluator.yaml", "daemons:\n  judge-evaluator:\n    model: {memory_per_item: 300Ki, base_memory: 150Mi}\n");
        string Run(string name, params string[] extra)
        {
            var dir = Path.Combine(_dir, name);
            var (code, _, stderr) = Fdr(["run", Smoke, "--scale", "0.25", "-q", "--out", dir, .. extra]);
            Assert.True(code == ExitCodes.Success, stderr);
            return dir;
        }
        var a = Run("a", "--overlay", overlay);
        var b = Run("b", "--overlay", overlay);
        var none = Run("none");

        var recorded = Assert.Single(JsonNode.Parse(File.ReadAllText(Path.Combine(a, "run.json")))!["overlays"]!.AsArray())!;
        Assert.Equal(overlay, (string)recorded["path"]!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(overlay))), (string)recorded["sha256"]!);
        Assert.False((bool)recorded["calibrated"]!);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(none, "run.json")))!["overlays"]);
        Assert.Contains("memory_per_item: 300Ki", File.ReadAllText(Path.Combine(a, "scenario.yaml")), StringComparison.Ordinal);

        foreach (var file in new[] { "events.parquet", "samples.parquet", "lifecycle.parquet" })
            Assert.True(File.ReadAllBytes(Path.Combine(a, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, file))), $"{file} differs between two runs with the same overlay");
        Assert.False(File.ReadAllBytes(Path.Combine(a, "samples.parquet")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(none, "samples.parquet"))), "the overlay changed nothing");
    }

    [Fact]
    public void Recommend_labels_its_figures_calibrated_only_with_an_overlay_from_fdr_calibrate()
    {
        var run = Path.Combine(_dir, "run");
        Assert.Equal(ExitCodes.Success, Fdr("run", Smoke, "--scale", "0.25", "-q", "--out", run).Code);
        var calibration = Path.Combine(_dir, "calibration.yaml");
        var (code, _, stderr) = Fdr("calibrate", run, "--out", calibration);
        Assert.True(code == ExitCodes.Success, stderr);

        (code, var plain, stderr) = Fdr("recommend", run, "--no-verify", "--out", Path.Combine(_dir, "plain"));
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("Figures: simulated", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("calibrated model", plain, StringComparison.Ordinal);

        var handMade = Write("hand.yaml", "daemons:\n  judge-evaluator:\n    model: {memory_per_item: 300Ki}\n");
        (code, var hand, stderr) = Fdr("recommend", run, "--no-verify", "--overlay", handMade, "--out", Path.Combine(_dir, "hand"));
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("Figures: simulated", hand, StringComparison.Ordinal);

        var outDir = Path.Combine(_dir, "calibrated");
        (code, var calibrated, stderr) = Fdr("recommend", run, "--no-verify", "--overlay", calibration, "--out", outDir);
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains($"Figures: calibrated", calibrated, StringComparison.Ordinal);
        Assert.Contains(calibration, calibrated, StringComparison.Ordinal);
        Assert.Contains("calibrated model", calibrated, StringComparison.Ordinal);
        // The figures come from the run replayed with the overlay, a run folder of its own that records it.
        var replayed = Path.Combine(outDir, "calibrated-run");
        Assert.True((bool)JsonNode.Parse(File.ReadAllText(Path.Combine(replayed, "run.json")))!["overlays"]![0]!["calibrated"]!);
        Assert.Contains(Path.GetFullPath(replayed), File.ReadAllText(Path.Combine(outDir, "rucio-daemons.values.yaml")), StringComparison.Ordinal);
        // Again into the same folder: the earlier replay is replaced, the figures are the same.
        (code, var again, stderr) = Fdr("recommend", run, "--no-verify", "--overlay", calibration, "--out", outDir);
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Equal(calibrated, again);
    }

    [Fact]
    public void Predict_writes_per_scale_rows_with_ranges_values_plots_and_the_limit_in_force_after_a_limit_change()
    {
        // Draws within intervals, and the evaluator's limit lowered at 10m: the limit in force is 200Mi, not the declared 1Gi.
        var overlay = Write("calibrated.yaml", """
            daemons:
              judge-evaluator:
                model: {memory_per_item: 80Ki, cost_per_item: 0.001s}
            chaos:
              - limit_change: {name: evaluator-limit, daemon: judge-evaluator, at: 10m, requests: {cpu: 1, memory: 200Mi}, limits: {cpu: 1, memory: 200Mi}}
            calibration:
              intervals:
                judge-evaluator: {memory_per_item: 16000, cost_per_item: 0.0002}
            """);
        var outDir = Path.Combine(_dir, "predict");
        var (code, stdout, stderr) = Fdr("predict", Smoke, "--overlay", overlay, "--scale", "0.5,0.25", "--draws", "3", "--out", outDir);
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("3 draws of the calibrated values", stdout, StringComparison.Ordinal);

        var rows = File.ReadAllLines(Path.Combine(outDir, "predict.csv"));
        var header = rows[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var cells = rows.Skip(1).Select(r => r.Split(',')).ToList();
        var daemons = cells.Select(c => c[Col("daemon")]).Distinct().Count();
        Assert.True(daemons > 10, $"{daemons} daemons");
        Assert.Equal(2 * daemons, cells.Count);
        Assert.Equal(["0.25", "0.5"], cells.Select(c => c[Col("scale")]).Distinct());
        double D(string[] c, string name) => double.Parse(c[Col(name)], CultureInfo.InvariantCulture);
        foreach (var c in cells)
        {
            Assert.InRange(D(c, "peak_memory_bytes"), D(c, "peak_memory_low"), D(c, "peak_memory_high"));
            Assert.InRange(D(c, "peak_cpu_cores"), D(c, "peak_cpu_low"), D(c, "peak_cpu_high"));
            Assert.True(D(c, "set_memory_bytes") >= D(c, "peak_memory_high"));
            Assert.Equal("3", c[Col("draws")]);
        }
        var evaluator = cells.Where(c => c[Col("daemon")] == "judge-evaluator").ToList();
        Assert.All(evaluator, c => Assert.Equal((200L << 20).ToString(CultureInfo.InvariantCulture), c[Col("memory_limit_bytes")]));
        Assert.Contains(evaluator, c => D(c, "peak_memory_low") < D(c, "peak_memory_high")); // the draws moved it

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "predict.json")))!;
        Assert.Equal(3, (int)json["draws"]!);
        Assert.Equal(2, json["nodes"]!.AsArray().Count);
        foreach (var scale in new[] { "0.25", "0.5" })
        {
            var values = File.ReadAllText(Path.Combine(outDir, "values", "scale-" + scale, "rucio-daemons.values.yaml"));
            Assert.Contains("judgeEvaluatorCount: ", values, StringComparison.Ordinal);
            Assert.Contains($"values override for scale {scale} of ci-smoke", values, StringComparison.Ordinal);
        }
        Assert.True(new FileInfo(Path.Combine(outDir, "predict-memory.png")).Length > 1000);

        // Deterministic: the same scenario, overlay and seed give the same files.
        var again = Path.Combine(_dir, "again");
        Assert.Equal(ExitCodes.Success, Fdr("predict", Smoke, "--overlay", overlay, "--scale", "0.5,0.25", "--draws", "3", "--out", again).Code);
        foreach (var f in new[] { "predict.csv", "predict.json", "predict.txt" })
            Assert.Equal(File.ReadAllText(Path.Combine(outDir, f)), File.ReadAllText(Path.Combine(again, f)));

        (code, _, stderr) = Fdr("predict", Smoke, "--overlay", overlay, "--draws", "0");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
