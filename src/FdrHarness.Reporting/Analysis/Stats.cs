namespace FdrHarness.Reporting.Analysis;

/// <summary>Small numeric helpers shared by the analyses (the percentile is Core.Figures.Percentiles).</summary>
internal static class Stats
{
    public static double? Ratio(long numerator, long denominator) =>
        denominator > 0 ? Math.Round((double)numerator / denominator, 6) : null;

    public static double Round(double x, int digits = 6) => Math.Round(x, digits, MidpointRounding.AwayFromZero);

    /// <summary>A bin length that gives at most about <paramref name="maxBins"/> bins over <paramref name="span"/>.</summary>
    public static double NiceBinSeconds(double span, int maxBins = 200)
    {
        double[] nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
        foreach (var s in nice)
            if (span / s <= maxBins) return s;
        return Math.Ceiling(span / maxBins / 86400) * 86400;
    }
}

/// <summary>Counts per second on a growable axis (events may arrive slightly out of order, or before the first sample).</summary>
internal sealed class PerSecond
{
    private long _origin = long.MinValue;
    private double[] _data = new double[4096];

    public void Add(long second, double value)
    {
        if (_origin == long.MinValue) _origin = second - 60;
        var i = second - _origin;
        if (i < 0)
        {
            var grow = (int)Math.Max(-i, _data.Length / 2);
            var data = new double[_data.Length + grow];
            Array.Copy(_data, 0, data, grow, _data.Length);
            _data = data;
            _origin -= grow;
            i = second - _origin;
        }
        else if (i >= _data.Length)
            Array.Resize(ref _data, (int)Math.Max(i + 1, _data.Length * 2L));
        _data[i] += value;
    }

    /// <summary>Sums into bins of <paramref name="binSeconds"/> starting at <paramref name="startSecond"/>.</summary>
    public double[] Bin(long startSecond, double binSeconds, int bins)
    {
        var result = new double[bins];
        if (_origin == long.MinValue) return result;
        for (var i = 0; i < _data.Length; i++)
        {
            if (_data[i] == 0) continue;
            var b = (long)Math.Floor((_origin + i - startSecond) / binSeconds);
            result[Math.Clamp(b, 0, bins - 1)] += _data[i];
        }
        return result;
    }
}
