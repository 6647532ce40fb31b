using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Tests.Quantities;

public class CpuQuantityTests
{
    [Theory]
    [InlineData("700m", 700)]
    [InlineData("0.7", 700)]
    [InlineData("2", 2000)]
    [InlineData("4", 4000)]
    [InlineData("2.5", 2500)]
    [InlineData("100m", 100)]
    [InlineData("1500m", 1500)]
    [InlineData(" 8 ", 8000)]
    [InlineData("700 m", 700)]
    [InlineData("0", 0)]
    [InlineData("0.001", 1)]
    public void Parses(string text, long millicores)
    {
        Assert.True(CpuQuantity.TryParse(text, out var cpu, out var error), error);
        Assert.Equal(millicores, cpu.Millicores);
        Assert.Equal(millicores / 1000.0, cpu.Cores);
    }

    [Theory]
    [InlineData("2 cores", "unknown CPU unit 'cores'")]
    [InlineData("700M", "unknown CPU unit 'M'")]
    [InlineData("1Gi", "unknown CPU unit 'Gi'")]
    [InlineData("-1", "is not a CPU quantity")]
    [InlineData("m", "is not a CPU quantity")]
    [InlineData("", "is not a CPU quantity")]
    [InlineData("lots", "is not a CPU quantity")]
    [InlineData("1e20", "out of range")]
    public void RejectsWithAClearMessage(string text, string message)
    {
        Assert.False(CpuQuantity.TryParse(text, out _, out var error));
        Assert.Contains(message, error);
        Assert.Throws<FormatException>(() => CpuQuantity.Parse(text));
    }

    [Theory]
    [InlineData(700, "700m")]
    [InlineData(2000, "2")]
    [InlineData(2500, "2500m")]
    [InlineData(0, "0")]
    public void PrintsAsKubernetesDoes(long millicores, string text)
    {
        var cpu = new CpuQuantity(millicores);
        Assert.Equal(text, cpu.ToString());
        Assert.Equal(cpu, CpuQuantity.Parse(cpu.ToString()));
    }

    [Fact]
    public void ComparesByMillicores()
    {
        Assert.True(CpuQuantity.Parse("700m") < CpuQuantity.Parse("1"));
        Assert.True(CpuQuantity.Parse("0.7") <= CpuQuantity.Parse("700m"));
        Assert.True(CpuQuantity.Parse("2") > CpuQuantity.Parse("1999m"));
        Assert.Equal(CpuQuantity.Parse("0.7"), CpuQuantity.FromCores(0.7));
    }
}
