using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Tests.Synthetic;

public class SyntheticContentTests
{
    private static readonly SyntheticContent Default = new(42);
    private static readonly SyntheticContent Small = new(42, patternLength: 1000);

    private static SyntheticFile File(long bytes, long index = 7, string scope = "cta") =>
        new(scope, "f", "ds", null, bytes, 0, index);

    private static byte[] ReadAll(SyntheticContent content, SyntheticFile file)
    {
        using var stream = content.OpenRead(file);
        using var copy = new MemoryStream();
        // Odd-sized reads cross the header/pattern boundaries at every possible offset.
        var buffer = new byte[70_001];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) copy.Write(buffer, 0, n);
        return copy.ToArray();
    }

    public static TheoryData<long> DefaultSizes => new()
    {
        0, 1, 31, 32, 33,
        SyntheticContent.HeaderLength + SyntheticContent.DefaultPatternLength - 1,
        SyntheticContent.HeaderLength + SyntheticContent.DefaultPatternLength,
        SyntheticContent.HeaderLength + SyntheticContent.DefaultPatternLength + 1,
        5 * SyntheticContent.DefaultPatternLength + 12_345,
    };

    [Theory]
    [MemberData(nameof(DefaultSizes))]
    public void ComputedChecksumEqualsChecksumOfStreamedBytes(long size)
    {
        var file = File(size);
        var bytes = ReadAll(Default, file);
        Assert.Equal(size, bytes.LongLength);
        Assert.Equal(Adler32.Compute(bytes), Default.ComputeAdler32(file));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(999)]
    [InlineData(1031)]
    [InlineData(1032)]
    [InlineData(1033)]
    [InlineData(65_521 * 3 + 17)]
    [InlineData(3_000_000)]
    public void ManyRepetitionsOfASmallPattern(long size)
    {
        var file = File(size, index: size);
        Assert.Equal(Adler32.Compute(ReadAll(Small, file)), Small.ComputeAdler32(file));
    }

    [Fact]
    public async Task WriteToAsyncWritesTheSameBytesAsOpenRead()
    {
        var file = File(2 * SyntheticContent.DefaultPatternLength + 100);
        using var written = new MemoryStream();
        await Default.WriteToAsync(written, file, CancellationToken.None);
        Assert.Equal(ReadAll(Default, file), written.ToArray());

        using var copied = new MemoryStream();
        await using var stream = Default.OpenRead(file);
        await stream.CopyToAsync(copied, CancellationToken.None);
        Assert.Equal(written.ToArray(), copied.ToArray());
    }

    [Fact]
    public void SeekingReadsTheSameBytes()
    {
        var file = File(3000, index: 3);
        var all = ReadAll(Small, file);
        using var stream = Small.OpenRead(file);
        stream.Position = 1500;
        var tail = new byte[1500];
        stream.ReadExactly(tail);
        Assert.Equal(all.AsSpan(1500).ToArray(), tail);
        Assert.Equal(0, stream.Read(new byte[10]));
        Assert.Equal(3000, stream.Length);
    }

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherBytes()
    {
        var file = File(5000);
        Assert.Equal(ReadAll(Small, file), ReadAll(new SyntheticContent(42, 1000), file));
        Assert.NotEqual(ReadAll(Small, file), ReadAll(new SyntheticContent(43, 1000), file));
    }

    [Fact]
    public void FilesDifferByIndexAndScope()
    {
        var a = ReadAll(Small, File(100, index: 1));
        Assert.NotEqual(a, ReadAll(Small, File(100, index: 2)));
        Assert.NotEqual(a, ReadAll(Small, File(100, index: 1, scope: "lsst")));
    }

    [Theory]
    [InlineData(10_000_000_000_000)]
    [InlineData(10_000_000_001_031)] // one repeat more: the closed form's R(R − 1)/2 halves the other factor
    [InlineData(long.MaxValue)]      // R(R − 1) past 64 bits
    public void LargeFileChecksumNeedsNoBytes(long size)
    {
        // Only the closed form can answer this; check it against the explicit decomposition, repeats by doubling.
        var content = Small;
        var header = new byte[32];
        content.CopyTo(File(size), 0, header);
        var body = size - 32;
        var pattern = content.Pattern.Span;
        var expected = Adler32.Combine(
            Adler32.Compute(header),
            Adler32.Combine(
                Adler32.Repeat(Adler32.Compute(pattern), pattern.Length, body / pattern.Length),
                Adler32.Compute(pattern[..(int)(body % pattern.Length)]),
                body % pattern.Length),
            body);
        Assert.Equal(expected, content.ComputeAdler32(File(size)));
    }

    [Theory]
    [InlineData(SyntheticContent.DefaultPatternLength)]
    [InlineData(1000)] // the last block shorter than the 64 bytes read from it
    public void ChecksumsOfABatchEqualEachFilesChecksum(int patternLength)
    {
        var content = new SyntheticContent(42, patternLength);
        var key = content.ScopeKey("cta");
        long[] sizes = [0, 1, 32, 33, 95, 96, 97, patternLength + 32L, patternLength + 31L, 3L * patternLength + 7, 10_000_000_000_000, 2_147_483_679];
        var indexes = sizes.Select((_, i) => 1000L + i).ToArray();
        var batch = new uint[sizes.Length];
        content.ComputeAdler32(key, indexes, sizes, batch);
        Assert.Equal(sizes.Select((s, i) => content.ComputeAdler32(key, indexes[i], s)), batch);
    }

    // A file of n bytes is the first n bytes of the same (scope, index) file of any larger size: one pass over a long file's
    // bytes gives the byte-by-byte Adler-32 of every size up to it, to check the closed-form checksum against at each.
    private static void AssertEveryPrefix(SyntheticContent content, long length, Func<long, bool> check)
    {
        var bytes = ReadAll(content, File(length, index: 123_456_789));
        var key = content.ScopeKey("cta");
        uint a = 1, b = 0;
        var checkedSizes = 0;
        for (var n = 0L; ; n++)
        {
            if (check(n))
            {
                Assert.Equal(a | (b << 16), content.ComputeAdler32(key, 123_456_789, n));
                checkedSizes++;
            }
            if (n == length) break;
            a = (a + bytes[n]) % 65521;
            b = (b + a) % 65521;
        }
        Assert.True(checkedSizes > 1000);
    }

    [Fact]
    public void ChecksumOfEverySizeUpToTwoPatternsEqualsTheBytes() =>
        // 0, 1, the header's end, every block boundary of the pattern (its prefix table has one every 64 bytes), its end.
        AssertEveryPrefix(Default, SyntheticContent.HeaderLength + 2L * SyntheticContent.DefaultPatternLength + 200, _ => true);

    [Theory]
    [InlineData(1000)]  // not a multiple of the 64-byte block: the last block's prefix is summed byte by byte
    [InlineData(1024)]
    [InlineData(64)]
    [InlineData(63)]
    [InlineData(1)]
    public void ChecksumOfEverySizeOfSmallPatternsEqualsTheBytes(int patternLength) =>
        AssertEveryPrefix(new SyntheticContent(42, patternLength), SyntheticContent.HeaderLength + 70L * patternLength + 3000, _ => true);

    [Fact]
    public void ChecksumOfLargeSizesEqualsTheBytes() =>
        // Sizes past 65521 pattern repeats of a small pattern (the lengths' reductions modulo 65521 wrap), sampled.
        AssertEveryPrefix(new SyntheticContent(42, 100), SyntheticContent.HeaderLength + 100L * 65_521 * 2 + 777, n => n % 4999 == 0 || n % 100 is 0 or 1 or 31 or 32 or 33 or 99);
}
