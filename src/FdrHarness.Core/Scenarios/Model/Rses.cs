using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

public enum StorageTechnology { Dcache, Dpm, Eos, Storm, Xrootd, Webdav, Echo, Posix, Other }

public sealed record RseSpec : IRseAttributes
{
    [FromKey] public string Name { get; init; } = "";

    [Doc("Storage technology: dcache, dpm, eos, storm, xrootd, webdav, echo, posix, other.")]
    public StorageTechnology Storage { get; init; } = StorageTechnology.Other;

    [Doc("Endpoints as URLs (\"davs://host:2880/prefix\") or bare schemes (\"root\").")]
    public IReadOnlyList<StorageProtocol> Protocols { get; init; } = [];

    [RequiredKey, Doc("Space the rehearsal may use on this RSE, e.g. 100 TB.")]
    public ByteSize Quota { get; init; }

    [Doc("Free space the reaper keeps: deletion starts when less than this is free.")]
    public ByteSize Watermark { get; init; }

    [Doc("RSE attributes, e.g. QOS: FAST; RSE expressions select on them.")]
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    [Doc("Which operations the RSE allows at the start.")]
    public Availability Availability { get; init; } = new();

    IReadOnlyDictionary<string, string> IRseAttributes.Attributes => Attributes;
}

public sealed record Availability
{
    public bool Read { get; init; } = true;
    public bool Write { get; init; } = true;
    public bool Delete { get; init; } = true;
}

public sealed record LinkSettings
{
    [Doc("Every link not overridden.")]
    public LinkProperties Defaults { get; init; } = new() { Bandwidth = new Bandwidth(1e9), MaxActive = 100, FailureProbability = 0.01 };

    [Doc("Per (source, destination) changes; later entries win.")]
    public IReadOnlyList<LinkOverride> Overrides { get; init; } = [];
}

public sealed record LinkProperties
{
    [Doc("Throughput shared by the link's active transfers.")]
    public Bandwidth? Bandwidth { get; init; }

    [Doc("FTS's limit of concurrent transfers on the link.")]
    public int? MaxActive { get; init; }

    [Doc("Probability that one transfer attempt fails, 0 to 1.")]
    public double? FailureProbability { get; init; }
}

public sealed record LinkOverride
{
    [RequiredKey, Doc("Source RSEs (an RSE expression).")]
    public RseExpression Source { get; init; } = null!;

    [RequiredKey, Doc("Destination RSEs (an RSE expression).")]
    public RseExpression Destination { get; init; } = null!;

    public Bandwidth? Bandwidth { get; init; }
    public int? MaxActive { get; init; }
    public double? FailureProbability { get; init; }
}
