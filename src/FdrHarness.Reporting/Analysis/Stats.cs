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

/// <summary>
/// Counts (or sums) per second on an axis that grows either way (events may arrive slightly out of order, or before the
/// first sample), in chunks made as they are first touched; or, once <see cref="ToMinutes"/> folded them, per minute,
/// which bins of whole minutes from a whole minute sum to the same figures. The fed event pass holds these through the
/// lake: their memory is part of the run's peak (27 series of a day: 19 MB per second, 0.9 MB per minute; a run goes per
/// minute once it spans 6,060 s). Not generic: ReadyToRun compiles no instantiation over int or long ahead, and the
/// event pass ran a generic one's Add, millions of calls, at tier 0.
/// </summary>
internal sealed class PerSecond
{
    private const int Shift = 12, Size = 1 << Shift;
    private Dictionary<long, long[]> _chunks = [];
    private long _lastKey = long.MinValue;
    private long[] _last = [];

    /// <summary>Cells are minutes, not seconds.</summary>
    public bool Minutes { get; private set; }

    public void Add(long second, long value)
    {
        var cell = Minutes ? second / 60 : second;
        var key = cell >> Shift;
        if (key != _lastKey) Touch(key);
        _last[(int)(cell & (Size - 1))] += value;
    }

    private void Touch(long key)
    {
        ref var chunk = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_chunks, key, out _);
        _last = chunk ??= new long[Size];
        _lastKey = key;
    }

    /// <summary>From now on per minute: the seconds so far summed into their minutes.</summary>
    public void ToMinutes()
    {
        if (Minutes) return;
        var seconds = _chunks;
        (_chunks, _lastKey, Minutes) = ([], long.MinValue, true);
        foreach (var (key, chunk) in seconds)
            for (var i = 0; i < chunk.Length; i++)
                if (chunk[i] != 0) Add((key << Shift) + i, chunk[i]);
    }

    /// <summary>
    /// Sums into bins of <paramref name="binSeconds"/> starting at <paramref name="startSecond"/>, cell by cell in time
    /// order. Per minute, the start and the bins must be whole minutes (every second of a minute falls in one bin).
    /// </summary>
    public double[] Bin(long startSecond, double binSeconds, int bins)
    {
        var width = Minutes ? 60 : 1;
        if (Minutes && (startSecond % 60 != 0 || binSeconds % 60 != 0))
            throw new InvalidOperationException($"counts kept per minute cannot go into bins of {binSeconds} s from second {startSecond}");
        var result = new double[bins];
        // The chunks' keys (distinct) sorted as an array, not by LINQ's Order (its iterators over long JIT-compiled per report).
        var keys = new long[_chunks.Count];
        _chunks.Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        foreach (var key in keys)
        {
            var chunk = _chunks[key];
            var first = (key << Shift) * width;
            for (var i = 0; i < chunk.Length; i++)
            {
                if (chunk[i] == 0) continue;
                var b = (long)Math.Floor((first + (long)i * width - startSecond) / binSeconds);
                result[Math.Clamp(b, 0, bins - 1)] += chunk[i];
            }
        }
        return result;
    }
}
