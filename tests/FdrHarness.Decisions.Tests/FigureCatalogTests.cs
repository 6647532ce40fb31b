using System.Text.Json.Nodes;
using FdrHarness.Core.Figures;
using FdrHarness.Core.Scenarios.Thresholds;
using FdrHarness.Decisions.Compare;
using FdrHarness.Decisions.Thresholds;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

/// <summary>One catalogue of figures: summary.json, thresholds and compare must all speak it.</summary>
[Collection("smoke")]
public sealed class FigureCatalogTests(SmokeRun run)
{
    private JsonObject Summary => Figures.Load(Path.Combine(run.Dir, "summary.json"));

    [Fact]
    public void Every_number_of_summary_json_is_a_catalogue_figure()
    {
        var flat = RunFigures.Flatten(Summary);
        Assert.True(flat.Count > 100, $"{flat.Count} figures");
        var missing = flat.Keys.Where(k => FigureCatalog.Find(k) is null).ToList();
        Assert.True(missing.Count == 0, "in summary.json, not in the catalogue: " + string.Join(", ", missing.Take(20)));
    }

    [Fact]
    public void Every_catalogue_figure_resolves_in_summary_json()
    {
        var root = Summary;
        foreach (var f in FigureCatalog.All.Where(f => !f.LiveOnly))
        {
            Assert.True(ThresholdExpression.TryParse(f.Name + " >= 0", out var e, out var error), error);
            try { Figures.Resolve(root, e.Figure); }
            catch (FigureException x) { Assert.Fail($"{f.Name}: {x.Message}"); }
        }
    }

    [Fact]
    public void Units_print_as_people_read_them()
    {
        Assert.Equal("95.73 %", FigureFormat.Of("transfers.efficiency", 0.957346));
        Assert.Equal("58 s", FigureFormat.Of("rules.completion_time.p95", 58));
        Assert.Equal("35m32s", FigureFormat.Of("rules.completion_seconds.p95", 2131.8));
        Assert.Equal("7000 MiB", FigureFormat.Of("daemons[x].memory_limit", 7_340_032_000));
        Assert.Equal("12.5 GiB", FigureFormat.Of("daemons[x].memory_peak", 12.5 * (1L << 30)));
        Assert.Equal("18.5 TB", FigureFormat.Of("transfers.bytes_done", 18.459e12));
        Assert.Equal("0.705 cores", FigureFormat.Of("daemons[x].cpu_peak", 0.705));
        Assert.Equal("−2.5 pp", FigureFormat.Delta(-0.025, FigureUnit.Ratio));
        Assert.Equal("no data", FigureFormat.Of("transfers.efficiency", null));
    }

    [Fact]
    public void Thresholds_print_values_in_their_unit()
    {
        var verdict = ThresholdGate.Evaluate(Load("ci-smoke.yaml") with { Thresholds = [T("transfers.efficiency >= 50%"), T("rules.completion_time.p95 < 10h")] }, run.Dir);
        Assert.Matches(@"transfers\.efficiency = \d+(\.\d+)? %", verdict.Results[0].Detail);
        Assert.Matches(@"rules\.completion_seconds\.p95 = (\d+(\.\d)? s|\d+m\d\ds|\d+h\d\dm)", verdict.Results[1].Detail);
    }

    [Fact]
    public void A_threshold_on_a_figure_without_a_value_fails_with_the_reason_and_exit_99()
    {
        // ALPHA-DISK → ALPHA-DISK never carries a transfer: the cell is NO DATA.
        var verdict = ThresholdGate.Evaluate(Load("ci-smoke.yaml") with { Thresholds = [T("links[ALPHA-DISK->ALPHA-DISK].done_over_submitted >= 90%")] }, run.Dir);
        var r = Assert.Single(verdict.Results);
        Assert.False(r.Passed);
        Assert.Contains("no data: nothing was submitted on the link in the run", r.Detail);
        Assert.Equal(99, verdict.ExitCode);
        // The report's verdict (report.md, report.html) says the same, with the limit as written, not cut at the
        // selector's "->".
        var line = Assert.Single(ThresholdGate.ToReport(verdict).Lines);
        Assert.False(line.Passed);
        Assert.Equal(">= 90%", line.Limit);
        Assert.Equal("no data", line.Value);
        Assert.Contains("nothing was submitted on the link", line.Why);
    }

    [Fact]
    public void A_threshold_on_a_rule_completion_when_no_rule_completed_fails_with_the_reason_not_an_error()
    {
        // summary.json keeps completion_seconds null when no rule was measured (a phase, a window or a run where none
        // completed): its p95 has no value, and the verdict says why.
        var dir = Path.Combine(Path.GetTempPath(), "fdr-norule-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var root = Summary;
            root["rules"]!["completion_seconds"] = null;
            File.WriteAllText(Path.Combine(dir, "summary.json"), root.ToJsonString());
            var verdict = ThresholdGate.Evaluate(Load("ci-smoke.yaml") with { Thresholds = [T("rules.completion_time.p95 < 1h")] }, dir);
            var r = Assert.Single(verdict.Results);
            Assert.False(r.Passed);
            Assert.Null(r.Error);
            Assert.Equal("no data: no rule reached RULE_OK after a transfer request in the run", r.Detail);
            Assert.Equal(99, verdict.ExitCode);
            var line = Assert.Single(ThresholdGate.ToReport(verdict).Lines);
            Assert.Equal(("no data", "< 1h"), (line.Value, line.Limit));
            Assert.Contains("no rule reached RULE_OK", line.Why);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Validate_refuses_a_misspelt_figure_with_a_suggestion_before_anything_runs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fdr-validate-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var scenario = Path.Combine(dir, "misspelt.yaml");
            File.WriteAllText(scenario, File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml")).Replace("transfers.efficiency >= 90%", "transfers.efficency >= 90%"));
            var (code, _, err) = Fdr("validate", scenario);
            Assert.Equal(2, code);
            Assert.Contains("unknown figure 'transfers.efficency' (did you mean 'transfers.efficiency'?)", err);
            var output = Path.Combine(dir, "run");
            Assert.Equal(2, Fdr("run", scenario, "--out", output).Code);
            Assert.False(Directory.Exists(output), "a run with an invalid threshold must write nothing");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
