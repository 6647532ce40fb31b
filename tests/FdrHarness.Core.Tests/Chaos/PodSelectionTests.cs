using FdrHarness.Core.Chaos;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Tests.Chaos;

/// <summary>Chaos Mesh's modes (pkg/selector/generic/mode.go) over a firing's candidates, drawn from its key.</summary>
public class PodSelectionTests
{
    private static readonly string[] Ten = [.. Enumerable.Range(0, 10).Select(i => $"judge-evaluator-abc-{i:00}")];

    private static ulong Key(int occurrence, long seed = 1, string name = "kill") => ChaosDraws.Key(seed, name, occurrence);

    [Theory]
    [InlineData(SelectionMode.One, null, 1)]
    [InlineData(SelectionMode.All, null, 10)]
    [InlineData(SelectionMode.Fixed, 3.0, 3)]
    [InlineData(SelectionMode.Fixed, 10.0, 10)]
    [InlineData(SelectionMode.Fixed, 25.0, 10)]           // above the count: all of them, as Chaos Mesh
    [InlineData(SelectionMode.FixedPercent, 50.0, 5)]
    [InlineData(SelectionMode.FixedPercent, 33.0, 3)]     // ⌊3.3⌋
    [InlineData(SelectionMode.FixedPercent, 5.0, 0)]      // ⌊0.5⌋: none
    [InlineData(SelectionMode.FixedPercent, 100.0, 10)]
    public void Modes_choose_as_many_as_chaos_mesh(SelectionMode mode, double? value, int expected)
    {
        for (var occurrence = 0; occurrence < 20; occurrence++)
        {
            var chosen = PodSelection.Choose(Ten, mode, value, Key(occurrence));
            Assert.Equal(expected, chosen.Count);
            Assert.Equal(expected, chosen.Distinct().Count());
            Assert.All(chosen, p => Assert.Contains(p, Ten));
        }
    }

    [Fact]
    public void Random_max_percent_draws_a_whole_percentage_from_zero_to_its_value_inclusive()
    {
        // p uniform in 0..100, n = ⌊10·p/100⌋: n = 10 only when p = 100 (1 in 101), n = 0 when p < 10 (10 in 101).
        var counts = Enumerable.Range(0, 3030).Select(i => PodSelection.Choose(Ten, SelectionMode.RandomMaxPercent, 100, Key(i)).Count).ToList();
        Assert.All(counts, c => Assert.InRange(c, 0, 10));
        Assert.InRange(counts.Count(c => c == 10), 10, 55);    // every pod, ~30 times (the lake never did before)
        Assert.InRange(counts.Count(c => c == 0), 200, 410);   // none, ~300 times
        Assert.Equal(11, counts.Distinct().Count());

        var bounded = Enumerable.Range(0, 500).Select(i => PodSelection.Choose(Ten, SelectionMode.RandomMaxPercent, 40, Key(i)).Count).ToList();
        Assert.All(bounded, c => Assert.InRange(c, 0, 4));
        Assert.Equal(5, bounded.Distinct().Count());
    }

    [Fact]
    public void Random_max_percent_can_select_the_only_pod()
    {
        var once = Enumerable.Range(0, 2020).Count(i => PodSelection.Choose(["only"], SelectionMode.RandomMaxPercent, 100, Key(i)).Count == 1);
        Assert.InRange(once, 8, 35); // 1 in 101
    }

    [Fact]
    public void Every_candidate_is_equally_likely()
    {
        var five = Ten[..5];
        var hits = new int[5];
        for (var i = 0; i < 5000; i++)
            foreach (var p in PodSelection.Choose(five, SelectionMode.Fixed, 2, Key(i)))
                hits[Array.IndexOf(five, p)]++;
        // 2 of 5 each time: 2000 hits each, binomial sd ≈ 35.
        Assert.All(hits, h => Assert.InRange(h, 1850, 2150));
    }

    [Fact]
    public void The_chosen_come_in_the_candidates_order()
    {
        for (var i = 0; i < 50; i++)
        {
            var chosen = PodSelection.Choose(Ten, SelectionMode.Fixed, 4, Key(i));
            Assert.Equal(chosen.OrderBy(p => Array.IndexOf(Ten, p)), chosen);
        }
    }

    [Fact]
    public void The_same_key_chooses_the_same_and_other_keys_choose_otherwise()
    {
        var a = PodSelection.Choose(Ten, SelectionMode.Fixed, 3, ChaosDraws.Key(2020, "kill-evaluator", 4));
        Assert.Equal(a, PodSelection.Choose(Ten, SelectionMode.Fixed, 3, ChaosDraws.Key(2020, "kill-evaluator", 4)));
        var others = Enumerable.Range(0, 20).Select(i => string.Join(",", PodSelection.Choose(Ten, SelectionMode.Fixed, 3, ChaosDraws.Key(2020, "kill-evaluator", i)))).Distinct().Count();
        Assert.True(others > 10, $"{others} distinct choices in 20 occurrences");
        var seeds = Enumerable.Range(0, 20).Select(s => string.Join(",", PodSelection.Choose(Ten, SelectionMode.Fixed, 3, ChaosDraws.Key(s, "kill-evaluator", 4)))).Distinct().Count();
        Assert.True(seeds > 10, $"{seeds} distinct choices in 20 seeds");
    }

    [Fact]
    public void No_candidate_selects_nothing()
    {
        foreach (var mode in Enum.GetValues<SelectionMode>())
            Assert.Empty(PodSelection.Choose(Array.Empty<string>(), mode, 50, Key(0)));
    }
}
