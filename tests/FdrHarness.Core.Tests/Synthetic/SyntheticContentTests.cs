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

    [Fact]
    public void LargeFileChecksumNeedsNoBytes()
    {
        // 10 TB: only the combine path can answer this; check it against the explicit decomposition.
        const long size = 10_000_000_000_000;
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
}
