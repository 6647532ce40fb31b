using FdrHarness.Core.Chaos;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Tests.Chaos;

/// <summary>One selector rule for the embedded lake and the live cluster: namespaces, labels (all must match), pods, daemon.</summary>
public class PodMatcherTests
{
    private static readonly IReadOnlyDictionary<string, string> Evaluator = ChartLabels.PodLabels("judge-evaluator", "rucio");
    private static readonly IReadOnlyDictionary<string, string> Server = ChartLabels.PodLabels("rucio-server", "rucio");

    [Fact]
    public void A_daemon_selects_its_pods_by_the_charts_labels_in_the_namespaces_given()
    {
        var m = PodMatcher.For(new PodSelector { Daemon = "judge-evaluator", Namespaces = ["rucio"] }, ["elsewhere"]);

        Assert.Equal("app-group=rucio-daemons,rucio-daemon=judge-evaluator", m.LabelSelector);
        Assert.True(m.Matches("rucio", "judge-evaluator-abc", Evaluator));
        Assert.False(m.Matches("monitoring", "judge-evaluator-abc", Evaluator)); // namespaces are honoured
        Assert.False(m.Matches("rucio", "rucio-server-abc", Server));
        Assert.False(m.Matches("rucio", "x", null));
        Assert.Equal("pods app-group=rucio-daemons,rucio-daemon=judge-evaluator", m.ToString());
    }

    [Fact]
    public void Without_namespaces_a_selector_looks_where_the_rucio_pods_are()
    {
        var m = PodMatcher.For(new PodSelector { Daemon = "reaper" }, ["rucio", "rucio-2"]);
        Assert.Equal(["rucio", "rucio-2"], m.Namespaces);
        Assert.True(m.Matches("rucio-2", "p", ChartLabels.PodLabels("reaper", "r")));
    }

    [Fact]
    public void Labels_all_must_match_beside_the_daemons()
    {
        var m = PodMatcher.For(new PodSelector { Daemon = "judge-evaluator", Labels = new Dictionary<string, string> { ["release"] = "rucio" } }, ["rucio"]);
        Assert.Equal("app-group=rucio-daemons,release=rucio,rucio-daemon=judge-evaluator", m.LabelSelector);
        Assert.True(m.Matches("rucio", "p", Evaluator));
        Assert.False(m.Matches("rucio", "p", ChartLabels.PodLabels("judge-evaluator", "other")));

        // A label that contradicts the daemon's own narrows to nothing; it never widens the selection.
        var contradiction = PodMatcher.For(new PodSelector { Daemon = "rucio-server", Labels = new Dictionary<string, string> { ["app"] = "x" } }, ["rucio"]);
        Assert.Equal("app=rucio-server,app=x", contradiction.LabelSelector);
        Assert.False(contradiction.Matches("rucio", "p", Server));
        Assert.False(contradiction.Matches("rucio", "p", new Dictionary<string, string> { ["app"] = "x" }));
    }

    [Fact]
    public void Pods_name_the_pods_and_nothing_else_counts()
    {
        var m = PodMatcher.For(new PodSelector { Pods = ["db-0", "db-0", "lonely"] }, ["rucio"]);
        Assert.Null(m.LabelSelector);
        Assert.Equal(["db-0", "lonely"], m.Pods);
        Assert.True(m.Matches("rucio", "db-0", null));
        Assert.False(m.Matches("rucio", "db-1", Evaluator));
        Assert.False(m.Matches("other", "db-0", null));
        Assert.True(m.Names("lonely"));
        Assert.Equal("named db-0,lonely", m.ToString());
    }

    [Theory]
    [InlineData("a!", "b")]
    [InlineData("a", "b!")]
    [InlineData("a/b/c", "x")]
    public void A_malformed_label_never_becomes_a_selector(string key, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => PodMatcher.For(new PodSelector { Labels = new Dictionary<string, string> { [key] = value } }, ["rucio"]));
        Assert.Contains($"'{(e.Message.Contains("value", StringComparison.Ordinal) ? value : key)}'", e.Message);
    }

    [Fact]
    public void The_rucio_namespace_is_the_first_allowed_else_the_clusters()
    {
        var scenario = new Scenario { Run = new RunSettings { Name = "x" } };
        Assert.Equal(["rucio"], PodMatcher.DefaultNamespaces(scenario));
        Assert.Equal(["lake"], PodMatcher.DefaultNamespaces(scenario with { Cluster = scenario.Cluster with { Namespace = "lake" } }));
        var live = scenario with { Target = new TargetSettings { Kubernetes = new KubernetesConnection { Namespaces = ["prod-rucio", "monitoring"] } } };
        Assert.Equal(["prod-rucio", "monitoring"], PodMatcher.DefaultNamespaces(live));
    }
}
