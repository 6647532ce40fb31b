using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

public sealed record ExperimentSpec
{
    [FromKey] public string Name { get; init; } = "";

    [Doc("Rucio scope; defaults to the experiment name in lower case.")]
    public string? Scope { get; init; }

    [RequiredKey, Doc("Files injected at scale 1.")]
    public long Files { get; init; }

    [RequiredKey, Doc("File sizes: a size (\"100 MB\"), or fixed / lognormal / histogram.")]
    public FileSizeDistribution FileSize { get; init; } = null!;

    [Doc("Files attached to each dataset.")]
    public int FilesPerDataset { get; init; } = 1000;

    [Doc("Datasets attached to each container; 0 for no containers.")]
    public int DatasetsPerContainer { get; init; }

    [Doc("RSE expression where files are first written.")]
    public RseExpression? WriteTo { get; init; }

    [Doc("QoS class where files are first written (same as write_to: QOS=<class>).")]
    public string? Qos { get; init; }

    [Doc("Rucio account that owns the files and rules.")]
    public string? Account { get; init; }

    [Doc("DID metadata set on datasets, e.g. datatype: RAW.")]
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    public string EffectiveScope => Scope ?? Name.ToLowerInvariant();
}

[Union(typeof(FixedSize), typeof(LognormalSize), typeof(HistogramSize))]
public abstract record FileSizeDistribution;

[UnionCase("fixed"), Doc("Every file has this size.")]
public sealed record FixedSize : FileSizeDistribution
{
    [Positional, RequiredKey] public ByteSize Size { get; init; }
}

[UnionCase("lognormal"), Doc("Log-normal sizes with the given arithmetic mean; sigma is the spread of ln(size).")]
public sealed record LognormalSize : FileSizeDistribution
{
    [RequiredKey, Doc("Arithmetic mean size.")]
    public ByteSize Mean { get; init; }

    [Doc("Standard deviation of ln(size); 0 gives every file the mean.")]
    public double Sigma { get; init; } = 1.0;

    [Doc("Smallest size drawn.")]
    public ByteSize Min { get; init; } = new(1);

    [Doc("Largest size drawn.")]
    public ByteSize? Max { get; init; }
}

[UnionCase("histogram"), Doc("An empirical histogram: each bin's share of files, sizes uniform inside a bin.")]
public sealed record HistogramSize : FileSizeDistribution
{
    [Positional, RequiredKey] public IReadOnlyList<HistogramBin> Bins { get; init; } = [];
}

public sealed record HistogramBin
{
    [Doc("Lower edge; defaults to the previous bin's upper edge (or 1 byte).")]
    public ByteSize? From { get; init; }

    [RequiredKey, Doc("Upper edge.")]
    public ByteSize UpTo { get; init; }

    [RequiredKey, Doc("Relative weight of the bin.")]
    public double Weight { get; init; }
}
