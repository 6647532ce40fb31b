using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Targeting;

public class TargetingTests
{
    private static readonly PodRef[] Ten = [.. Enumerable.Range(0, 10).Select(i => new PodRef("rucio", $"judge-evaluator-abc-{i:00}"))];

    [Theory]
    [InlineData(SelectionMode.One, null, 1)]
    [InlineData(SelectionMode.All, null, 10)]
    [InlineData(SelectionMode.Fixed, 3.0, 3)]
    [InlineData(SelectionMode.Fixed, 25.0, 10)]
    [InlineData(SelectionMode.FixedPercent, 50.0, 5)]
    [InlineData(SelectionMode.FixedPercent, 33.0, 3)]
    public void Modes_choose_as_chaos_mesh_counts(SelectionMode mode, double? value, int expected)
    {
        var chosen = PodSelection.Choose(Ten, mode, value, seed: 1, "kill", 0);
        Assert.Equal(expected, chosen.Count);
        Assert.Equal(expected, chosen.Distinct().Count());
        Assert.All(chosen, p => Assert.Contains(p, Ten));
    }

    [Fact]
    public void Random_max_percent_stays_within_its_bound_and_varies()
    {
        var counts = Enumerable.Range(0, 200).Select(i => PodSelection.Choose(Ten, SelectionMode.RandomMaxPercent, 40, 1, "kill", i).Count).ToList();
        Assert.All(counts, c => Assert.InRange(c, 0, 4));
        Assert.True(counts.Distinct().Count() >= 3, "draws should cover several counts");
    }

    [Fact]
    public void Choices_repeat_for_the_same_seed_name_and_occurrence_whatever_the_listing_order()
    {
        var a = PodSelection.Choose(Ten, SelectionMode.Fixed, 3, 2020, "kill-evaluator", 4);
        var b = PodSelection.Choose(Ten.Reverse(), SelectionMode.Fixed, 3, 2020, "kill-evaluator", 4);
        Assert.Equal(a, b);
        var others = Enumerable.Range(0, 20).Select(i => string.Join(",", PodSelection.Choose(Ten, SelectionMode.Fixed, 3, 2020, "kill-evaluator", i))).Distinct().Count();
        Assert.True(others > 5, "occurrences should choose differently");
        Assert.NotEqual(a, PodSelection.Choose(Ten, SelectionMode.Fixed, 3, 2021, "kill-evaluator", 4));
    }

    [Fact]
    public void Daemon_selector_uses_the_rucio_daemons_chart_labels_plus_the_scenarios_own()
    {
        var scenario = Scenarios.Parse("  - pod_kill: {selector: {daemon: judge-evaluator, labels: {tier: a}}, schedule: {at: 1m}}");
        var target = TargetResolver.Pods(((PodKill)scenario.Chaos[0]).Selector, scenario);
        Assert.Equal("app-group=rucio-daemons,rucio-daemon=judge-evaluator,tier=a", target.LabelSelector);
        Assert.Equal(["rucio"], target.Namespaces);
    }

    [Fact]
    public void Servers_are_selected_by_their_own_charts_app_label()
    {
        Assert.Equal("app=rucio-server", ChartLabels.Selector(ChartLabels.PodLabels("rucio-server")));
        Assert.Equal("rucio-server", ChartLabels.ContainerName("rucio-server"));
        Assert.Equal("rucio-server", ChartLabels.DeploymentName("rucio-server", "rucio-server"));
        Assert.Equal("rucio-rucio-server", ChartLabels.DeploymentName("rucio", "rucio-server"));
    }

    [Theory]
    [InlineData("rucio", "rucio-rucio-daemons-judge-evaluator")]
    [InlineData("rucio-daemons", "rucio-daemons-judge-evaluator")]
    [InlineData("escape-rucio-daemons", "escape-rucio-daemons-judge-evaluator")]
    public void Deployment_names_follow_the_charts_fullname_rule(string release, string expected)
    {
        Assert.Equal(expected, ChartLabels.DeploymentName(release, "judge-evaluator"));
        Assert.Equal("rucio-daemons-judge-evaluator", ChartLabels.DeploymentAppLabel("judge-evaluator"));
    }

    [Fact]
    public void Daemon_of_a_pod_comes_from_its_label_then_app_then_name()
    {
        Assert.Equal("reaper", ChartLabels.DaemonOf(new Dictionary<string, string> { ["rucio-daemon"] = "reaper", ["app"] = "x" }, "p"));
        Assert.Equal("undertaker", ChartLabels.DaemonOf(new Dictionary<string, string> { ["app"] = "rucio-daemons-undertaker" }, "p"));
        Assert.Equal("rucio-server", ChartLabels.DaemonOf(new Dictionary<string, string> { ["app"] = "rucio-server" }, "p"));
        Assert.Equal("judge-evaluator", ChartLabels.DaemonOf(null, "judge-evaluator-7d9f8b6c5-x2kq4"));
    }
}
