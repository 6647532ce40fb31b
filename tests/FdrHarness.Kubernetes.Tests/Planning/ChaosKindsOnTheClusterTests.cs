using FdrHarness.Core.Planning;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Planning;

namespace FdrHarness.Kubernetes.Tests.Planning;

/// <summary>
/// Every chaos kind Core says the cluster carries out (ChaosKind.Side) has its action in ChaosExecutor's table and its
/// dry-run line in ChaosPlanner's, and only those.
/// </summary>
public sealed class ChaosKindsOnTheClusterTests
{
    private static IEnumerable<string> ClusterKinds => ChaosKind.All.Where(k => k.Side == LiveSide.Cluster).Select(k => k.Action.Name).Order();

    [Fact]
    public void Every_cluster_kind_has_an_action() => Assert.Equal(ClusterKinds, ChaosExecutor.Actions.Keys.Select(t => t.Name).Order());

    [Fact]
    public void Every_cluster_kind_has_a_dry_run_planner() => Assert.Equal(ClusterKinds, ChaosPlanner.Planners.Keys.Select(t => t.Name).Order());
}
