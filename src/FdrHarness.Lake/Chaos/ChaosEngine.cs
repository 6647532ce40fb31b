using FdrHarness.Core.Chaos;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Cluster;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Chaos;

/// <summary>
/// The plan's faults on virtual time: pod kills (Chaos Mesh selector and mode; the Deployment replaces the
/// pods), limit changes (a rolling restart, one pod at a time), RSE outages and link degradation for a while.
/// Every action is also written as a fault record.
/// </summary>
internal sealed class ChaosEngine(LakeParts lake)
{
    /// <summary>A firing of the plan, at its instant.</summary>
    public void Fire(ChaosFiring firing)
    {
        switch (firing.Spec)
        {
            case PodKill k: Kill(k, firing); break;
            case LimitChange c: ChangeLimits(c, firing.Name); break;
            case RseOutage o: Outage(o, firing.Name, firing.Edge != ChaosEdge.End); break;
            case LinkDegradation d: Degrade(d, firing.Name, firing.Edge != ChaosEdge.End); break;
        }
    }

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>
    /// Chaos Mesh's selection, as on a live cluster (Core.Chaos): the lake's pods run in the scenario's first allowed
    /// namespace (else cluster.namespace) with the rucio-daemons chart's labels; the same candidates, seed, action and
    /// occurrence (the firing's draw key) choose the same victims. A firing that selects no pod is not a fault.
    /// </summary>
    private void Kill(PodKill k, ChaosFiring firing)
    {
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
        Fault(name, ChaosKinds.PodKill, k.Selector.Daemon ?? "pods", null, string.Join(",", victims.Select(v => v.Name)));
        foreach (var v in victims) lake.Cluster.DeletePod(v, "chaos:" + name);
    }

    private void ChangeLimits(LimitChange c, string name)
    {
        var daemon = lake.Daemons.FirstOrDefault(d => d.Name == c.Daemon);
        if (daemon is null) return;
        // A strategic merge patch of the container's resources, validated as the API server does: a refused patch
        // changes nothing and rolls nothing (the live target audits it as failed and records no fault either).
        var (requests, limits, refused) = ResourcePatch.Apply(daemon.Spec.Requests, daemon.Spec.Limits, c.Requests, c.Limits);
        if (refused is not null)
        {
            lake.Context.Counters.LimitChangesRefused.Add($"{name}: {c.Daemon}: {refused}");
            return;
        }
        daemon.Spec = daemon.Spec with { Limits = limits, Requests = requests };
        daemon.Generation++;
        Fault(name, ChaosKinds.LimitChange, c.Daemon, null,
            $"requests cpu={c.Requests?.Cpu} memory={c.Requests?.Memory?.ToBinaryString()}, limits cpu={c.Limits?.Cpu} memory={c.Limits?.Memory?.ToBinaryString()}");
        // Rolling restart: one old pod replaced after another, each once the previous replacement had time to start.
        var old = daemon.Pods.ToArray();
        var step = (long)daemon.Model.Startup.TotalMilliseconds + 1000;
        for (var i = 0; i < old.Length; i++)
        {
            var pod = old[i];
            lake.Context.Queue.Schedule(lake.Context.Now + i * step, () => lake.Cluster.DeletePod(pod, "rolling restart: limits changed"));
        }
    }

    private void Outage(RseOutage o, string name, bool begin)
    {
        if (!lake.Rses.Exists(o.Rse)) return;
        var rse = lake.Rses[lake.Rses.Id(o.Rse)];
        foreach (var op in o.Unavailable) rse.Outage(op, begin);
        if (begin) Fault(name, ChaosKinds.RseOutage, o.Rse, Ms(o.From + o.During), "unavailable: " + string.Join(",", o.Unavailable).ToLowerInvariant());
    }

    private void Degrade(LinkDegradation d, string name, bool begin)
    {
        var src = lake.Rses.Select(d.Source);
        var dst = lake.Rses.Select(d.Destination);
        foreach (var s in src)
        foreach (var t in dst)
        {
            if (s == t) continue;
            var link = lake.Fts.LinkOf(s, t);
            link.BandwidthFactor = begin ? Math.Clamp(d.BandwidthFactor, 0.001, 1) : 1;
            link.DegradedFailure = begin ? d.FailureProbability : null;
        }
        if (begin) Fault(name, ChaosKinds.LinkDegradation, $"{d.Source}->{d.Destination}", Ms(d.From + d.During),
            $"bandwidth x{d.BandwidthFactor}, failure probability {d.FailureProbability?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unchanged"}");
    }

    private void Fault(string name, string kind, string target, long? end, string? detail) =>
        lake.Context.Sink.Fault(new FaultRecord
        {
            Start = lake.Context.UtcNow,
            End = end is { } e ? VirtualClock.ToUtc(e) : lake.Context.UtcNow,
            Name = name,
            Kind = kind,
            Target = target,
            Detail = detail,
        });
}
