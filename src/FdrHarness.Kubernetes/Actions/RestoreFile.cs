using System.Text.Json;
using System.Text.Json.Serialization;
using FdrHarness.Core.Observations;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>One Deployment container whose resources the harness changed, with what they were before.</summary>
public sealed record RestoreEntry
{
    /// <summary>The chaos action's name.</summary>
    public string Action { get; init; } = "";
    public string Daemon { get; init; } = "";
    public string Namespace { get; init; } = "";
    public string Deployment { get; init; } = "";
    public string Container { get; init; } = "";
    /// <summary>The container's requests before the patch (resource name → quantity); null when it had none.</summary>
    public Dictionary<string, string>? OriginalRequests { get; init; }
    public Dictionary<string, string>? OriginalLimits { get; init; }
    /// <summary>What the patch set; restore puts back the original of exactly these keys (removing those that had none).</summary>
    public Dictionary<string, string> AppliedRequests { get; init; } = [];
    public Dictionary<string, string> AppliedLimits { get; init; } = [];
    /// <summary>Set once the patch was sent; an entry without it was recorded but the patch may not have happened.</summary>
    public DateTime? PatchedAt { get; init; }
    /// <summary>Set once the original values are back.</summary>
    public DateTime? RestoredAt { get; init; }
}

/// <summary>
/// restore.json in the run directory: the original resources of every container the harness patched, written
/// before each patch (atomically, whole file), so that `fdr restore RUN_DIR` can put them back after a crash.
/// </summary>
public sealed class RestoreFile
{
    public const string FileName = "restore.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private readonly Lock _gate = new();
    private readonly List<RestoreEntry> _entries;

    public string Path { get; }

    private RestoreFile(string path, List<RestoreEntry> entries)
    {
        Path = path;
        _entries = entries;
    }

    /// <summary>The run directory's restore.json, empty when it does not exist yet.</summary>
    public static RestoreFile Open(string runDirectory)
    {
        var path = System.IO.Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return new RestoreFile(path, []);
        var doc = JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Json)
                  ?? throw new InvalidDataException($"{path} is empty");
        return new RestoreFile(path, [.. doc.Entries]);
    }

    public IReadOnlyList<RestoreEntry> Entries
    {
        get { lock (_gate) return [.. _entries]; }
    }

    /// <summary>Adds an entry and writes the file; returns its index for <see cref="Update"/>.</summary>
    public int Add(RestoreEntry entry)
    {
        lock (_gate)
        {
            _entries.Add(entry);
            Save();
            return _entries.Count - 1;
        }
    }

    public void Update(int index, Func<RestoreEntry, RestoreEntry> change)
    {
        lock (_gate)
        {
            _entries[index] = change(_entries[index]);
            Save();
        }
    }

    private void Save() => RunDirectory.WriteAtomically(Path, JsonSerializer.Serialize(new Document { Entries = _entries }, Json) + "\n");

    private sealed record Document
    {
        public int Version { get; init; } = 1;
        public List<RestoreEntry> Entries { get; init; } = [];
    }
}
