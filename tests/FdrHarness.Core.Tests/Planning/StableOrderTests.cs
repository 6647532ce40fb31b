using FdrHarness.Core.Planning;

namespace FdrHarness.Core.Tests.Planning;

/// <summary>The plan's sort keeps ties in their order, as LINQ's OrderBy did before it.</summary>
public sealed class StableOrderTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void Sorts_as_OrderBy_with_ties_in_index_order(int count)
    {
        var random = new Random(count);
        var keys = Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray();
        var expected = Enumerable.Range(0, count).OrderBy(i => keys[i]).ToArray();
        Assert.Equal(expected, RunPlan.StableOrder(count, (a, b) => keys[a].CompareTo(keys[b])));
    }
}
