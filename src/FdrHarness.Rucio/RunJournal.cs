using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FdrHarness.Core.Planning;
using FdrHarness.Rucio.Catalog;

namespace FdrHarness.Rucio;

/// <summary>The first line of a journal: which plan it records (a resume must plan the very same operations).</summary>
public sealed record JournalHeader
{
    public int Journal { get; init; } = 1;
    public string Scenario { get; init; } = "";
    public long Seed { get; init; }
    public DateTime StartedUtc { get; init; }
    public long Operations { get; init; }
    public long Files { get; init; }
    public long Rules { get; init; }

    public static JournalHeader Of(RunPlan plan, DateTime startedUtc) => new()
    {
        Scenario = plan.Scenario.Run.Name, Seed = plan.Scenario.Run.Seed, StartedUtc = startedUtc,
        // Only counted: the files' names and checksums are not made.
        Operations = plan.Operations(FileDetail.Lean).LongCount(), Files = plan.Counts.Files, Rules = plan.RuleCount,
    };

    /// <summary>Why <paramref name="plan"/> is not the plan this journal records, or null when it is.</summary>
    public string? Mismatch(RunPlan plan, DateTime startedUtc)
    {
        var now = Of(plan, startedUtc);
        return now == this ? null
            : $"the journal records {Operations:N0} operations, {Files:N0} files and {Rules:N0} rules of {Scenario} seed {Seed} started {StartedUtc:u}; " +
              $"the run folder's scenario plans {now.Operations:N0}, {now.Files:N0} and {now.Rules:N0} of {now.Scenario} seed {now.Seed} started {now.StartedUtc:u}";
    }
}

/// <summary>
/// One unit of planned work and what became of it. <see cref="Work"/> names it in the plan: the operation's position in
/// <see cref="RunPlan.Operations"/>, then the part (a batch of its files). Done entries are skipped by a resume.
/// </summary>
public sealed record JournalEntry
{
    public string Work { get; init; } = "";
    public string Kind { get; init; } = "";
    /// <summary>done or failed (given up after every retry: tried again by a resume).</summary>
    public string Outcome { get; init; } = "";
    /// <summary>Files of an injection batch that Rucio took (replica and attachment).</summary>
    public long? Registered { get; init; }
    /// <summary>The plan's rule number and the id Rucio gave it (null when there was nothing to create).</summary>
    public int? Rule { get; init; }
    public string? RuleId { get; init; }
    /// <summary>An rse_outage's change: put back by a resume when the run was killed during the outage.</summary>
    public RseAvailabilityChange? Outage { get; init; }
    public string? Reason { get; init; }
    /// <summary>On the line a resume appends before its own entries: when it resumed.</summary>
    public DateTime? ResumedUtc { get; init; }

    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// journal.jsonl in the run folder: every planned unit of work of a live run and its outcome, one JSON line each,
/// appended and flushed to disk as it ends, so a run killed at any moment (kill -9, a node lost) leaves a journal that
/// `fdr run --resume` continues from. A last line cut by the kill is ignored; a damaged line elsewhere is an error.
/// </summary>
public sealed class RunJournal : IDisposable
{
    public const string FileName = "journal.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly FileStream _stream;
    private readonly Lock _gate = new();

    private RunJournal(FileStream stream) => _stream = stream;

    /// <summary>Starts the journal of a new run with its header.</summary>
    public static RunJournal Create(string runPath, JournalHeader header)
    {
        var journal = new RunJournal(new FileStream(Path.Combine(runPath, FileName), FileMode.CreateNew, FileAccess.Write, FileShare.Read));
        journal.Write(JsonSerializer.Serialize(header, Json));
        return journal;
    }

    /// <summary>Continues the journal of a resumed run (after a line saying when).</summary>
    public static RunJournal Append(string runPath, DateTime resumedUtc)
    {
        var path = Path.Combine(runPath, FileName);
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        // A line cut by the kill: the next one starts on a line of its own.
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            var last = stream.ReadByte();
            if (last != '\n') stream.WriteByte((byte)'\n');
        }
        stream.Seek(0, SeekOrigin.End);
        var journal = new RunJournal(stream);
        journal.Add(new JournalEntry { ResumedUtc = resumedUtc });
        return journal;
    }

    public void Add(JournalEntry entry) => Write(JsonSerializer.Serialize(entry, Json));

    private void Write(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_gate)
        {
            _stream.Write(bytes);
            _stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>A journal as read back: its header and the last outcome of each unit of work.</summary>
    public sealed record Contents(JournalHeader Header, IReadOnlyDictionary<string, JournalEntry> Work)
    {
        public IEnumerable<JournalEntry> Done => Work.Values.Where(e => e.Outcome == JournalEntry.Done);
    }

    /// <exception cref="InvalidDataException">No journal, no header, or a damaged line before the last.</exception>
    public static Contents Read(string runPath)
    {
        var path = Path.Combine(runPath, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: no journal: only a live run started by this version of fdr can be resumed");
        var lines = File.ReadAllLines(path);
        JournalHeader? header = null;
        var work = new Dictionary<string, JournalEntry>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                if (header is null)
                {
                    header = JsonSerializer.Deserialize<JournalHeader>(lines[i], Json);
                    continue;
                }
                var entry = JsonSerializer.Deserialize<JournalEntry>(lines[i], Json);
                if (entry is { Work.Length: > 0 }) work[entry.Work] = entry;
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
                // The line the kill cut short: that unit of work is simply not done.
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: damaged line ({e.Message.ReplaceLineEndings(" ")})");
            }
        }
        return new Contents(header ?? throw new InvalidDataException($"{path}: empty journal"), work);
    }

    public void Dispose() => _stream.Dispose();
}
