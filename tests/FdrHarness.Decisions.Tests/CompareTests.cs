using System.Text.Json.Nodes;
using FdrHarness.Decisions.Baseline;
using FdrHarness.Decisions.Compare;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

[Collection("smoke")]
public sealed class CompareTests(SmokeRun run)
{
    private string Summary => Path.Combine(run.Dir, "summary.json");

    private string WithSummary(string name, Action<JsonObject> change)
    {
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(Summary))!;
        change(root);
        var path = Path.Combine(run.Dir, name);
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    [Fact]
    public void A_run_compared_with_itself_passes_with_one_line_for_the_unchanged()
    {
        var (code, output, _) = Fdr("compare", run.Dir, Summary);
        Assert.Equal(0, code);
        Assert.Contains("fdr compare: no regression", output);
        Assert.Matches(@"Unchanged: \d+ unchanged", output);
        Assert.DoesNotContain("regressed (", output);
        // Short: a headline, the two runs, the count line; not a row per unchanged figure.
        Assert.True(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 5, output);
    }

    [Fact]
    public void A_baseline_with_20_percent_more_throughput_fails_and_names_the_figures_once_each()
    {
        var baseline = WithSummary("baseline-faster.json", root =>
        {
            var transfers = root["transfers"]!.AsObject();
            foreach (var key in new[] { "done", "bytes_done" })
                transfers[key] = (long)Math.Round(transfers[key]!.GetValue<long>() * 1.25);
        });
        var (code, output, err) = Fdr("compare", baseline, run.Dir, "--format", "md");
        Assert.Equal(99, code);
        Assert.Contains("`transfers.done`", output);
        Assert.Contains("`throughput.files_per_second`", output);
        Assert.Contains("transfers.bytes_done", err);
        // One row per figure: a regressed figure is not listed a second time.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "`transfers.done`"));
        var regressed = SummaryComparer.Compare(baseline, run.Dir).Regressions.Select(r => r.Figure).ToList();
        Assert.Contains("throughput.bytes_per_second", regressed);
        Assert.Contains("throughput.files_per_second", Fdr("compare", baseline, run.Dir).Out);
    }

    [Fact]
    public void Memory_prints_in_MiB_and_ratios_as_percentages()
    {
        var baseline = WithSummary("baseline-leaner.json", root =>
        {
            var first = root["resources"]!.AsArray()[0]!.AsObject();
            first["memory_peak"] = first["memory_peak"]!.GetValue<long>() / 2;
            root["transfers"]!["efficiency"] = 1.0;
        });
        var (code, output, _) = Fdr("compare", baseline, run.Dir);
        Assert.Equal(99, code);
        Assert.Matches(@"daemons\[[a-z-]+\]\.memory_peak\s+\d+(\.\d)? MiB → +\d+(\.\d)? MiB", output);
        Assert.Matches(@"transfers\.efficiency\s+100 % → +\d+(\.\d+)? %", output);
        Assert.DoesNotMatch(@"\d{1,3},\d{3},\d{3},\d{3}", output); // no raw byte counts such as 7,340,032,000
    }

    [Fact]
    public void Runs_of_different_scenarios_are_refused_unless_allowed()
    {
        var other = WithSummary("other-scenario.json", root => root["run"]!["scenario"] = "escape-fdr-2020");
        var (code, _, err) = Fdr("compare", other, run.Dir);
        Assert.Equal(2, code);
        Assert.Contains("different scenarios (scenario escape-fdr-2020 vs ci-smoke)", err);
        Assert.Contains("--allow-different", err);
        Assert.Single(err.Trim().Split('\n'));
        var allowed = Fdr("compare", other, run.Dir, "--allow-different");
        Assert.Equal(0, allowed.Code);
        Assert.Contains("warning: different runs", allowed.Out);
    }

