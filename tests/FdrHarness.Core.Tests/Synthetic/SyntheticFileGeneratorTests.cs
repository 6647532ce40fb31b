using System.Text.RegularExpressions;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Tests.Synthetic;

public class SyntheticFileGeneratorTests
{
    private static readonly SyntheticContent Content = new(2020);

    private static ExperimentSpec Experiment(string name, long files, FileSizeDistribution? size = null, int perDataset = 1000, int perContainer = 0, string? scope = null) => new()
    {
        Name = name,
        Scope = scope,
        Files = files,
        FileSize = size ?? new LognormalSize { Mean = ByteSize.Parse("10 MB"), Sigma = 1 },
        FilesPerDataset = perDataset,
        DatasetsPerContainer = perContainer,
    };

    private static SyntheticFileGenerator Generator(ExperimentSpec experiment, long seed = 2020, double scale = 1) =>
        new(seed, experiment, scale, seed == 2020 ? Content : null);

    public static TheoryData<string> Sciences => new() { "CTA", "LSST", "SKA", "EGO-VIRGO", "ATLAS", "LOFAR", "MAGIC", "CMS", "FAIR", "Einstein-Telescope" };

    [Theory]
    [MemberData(nameof(Sciences))]
    public void NamesAreUniqueInTheScope(string science)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Generator(Experiment(science, 200_000)))
            Assert.True(names.Add(file.Name), $"duplicate {file.Name}");
        Assert.Equal(200_000, names.Count);
    }

    [Theory]
    [InlineData("CTA", @"^cta\.run\d{6}\.(LST\d|MST\d\d|SST\d\d)\.(R0|DL\d)\.subrun\d{4}\.(h5|fits\.fz)$")]
    [InlineData("LSST", @"^[A-Za-z]+_(LSSTCam|LSSTComCam|LATISS)_[ugrizy]_\d{8}_R\d\d_S\d\d_w_20\d\d_\d\d\.fits$")]
    [InlineData("EGO-VIRGO", @"^V-\w+-\d{10}-(100|4096)\.gwf$")]
    [InlineData("ATLAS", @"^(data\d\d_13(p6)?TeV\.\d{8}\.\w+\.daq\.RAW\._lb\d{4}\._SFO-[1-4]\._0001\.data|[A-Z_]+\.\d{8}\._\d{6}\.pool\.root\.1)$")]
    [InlineData("MAGIC", @"^20\d{6}_M[12]_\d{8}\.\d{3}_[DYISQ]_[\w+]+-W0\.40\+\d{3}\.(root|raw\.gz)$")]
    [InlineData("LOFAR", @"^L\d{6}_SAP\d{3}_SB\d{3}_uv\.MS_[0-9a-f]{8}\.tar$")]
    [InlineData("CMS", @"^Run2018[A-D]_\w+_[A-Z]+_[\w-]+_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\.root$")]
    public void NamesFollowTheSciencesConventions(string science, string pattern)
    {
        foreach (var file in Generator(Experiment(science, 3000)))
            Assert.Matches(pattern, file.Name);
    }

    [Fact]
    public void DatasetsAndContainersGroupConsecutiveFiles()
    {
        var g = Generator(Experiment("SKA", 2500, perDataset: 100, perContainer: 10));
        Assert.Equal(25, g.DatasetCount);
        Assert.Equal(3, g.ContainerCount);
        var files = g.ToArray();
        Assert.All(files, f => Assert.Matches(@"^ska\.fdr\.\w+\.ds\d{6}$", f.Dataset));
        Assert.Equal(25, files.Select(f => f.Dataset).Distinct().Count());
        Assert.Equal(["ska.fdr.cont00000", "ska.fdr.cont00001", "ska.fdr.cont00002"], files.Select(f => f.Container!).Distinct());
        Assert.Equal(files[0].Dataset, files[99].Dataset);
        Assert.NotEqual(files[99].Dataset, files[100].Dataset);
        Assert.EndsWith(".ds000024", files[^1].Dataset);
        Assert.All(Generator(Experiment("SKA", 10)), f => Assert.Null(f.Container));
    }

    [Fact]
    public void SameSeedSameSequenceOtherSeedDiffers()
    {
        var spec = Experiment("CTA", 20_000);
        var a = Generator(spec).ToArray();
        var b = new SyntheticFileGenerator(2020, spec).ToArray(); // its own content instance
        Assert.Equal(a, b);
        var c = Generator(spec, seed: 2021).ToArray();
        Assert.True(a.Zip(c).Count(p => p.First.Name == p.Second.Name) < a.Length / 100);
        Assert.True(a.Zip(c).Count(p => p.First.Bytes == p.Second.Bytes) < a.Length / 100);
    }

    [Fact]
    public void ScopesOfOneRunDiffer()
    {
        var a = Generator(Experiment("CTA", 1000, scope: "cta")).ToArray();
        var b = Generator(Experiment("CTA", 1000, scope: "cta_test")).ToArray();
        Assert.True(a.Zip(b).Count(p => p.First.Bytes == p.Second.Bytes) < 10);
    }

    [Fact]
    public void GetFileEqualsTheStreamedFile()
    {
        var g = Generator(Experiment("MAGIC", 10_000, perDataset: 37, perContainer: 3));
        var i = 0L;
        foreach (var file in g)
        {
            Assert.Equal(i, file.Index);
            if (i % 97 == 0 || i < 5 || i == g.Count - 1) Assert.Equal(file, g.GetFile(i));
            i++;
        }
        Assert.Equal(g.Count, i);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.GetFile(g.Count));
    }

    [Theory]
    [InlineData("fixed")]
    [InlineData("sigma0")]
    [InlineData("histogram")]
    public void FileNameAndSizeEqualTheStreamedFilesWhateverTheSizes(string sizes)
    {
        FileSizeDistribution size = sizes switch
        {
            "fixed" => new FixedSize { Size = ByteSize.Parse("1 MB") },
            "sigma0" => new LognormalSize { Mean = ByteSize.Parse("1 MB"), Sigma = 0 },
            _ => new HistogramSize { Bins = [new HistogramBin { UpTo = ByteSize.Parse("1 MB"), Weight = 1 }, new HistogramBin { UpTo = ByteSize.Parse("1 GB"), Weight = 2 }] },
        };
        foreach (var science in new[] { "CTA", "LSST", "MAGIC", "Einstein-Telescope" })
        {
            var g = Generator(Experiment(science, 2_000, size, perDataset: 37));
            foreach (var file in g) Assert.Equal((file.Name, file.Bytes), (g.FileName(file.Index), g.Size(file.Index)));
        }
    }

    [Theory]
    [MemberData(nameof(Sciences))]
    public void FileNameEqualsTheStreamedFilesName(string science)
    {
        var g = Generator(Experiment(science, 5_000, perDataset: 37, perContainer: 3));
        foreach (var file in g) Assert.Equal(file.Name, g.FileName(file.Index));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.FileName(g.Count));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.FileName(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Size(g.Count));
    }

    [Fact]
    public void FillFromAnyOffsetEqualsTheStream()
    {
        var g = Generator(Experiment("ATLAS", 5_000));
        var all = g.ToArray();
        var buffer = new SyntheticFile[777];
        Assert.Equal(777, g.Fill(1234, buffer));
        Assert.Equal(all.AsSpan(1234, 777).ToArray(), buffer);
        Assert.Equal(6, g.Fill(4994, buffer));
        Assert.Equal(0, g.Fill(5000, buffer));
        Assert.Equal(all.Skip(100).Take(50), g.Enumerate(100, 50));
    }

    [Fact]
    public void ChecksumsMatchTheContentAndRucioHexForm()
    {
        var g = Generator(Experiment("VIRGO", 50, new HistogramSize { Bins = [new HistogramBin { From = ByteSize.Zero, UpTo = new ByteSize(3_000_000), Weight = 1 }] }));
        foreach (var file in g)
        {
            Assert.Equal(Content.ComputeAdler32(file), file.Adler32);
            Assert.Matches("^[0-9a-f]{8}$", file.Adler32Hex);
            Assert.Equal(file.Adler32, Convert.ToUInt32(file.Adler32Hex, 16));
        }
        var small = g.First(f => f.Bytes < 2_000_000);
        using var stream = Content.OpenRead(small);
        var bytes = new byte[small.Bytes];
        stream.ReadExactly(bytes);
        Assert.Equal(small.Adler32, Adler32.Compute(bytes));
    }

    [Fact]
    public void ZeroByteFilesAndScaling()
    {
        var g = Generator(Experiment("FAIR", 142, new FixedSize { Size = ByteSize.Zero }), scale: 0.5);
        Assert.Equal(71, g.Count);
        Assert.All(g, f => Assert.Equal((0L, Adler32.Initial), (f.Bytes, f.Adler32)));
        Assert.Empty(Generator(Experiment("FAIR", 142), scale: 0));
        Assert.Equal(2, Generator(Experiment("FAIR", 3), scale: 0.5).Count); // 1.5 rounds up
    }

    [Fact]
    public void SizesFollowTheExperimentsDistribution()
    {
        var g = Generator(Experiment("LSST", 100_000, new LognormalSize { Mean = ByteSize.Parse("18.5 MB"), Sigma = 0.8 }));
        Assert.InRange(g.Average(f => (double)f.Bytes) / 18.5e6, 0.97, 1.03);
    }

    [Fact]
    public void StreamingAMillionFilesAllocatesOnlyTheStrings()
    {
        var g = Generator(Experiment("CTA", 1_000_000));
        long count = 0, nameChars = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var file in g)
        {
            count++;
            nameChars += file.Name.Length;
        }
        var perFile = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
        Assert.Equal(1_000_000, count);
        // A string costs 22 bytes + 2 per char (rounded to 8); a materialised list of 1 M files alone would add ≥ 48 B per file.
        var nameBytes = 24 + 2.0 * nameChars / count;
        Assert.InRange(perFile, nameBytes - 8, nameBytes + 16);
    }

    [Fact]
    public void GeneratorsForAScenarioShareOneContent()
    {
        var gens = SyntheticFileGenerator.ForExperiments(7, [Experiment("CTA", 10), Experiment("LSST", 10)]);
        Assert.Same(gens[0].Content, gens[1].Content);
        Assert.Equal(["cta", "lsst"], gens.Select(g => g.Scope));
    }

    [Fact]
    public void VocabularyIsDeterministicAndStyleFollowsTheName()
    {
        Assert.Equal(NameStyle.Virgo, FileNameVocabulary.StyleFor("EGO-VIRGO", "virgo"));
        Assert.Equal(NameStyle.Generic, FileNameVocabulary.StyleFor("Einstein", "et"));
        var a = FileNameVocabulary.Create(1, "CTA", "cta");
        var b = FileNameVocabulary.Create(1, "CTA", "cta");
        Assert.Equal(a.Instruments, b.Instruments);
        Assert.Equal(a.Tiers, b.Tiers);
        Assert.Equal(a.RunBase, b.RunBase);
        Assert.Matches(new Regex(@"^cta\.fdr\.(R0|DL\d)\.ds000123$"), a.DatasetName(123));
    }
}
