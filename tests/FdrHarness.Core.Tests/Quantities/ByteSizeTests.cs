using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Tests.Quantities;

public class ByteSizeTests
{
    [Theory]
    // SI units, as the ESCAPE tables write them
    [InlineData("100 TB", 100_000_000_000_000)]
    [InlineData("573 MB", 573_000_000)]
    [InlineData("86.4 KB", 86_400)]
    [InlineData("9.27 MB", 9_270_000)]
    [InlineData("27.99 TB", 27_990_000_000_000)]
    [InlineData("1 PB", 1_000_000_000_000_000)]
    [InlineData("100MB", 100_000_000)]
    [InlineData("  2 GB  ", 2_000_000_000)]
    [InlineData("10 mb", 10_000_000)] // SI units forgive case
    [InlineData("3 kB", 3_000)]
    [InlineData("5 G", 5_000_000_000)]
    // Kubernetes binary units
    [InlineData("200Mi", 200L * 1024 * 1024)]
    [InlineData("2.5Gi", 2_684_354_560)]
    [InlineData("2000Mi", 2000L * 1024 * 1024)]
    [InlineData("1Ki", 1024)]
    [InlineData("1Ti", 1L << 40)]
    [InlineData("2.5 GiB", 2_684_354_560)]
    [InlineData("512 KiB", 512 * 1024)]
    // plain byte counts
    [InlineData("2", 2)]
    [InlineData("1000", 1000)]
    [InlineData("0", 0)]
    [InlineData("42 B", 42)]
    [InlineData("1e6", 1_000_000)]
    public void Parses(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size, out var error), error);
        Assert.Null(error);
        Assert.Equal(bytes, size.Bytes);
        Assert.Equal(bytes, ByteSize.Parse(text).Bytes);
    }

    [Theory]
    [InlineData("", "is not a size")]
    [InlineData("MB", "is not a size")]
    [InlineData("ten MB", "is not a size")]
    [InlineData("10 XB", "unknown size unit 'XB'")]
    [InlineData("10 TX", "unknown size unit 'TX'")]
    [InlineData("10 mi", "unknown size unit 'mi'")] // binary units are case-sensitive, as in Kubernetes
    [InlineData("10 Megabytes", "unknown size unit")]
    [InlineData("10 M B", "is not a size")]
    [InlineData("1.2.3 MB", "is not a size")]
    [InlineData("-5 MB", "negative")]
    [InlineData("1e30 TB", "out of range")]
    [InlineData("NaN", "is not a size")]
    public void RejectsWithAClearMessage(string text, string message)
    {
        Assert.False(ByteSize.TryParse(text, out _, out var error));
        Assert.Contains(message, error);
        Assert.Throws<FormatException>(() => ByteSize.Parse(text));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(209_715_200, "200Mi")]
    [InlineData(100_000_000_000_000, "100 TB")]
    [InlineData(573_000_000, "573 MB")]
    [InlineData(86_400, "86400")]
    [InlineData(2_684_354_560, "2560Mi")]
    [InlineData(1024, "1Ki")]
    [InlineData(1000, "1 KB")]
    [InlineData(1_048_576_000, "1000Mi")]
    [InlineData(7, "7")]
    public void ToExactStringIsShortAndExact(long bytes, string text)
    {
        Assert.Equal(text, new ByteSize(bytes).ToExactString());
        Assert.Equal(bytes, ByteSize.Parse(text).Bytes);
    }

    [Theory]
    [InlineData("100 TB")]
    [InlineData("573 MB")]
    [InlineData("86.4 KB")]
    [InlineData("200Mi")]
    [InlineData("2.5Gi")]
    [InlineData("27.99 TB")]
    [InlineData("123456789")]
    public void ToExactStringRoundTrips(string text)
    {
        var size = ByteSize.Parse(text);
        Assert.Equal(size, ByteSize.Parse(size.ToExactString()));
    }

    [Fact]
    public void ToExactStringRoundTripsOverManyValues()
    {
        var random = new Random(5);
        for (var i = 0; i < 10_000; i++)
        {
            var bytes = random.NextInt64(0, 1L << 52);
            if (i % 3 == 0) bytes = bytes / 1_000_000 * 1_000_000;
            if (i % 3 == 1) bytes = bytes >> 20 << 20;
            Assert.Equal(bytes, ByteSize.Parse(new ByteSize(bytes).ToExactString()).Bytes);
        }
    }

    [Theory]
    [InlineData(100_000_000_000_000, "100 TB")]
    [InlineData(86_400, "86.4 KB")]
    [InlineData(9_270_000, "9.27 MB")]
    [InlineData(999, "999 B")]
    [InlineData(0, "0 B")]
    public void ToStringIsSi(long bytes, string text) => Assert.Equal(text, new ByteSize(bytes).ToString());

    [Theory]
    [InlineData("2.5Gi", "2.5Gi")]
    [InlineData("200Mi", "200Mi")]
    [InlineData("2500Mi", "2.44Gi")]
    [InlineData("512", "512")]
    public void ToBinaryStringIsKubernetesStyle(string text, string binary) =>
        Assert.Equal(binary, ByteSize.Parse(text).ToBinaryString());

    [Fact]
    public void ComparesByBytes()
    {
        Assert.True(ByteSize.Parse("1 GB") < ByteSize.Parse("1Gi"));
        Assert.True(ByteSize.Parse("2000Mi") > ByteSize.Parse("2 GB"));
        Assert.True(ByteSize.Parse("1000 MB") >= ByteSize.Parse("1 GB"));
        Assert.Equal(0, ByteSize.Parse("1 GB").CompareTo(ByteSize.Parse("1000 MB")));
        Assert.Equal(2000.0, ByteSize.Parse("2000Mi").MiB);
        Assert.Equal(2.5, ByteSize.Parse("2.5Gi").GiB);
        Assert.Equal(ByteSize.Parse("2000Mi"), ByteSize.FromMiB(2000));
    }
}
