using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Cluster;

namespace FdrHarness.Lake.Chaos;

/// <summary>limit_change on the lake: the Deployment's resources patched, then a rolling restart, one pod at a time.</summary>
internal static class LimitChangeAction
{
    public static void Fire(ChaosFiring firing, LakeParts lake)
    {
        var c = (LimitChange)firing.Spec;
        var name = firing.Name;
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
        ChaosEngine.Fault(lake.Context, name, ChaosKinds.LimitChange, c.Daemon, null,
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
}
