using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FdrHarness.Kubernetes.Safety;

/// <summary>What happened to one chaos action, one line of audit.jsonl.</summary>
public sealed record AuditEntry
{
    public DateTime Time { get; init; }
    /// <summary>planned | done | skipped | failed | refused | restored</summary>
    public string Action { get; init; } = "";
    /// <summary>pod_kill, limit_change, ...</summary>
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string? Namespace { get; init; }
    /// <summary>Pods (namespace/name) or a Deployment (namespace/name, container).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];
    /// <summary>Why it was skipped or failed, what was set, what was restored.</summary>
    public string? Detail { get; init; }
}

/// <summary>
/// audit.jsonl in the run directory: every chaos action, one JSON object a line, appended and flushed as it
/// happens so that a crash leaves every line written so far. Safe to call from several threads.
/// </summary>
public sealed class AuditLog : IDisposable
{
    public const string FileName = "audit.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly FileStream _stream;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();

    public string Path { get; }

    public AuditLog(string runDirectory, TimeProvider? clock = null)
    {
        Path = System.IO.Path.Combine(runDirectory, FileName);
        _clock = clock ?? TimeProvider.System;
        _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>Appends one entry; its time is now unless set.</summary>
    public void Write(AuditEntry entry)
    {
        if (entry.Time == default) entry = entry with { Time = _clock.GetUtcNow().UtcDateTime };
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, Json) + "\n");
        lock (_gate)
        {
            _stream.Write(line);
            _stream.Flush(flushToDisk: true);
        }
    }

    public void Write(string action, string kind, string name, string? @namespace, IReadOnlyList<string> targets, string? detail = null) =>
        Write(new AuditEntry { Action = action, Kind = kind, Name = name, Namespace = @namespace, Targets = targets, Detail = detail });

    /// <summary>Reads every entry of a run directory's audit log (for tests and `fdr restore`).</summary>
    public static IReadOnlyList<AuditEntry> Read(string runDirectory)
    {
        var path = System.IO.Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var entries = new List<AuditEntry>();
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) entries.Add(JsonSerializer.Deserialize<AuditEntry>(line, Json)!);
        return entries;
    }

    public void Dispose()
    {
        lock (_gate) _stream.Dispose();
    }
}
