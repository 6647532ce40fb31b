using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FdrHarness.Core.Synthetic;

/// <summary>Adler-32 (RFC 1950) as Rucio records it, with zlib's combine so checksums of long repeated content cost O(log n).</summary>
public static class Adler32
{
    /// <summary>The Adler-32 of no bytes.</summary>
    public const uint Initial = 1;

    private const uint Mod = 65521;

    // Largest n such that 255 n (n + 1) / 2 + (n + 1)(Mod - 1) fits in 32 bits: the sums may run that long unreduced.
    private const int NMax = 5552;

    public static uint Compute(ReadOnlySpan<byte> data) => Update(Initial, data);

    public static uint Update(uint adler, ReadOnlySpan<byte> data)
    {
        uint a = adler & 0xFFFF, b = adler >> 16;
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        var offset = 0;
        while (length > 0)
        {
            var n = Math.Min(length, NMax);
            length -= n;
            ref var p = ref Unsafe.Add(ref start, offset);
            offset += n;
            var i = 0;
            for (; i + 8 <= n; i += 8)
            {
                a += Unsafe.Add(ref p, i); b += a;
                a += Unsafe.Add(ref p, i + 1); b += a;
                a += Unsafe.Add(ref p, i + 2); b += a;
                a += Unsafe.Add(ref p, i + 3); b += a;
                a += Unsafe.Add(ref p, i + 4); b += a;
                a += Unsafe.Add(ref p, i + 5); b += a;
                a += Unsafe.Add(ref p, i + 6); b += a;
                a += Unsafe.Add(ref p, i + 7); b += a;
            }
            for (; i < n; i++)
            {
                a += Unsafe.Add(ref p, i);
                b += a;
            }
            a %= Mod;
            b %= Mod;
        }
        return a | (b << 16);
    }

    /// <summary>The Adler-32 of A followed by B, given adler(A), adler(B) and the length of B (zlib's adler32_combine).</summary>
    public static uint Combine(uint adler1, uint adler2, long length2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length2);
        return CombineMod(adler1, adler2, (uint)(length2 % Mod));
    }

    /// <summary>The Adler-32 of a block repeated <paramref name="count"/> times, by doubling: O(log count) combines.</summary>
    public static uint Repeat(uint blockAdler, long blockLength, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockLength);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        uint result = Initial, power = blockAdler, powerRem = (uint)(blockLength % Mod);
        while (count > 0)
        {
            if ((count & 1) != 0) result = CombineMod(result, power, powerRem);
            count >>= 1;
            if (count == 0) break;
            power = CombineMod(power, power, powerRem);
            powerRem = powerRem * 2 % Mod;
        }
        return result;
    }

    /// <summary>Combine with the second length already reduced modulo 65521 (lets callers track huge lengths without overflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint CombineMod(uint adler1, uint adler2, uint rem)
    {
        // After zlib's adler32_combine_: A = A1 + A2 - 1, B = B1 + B2 + len2 (A1 - 1), all mod 65521.
        var sum1 = adler1 & 0xFFFF;
        var sum2 = rem * sum1 % Mod;
        sum1 += (adler2 & 0xFFFF) + Mod - 1;
        sum2 += (adler1 >> 16) + (adler2 >> 16) + Mod - rem;
        if (sum1 >= Mod) sum1 -= Mod;
        if (sum1 >= Mod) sum1 -= Mod;
        if (sum2 >= 2 * Mod) sum2 -= 2 * Mod;
        if (sum2 >= Mod) sum2 -= Mod;
        return sum1 | (sum2 << 16);
    }

    internal static uint ReduceLength(long length) => (uint)(length % Mod);
}
