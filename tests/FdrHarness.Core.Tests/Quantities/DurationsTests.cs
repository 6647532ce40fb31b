using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Tests.Quantities;

public class DurationsTests
{
    [Theory]
    [InlineData("24h", 24 * 3600.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("1h 30m", 5400.0)]
    [InlineData("2h30m", 9000.0)]
    [InlineData("500ms", 0.5)]
    [InlineData("90m", 5400.0)]
    [InlineData("30m", 1800.0)]
    [InlineData("45s", 45.0)]
    [InlineData("10sec", 10.0)]
    [InlineData("5min", 300.0)]
    [InlineData("2d", 172800.0)]
    [InlineData("1w", 604800.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("1m30s250ms", 90.25)]
    [InlineData("3600", 3600.0)] // a bare number is seconds
    [InlineData("0.5", 0.5)]
    [InlineData("0s", 0.0)]
    public void Parses(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
        Assert.Equal(value, Durations.Parse(text));
    }

    [Theory]
    [InlineData("2 hours", "unknown duration unit 'hours'")]
    [InlineData("5x", "unknown duration unit 'x'")]
    [InlineData("1h30", "the number 30 has no unit")]
    [InlineData("", "is not a duration")]
    [InlineData("   ", "is not a duration")]
    [InlineData("h", "is not a duration")]
    [InlineData("-5m", "is not a duration")]
    [InlineData("-5", "is not a duration")]
    [InlineData("1.2.3h", "is not a duration")]
    [InlineData("NaN", "is not a duration")]
    [InlineData("Infinity", "is not a duration")]
    [InlineData("1e300", "is not a duration")]
    [InlineData("99999999999999999w", "is not a duration")]
    public void RejectsWithAClearMessage(string text, string message)
    {
        Assert.False(Durations.TryParse(text, out _, out var error));
        Assert.Contains(message, error);
        Assert.Throws<FormatException>(() => Durations.Parse(text));
    }

    [Theory]
    [InlineData(86400.0, "24h")]
    [InlineData(5400.0, "1h30m")]
    [InlineData(0.5, "500ms")]
    [InlineData(172800.0, "48h")] // hours, not days
    [InlineData(9000.25, "2h30m250ms")]
    [InlineData(45.0, "45s")]
    [InlineData(0.0, "0s")]
    public void FormatsShortAndParsesBack(double seconds, string text)
    {
        var span = TimeSpan.FromSeconds(seconds);
        Assert.Equal(text, Durations.Format(span));
        Assert.Equal(span, Durations.Parse(text));
    }
}
