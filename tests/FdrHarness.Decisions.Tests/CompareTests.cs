using System.Text.Json.Nodes;
using FdrHarness.Decisions.Compare;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

[Collection("smoke")]
public sealed class CompareTests(SmokeRun run)
{
    private string Summary => Path.Combine(run.Dir, "summary.json");

    [Fact]
    public void A_run_compared_with_itself_passes()
    {
        var (code, output, _) = Fdr("compare", run.Dir, Summary);
        Assert.Equal(0, code);
        Assert.Contains("✅ fdr compare: no regression", output);
    }

    [Fact]
    public void A_baseline_with_20_percent_more_throughput_fails_and_names_the_figures()
    {
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(Summary))!;
        var transfers = root["transfers"]!.AsObject();
        foreach (var key in new[] { "done", "bytes_done" })
            transfers[key] = (long)Math.Round(transfers[key]!.GetValue<long>() * 1.2);
        var baseline = Path.Combine(run.Dir, "baseline-faster.json");
        File.WriteAllText(baseline, root.ToJsonString());

        var (code, output, err) = Fdr("compare", baseline, run.Dir);
        Assert.Equal(99, code);
        Assert.Contains("`transfers.done`", output);
        Assert.Contains("`throughput.files_per_second`", output);
        Assert.Contains("transfers.bytes_done", err);
        var regressed = SummaryComparer.Compare(baseline, run.Dir).Regressions.Select(r => r.Figure).ToList();
        Assert.Contains("throughput.bytes_per_second", regressed);
    }

    [Fact]
    public void A_saved_baseline_is_small_and_compares_clean()
    {
        var file = Path.Combine(run.Dir, "baseline.json");
        Assert.Equal(0, Fdr("compare", run.Dir, "--save-baseline", file).Code);
        Assert.True(new FileInfo(file).Length < new FileInfo(Summary).Length / 2);
        Assert.Equal(0, Fdr("compare", file, run.Dir).Code);
    }

    [Fact]
    public void Noise_and_direction_decide_the_verdict()
    {
        var b = new Dictionary<string, double?> { ["transfers.done"] = 1000, ["transfers.failed"] = 100, ["daemons[x].oom_killed"] = 0, ["run.seed"] = 1 };
        var c = new Dictionary<string, double?> { ["transfers.done"] = 970, ["transfers.failed"] = 80, ["daemons[x].oom_killed"] = 1, ["run.seed"] = 2 };
        var verdicts = SummaryComparer.Compare(b, c, "b", "c").Figures.ToDictionary(f => f.Figure, f => f.Verdict);
        Assert.Equal(Change.WithinNoise, verdicts["transfers.done"]);
        Assert.Equal(Change.Improved, verdicts["transfers.failed"]);
        Assert.Equal(Change.Regressed, verdicts["daemons[x].oom_killed"]);
        Assert.Equal(Change.Informational, verdicts["run.seed"]);
        var strict = SummaryComparer.Compare(b, c, "b", "c", [SummaryComparer.ParseTolerance("transfers.done=1%")]);
        Assert.Contains(strict.Regressions, r => r.Figure == "transfers.done");
    }

    [Fact]
    public void Bad_input_is_one_line_and_exit_2()
    {
        var (code, _, err) = Fdr("compare", "/nonexistent/run", Summary);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        var junk = Path.Combine(run.Dir, "junk.json");
        File.WriteAllText(junk, "{\"a\": 1}");
        Assert.Equal(2, Fdr("compare", junk, Summary).Code);
    }
}
