using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Workload;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// rucio-server: its load is the harness's own API calls (file registrations, rules, lifetimes, noise uploads); a
/// call takes effect when a server pod has processed it, so a server outage delays the whole rehearsal.
/// </summary>
public sealed class RucioServer(DaemonSpec spec, LakeContext context) : QueueDaemon<ApiCall>(spec, context, new Queue<ApiCall>())
{
    internal PlanDriver? Workload { get; set; }

    public long Calls;

    public void Call(ApiCall call)
    {
        Calls++;
        Queue.Enqueue(call);
    }

    protected override void Apply(ApiCall call) => Workload!.Apply(call);
}
