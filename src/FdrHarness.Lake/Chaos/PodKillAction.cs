using FdrHarness.Core.Chaos;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Cluster;

namespace FdrHarness.Lake.Chaos;

/// <summary>pod_kill on the lake: Chaos Mesh's selector and mode choose the pods; their Deployment replaces them.</summary>
internal static class PodKillAction
{
    /// <summary>
    /// Chaos Mesh's selection, as on a live cluster (Core.Chaos): the lake's pods run in the scenario's first allowed
    /// namespace (else cluster.namespace) with the rucio-daemons chart's labels; the same candidates, seed, action and
    /// occurrence (the firing's draw key) choose the same victims. A firing that selects no pod is not a fault.
    /// </summary>
    public static void Fire(ChaosFiring firing, LakeParts lake)
    {
        var k = (PodKill)firing.Spec;
        var name = firing.Name;
        var matcher = PodMatcher.For(k.Selector, lake.Scenario);
        var ns = PodMatcher.DefaultNamespaces(lake.Scenario)[0];
        var release = lake.Scenario.Target.Kubernetes?.Release ?? new KubernetesConnection().Release;
        var candidates = new List<Pod>();
        foreach (var d in lake.Daemons)
        {
            var labels = ChartLabels.PodLabels(d.Name, release);
            foreach (var p in d.Pods)
                if (p.Phase != PodPhase.Terminated && matcher.Matches(ns, p.Name, labels)) candidates.Add(p);
        }
        candidates.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var victims = PodSelection.Choose(candidates, k.Mode, k.Value, firing.DrawKey);
        if (victims.Count == 0) return;
        ChaosEngine.Fault(lake.Context, name, ChaosKinds.PodKill, k.Selector.Daemon ?? "pods", null, string.Join(",", victims.Select(v => v.Name)));
        foreach (var v in victims) lake.Cluster.DeletePod(v, "chaos:" + name);
    }
}
