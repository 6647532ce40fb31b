using System.Runtime.CompilerServices;

namespace FdrHarness.Core.Synthetic;

/// <summary>A source of uniformly distributed 64-bit words. Implemented by structs so generic callers are specialised and inlined.</summary>
public interface IRandomSource
{
    ulong NextUInt64();
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny state, and <see cref="Mix"/> is a bijective finaliser usable as a counter-based generator.</summary>
public struct SplitMix64 : IRandomSource
{
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;

    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>Moves the stream on by <paramref name="draws"/> words, exactly as that many <see cref="NextUInt64"/> calls would.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int draws) => _state += (ulong)draws * Gamma;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>The SplitMix64 output function; a bijection on 64-bit words, so distinct inputs give distinct outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>xoshiro256** (Blackman, Vigna 2018): a fast generator for long streams (e.g. the content pattern).</summary>
public struct Xoshiro256StarStar : IRandomSource
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        // Seeding through SplitMix64 is the authors' recommendation; it never yields the all-zero state.
        var sm = new SplitMix64(seed);
        _s0 = sm.NextUInt64();
        _s1 = sm.NextUInt64();
        _s2 = sm.NextUInt64();
        _s3 = sm.NextUInt64();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }
}

public static class RandomSourceExtensions
{
    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double NextDouble<T>(ref this T rng) where T : struct, IRandomSource =>
        (rng.NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) by Lemire's multiply-high (bias below 2^-64 × n, irrelevant here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NextBelow<T>(ref this T rng, ulong n) where T : struct, IRandomSource =>
        Math.BigMul(rng.NextUInt64(), n, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextBelow<T>(ref this T rng, int n) where T : struct, IRandomSource =>
        (int)Math.BigMul(rng.NextUInt64(), (ulong)n, out _);

    /// <summary>
    /// Standard normal by inverting the CDF (Acklam's rational approximation, relative error 1.2e-9):
    /// one draw per value and, 95 % of the time, only + × ÷, which are bit-identical on every platform.
    /// </summary>
    public static double NextGaussian<T>(ref this T rng) where T : struct, IRandomSource
    {
        // Open interval (0, 1): the tails need p > 0 and 1 - p > 0.
        var p = ((rng.NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));
        return InverseNormalCdf(p);
    }

    internal static double InverseNormalCdf(double p)
    {
        const double a0 = -3.969683028665376e+01, a1 = 2.209460984245205e+02, a2 = -2.759285104469687e+02,
            a3 = 1.383577518672690e+02, a4 = -3.066479806614716e+01, a5 = 2.506628277459239e+00;
        const double b0 = -5.447609879822406e+01, b1 = 1.615858368580409e+02, b2 = -1.556989798598866e+02,
            b3 = 6.680131188771972e+01, b4 = -1.328068155288572e+01;
        const double c0 = -7.784894002430293e-03, c1 = -3.223964580411365e-01, c2 = -2.400758277161838e+00,
            c3 = -2.549732539343734e+00, c4 = 4.374664141464968e+00, c5 = 2.938163982698783e+00;
        const double d0 = 7.784695709041462e-03, d1 = 3.224671290700398e-01, d2 = 2.445134137142996e+00,
            d3 = 3.754408661907416e+00;
        const double low = 0.02425, high = 1 - low;

        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
        }
        if (p <= high)
        {
            var q = p - 0.5;
            var r = q * q;
            return (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
        }
    }
}

/// <summary>
/// Hashes that are the same in every process and on every machine (string.GetHashCode is randomised per process),
/// used to derive one generator's seed from the run seed and a name.
/// </summary>
public static class StableHash
{
    /// <summary>FNV-1a over the UTF-16 code units, seeded and finished with SplitMix64's mixer.</summary>
    public static ulong Of(ulong seed, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var h = 0xCBF29CE484222325UL ^ SplitMix64.Mix(seed);
        foreach (var c in text)
            h = (h ^ c) * 0x100000001B3UL;
        return SplitMix64.Mix(h ^ (ulong)text.Length);
    }

    /// <summary>Derives a new key from a key and a number (order matters).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Combine(ulong key, ulong value) =>
        SplitMix64.Mix(key ^ SplitMix64.Mix(value + SplitMix64.Gamma));
}
