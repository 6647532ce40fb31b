using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Cluster;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Transfers;

namespace FdrHarness.Lake;

/// <summary>
/// The embedded lake's parts, wired once for a run: the context every part is handed, the catalog modules (as
/// Rucio's lib/rucio/core: DIDs, RSEs, replicas, rules and locks, requests), FTS, the cluster, and the daemons (as
/// lib/rucio/daemons), made from one table (<see cref="Deployments"/>). A part gets only the modules it works on.
/// </summary>
public sealed class LakeParts
{
    internal LakeParts(RunPlan plan, IObservationSink sink, PlanShard? shard = null, IWorkMeter? meter = null)
    {
        Scenario = plan.Scenario;
        Context = new LakeContext(Scenario.Run.Seed, sink, meter);
        Rses = new Rses(Scenario.Rses, Context.Clock);
        Dids = new Dids(plan, Rses, Context, shard);
        Replicas = new Replicas(Context, Dids, Rses);
        Rules = new Rules(Context, Dids, Rses, Replicas);
        Fts = new Fts(Context, Dids, Rses, Rules.Requests, Scenario.Rses, Scenario.Links);
        Cluster = new KubeCluster(Context, Scenario);
        Daemons = Deployments.All.Select(d => d.Create(SpecOf(d.Name), this)).ToArray();
        Server = Daemons.OfType<RucioServer>().Single();
    }

    public Scenario Scenario { get; }
    public LakeContext Context { get; }
    public Rses Rses { get; }
    public Dids Dids { get; }
    public Replicas Replicas { get; }
    public Rules Rules { get; }
    public Fts Fts { get; }
    public KubeCluster Cluster { get; }
    /// <summary>Rucio's servers and daemons, in <see cref="Deployments.All"/>'s order.</summary>
    public Daemon[] Daemons { get; }
    public RucioServer Server { get; }
    /// <summary>The harness's logins on rucio-server-auth (once an hour per account).</summary>
    public RowQueue Logins { get; } = new();

    /// <summary>A daemon the scenario does not list still runs: one pod, no requests or limits.</summary>
    private DaemonSpec SpecOf(string name) =>
        Scenario.Daemons.FirstOrDefault(d => d.Name == name) ?? new DaemonSpec { Name = name, Replicas = 1 };
}
