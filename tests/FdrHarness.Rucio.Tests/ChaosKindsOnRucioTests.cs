using FdrHarness.Core.Planning;

namespace FdrHarness.Rucio.Tests;

/// <summary>Every chaos kind Core says Rucio carries out (ChaosKind.Side) has its action in PlanExecutor's table, and only those.</summary>
public sealed class ChaosKindsOnRucioTests
{
    [Fact]
    public void Every_Rucio_side_kind_has_an_action_in_the_executors_table() =>
        Assert.Equal(ChaosKind.All.Where(k => k.Side == LiveSide.Rucio).Select(k => k.Action.Name).Order(),
            PlanExecutor.ChaosActions.Keys.Select(t => t.Name).Order());
}
