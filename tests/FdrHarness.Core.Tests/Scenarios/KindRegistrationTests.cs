using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>
/// A chaos kind is registered once (<see cref="ChaosKind.All"/>); the binder, validator and planner read that list.
/// These find every kind Core declares by reflection, a second path, so a kind left out of the list fails here.
/// The targets' tables are held to the list in Lake.Tests, Rucio.Tests and Kubernetes.Tests.
/// </summary>
public sealed class KindRegistrationTests
{
    private static IEnumerable<Type> Concrete<T>() =>
        typeof(ChaosKind).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(T)) && !t.IsAbstract).OrderBy(t => t.Name);

    [Fact]
    public void Every_chaos_record_and_every_chaos_kind_is_in_the_one_list()
    {
        Assert.Equal(Concrete<ChaosAction>().Select(t => t.Name), ChaosKind.All.Select(k => k.Action.Name).Order());
        Assert.Equal(Concrete<ChaosKind>().Select(t => t.Name), ChaosKind.All.Select(k => k.GetType().Name).Order());
    }

    [Fact]
    public void The_binder_reads_the_chaos_cases_from_the_list()
    {
        var union = (UnionAttribute)Attribute.GetCustomAttribute(typeof(ChaosAction), typeof(UnionAttribute))!;
        Assert.Equal(ChaosKind.All.Select(k => k.Action), union.Cases);
    }

    [Fact]
    public void A_kind_no_live_target_acts_on_says_why_in_the_plan()
    {
        var scenario = new Scenario();
        foreach (var kind in ChaosKind.All.Where(k => k.Side == LiveSide.None))
        {
            var (applied, note) = kind.Live(scenario);
            Assert.False(applied);
            Assert.False(string.IsNullOrWhiteSpace(note), kind.GetType().Name);
        }
    }
}
