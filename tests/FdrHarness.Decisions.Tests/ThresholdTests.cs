using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

public sealed class ThresholdKnownAnswers
{
    private static readonly JsonObject Figs = (JsonObject)JsonNode.Parse("""
        {"schema_version": 1,
         "run": {"start": "2020-11-17T00:00:00Z", "end": "2020-11-18T00:00:00Z", "duration_seconds": 86400},
         "transfers": {"done": 900, "failed": 100, "efficiency": 0.9},
         "transfer_matrix": {"links": [
            {"src": "A", "dst": "B", "done_over_submitted": 0.95},
            {"src": "A", "dst": "C", "done_over_submitted": 0.5},
            {"src": "A", "dst": "A", "done_over_submitted": null}]},
         "resources": [{"daemon": "judge-evaluator", "oom_killed": 2}, {"daemon": "reaper", "oom_killed": 0}],
         "rules": {"completion_seconds": {"p95": 3600}}}
        """)!;

    private static ThresholdResult Eval(string text) => ThresholdEvaluator.Evaluate(T(text), Figs, null, default, default, null);

    [Fact]
    public void Pass_and_fail_on_whole_run_figures_in_report_units()
    {
        Assert.True(Eval("transfers.efficiency >= 90%").Passed);
        Assert.False(Eval("transfers.efficiency > 90%").Passed);
        Assert.True(Eval("rules.completion_time.p95 <= 1h").Passed);
        Assert.False(Eval("rules.completion_time.p95 < 1h").Passed);
    }

    [Fact]
    public void Star_needs_every_item_and_skips_items_without_data()
    {
        var r = Eval("links[*].done_over_submitted >= 0.9");
        Assert.False(r.Passed);
        Assert.Equal(["links[A->C].done_over_submitted"], r.Failing.Select(f => f.Figure));
        Assert.True(Eval("links[*].done_over_submitted >= 0.4").Passed);
    }

    [Fact]
    public void Name_selects_one_item()
    {
        Assert.False(Eval("daemons[judge-evaluator].oom_kills == 0").Passed);
        Assert.True(Eval("daemons[reaper].oom_kills == 0").Passed);
        Assert.True(Eval("links[A->B].done_over_submitted >= 0.9").Passed);
        Assert.Contains("no item named 'nope'", Eval("daemons[nope].oom_kills == 0").Error);
    }

    [Fact]
    public void Unknown_figure_is_an_error_naming_close_figures()
    {
        var r = Eval("transfers.efficency >= 0.9");
        Assert.False(r.Passed);
        Assert.Contains("unknown figure 'transfers.efficency'", r.Error);
        Assert.Contains("transfers.efficiency", r.Error);
        Assert.Contains("is a list", Eval("daemons.oom_kills == 0").Error);
        Assert.Equal(99, new ThresholdVerdict([r]).ExitCode); // after a run: the threshold fails, saying why
    }

    [Fact]
    public void JUnit_is_well_formed_with_one_testcase_per_threshold()
    {
        var verdict = new ThresholdVerdict([Eval("transfers.efficiency >= 0.9"), Eval("links[*].done_over_submitted >= 0.9"), Eval("nope.x > 1")]);
        var doc = XDocument.Parse(ThresholdGate.ToJUnit(verdict));
        var cases = doc.Descendants("testcase").ToList();
        Assert.Equal(3, cases.Count);
        Assert.Single(cases[1].Elements("failure"));
        Assert.Single(cases[2].Elements("error"));
        Assert.Equal("1", doc.Descendants("testsuite").Single().Attribute("failures")!.Value);
        Assert.Equal(99, verdict.ExitCode); // after a run an unevaluable threshold fails with its reason (validate refuses it before)
        Assert.Contains("✗ links[*].done_over_submitted >= 0.9", ThresholdGate.ToText(verdict));
    }
}

[Collection("smoke")]
public sealed class ThresholdGateOnARun(SmokeRun run)
{
    [Fact]
    public void The_scenarios_thresholds_evaluate_over_run_phase_and_window_and_write_junit()
    {
        var scenario = Load("ci-smoke.yaml") with
        {
            Thresholds = [T("transfers.efficiency >= 50%"), T("rules.completion_time.p95 < 1h", phase: "to-safe"),
                T("transfers.done >= 0", window: TimeSpan.FromHours(1)), T("daemons[*].oom_kills >= 0", window: TimeSpan.FromHours(1))],
        };
        var verdict = ThresholdGate.Evaluate(scenario, run.Dir);
        Assert.True(verdict.Results[0].Passed, verdict.Results[0].Detail);
        Assert.Equal("phase to-safe", verdict.Results[1].Over);
        Assert.Null(verdict.Results[1].Error);
        Assert.True(verdict.Results[2].Passed, verdict.Results[2].Detail);
        Assert.True(verdict.Results[2].Values.Count > 1);
        Assert.Contains("whole-run figure", verdict.Results[3].Error);
        var text = new StringWriter();
        ThresholdGate.Write(verdict, run.Dir, text);
        Assert.Equal(4, XDocument.Load(Path.Combine(run.Dir, ThresholdGate.JUnitFile)).Descendants("testcase").Count());
    }

    [Fact]
    public void The_figures_of_a_summary_are_its_summary_json_as_the_serializer_makes_it()
    {
        var summary = SummaryBuilder.Build(run.Dir, new Reporting.ReportOptions { Plots = false });
        var figures = Figures.ToJson(summary);
        var expected = JsonSerializer.SerializeToNode(summary, JsonExporter.Options)!.AsObject();
        Figures.AddThroughput(expected);
        Assert.True(JsonNode.DeepEquals(expected, figures));
        Assert.NotNull(figures["throughput"]?["files_per_second"]);
        Assert.EndsWith("}\n", JsonExporter.ToJson(summary));
    }

    [Fact]
    public void Unnamed_phases_are_known_by_the_names_the_plan_gives_them()
    {
        // inject, replicate, delete, noise without names: replicate-1 (its kind's first), as the plan and validator name it,
        // not replicate-2 (its position among all phases).
        var loaded = Load("ci-smoke.yaml");
        var scenario = loaded with { Workload = [.. loaded.Workload.Select(p => p with { Name = null, After = null })] };
        var named = Core.Planning.RunPlan.Create(scenario).Phases.Select(p => p.Name).ToList();

        Assert.Equal(named, PhaseTimes.Names(scenario));
        Assert.Contains("replicate-1", named);
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.NotNull(PhaseTimes.Of(scenario, "replicate-1", start, start.AddDays(1)));
        Assert.Null(PhaseTimes.Of(scenario, "replicate-2", start, start.AddDays(1)));
    }

    [Fact]
    public void Live_monitor_aborts_when_a_watched_threshold_fails()
    {
        var scenario = Load("ci-smoke.yaml") with { Thresholds = [T("transfers.efficiency >= 100%") with { AbortOnFail = true }] };
        var monitor = new LiveThresholdMonitor(scenario, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var t0 = new DateTime(2020, 1, 1, 0, 1, 0, DateTimeKind.Utc);
        monitor.Observe(new Core.Observations.HermesEvent { EventType = "transfer-done", CreatedAt = t0 });
        Assert.False(monitor.ShouldAbort(t0.AddMinutes(1), out _));
        monitor.Observe(new Core.Observations.HermesEvent { EventType = "transfer-failed", CreatedAt = t0.AddSeconds(5) });
        Assert.True(monitor.ShouldAbort(t0.AddMinutes(1), out var failed));
        Assert.Single(failed);
    }
}