    [Fact]
    public void A_saved_baseline_is_small_and_compares_clean_in_every_format()
    {
        var file = Path.Combine(run.Dir, "baseline.json");
        Assert.Equal(0, Fdr("compare", run.Dir, "--save-baseline", file).Code);
        Assert.True(new FileInfo(file).Length < new FileInfo(Summary).Length / 2);
        Assert.Equal(0, Fdr("compare", file, run.Dir).Code);
        var json = JsonNode.Parse(Fdr("compare", file, run.Dir, "--format", "json").Out)!;
        Assert.Equal("ok", json["verdict"]!.GetValue<string>());
        Assert.True(json["unchanged"]!.GetValue<int>() > 10);
        Assert.Equal(2, Fdr("compare", file, run.Dir, "--format", "xml").Code);
    }

    [Fact]
    public void Seeds_that_agree_exactly_leave_the_class_tolerance_and_a_link_in_flight_is_as_noisy_as_its_open_share()
    {
        static RunFigures Seeds(Dictionary<string, FigureStats> f) => new("b", "5 seeds", null, f, [1, 2, 3, 4, 5]);
        static RunFigures One(Dictionary<string, double?> f) => new("c", "one run", null, f.ToDictionary(kv => kv.Key, kv => new FigureStats(kv.Value)), []);
        const string Link = "links[A->B]";
        var baseline = Seeds(new()
        {
            ["daemons[x].oom_killed"] = new(11, 0, 11, 11, 5),
            ["daemons[y].oom_killed"] = new(0, 0, 0, 0, 5),
            ["daemons[x].cpu_p95"] = new(1.0, 0, 1.0, 1.0, 5),
            [Link + ".done_over_submitted"] = new(0.99, 0.003, 0.984, 0.991, 5),
        });
        var current = One(new()
        {
            ["daemons[x].oom_killed"] = 12, ["daemons[y].oom_killed"] = 1, ["daemons[x].cpu_p95"] = 1.05,
            [Link + ".done_over_submitted"] = 0.74, [Link + ".submitted"] = 12_517, [Link + ".done"] = 9_207, [Link + ".failed"] = 93,
        });
        var verdicts = SummaryComparer.Compare(baseline, current).Figures.ToDictionary(f => f.Figure, f => f.Verdict);
        Assert.Equal(Change.WithinNoise, verdicts["daemons[x].oom_killed"]);      // 11 → 12: within 10 %
        Assert.Equal(Change.Regressed, verdicts["daemons[y].oom_killed"]);        // none → one always counts
        Assert.Equal(Change.WithinNoise, verdicts["daemons[x].cpu_p95"]);         // the cpu class's 10 %, not 0
        Assert.Equal(Change.WithinNoise, verdicts[Link + ".done_over_submitted"]); // 3,217 of 12,517 still in flight

        // The same drop with every transfer ended is a regression.
        var ended = One(new() { [Link + ".done_over_submitted"] = 0.74, [Link + ".submitted"] = 12_517, [Link + ".done"] = 9_263, [Link + ".failed"] = 3_254 });
        Assert.Contains(SummaryComparer.Compare(baseline, ended).Regressions, r => r.Figure == Link + ".done_over_submitted");
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
        Assert.Equal(Change.NotJudged, verdicts["run.seed"]);
        var strict = SummaryComparer.Compare(b, c, "b", "c", [SummaryComparer.ParseTolerance("transfers.done=1%")]);
        Assert.Contains(strict.Regressions, r => r.Figure == "transfers.done");
        Assert.Throws<CompareInputException>(() => SummaryComparer.ParseTolerance("transfers.dome=1%"));
    }

