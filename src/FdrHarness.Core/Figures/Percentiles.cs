namespace FdrHarness.Core.Figures;

/// <summary>The one percentile of reports, thresholds and recommendations.</summary>
public static class Percentiles
{
    /// <summary>Linear interpolation between closest ranks (numpy's default) on sorted values; 0 when empty.</summary>
    public static double Linear(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.Length == 0) return 0;
        var rank = p * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
