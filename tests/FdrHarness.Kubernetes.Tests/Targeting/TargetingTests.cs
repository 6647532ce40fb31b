using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Targeting;

public class TargetingTests
{
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
        Assert.Equal("app=rucio-server", ChartLabels.Selector(ChartLabels.DaemonSelector("rucio-server")));
        Assert.Equal("app=rucio-server,release=rucio", ChartLabels.Selector(ChartLabels.PodLabels("rucio-server", "rucio")));
        Assert.Equal("app=rucio-daemons-reaper,app-group=rucio-daemons,release=r,rucio-daemon=reaper",
            ChartLabels.Selector(ChartLabels.PodLabels("reaper", "r")));
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
