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

/// <summary>GET /rules/{id} (and each line of GET /dids/{scope}/{name}/rules): the state as a word (OK, REPLICATING, STUCK,
/// SUSPENDED, WAITING_APPROVAL, INJECT), lock counts, and what makes a rule unique to Rucio (DID, account, expression, copies).</summary>
public sealed record RuleState(string Id, string State, long LocksOk, long LocksReplicating, long LocksStuck, string? ExpiresAt, JsonElement Raw)
{
    public string Account => Text("account");
    public string Scope => Text("scope");
    public string Name => Text("name");
    public string RseExpression => Text("rse_expression");
    public int Copies => Raw.ValueKind == JsonValueKind.Object && Raw.TryGetProperty("copies", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 0;

    private string Text(string key) =>
        Raw.ValueKind == JsonValueKind.Object && Raw.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}

/// <summary>GET /dids/{scope}/{name}: a file, dataset or container. An open collection reports neither length nor bytes.</summary>
public sealed record DidInfo(string Scope, string Name, string Type, bool? Open, string? ExpiredAt, long? Bytes, long? Length);

/// <summary>One line of GET /dids/{scope}/{name}/dids: a direct child.</summary>
public sealed record ContentEntry(string Scope, string Name, string Type, long? Bytes, string? Adler32);

/// <summary>One line of POST /replicas/list: a file, its replicas' states by RSE and their PFNs by RSE.</summary>
public sealed record ReplicaEntry(string Scope, string Name, long? Bytes, string? Adler32,
    IReadOnlyDictionary<string, string> States, IReadOnlyDictionary<string, IReadOnlyList<string>> Pfns);

/// <summary>An RSE's availability for reading, writing and deleting (GET/PUT /rses/{rse}).</summary>
public sealed record RseAvailability(bool Read, bool Write, bool Delete);

/// <summary>GET /rses/{rse}: what registration and upload depend on.</summary>
public sealed record RseInfo(string Name, bool Deterministic, string Lfn2PfnAlgorithm, RseAvailability Availability, IReadOnlyList<RseProtocol> Protocols);

/// <summary>One storage endpoint of an RSE (GET /rses/{rse}/protocols), with its wan priorities (0: not for that operation).</summary>
public sealed record RseProtocol(string Scheme, string Hostname, int Port, string Prefix, string? Impl, int WanRead = 1, int WanWrite = 1)
{
    /// <summary>
    /// The PFN Rucio derives for a path under this protocol (RSEProtocol.lfns2pfns): scheme://host:port + prefix + path,
    /// scheme and port kept as registered, 443 included; the prefix with one leading and one trailing slash.
    /// </summary>
    public string PfnOf(string path)
    {
        var prefix = Prefix.StartsWith('/') ? Prefix : "/" + Prefix;
        if (!prefix.EndsWith('/')) prefix += "/";
        return $"{Scheme}://{Hostname}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}{prefix}{path.TrimStart('/')}";
    }

    /// <summary>The HTTP URL a PFN of this protocol is written to: WebDAV's davs/dav are https/http on the wire.</summary>
    public static Uri TransportUrl(string pfn)
    {
        var colon = pfn.IndexOf("://", StringComparison.Ordinal);
        var scheme = pfn[..colon] switch { "davs" => "https", "dav" => "http", var other => other };
        return new Uri(scheme + pfn[colon..]);
    }

    /// <summary>Whether files can be PUT over HTTP to this protocol (https, http, davs, dav) with a wan write priority.</summary>
    public bool Uploadable => Scheme is "https" or "http" or "davs" or "dav" && WanWrite > 0;

    /// <summary>The URL of a path under the protocol's prefix, scheme mapped for HTTP (the live driver's upload and PFN; see PfnOf).</summary>
    public Uri UrlOf(string relativePath)
    {
        var prefix = Prefix.StartsWith('/') ? Prefix : "/" + Prefix;
        if (!prefix.EndsWith('/')) prefix += "/";
        var scheme = Scheme == "davs" ? "https" : Scheme == "dav" ? "http" : Scheme;
        return new Uri($"{scheme}://{Hostname}:{Port}{prefix}{relativePath.TrimStart('/')}");
    }
}

/// <summary>
/// Rucio's deterministic lfn2pfn algorithms (rse/protocols/protocol.py RSEDeterministicTranslation): "hash" (the default)
/// is scope/md5[0:2]/md5[2:4]/name with md5 over "scope:name", "identity" is scope/name; for scopes starting with "user"
/// or "group" the dots of the scope become slashes.
/// </summary>
public static class Lfn2Pfn
{
    public static bool Supports(string algorithm) => algorithm is "hash" or "identity";

    public static string Path(string algorithm, string scope, string name)
    {
        var dir = scope.StartsWith("user", StringComparison.Ordinal) || scope.StartsWith("group", StringComparison.Ordinal) ? scope.Replace('.', '/') : scope;
        switch (algorithm)
        {
            case "identity":
                return $"{dir}/{name}";
            case "hash":
                var md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes($"{scope}:{name}")));
                return $"{dir}/{md5[..2]}/{md5[2..4]}/{name}";
            default:
                throw new NotSupportedException($"lfn2pfn algorithm '{algorithm}' is not one the harness can derive (hash, identity)");
        }
    }
}
