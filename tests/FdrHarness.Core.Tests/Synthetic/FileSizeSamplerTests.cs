using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Tests.Synthetic;

public class FileSizeSamplerTests
{
    private const int Draws = 200_000;

    private static long[] Sample(FileSizeDistribution distribution, ulong seed = 1)
    {
        var sampler = new FileSizeSampler(distribution);
        var rng = new Xoshiro256StarStar(seed);
        var sizes = new long[Draws];
        for (var i = 0; i < sizes.Length; i++) sizes[i] = sampler.Sample(ref rng);
        return sizes;
    }

    [Fact]
    public void FixedIsExact() =>
        Assert.All(Sample(new FixedSize { Size = ByteSize.Parse("100 MB") }), s => Assert.Equal(100_000_000, s));

    [Fact]
    public void FixedZeroBytesIsAllowed() =>
        Assert.All(Sample(new FixedSize { Size = ByteSize.Zero }), s => Assert.Equal(0, s));

    [Theory]
    [InlineData(18_500_000, 0.5)]
    [InlineData(10_000_000, 1.0)]
    [InlineData(3_000_000_000, 1.2)]
    public void LognormalHasTheArithmeticMeanAskedFor(long mean, double sigma)
    {
        var sizes = Sample(new LognormalSize { Mean = new ByteSize(mean), Sigma = sigma });
        var average = sizes.Average(s => (double)s);
        // Standard error of the mean is mean × sqrt(exp(σ²) − 1) / sqrt(n): 0.4 % for σ = 1.2; allow 3 %.
        Assert.InRange(average / mean, 0.97, 1.03);
        // The median of a lognormal is exp(mu) = mean × exp(−σ²/2).
        var median = sizes.Order().ElementAt(Draws / 2);
        Assert.InRange(median / (mean * Math.Exp(-sigma * sigma / 2)), 0.97, 1.03);
    }

    [Fact]
    public void LognormalIsClampedToMinAndMax()
    {
        var sizes = Sample(new LognormalSize { Mean = new ByteSize(1_000_000), Sigma = 2, Min = new ByteSize(200_000), Max = new ByteSize(5_000_000) });
        Assert.Equal(200_000, sizes.Min());
        Assert.Equal(5_000_000, sizes.Max());
        Assert.Contains(sizes, s => s > 200_000 && s < 5_000_000);
    }

    [Fact]
    public void LognormalWithZeroSigmaIsTheMean() =>
        Assert.All(Sample(new LognormalSize { Mean = new ByteSize(12_345), Sigma = 0 }), s => Assert.Equal(12_345, s));

    [Fact]
    public void LognormalWithHugeSigmaDoesNotOverflow() =>
        Assert.All(Sample(new LognormalSize { Mean = new ByteSize(1_000_000), Sigma = 30 }), s => Assert.True(s >= 1));

    [Fact]
    public void HistogramSharesFollowTheWeightsAndSizesStayInTheirBins()
    {
        var histogram = new HistogramSize
        {
            Bins =
            [
                new HistogramBin { UpTo = new ByteSize(1_000), Weight = 1 },                               // [1, 1000]
                new HistogramBin { UpTo = new ByteSize(1_000_000), Weight = 3 },                           // [1000, 1e6]
                new HistogramBin { From = new ByteSize(2_000_000), UpTo = new ByteSize(2_000_000), Weight = 0 },
                new HistogramBin { From = new ByteSize(5_000_000), UpTo = new ByteSize(10_000_000), Weight = 6 },
            ],
        };
        var sizes = Sample(histogram);
        Assert.All(sizes, s => Assert.True(s is >= 1 and <= 1_000_000 or >= 5_000_000 and <= 10_000_000, $"{s} outside every bin"));
        Assert.DoesNotContain(2_000_000L, sizes);
        Assert.Equal(1, sizes.Min());
        Assert.InRange(sizes.Max(), 9_990_000, 10_000_000);

        double Share(Func<long, bool> inBin) => sizes.Count(inBin) / (double)Draws;
        Assert.InRange(Share(s => s < 1_000), 0.095, 0.105);
        Assert.InRange(Share(s => s > 1_000 && s <= 1_000_000), 0.29, 0.31);
        Assert.InRange(Share(s => s >= 5_000_000), 0.59, 0.61);

        // Uniform inside a bin: the mean of the last bin is its middle.
        var last = sizes.Where(s => s >= 5_000_000).Average(s => (double)s);
        Assert.InRange(last, 7_450_000, 7_550_000);
    }

    [Fact]
    public void HistogramWithManyBinsUsesEveryPositiveBin()
    {
        var bins = Enumerable.Range(1, 40).Select(i => new HistogramBin { UpTo = new ByteSize(i * 100), Weight = i % 5 == 0 ? 0 : 1 }).ToArray();
        var sizes = Sample(new HistogramSize { Bins = bins });
        // Bin i (1-based) is [(i - 1) × 100, i × 100]: look at interiors only, edges are shared.
        var interiorBins = sizes.Where(s => s % 100 != 0).Select(s => s / 100 + 1).ToHashSet();
        Assert.Equal(32, interiorBins.Count);
        Assert.DoesNotContain(interiorBins, i => i % 5 == 0);
    }

    [Fact]
    public void SameSeedSameSizes() =>
        Assert.Equal(Sample(new LognormalSize { Mean = new ByteSize(1000) }, 5), Sample(new LognormalSize { Mean = new ByteSize(1000) }, 5));

    [Fact]
    public void InvalidDistributionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new FileSizeSampler(new LognormalSize { Mean = ByteSize.Zero }));
        Assert.Throws<ArgumentException>(() => new FileSizeSampler(new LognormalSize { Mean = new ByteSize(10), Min = new ByteSize(5), Max = new ByteSize(4) }));
        Assert.Throws<ArgumentException>(() => new FileSizeSampler(new HistogramSize { Bins = [] }));
        Assert.Throws<ArgumentException>(() => new FileSizeSampler(new HistogramSize { Bins = [new HistogramBin { UpTo = new ByteSize(10), Weight = 0 }] }));
    }

    private static readonly (FileSizeDistribution Distribution, int Draws)[] Distributions =
    [
        (new FixedSize { Size = new ByteSize(10) }, 0),
        (new LognormalSize { Mean = new ByteSize(1000), Sigma = 0 }, 0),
        (new LognormalSize { Mean = new ByteSize(1000), Sigma = 1.5 }, 1),
        (new HistogramSize { Bins = [new HistogramBin { UpTo = new ByteSize(100), Weight = 1 }] }, 2),
        (new HistogramSize { Bins = Enumerable.Range(1, 20).Select(i => new HistogramBin { UpTo = new ByteSize(i * 100), Weight = i }).ToArray() }, 2),
    ];

    // SyntheticFileGenerator.FileName skips a file's size with SplitMix64.Skip(DrawsPerSample): the stream must then be
    // exactly where Sample leaves it.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SkippingDrawsPerSampleLeavesTheStreamWhereSampleDoes(int which)
    {
        var (distribution, draws) = Distributions[which];
        var sampler = new FileSizeSampler(distribution);
        Assert.Equal(draws, sampler.DrawsPerSample);
        for (var seed = 0UL; seed < 1000; seed++)
        {
            var sampled = new SplitMix64(seed * 0x9E3779B97F4A7C15UL);
            var skipped = sampled;
            sampler.Sample(ref sampled);
            skipped.Skip(sampler.DrawsPerSample);
            Assert.Equal(sampled.NextUInt64(), skipped.NextUInt64());
        }
    }
}
