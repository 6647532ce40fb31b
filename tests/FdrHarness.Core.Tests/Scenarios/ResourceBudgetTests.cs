using System.Text;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>
/// Values that bind but would take a run minutes of CPU or gigabytes (the issue's list) are refused by the budget with
/// the figure, the limit and the variable that raises it. The figures come from the scenario's numbers: the huge cases
/// below finish at once only because nothing is enumerated.
/// </summary>
public sealed class ResourceBudgetTests
{
    private static readonly string Smoke = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));

    private static string SmokeWith(string from, string to)
    {
        Assert.Contains(from, Smoke, StringComparison.Ordinal);
        return Smoke.Replace(from, to, StringComparison.Ordinal);
    }

    private static IReadOnlyList<Diagnostic> Refused(string yaml, ResourceBudget? budget = null)
    {
        var result = ScenarioLoader.Parse(yaml, "budget.yaml", budget ?? ResourceBudget.Default);
        Assert.False(result.Ok);
        return result.Diagnostics;
    }

    private static Diagnostic Over(IReadOnlyList<Diagnostic> diagnostics, BudgetLimit limit) =>
        Assert.Single(diagnostics, d => d.Suggestion?.Contains(limit.Variable, StringComparison.Ordinal) == true);

    [Theory]
    [InlineData("escape-fdr-2020.yaml")]
    [InlineData("ci-smoke.yaml")]
    public void ShippedScenariosAreWithinTheDefaultBudget(string name)
    {
        var result = ScenarioLoader.Load(RepoPaths.Scenario(name), ResourceBudget.Default);
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void TheEscapeRehearsalAtScaleTenIsWithinTheDefaultBudget()
    {
        // The README's benchmark and sweep run ESCAPE at scale 10 (8.2 M files): the defaults must let them run.
        var escape = ScenarioLoader.Load(RepoPaths.Scenario("escape-fdr-2020.yaml"), ResourceBudget.Default);
        var scaled = escape.Scenario! with { Run = escape.Scenario!.Run with { Scale = 10 } };
        var bag = new DiagnosticBag();
        Assert.True(ResourceBudget.Default.Check(scaled, escape.Map, bag));
        Assert.Empty(bag.Items);
    }

    [Theory]
    [InlineData("judge-evaluator:          {replicas: 1", "judge-evaluator:          {replicas: 2000000000", "pods")]
    [InlineData("duration: 2h", "duration: 100000000h", "duration")]
    [InlineData("schedule: {at: 40m}", "schedule: {every: 1ms}", "chaos_firings")]
    [InlineData("files: 2000", "files: 1000000000000000", "files")]
    [InlineData("inject: {rate: 1, interval: 1s, during: 60m}", "inject: {rate: 1000000, interval: 1s, during: 60m}", "operations")]
    [InlineData("inject: {rate: 1, interval: 1s, during: 60m}", "inject: {rate: 1, interval: 1ms, during: 600m}", "load_intervals")]
    [InlineData("- {name: worker, count: 2,", "- {name: worker, count: 5000,", "nodes")]
    [InlineData("judge-evaluator:          {replicas: 1, threads: 2", "judge-evaluator:          {replicas: 100, threads: 1000", "threads")]
    public void EachFigureIsRefusedWithItsLimitAndVariable(string from, string to, string key)
    {
        var yaml = SmokeWith(from, to);
        var limit = ResourceBudget.All.Single(l => l.Key == key);
        var d = Over(Refused(yaml), limit);
        Assert.Contains("the budget allows", d.Message);
        Assert.Contains($"raise the limit with the environment variable {limit.Variable}", d.Suggestion);
        Assert.Contains("resource budget", d.Suggestion);
        // Reported where the value was written: the line of the replaced text.
        var line = 1 + yaml[..yaml.IndexOf(to, StringComparison.Ordinal)].Count(c => c == '\n') + to.Count(c => c == '\n');
        Assert.InRange(d.Location.Line, line - to.Count(c => c == '\n'), line);
    }

    [Fact]
    public void NoiseEverySecondForAMonthIsRefused()
    {
        // 4 RSEs: 12 ordered pairs × 2,592,000 rounds.
        var yaml = SmokeWith("duration: 2h", "duration: 30d").Replace("noise:\n      every: 30m", "noise:\n      every: 1s", StringComparison.Ordinal);
        var d = Over(Refused(yaml), ResourceBudget.NoiseTransfers);
        Assert.StartsWith("the scenario asks for 31,104,000 noise files (", d.Message);
    }

    [Fact]
    public void AFileCountIsReportedAtTheLargestExperimentWithTheFigureAndTheLimit()
    {
        var d = Over(Refused(SmokeWith("files: 2000", "files: 1000000000000000")), ResourceBudget.Files);
        Assert.Equal("the scenario asks for 1e+15 files (the experiments' files × run.scale 1); the budget allows 20,000,000", d.Message);
        Assert.Equal(32, d.Location.Line);
        Assert.Equal(12, d.Location.Column);
    }

    [Fact]
    public void AScheduleFinerThanAMillisecondIsRefusedEvenWithFewFirings()
    {
        // 100 firings within the budget, but at 0.1 ms the embedded lake's millisecond clock would never advance.
        var d = Assert.Single(Refused(SmokeWith("schedule: {at: 40m}", "schedule: {every: 0.0001, until: 10ms}")));
        Assert.Equal("pod_kill every 0.1ms: a schedule repeats at most every 1ms", d.Message);
    }

    [Fact]
    public void TwentyThousandExperimentsAreRefusedWithoutRelatingThemToTheRses()
    {
        var experiments = new StringBuilder("experiments:\n");
        for (var i = 0; i < 20_000; i++) experiments.Append("  E").Append(i).Append(": {files: 10, file_size: 1 MB, qos: FAST}\n");
        var yaml = Smoke[..Smoke.IndexOf("experiments:", StringComparison.Ordinal)] + experiments + Smoke[Smoke.IndexOf("workload:", StringComparison.Ordinal)..];
        var diagnostics = Refused(yaml);
        var d = Over(diagnostics, ResourceBudget.Experiments);
        Assert.Equal("the scenario declares 20,000 experiments; the budget allows 250", d.Message);
        // Nothing was bound or validated: the delete phase's reference to VIRGO (now gone) is not reported.
        Assert.Single(diagnostics);
    }

    [Fact]
    public void FortyEightThousandRsesAreRefused()
    {
        var rses = new StringBuilder("rses:\n");
        for (var i = 0; i < 48_000; i++) rses.Append("  R").Append(i).Append(": {quota: 1 TB, attributes: {QOS: FAST}}\n");
        rses.Append("  ALPHA-DISK: {quota: 1 TB, attributes: {QOS: FAST}}\n  DELTA-SAFE: {quota: 1 TB, attributes: {QOS: SAFE}}\n");
        var yaml = Smoke[..Smoke.IndexOf("rses:", StringComparison.Ordinal)] + rses + Smoke[Smoke.IndexOf("links:", StringComparison.Ordinal)..];
        // Counted on the YAML tree and refused before binding: the only diagnostic, at the rses key.
        var d = Assert.Single(Refused(yaml));
        Assert.Equal("the scenario declares 48,002 RSEs; the budget allows 250", d.Message);
        Assert.Contains(ResourceBudget.Rses.Variable, d.Suggestion);
        Assert.Equal((19, 1), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void AScenarioAtTenTimesEveryLimitIsRefusedOnEveryFigure()
    {
        // Ten times each default (RSEs and experiments kept small here; their counts are tested above).
        var yaml = SmokeWith("duration: 2h", "duration: 310d")
            .Replace("files: 2000", "files: 200000000", StringComparison.Ordinal)
            .Replace("judge-evaluator:          {replicas: 1, threads: 2", "judge-evaluator:          {replicas: 10000, threads: 20", StringComparison.Ordinal)
            .Replace("- {name: worker, count: 2,", "- {name: worker, count: 10000,", StringComparison.Ordinal)
            .Replace("schedule: {at: 40m}", "schedule: {every: 1s, until: 1000000s}", StringComparison.Ordinal)
            .Replace("noise:\n      every: 30m", "noise:\n      every: 1m", StringComparison.Ordinal)
            .Replace("ramping_inject: {rate: 1, interval: 1s, during: 5m}", "ramping_inject: {rate: 1, interval: 1ms, during: 5000m}", StringComparison.Ordinal)
            .Replace("inject: {rate: 1, interval: 1s, during: 60m}", "inject: {rate: 1000000, interval: 1s, during: 60m}", StringComparison.Ordinal);
        var diagnostics = Refused(yaml);
        foreach (var limit in new[] { ResourceBudget.Duration, ResourceBudget.Files, ResourceBudget.Pods, ResourceBudget.Threads, ResourceBudget.Nodes })
            Over(diagnostics, limit);
        // Within the duration's budget, the figures that grow with it are checked too.
        var longer = ResourceBudget.Default.With(ResourceBudget.Duration, double.PositiveInfinity);
        var more = Refused(yaml, longer);
        foreach (var limit in new[] { ResourceBudget.Samples, ResourceBudget.ChaosFirings, ResourceBudget.NoiseTransfers, ResourceBudget.Operations, ResourceBudget.LoadIntervals })
            Over(more, limit);
    }

    [Fact]
    public void TheEnvironmentRaisesALimitAndABadValueIsAMistake()
    {
        var yaml = SmokeWith("files: 2000", "files: 30000000");
        var environment = new Dictionary<string, string> { ["FDR_BUDGET_FILES"] = "5e7", ["FDR_BUDGET_LOAD_INTERVALS"] = "1_000_000_000" };
        var bag = new DiagnosticBag();
        var raised = ResourceBudget.FromEnvironment(bag, k => environment.GetValueOrDefault(k));
        Assert.Empty(bag.Items);
        Assert.Equal(5e7, raised[ResourceBudget.Files]);
        Assert.True(ScenarioLoader.Parse(yaml, "budget.yaml", raised).Ok);
        Over(Refused(yaml), ResourceBudget.Files);

        var days = ResourceBudget.FromEnvironment(bag, k => k == "FDR_BUDGET_DURATION" ? "90d" : null);
        Assert.Equal(90 * 86400, days[ResourceBudget.Duration]);

        var wrong = new Dictionary<string, string> { ["FDR_BUDGET_PODS"] = "many", ["FDR_BUDGET_DURATION"] = "-1" };
        ResourceBudget.FromEnvironment(bag, k => wrong.GetValueOrDefault(k));
        Assert.Equal(["FDR_BUDGET_DURATION", "FDR_BUDGET_PODS"], bag.Sorted().Select(d => d.Location.File).Order());
        Assert.Contains(bag.Items, d => d.Message == "'many' is not a limit of pods" && d.Suggestion == "give a whole number such as 10,000");
    }

    [Fact]
    public void TheEmbeddedLakeCannotHoldMoreThanItsIdsAllowWhateverTheBudget()
    {
        var rses = new StringBuilder("rses:\n");
        for (var i = 0; i < 260; i++) rses.Append("  R").Append(i).Append(": {quota: 1 TB, attributes: {QOS: FAST}}\n");
        rses.Append("  ALPHA-DISK: {quota: 1 TB, attributes: {QOS: FAST}}\n  DELTA-SAFE: {quota: 1 TB, attributes: {QOS: SAFE}}\n");
        var yaml = Smoke[..Smoke.IndexOf("rses:", StringComparison.Ordinal)] + rses + Smoke[Smoke.IndexOf("links:", StringComparison.Ordinal)..];
        var diagnostics = Refused(yaml, ResourceBudget.Unlimited);
        Assert.Contains(diagnostics, d => d.Message == "262 RSEs: the embedded data lake holds at most 250");
    }
}