    [Fact]
    public void A_baselines_spread_is_the_noise_a_new_seed_may_move_in()
    {
        // Five seeds: throughput 100 ± 1.6; a sixth seed at 97 is noise, a 20 % drop is not, whatever the default 5 %.
        var seeds = new double?[] { 100, 98, 101, 102, 99 };
        var baseline = new RunFigures("base", "5 seeds", null, new Dictionary<string, FigureStats>
        {
            ["throughput.files_per_second"] = FigureStats.Of(seeds),
            ["daemons[x].oom_killed"] = FigureStats.Of([15, 17, 19, 16, 18]),
        }, [1, 2, 3, 4, 5]);
        RunFigures Current(double files, double oom) => new("cur", "one run", null, new Dictionary<string, FigureStats>
        {
            ["throughput.files_per_second"] = new(files), ["daemons[x].oom_killed"] = new(oom),
        }, [6]);
        var ok = SummaryComparer.Compare(baseline, Current(96, 21));
        Assert.Empty(ok.Regressions);
        Assert.All(ok.Figures, f => Assert.Equal("5 seeds", f.NoiseFrom));
        var slow = SummaryComparer.Compare(baseline, Current(80, 17));
        Assert.Equal(["throughput.files_per_second"], slow.Regressions.Select(r => r.Figure));
        Assert.Equal(99, slow.ExitCode);
        Assert.Equal(100, baseline.Figures["throughput.files_per_second"].Median);
    }

