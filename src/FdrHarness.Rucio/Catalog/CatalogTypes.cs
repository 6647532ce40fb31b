using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Catalog;

/// <summary>What became of one item of an operation.</summary>
public enum Outcome
{
    /// <summary>This call made it so (Rucio answered 201/200 for it).</summary>
    Done,
    /// <summary>It was so already, and Rucio showed it: a listing, a GET, or the conflict of a call about this item alone.</summary>
    AlreadyDone,
    /// <summary>Not done: see the reason. <see cref="ItemResult{T}.Transient"/> says whether trying again later may help.</summary>
    Failed,
}

/// <summary>One item and what became of it (a value: a million of them cost no million objects).</summary>
public readonly record struct ItemResult<T>(T Item, Outcome Outcome, string? Reason = null, bool Transient = false)
{
    public bool Ok => Outcome != Outcome.Failed;
}

/// <summary>One attachment of a child to a dataset or container.</summary>
public readonly record struct Attached(DidRef Parent, DidRef Child);

/// <summary>A rule ensured on one DID: the ids Rucio holds for it (found again after a 409 DuplicateRule).</summary>
public sealed record RuleResult(RuleRequest Rule, Outcome Outcome, IReadOnlyList<string> RuleIds, string? Reason = null, bool Transient = false)
{
    public bool Ok => Outcome != Outcome.Failed;
    public DidRef Did => Rule.Dids[0];
}

/// <summary>How replicas are registered: without pfn (Rucio derives it, the default), or with exactly the PFN Rucio derives.</summary>
public enum PfnMode { Derived, Explicit }

/// <summary>An RSE as registration and upload see it: the protocol files are written with, and Rucio's lfn2pfn.</summary>
public sealed record RseStorage(RseInfo Rse, RseProtocol? WriteProtocol)
{
    /// <summary>The PFN Rucio derives for a file on this RSE (null when the RSE has no protocol to write with).</summary>
    public string? Pfn(string scope, string name) =>
        WriteProtocol?.PfnOf(Lfn2Pfn.Path(Rse.Lfn2PfnAlgorithm, scope, name));

    /// <summary>The HTTP URL the content of a file goes to in upload mode (davs/dav as https/http).</summary>
    public Uri? UploadUrl(string scope, string name) => Pfn(scope, name) is { } pfn ? RseProtocol.TransportUrl(pfn) : null;
}

/// <summary>An RSE's availability as it was before a change and as the change left it; restoring puts <see cref="Before"/> back.</summary>
public sealed record RseAvailabilityChange(string Rse, RseAvailability Before, RseAvailability After);

/// <summary>Limits and pacing of the catalog operations.</summary>
public sealed record CatalogOptions
{
    /// <summary>Files per POST /replicas: under the schema's 1,000 and sqlite's 997 (transcript 183).</summary>
    public int ReplicaChunk { get; init; } = 500;
    /// <summary>Children per POST /dids/attachments (each attachment at most 1,000).</summary>
    public int AttachChunk { get; init; } = 500;
    /// <summary>Datasets and containers per POST /dids (no cap, but one existing name refuses the whole call).</summary>
    public int DidChunk { get; init; } = 500;
    /// <summary>DIDs per POST /replicas/list (at most 1,000).</summary>
    public int ListChunk { get; init; } = 1000;
    /// <summary>Calls in flight at once within one operation.</summary>
    public int Concurrency { get; init; } = 8;
    /// <summary>Rounds over the items that failed transiently (5xx, 429, resets) after the client's own retries.</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>List what exists before creating datasets and containers (one search per scope and name prefix).</summary>
    public bool ListBeforeCreate { get; init; } = true;
}
