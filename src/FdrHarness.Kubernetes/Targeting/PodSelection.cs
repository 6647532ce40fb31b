using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Kubernetes.Targeting;

/// <summary>A pod as targeting sees it.</summary>
public readonly record struct PodRef(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>
/// Chaos Mesh's modes over a list of candidate pods: one, all, fixed (value pods), fixed-percent (⌊n·value/100⌋),
/// random-max-percent (⌊n·p/100⌋ with p drawn from 0..value). Random choices come from the scenario seed, the
/// action's name and the occurrence, so a run repeats its choices.
/// </summary>
public static class PodSelection
{
    /// <summary>How many of <paramref name="candidates"/> the mode asks for (before any blast-radius cap).</summary>
    public static int Count(SelectionMode mode, double? value, int candidates, ref Draws draws)
    {
        var n = mode switch
        {
            SelectionMode.One => 1,
            SelectionMode.All => candidates,
            SelectionMode.Fixed => (int)Math.Floor(value ?? 1),
            SelectionMode.FixedPercent => (int)Math.Floor(candidates * Percent(value) / 100),
            SelectionMode.RandomMaxPercent => (int)Math.Floor(candidates * draws.NextInt((int)Math.Floor(Percent(value)) + 1) / 100.0),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
        };
        return Math.Clamp(n, 0, candidates);
    }

    /// <summary>The pods an action hits, in a stable order.</summary>
    public static IReadOnlyList<PodRef> Choose(IEnumerable<PodRef> candidates, SelectionMode mode, double? value, long seed, string actionName, int occurrence)
    {
        // Sorted first so the same cluster state gives the same choice whatever order the API server lists in.
        var pool = candidates.Distinct().OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        var draws = new Draws(seed, actionName, occurrence);
        var n = Count(mode, value, pool.Count, ref draws);
        var chosen = new List<PodRef>(n);
        for (var i = 0; i < n; i++)
        {
            var j = draws.NextInt(pool.Count);
            chosen.Add(pool[j]);
            pool.RemoveAt(j);
        }
        return [.. chosen.OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)];
    }

    private static double Percent(double? value) => Math.Clamp(value ?? 100, 0, 100);

    /// <summary>A deterministic stream of draws for one occurrence of one action.</summary>
    public struct Draws(long seed, string actionName, int occurrence)
    {
        private readonly ulong _key = StableHash.Combine(StableHash.Of((ulong)seed, "k8s-chaos:" + actionName), (ulong)occurrence);
        private ulong _count;

        /// <summary>0 ≤ result &lt; <paramref name="bound"/>.</summary>
        public int NextInt(int bound)
        {
            if (bound <= 1) return 0;
            var unit = (StableHash.Combine(_key, _count++) >> 11) * (1.0 / (1UL << 53));
            return Math.Min(bound - 1, (int)(unit * bound));
        }
    }
}
