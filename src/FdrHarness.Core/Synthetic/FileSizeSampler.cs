using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Synthetic;

/// <summary>
/// Draws file sizes (bytes) from a scenario's <see cref="FileSizeDistribution"/>. Immutable: the caller owns the random
/// source, so one sampler serves any number of streams and threads.
/// </summary>
public sealed class FileSizeSampler
{
    // Larger lognormal draws are clamped here so a huge sigma cannot overflow a long.
    private const long Ceiling = long.MaxValue / 4;

    private enum Kind { Fixed, Lognormal, Histogram }

    private readonly Kind _kind;
    private readonly long _fixed;
    private readonly double _mu, _sigma;
    private readonly long _min, _max;
    private readonly double[] _cumulative = [];
    private readonly long[] _low = [];
    private readonly ulong[] _width = [];

    public FileSizeSampler(FileSizeDistribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        Distribution = distribution;
        switch (distribution)
        {
            case FixedSize f:
                if (f.Size.Bytes < 0) throw new ArgumentException($"fixed size {f.Size} is negative", nameof(distribution));
                _kind = Kind.Fixed;
                _fixed = f.Size.Bytes;
                break;

            case LognormalSize l:
                if (l.Mean.Bytes <= 0) throw new ArgumentException("lognormal mean must be positive", nameof(distribution));
                if (!(l.Sigma >= 0) || double.IsInfinity(l.Sigma)) throw new ArgumentException("lognormal sigma must be a finite number ≥ 0", nameof(distribution));
                _min = Math.Max(0, l.Min.Bytes);
                _max = Math.Min(Ceiling, l.Max?.Bytes ?? Ceiling);
                if (_max < _min) throw new ArgumentException($"lognormal max {l.Max} is below min {l.Min}", nameof(distribution));
                _kind = Kind.Lognormal;
                _sigma = l.Sigma;
                // E[exp(N(mu, sigma²))] = exp(mu + sigma²/2): this mu makes the arithmetic mean the one asked for.
                _mu = Math.Log(l.Mean.Bytes) - l.Sigma * l.Sigma / 2;
                _fixed = Math.Clamp(l.Mean.Bytes, _min, _max);
                break;

            case HistogramSize h:
                if (h.Bins.Count == 0) throw new ArgumentException("histogram has no bins", nameof(distribution));
                _kind = Kind.Histogram;
                _cumulative = new double[h.Bins.Count];
                _low = new long[h.Bins.Count];
                _width = new ulong[h.Bins.Count];
                var total = 0.0;
                long? previousUpTo = null;
                for (var i = 0; i < h.Bins.Count; i++)
                {
                    var bin = h.Bins[i];
                    var low = bin.From?.Bytes ?? previousUpTo ?? 1;
                    var high = bin.UpTo.Bytes;
                    if (low < 0 || high < low)
                        throw new ArgumentException($"histogram bin {i + 1}: [{low}, {high}] bytes is not a range", nameof(distribution));
                    if (!(bin.Weight >= 0) || double.IsInfinity(bin.Weight))
                        throw new ArgumentException($"histogram bin {i + 1}: weight must be a finite number ≥ 0", nameof(distribution));
                    total += bin.Weight;
                    _cumulative[i] = total;
                    _low[i] = low;
                    _width[i] = (ulong)(high - low) + 1;
                    previousUpTo = high;
                }
                if (!(total > 0)) throw new ArgumentException("histogram weights add up to 0", nameof(distribution));
                break;

            default:
                throw new ArgumentException($"unknown size distribution {distribution.GetType().Name}", nameof(distribution));
        }
    }

    public FileSizeDistribution Distribution { get; }

    /// <summary>
    /// How many words <see cref="Sample{T}"/> takes from its source, always the same for a sampler: none for a fixed size
    /// (or a lognormal with sigma 0), one for a lognormal, two for a histogram. Lets a caller that needs the words after
    /// the size skip it without computing it (<see cref="SplitMix64.Skip"/>).
    /// </summary>
    public int DrawsPerSample => _kind switch
    {
        Kind.Fixed => 0,
        Kind.Lognormal => _sigma == 0 ? 0 : 1,
        _ => 2,
    };

    public long Sample<T>(ref T rng) where T : struct, IRandomSource
    {
        switch (_kind)
        {
            case Kind.Fixed:
                return _fixed;
            case Kind.Lognormal:
                if (_sigma == 0) return _fixed;
                var x = Math.Exp(_mu + _sigma * rng.NextGaussian());
                // Compare as doubles first: casting a value beyond long's range is undefined.
                return x >= _max ? _max : Math.Clamp((long)Math.Round(x), _min, _max);
            default:
                var u = rng.NextDouble() * _cumulative[^1];
                var bin = FindBin(u);
                return _low[bin] + (long)rng.NextBelow(_width[bin]);
        }
    }

    private int FindBin(double u)
    {
        var c = _cumulative;
        if (c.Length <= 8)
        {
            for (var i = 0; i < c.Length; i++)
                if (u < c[i]) return i;
        }
        else
        {
            int lo = 0, hi = c.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (u < c[mid]) hi = mid; else lo = mid + 1;
            }
            if (u < c[lo]) return lo;
        }
        // Rounding put u at the total: the last bin with weight takes it.
        var last = c.Length - 1;
        while (last > 0 && c[last] == c[last - 1]) last--;
        return last;
    }
}