    [Fact]
    public void A_restarts_backlog_spike_is_shown_not_judged_and_a_backlog_held_longer_regresses()
    {
        // escape-fdr-2020's judge-evaluator: five seeds at a peak of 58 (two pods OOMKilled together), a sixth at 100
        // (all three): the peak is the restart's pile-up, judged as oom_killed and restarts. The queue held over
        // 5 minutes stays at 22; an evaluator that cannot keep up holds thousands.
        var baseline = new RunFigures("base", "5 seeds", null, new Dictionary<string, FigureStats>
        {
            ["daemons[judge-evaluator].peak_backlog"] = FigureStats.Of([58, 58, 58, 58, 58]),
            ["daemons[judge-evaluator].sustained_backlog"] = FigureStats.Of([22, 22, 23, 22, 22]),
        }, [1, 2, 3, 4, 5]);
        RunFigures Current(double peak, double held) => new("cur", "one run", null, new Dictionary<string, FigureStats>
        {
            ["daemons[judge-evaluator].peak_backlog"] = new(peak), ["daemons[judge-evaluator].sustained_backlog"] = new(held),
        }, [6]);
        var spike = SummaryComparer.Compare(baseline, Current(100, 22));
        Assert.Equal(0, spike.ExitCode);
        Assert.Equal(Change.NotJudged, spike.Figures.Single(f => f.Figure.EndsWith(".peak_backlog", StringComparison.Ordinal)).Verdict);
        var behind = SummaryComparer.Compare(baseline, Current(4_000, 3_500));
        Assert.Equal(99, behind.ExitCode);
        Assert.Equal(["daemons[judge-evaluator].sustained_backlog"], behind.Regressions.Select(r => r.Figure));
        // The backlog class's tolerance still holds a small rise: 22 → 30 is noise, 22 → 40 is not.
        Assert.Equal(0, SummaryComparer.Compare(baseline, Current(58, 30)).ExitCode);
        Assert.Equal(99, SummaryComparer.Compare(baseline, Current(58, 40)).ExitCode);
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

public sealed class BaselineTests
{
    [Fact]
    public void Seeds_are_derived_by_name_distinct_and_stable()
    {
        var seeds = BaselineRunner.Seeds(42, 5);
        Assert.Equal(5, seeds.Distinct().Count());
        Assert.Equal(seeds, BaselineRunner.Seeds(42, 5));
        Assert.DoesNotContain(42L, seeds);
        Assert.NotEqual(seeds, Enumerable.Range(42, 5).Select(i => (long)i)); // never seed + i
        Assert.Equal(seeds.Take(3), BaselineRunner.Seeds(42, 3)); // more seeds extend, never reshuffle
    }

    /// <summary>
    /// ci-smoke injecting at 0.3 files/s instead of 1: the run's end cuts the injection short (2,500 files would take
    /// 2 h 19 min), as escape-fdr-2020's 23 h of injection are cut by its 24 h, so a slower workload moves fewer files.
    /// At 1 file/s every file is written before the end, and a 20 % slower pace writes them later, not fewer.
    /// </summary>
    private static string TimeBoundSmoke(string dir)
    {
        var yaml = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(yaml, "rate: 1, interval").Count);
        var path = Path.Combine(dir, "ci-smoke-time-bound.yaml");
        Directory.CreateDirectory(dir);
        File.WriteAllText(path, yaml.Replace("rate: 1, interval", "rate: 0.3, interval", StringComparison.Ordinal));
        return path;
    }

    /// <summary>
    /// Issue 15's gate on a small scenario: a 3-seed baseline, then another seed passes; the same seed with its
    /// throughput cut by 20 % (the workload's pace × 0.8) fails naming the throughput figures; with judge-evaluator
    /// too slow for its queue (50m CPU) it fails naming the backlog it holds.
    /// </summary>
    [Fact]
    public void Fdr_baseline_writes_median_and_spread_a_new_seed_compares_clean_and_a_throughput_cut_fails()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fdr-baseline-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var scenario = TimeBoundSmoke(dir);
            var file = Path.Combine(dir, "baseline.json");
            var (code, output, err) = Fdr("baseline", scenario, "--seeds", "3", "--out", file);
            Assert.True(code == 0, err);
            Assert.Contains("median and spread over 3 seeds", output);
            var root = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal("fdr-baseline", root["kind"]!.GetValue<string>());
            Assert.Equal(3, root["seeds"]!.AsArray().Count);
            Assert.Equal("ci-smoke", root["run"]!["scenario"]!.GetValue<string>());
            var done = root["figures"]!["transfers.failed"]!;
            Assert.Equal(3, done["n"]!.GetValue<int>());
            Assert.True(done["min"]!.GetValue<double>() <= done["median"]!.GetValue<double>() && done["median"]!.GetValue<double>() <= done["max"]!.GetValue<double>());
            Assert.True(done["stdev"]!.GetValue<double>() > 0, "three seeds failed exactly as many transfers: the seeds are not used");

            // Another seed (the scenario's 42: the baseline's seeds are derived from it, never it).
            var runDir = Path.Combine(dir, "run");
            Assert.Contains(Fdr("run", scenario, "--out", runDir).Code, new[] { 0, 99 });
            var compared = Fdr("compare", file, runDir);
            Assert.True(compared.Code == 0, compared.Out);
            Assert.Contains("3 seeds of ci-smoke", compared.Out);

            var cutDir = Path.Combine(dir, "cut");
            Assert.Contains(Fdr("run", scenario, "--out", cutDir, "--set", "workload.rate_factor=0.8").Code, new[] { 0, 99 });
            var cut = SummaryComparer.Compare(file, cutDir);
            Assert.Equal(99, cut.ExitCode);
            var regressed = cut.Regressions.Select(r => r.Figure).ToList();
            Assert.Contains("throughput.files_per_second", regressed);
            Assert.Contains("transfers.done", regressed);
            var files = cut.Figures.Single(f => f.Figure == "throughput.files_per_second");
            Assert.InRange(files.Current!.Value / files.Baseline!.Value, 0.7, 0.9); // about 20 % fewer
            var printed = Fdr("compare", file, cutDir);
            Assert.Equal(99, printed.Code);
            Assert.Contains("throughput.files_per_second", printed.Out.Split('\n')[0]); // named in the headline

            var slowDir = Path.Combine(dir, "slow-evaluator");
            Assert.Contains(Fdr("run", scenario, "--out", slowDir,
                "--set", "daemons.judge-evaluator.requests.cpu=50m", "--set", "daemons.judge-evaluator.limits.cpu=50m").Code, new[] { 0, 99 });
            var slow = SummaryComparer.Compare(file, slowDir);
            Assert.Contains(slow.Regressions, r => r.Figure == "daemons[judge-evaluator].sustained_backlog" && r.Current > 100);

            Assert.Equal(2, Fdr("baseline", RepoPaths.Scenario("ci-smoke.yaml"), "--seeds", "1").Code);
            Assert.Equal(2, Fdr("baseline", RepoPaths.Scenario("ci-smoke.yaml"), "--set", "links.nope=1").Code);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
