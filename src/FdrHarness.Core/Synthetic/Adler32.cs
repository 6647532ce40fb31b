using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>The most bytes <see cref="UpdateShort"/> continues over.</summary>
    internal const int ShortMax = 64;

    /// <summary>
    /// <see cref="Update"/> over the first <paramref name="length"/> (0 … 64) bytes at <paramref name="data"/>, in closed
    /// form: after L bytes p[0..L), A' = A + Σ p[i] and B' = B + L·A + Σ (L − i)·p[i], both sums taken at once over 64
    /// bytes with the weights max(L − i, 0) (SSSE3's byte multiply-add). Reads 64 bytes at <paramref name="data"/> whatever
    /// the length: the caller guarantees them readable; the bytes from <paramref name="length"/> on weigh 0.
    /// <paramref name="adler"/> must be reduced (both halves below 65521), as every checksum is.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint UpdateShort(uint adler, ref byte data, int length)
    {
        if (!Ssse3.IsSupported) return Update(adler, MemoryMarshal.CreateReadOnlySpan(ref data, length));
        var l = Vector128.Create((byte)length);
        var iota = Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var sixteen = Vector128.Create((byte)16);
        var oneByte = Vector128.Create((byte)1);
        var oneShort = Vector128.Create((short)1);
        var sums = Vector128<int>.Zero;
        var weighted = Vector128<int>.Zero;
        for (var j = 0; j < ShortMax / 16; j++, iota += sixteen)
        {
            var v = Vector128.LoadUnsafe(ref data, (nuint)(16 * j));
            var w = Sse2.SubtractSaturate(l, iota); // max(L − i, 0) ≤ 64: pairs of products stay below 2^15
            var m = Sse2.Min(w, oneByte);           // i < L
            weighted += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(v, w.AsSByte()), oneShort);
            sums += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(v, m.AsSByte()), oneShort);
        }
        uint a = adler & 0xFFFF, b = adler >> 16;
        // a, b < 65521, L ≤ 64, Σ p ≤ 64 × 255, Σ (L − i) p ≤ 255 × 64 × 65 / 2: nothing overflows 32 bits.
        var newA = (a + (uint)Vector128.Sum(sums)) % Mod;
        var newB = (b + (uint)length * a + (uint)Vector128.Sum(weighted)) % Mod;
        return newA | (newB << 16);
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
