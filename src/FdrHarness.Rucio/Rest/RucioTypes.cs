using System.Text.Json;

namespace FdrHarness.Rucio.Rest;

public enum DidType { Dataset, Container }

/// <summary>A dataset or container for POST /dids (files come from POST /replicas).</summary>
public readonly record struct NewDid(string Scope, string Name, DidType Type, long? LifetimeSeconds = null);

/// <summary>A file replica for POST /replicas: creates the file DID and its replica at once.</summary>
public readonly record struct NewReplica(string Scope, string Name, long Bytes, string Adler32, string? Md5 = null, string? Pfn = null);

public readonly record struct DidRef(string Scope, string Name);

/// <summary>One entry of POST /dids/attachments: children attached to a dataset or container.</summary>
public sealed record Attachment(string Scope, string Name, IReadOnlyList<DidRef> Dids, string? Rse = null);

/// <summary>POST /rules/ with every option Rucio takes; null options are not sent.</summary>
public sealed record RuleRequest
{
    public required IReadOnlyList<DidRef> Dids { get; init; }
    public int Copies { get; init; } = 1;
    public required string RseExpression { get; init; }
    public string Grouping { get; init; } = "DATASET";
    public long? LifetimeSeconds { get; init; }
    public double? Weight { get; init; }
    public bool? Locked { get; init; }
    public string? SourceReplicaExpression { get; init; }
    public string? Activity { get; init; }
    public string? Notify { get; init; }
    public bool? PurgeReplicas { get; init; }
    public bool? IgnoreAvailability { get; init; }
    public string? Comment { get; init; }
    public bool? Asynchronous { get; init; }
    public long? DelayInjection { get; init; }
    public int? Priority { get; init; }
    public string? Meta { get; init; }
}

/// <summary>GET /rules/{id}: the state as a word (OK, REPLICATING, STUCK, SUSPENDED, WAITING_APPROVAL, INJECT) and lock counts.</summary>
public sealed record RuleState(string Id, string State, long LocksOk, long LocksReplicating, long LocksStuck, string? ExpiresAt, JsonElement Raw);

/// <summary>One storage endpoint of an RSE (GET /rses/{rse}/protocols).</summary>
public sealed record RseProtocol(string Scheme, string Hostname, int Port, string Prefix, string? Impl)
{
    /// <summary>The URL of a path under the protocol's prefix, e.g. https://host:443/prefix/scope/name.</summary>
    public Uri UrlOf(string relativePath)
    {
        var prefix = Prefix.StartsWith('/') ? Prefix : "/" + Prefix;
        if (!prefix.EndsWith('/')) prefix += "/";
        var scheme = Scheme == "davs" ? "https" : Scheme == "dav" ? "http" : Scheme;
        return new Uri($"{scheme}://{Hostname}:{Port}{prefix}{relativePath.TrimStart('/')}");
    }
}
