namespace FdrHarness.Rucio.Double;

public enum DidKind { File, Dataset, Container }

/// <summary>One storage endpoint of an RSE, with Rucio's per-domain priorities (0 = not for that operation).</summary>
public sealed record DoubleProtocol(string Scheme, string Hostname, int Port, string Prefix, string Impl = "rucio.rse.protocols.gfal.Default")
{
    public int LanRead { get; init; } = 1;
    public int LanWrite { get; init; } = 1;
    public int LanDelete { get; init; } = 1;
    public int WanRead { get; init; } = 1;
    public int WanWrite { get; init; } = 1;
    public int WanDelete { get; init; } = 1;
    public int ThirdPartyCopyRead { get; init; } = 1;
    public int ThirdPartyCopyWrite { get; init; } = 1;

    /// <summary>scheme://host:port + prefix (with one leading and one trailing slash) + path, as RSEProtocol.lfns2pfns builds it.</summary>
    public string Pfn(string path)
    {
        var prefix = Prefix.StartsWith('/') ? Prefix : "/" + Prefix;
        if (!prefix.EndsWith('/')) prefix += "/";
        return $"{Scheme}://{Hostname}:{Port}{prefix}{path}";
    }
}

internal sealed class Rse(string name, string id, DateTimeOffset created)
{
    public string Name { get; } = name;
    public string Id { get; } = id;
    public bool Deterministic { get; set; } = true;
    public bool Volatile { get; set; }
    public bool StagingArea { get; set; }
    public string RseType { get; set; } = "DISK";
    public bool Read { get; set; } = true;
    public bool Write { get; set; } = true;
    public bool Delete { get; set; } = true;
    public List<DoubleProtocol> Protocols { get; } = [];
    /// <summary>Attributes in the order set; the RSE's own name is one, set to true (GET /rses/{rse}/attr/).</summary>
    public List<KeyValuePair<string, object>> Attributes { get; } = [new(name, true)];
    public DateTimeOffset CreatedAt { get; } = created;
    public DateTimeOffset UpdatedAt { get; set; } = created;

    public string Lfn2Pfn => Attribute("lfn2pfn_algorithm") as string ?? "hash";
    public int Availability => (Read ? 4 : 0) + (Write ? 2 : 0) + (Delete ? 1 : 0);

    public object? Attribute(string key) => Attributes.FirstOrDefault(a => a.Key == key).Value;

    public void SetAttribute(string key, object value)
    {
        var i = Attributes.FindIndex(a => a.Key == key);
        if (i >= 0) Attributes[i] = new(key, value); else Attributes.Add(new(key, value));
    }
}

internal sealed class Did(string scope, string name, DidKind kind, string account, DateTimeOffset created)
{
    public string Scope { get; } = scope;
    public string Name { get; } = name;
    public DidKind Kind { get; } = kind;
    public string Account { get; } = account;
    public bool Open { get; set; } = true;
    public long? Bytes { get; set; }
    public string? Adler32 { get; set; }
    public string? Md5 { get; set; }
    public DateTimeOffset? ExpiredAt { get; set; }
    public DateTimeOffset CreatedAt { get; } = created;
    public DateTimeOffset UpdatedAt { get; set; } = created;
    /// <summary>Children of a dataset or container, keyed "scope:name", sorted as the database's primary key orders them.</summary>
    public SortedSet<string> Children { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string?> Meta { get; } = new(StringComparer.Ordinal);

    public string Key => Scope + ":" + Name;
    public string TypeWord => Kind switch { DidKind.File => "FILE", DidKind.Dataset => "DATASET", _ => "CONTAINER" };
}

internal sealed class Replica(string scope, string name, Rse rse, string state)
{
    public string Scope { get; } = scope;
    public string Name { get; } = name;
    public Rse Rse { get; } = rse;
    public string State { get; set; } = state;
}

internal sealed class ReplicaLock(string scope, string name, Rse rse, string state, long bytes)
{
    public string Scope { get; } = scope;
    public string Name { get; } = name;
    public Rse Rse { get; } = rse;
    public string State { get; set; } = state;
    public long Bytes { get; } = bytes;
}

internal sealed class Rule(string id, string account, Did did, string rseExpression, int copies, DateTimeOffset created)
{
    public string Id { get; } = id;
    public string Account { get; } = account;
    public Did Did { get; } = did;
    public string RseExpression { get; } = rseExpression;
    public int Copies { get; } = copies;
    public string State { get; set; } = "INJECT";
    public string Grouping { get; set; } = "DATASET";
    public string Notification { get; set; } = "NO";
    public string Activity { get; set; } = "User Subscriptions";
    public string? SourceReplicaExpression { get; set; }
    public bool Locked { get; set; }
    public bool PurgeReplicas { get; set; }
    public bool IgnoreAvailability { get; set; }
    public bool IgnoreAccountLimit { get; set; }
    public double? Weight { get; set; }
    public int Priority { get; set; } = 3;
    public string? Comments { get; set; }
    public string? Meta { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset CreatedAt { get; } = created;
    public DateTimeOffset UpdatedAt { get; set; } = created;
    public List<ReplicaLock> Locks { get; } = [];
    public int LocksOk => Locks.Count(l => l.State == "OK");
    public int LocksReplicating => Locks.Count(l => l.State == "REPLICATING");
    public int LocksStuck => Locks.Count(l => l.State == "STUCK");
}

internal sealed class TransferRequest(string id, string scope, string name, Rse destination, Rule rule, long bytes, string? adler32, DateTimeOffset created)
{
    public string Id { get; } = id;
    public string Scope { get; } = scope;
    public string Name { get; } = name;
    public Rse Destination { get; } = destination;
    public Rule Rule { get; } = rule;
    public long Bytes { get; } = bytes;
    public string? Adler32 { get; } = adler32;
    public string State { get; set; } = "QUEUED";
    public Rse? Source { get; set; }
    public DateTimeOffset CreatedAt { get; } = created;
}

/// <summary>A message as Hermes delivers it: lower-case event type, payload, created_at (UTC, no zone).</summary>
public sealed record HermesMessage(string EventType, System.Text.Json.Nodes.JsonObject Payload, string CreatedAt);

/// <summary>What the catalog holds, for assertions: every DID, replica, attachment and rule.</summary>
public sealed record CatalogSnapshot(
    IReadOnlyDictionary<string, DidKind> Dids,
    IReadOnlySet<(string Did, string Rse)> Replicas,
    IReadOnlySet<(string Parent, string Child)> Contents,
    IReadOnlyList<RuleView> Rules,
    IReadOnlyDictionary<string, DateTimeOffset?> ExpiredAt);

public sealed record RuleView(string Id, string Did, string Account, string RseExpression, int Copies, string State, DateTimeOffset? ExpiresAt, int LocksOk, int LocksReplicating);
