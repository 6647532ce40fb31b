using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Chaos;

/// <summary>
/// Chaos Mesh's selector modes over the candidates of one firing (pkg/selector/generic/mode.go): one, all, fixed
/// (value pods, all of them when value is above the count), fixed-percent (⌊n·value/100⌋) and random-max-percent
/// (⌊n·p/100⌋ with p a whole percentage drawn from 0 to value inclusive, so it can select every pod, or none).
/// Which ones comes from the firing's draw key (<see cref="ChaosDraws.Key"/>), so a run repeats its choices.
/// </summary>
public static class PodSelection
{
    /// <summary>The chosen candidates, in the candidates' order.</summary>
    /// <param name="candidatesInStableOrder">
    /// Every candidate in an order that does not depend on how they were listed (namespace, then name, ordinal).
    /// </param>
    public static IReadOnlyList<T> Choose<T>(IReadOnlyList<T> candidatesInStableOrder, SelectionMode mode, double? value, ulong drawKey)
    {
        ArgumentNullException.ThrowIfNull(candidatesInStableOrder);
        var count = candidatesInStableOrder.Count;
        if (count == 0) return [];
        var draws = new SplitMix64(drawKey);
        var n = mode switch
        {
            SelectionMode.One => 1,
            SelectionMode.All => count,
            SelectionMode.Fixed => Whole(value ?? 1, count),
            SelectionMode.FixedPercent => Share(count, Whole(value ?? 100, 100)),
            SelectionMode.RandomMaxPercent => Share(count, draws.NextBelow(Whole(value ?? 100, 100) + 1)),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
        };
        if (n >= count) return [.. candidatesInStableOrder];
        if (n <= 0) return [];

        // A partial Fisher–Yates shuffle of the indexes: n distinct ones, each set of n equally likely.
        var indexes = new int[count];
        for (var i = 0; i < count; i++) indexes[i] = i;
        for (var i = 0; i < n; i++)
        {
            var j = i + draws.NextBelow(count - i);
            (indexes[i], indexes[j]) = (indexes[j], indexes[i]);
        }
        Array.Sort(indexes, 0, n);
        var chosen = new T[n];
        for (var i = 0; i < n; i++) chosen[i] = candidatesInStableOrder[indexes[i]];
        return chosen;
    }

    /// <summary>How many of <paramref name="count"/> a percentage selects: rounded down, as Chaos Mesh does.</summary>
    public static int Share(int count, int percent) => (int)((long)count * Math.Clamp(percent, 0, 100) / 100);

    /// <summary>A value as Chaos Mesh reads it (a whole number), kept within 0..<paramref name="max"/>.</summary>
    private static int Whole(double value, int max) => double.IsNaN(value) ? 0 : (int)Math.Clamp(Math.Floor(value), 0, max);
}
