using System.Text;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Tests.Synthetic;

public class Adler32Tests
{
    // The textbook definition, one modulo per byte.
    private static uint Reference(ReadOnlySpan<byte> data)
    {
        uint a = 1, b = 0;
        foreach (var x in data)
        {
            a = (a + x) % 65521;
            b = (b + a) % 65521;
        }
        return (b << 16) | a;
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData("", 0x00000001u)]
    [InlineData("a", 0x00620062u)]
    [InlineData("abc", 0x024D0127u)]
    [InlineData("Wikipedia", 0x11E60398u)]
    [InlineData("message digest", 0x29750586u)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", 0x90860B20u)]
    public void KnownVectors(string text, uint expected) =>
        Assert.Equal(expected, Adler32.Compute(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void AllOnesLongerThanTheReductionChunkDoesNotOverflow()
    {
        var ff = new byte[100_000];
        Array.Fill(ff, (byte)0xFF);
        Assert.Equal(Reference(ff), Adler32.Compute(ff));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 5551)]
    [InlineData(4, 5552)]
    [InlineData(5, 5553)]
    [InlineData(6, 65521)]
    [InlineData(7, 1_000_003)]
    public void MatchesReferenceOnRandomData(int seed, int length)
    {
        var data = RandomBytes(seed, length);
        Assert.Equal(Reference(data), Adler32.Compute(data));
    }

    [Fact]
    public void UpdateInPiecesEqualsComputeAtOnce()
    {
        var data = RandomBytes(11, 200_000);
        var adler = Adler32.Initial;
        var rng = new Random(12);
        for (var at = 0; at < data.Length;)
        {
            var n = Math.Min(rng.Next(0, 20_000), data.Length - at);
            adler = Adler32.Update(adler, data.AsSpan(at, n));
            at += n;
        }
        Assert.Equal(Adler32.Compute(data), adler);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    [InlineData(1, 65521)]
    [InlineData(777, 65522)]
    [InlineData(100_000, 131_042)]
    [InlineData(5, 300_001)]
    public void CombineEqualsComputeOnConcatenation(int length1, int length2)
    {
        var data = RandomBytes(length1 * 31 + length2, length1 + length2);
        var combined = Adler32.Combine(Adler32.Compute(data.AsSpan(0, length1)), Adler32.Compute(data.AsSpan(length1)), length2);
        Assert.Equal(Adler32.Compute(data), combined);
    }

    [Fact]
    public void CombineOfAllOnesExtremes()
    {
        var ff = new byte[65520];
        Array.Fill(ff, (byte)0xFF);
        var both = ff.Concat(ff).ToArray();
        Assert.Equal(Adler32.Compute(both), Adler32.Combine(Adler32.Compute(ff), Adler32.Compute(ff), ff.Length));
    }

    [Fact]
    public void CombineRejectsNegativeLength() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Adler32.Combine(1, 1, -1));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(100)]
    [InlineData(1023)]
    public void RepeatEqualsComputeOnRepeatedBlock(int count)
    {
        var block = RandomBytes(count + 100, 997);
        var repeated = Enumerable.Repeat(block, count).SelectMany(b => b).ToArray();
        Assert.Equal(Adler32.Compute(repeated), Adler32.Repeat(Adler32.Compute(block), block.Length, count));
    }

    public static TheoryData<uint> ReducedStarts => new() { Adler32.Initial, 0, 65520u | (65520u << 16), 12345u | (54321u << 16) };

    // UpdateShort (the closed form over at most 64 bytes) equals Update byte by byte for every length, start and content.
    [Theory]
    [MemberData(nameof(ReducedStarts))]
    public void UpdateShortEqualsUpdateForEveryLength(uint start)
    {
        var ff = new byte[Adler32.ShortMax];
        Array.Fill(ff, (byte)0xFF);
        var contents = new[] { ff, new byte[Adler32.ShortMax], RandomBytes(11, Adler32.ShortMax), RandomBytes(12, Adler32.ShortMax) };
        foreach (var data in contents)
        {
            for (var length = 0; length <= Adler32.ShortMax; length++)
                Assert.Equal(Adler32.Update(start, data.AsSpan(0, length)), Adler32.UpdateShort(start, ref data[0], length));
        }
    }
}
