using FdrHarness.Kubernetes.Planning;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Planning;

public class ChaosPlanTests
{
    [Fact]
    public void Escape_plan_lists_the_server_restart_and_both_limit_changes()
    {
        var plan = ChaosPlanner.Build(Scenarios.Load("escape-fdr-2020.yaml"));
        Assert.Equal(3, plan.Actions.Count);

        var restart = plan.Actions[0];
        Assert.Equal(("pod_kill", "manual-server-restart", "all"), (restart.Kind, restart.Name, restart.Mode));
        Assert.Equal([TimeSpan.FromMinutes(150)], restart.Times);
        Assert.Equal("pods app=rucio-server", restart.Target);
        Assert.Equal(["rucio"], restart.Namespaces); // target.kubernetes.namespaces

        var server = plan.Actions[1];
        Assert.Equal(("limit_change", "server-limits"), (server.Kind, server.Name));
        Assert.Equal([TimeSpan.FromHours(3)], server.Times);
        Assert.Contains("Deployment escape-rucio-server (app=rucio-server, container rucio-server)", server.Target);
        Assert.StartsWith("requests cpu=4 memory=2500Mi, limits cpu=4 memory=2500Mi", server.Settings);
        Assert.Equal("auth-limits", plan.Actions[2].Name);

        Assert.Empty(plan.Refusals);
        var text = ChaosPlanText.Render(plan);
        Assert.Contains("  namespaces allowed: rucio (kube-system never)", text);
        Assert.Contains("  pods killed: those of a Deployment (owner_kinds), max_unavailable counted per owner; any other pod only when named in pods", text);
        Assert.Contains(text, l => l.Contains("[0] pod_kill 'manual-server-restart' at 2h30m"));
        Assert.Contains(text, l => l.Contains("sets: requests cpu=4 memory=2500Mi, limits cpu=4 memory=2500Mi; restored at the end"));
    }

    [Fact]
    public void Ci_smoke_plan_kills_one_evaluator_and_marks_the_outage_as_not_a_cluster_action()
    {
        var plan = ChaosPlanner.Build(Scenarios.Load("ci-smoke.yaml"));
        var kill = Assert.Single(plan.Actions, a => a.IsClusterAction);
        Assert.Equal("pods app-group=rucio-daemons,rucio-daemon=judge-evaluator", kill.Target);
        Assert.Equal("one", kill.Mode);
        Assert.Equal([TimeSpan.FromMinutes(40)], kill.Times);
        var outage = Assert.Single(plan.Actions, a => !a.IsClusterAction);
        Assert.Equal("rse_outage", outage.Kind);
        var text = ChaosPlanText.Render(plan);
        Assert.Contains(text, l => l.Contains("'delta-down'") && l.EndsWith("not a cluster action: not applied on a live target"));
        // ci-smoke sets no allow-list: the plan still lists, and says a live run would be refused.
        Assert.Equal(["rucio"], kill.Namespaces);
        Assert.Single(plan.Refusals);
        Assert.Contains(text, l => l.Contains("a live run would be refused"));
    }

    [Fact]
    public void Repeated_kills_are_expanded_and_capped_in_the_listing()
    {
        var scenario = Scenarios.Parse("""
              - pod_kill: {name: often, selector: {daemon: judge-evaluator}, mode: fixed-percent, value: 50, schedule: {every: 2m, from: 1m, until: 50m}}
            """.Trim('\n'), duration: "1h");
        var plan = ChaosPlanner.Build(scenario, timesListed: 5);
        var kill = plan.Actions[0];
        Assert.Equal(25, kill.Occurrences); // 1m, 3m, ..., 49m
        Assert.Equal([1, 3, 5, 7, 9], kill.Times.Select(t => (int)t.TotalMinutes));
        Assert.Equal("fixed-percent 50%", kill.Mode);
        Assert.Empty(plan.Refusals);
        Assert.Contains(ChaosPlanText.Render(plan), l => l.Contains("times (25): 1m, 3m, 5m, 7m, 9m, … and 20 more"));
    }

    [Fact]
    public void The_plan_says_whose_pods_a_kill_may_take()
    {
        var scenario = Scenarios.Parse("  - pod_kill: {selector: {daemon: reaper}, schedule: {at: 1m}}",
            kubernetes: "{namespaces: [rucio], owner_kinds: [Deployment, StatefulSet]}");
        Assert.Contains("  pods killed: those of a Deployment, StatefulSet (owner_kinds), max_unavailable counted per owner; any other pod only when named in pods",
            ChaosPlanText.Render(ChaosPlanner.Build(scenario)));
    }
}
