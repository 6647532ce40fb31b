using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Tests.Quantities;

public class BandwidthTests
{
    [Theory]
    [InlineData("1.25 GB/s", 1.25e9)]
    [InlineData("500 MB/s", 5e8)]
    [InlineData("500MB/s", 5e8)]
    [InlineData("100 MiB/s", 100.0 * 1024 * 1024)]
    [InlineData("10 Gbps", 1.25e9)]
    [InlineData("800 Mbit/s", 1e8)]
    [InlineData("100 kbps", 12_500)]
    [InlineData("8 bps", 1)]
    [InlineData("1250000000 B/s", 1.25e9)] // the form ScenarioWriter writes
    [InlineData("0 MB/s", 0)]
    public void Parses(string text, double bytesPerSecond)
    {
        Assert.True(Bandwidth.TryParse(text, out var rate, out var error), error);
        Assert.Equal(bytesPerSecond, rate.BytesPerSecond, 6);
    }

    [Theory]
    [InlineData("10 MB")] // a size, not a rate
    [InlineData("10 Xbps")]
    [InlineData("10 XB/s")]
    [InlineData("fast")]
    [InlineData("")]
    [InlineData("-1 GB/s")]
    [InlineData("10 MB/h")]
    public void RejectsWithAClearMessage(string text)
    {
        Assert.False(Bandwidth.TryParse(text, out _, out var error));
        Assert.Contains("is not a rate such as", error);
    }

    [Theory]
    [InlineData("1.25 GB/s", "1.25 GB/s")]
    [InlineData("10 Gbps", "1.25 GB/s")]
    [InlineData("100 MB/s", "100 MB/s")]
    public void PrintsInBytesPerSecond(string text, string printed)
    {
        Assert.True(Bandwidth.TryParse(text, out var rate, out _));
        Assert.Equal(printed, rate.ToString());
        Assert.True(Bandwidth.TryParse(rate.ToString(), out var again, out _));
        Assert.Equal(rate, again);
    }
}
