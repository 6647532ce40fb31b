using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Observations;

/// <summary>Which shard of how many a run was (run.json's "shard").</summary>
public sealed record RunShard(int Index, int Count);

/// <summary>What run.json says about a run. Holds no secrets: only names, numbers and times.</summary>
public sealed record RunInfo
{
    public string ToolVersion { get; init; } = RunDirectory.ToolVersion;
    /// <summary>embedded or rucio.</summary>
    public string Target { get; init; } = "embedded";
    /// <summary>The Rucio server for a real target, without any user info.</summary>
    public string? TargetUrl { get; init; }
    public string Scenario { get; init; } = "";
    public long Seed { get; init; }
    public double Scale { get; init; } = 1;
    public DateTime StartedUtc { get; init; }
    /// <summary>Null while the run is going on.</summary>
    public DateTime? EndedUtc { get; init; }
    public string Host { get; init; } = "";
    /// <summary>Process exit code (see <see cref="ExitCodes"/>); null while the run is going on.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>Summary counters (events, files, transfers…), when the caller has them.</summary>
    public IReadOnlyDictionary<string, double>? Summary { get; init; }
    /// <summary>--shard i/N: this run carried out part <c>Index</c> of <c>Count</c> of the plan; null for a whole run.</summary>
    public RunShard? Shard { get; init; }
    /// <summary>A run made by `fdr merge`: the shard run folders it joined, by shard index.</summary>
    public IReadOnlyList<string>? MergedFrom { get; init; }
    /// <summary>--overlay files merged over the scenario, in order, with their sha256; absent when none was.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Scenarios.AppliedOverlay>? Overlays { get; init; }

    /// <summary>A run of <paramref name="scenario"/> starting now, as seen by <paramref name="clock"/>.</summary>
    public static RunInfo Start(Scenario scenario, TimeProvider? clock = null) => new()
    {
        Target = scenario.Target.Kind.ToString().ToLowerInvariant(),
        TargetUrl = scenario.Target.Rucio?.Url is { } url ? ScenarioWriter.WithoutUserInfo(url) : null,
        Scenario = scenario.Run.Name,
        Seed = scenario.Run.Seed,
        Scale = scenario.Run.Scale,
        StartedUtc = Second((clock ?? TimeProvider.System).GetUtcNow().UtcDateTime),
        Host = Environment.MachineName,
    };

    /// <summary>The same run, ended now with <paramref name="exitStatus"/>.</summary>
    public RunInfo End(int exitStatus, IReadOnlyDictionary<string, double>? summary = null, TimeProvider? clock = null) => this with
    {
        EndedUtc = Second((clock ?? TimeProvider.System).GetUtcNow().UtcDateTime),
        ExitStatus = exitStatus,
        Summary = summary ?? Summary,
    };

    // run.json is for people and tools; sub-second precision only adds noise.
    private static DateTime Second(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
}

/// <summary>
/// run.json's shape, generated at build time: written at every run's start, where System.Text.Json's reflection (its
/// converters and accessors made and JIT-compiled on first use) cost half as much again (first write 89-108 ms of CPU, 58-68 now).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RunInfo))]
internal sealed partial class RunInfoJsonContext : JsonSerializerContext;

/// <summary>
/// One run's folder: reports/&lt;scenario-name&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;-&lt;seed&gt;/ (or an explicit --out folder)
/// holding scenario.yaml, run.json and the observation files.
/// </summary>
/// <remarks>
/// Nothing half-written: every file is first written as NAME.tmp in this folder and renamed to NAME only once it is
/// complete and flushed (rename within a folder is atomic), so a file with its final name is always whole. scenario.yaml
/// is written at the start; run.json at the start (no exit status: still running) and replaced at the end with the
/// exit status and end time; the Parquet files are renamed when <see cref="ParquetObservationSink"/> completes.
/// After a failure the folder keeps the complete files plus run.json with the exit status; a NAME.tmp left behind
/// means the process died while writing NAME.
/// </remarks>
public sealed class RunDirectory
{
    /// <summary>Where runs go unless --out says otherwise, relative to the working directory.</summary>
    public const string DefaultReportsRoot = "reports";
    public const string ScenarioFile = "scenario.yaml";
    public const string RunFile = "run.json";

    public string Path { get; }

    private RunDirectory(string path) => Path = path;

    /// <summary>The version of the tool that wrote a run (informational version without the commit hash).</summary>
    public static string ToolVersion { get; } =
        typeof(RunDirectory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// Creates and claims the folder of a new run. With <paramref name="outDir"/> (--out) that folder, which may exist
    /// only if empty; otherwise &lt;reportsRoot&gt;/&lt;scenario-name&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;-&lt;seed&gt;, with -2, -3… appended
    /// if that name is taken (two runs with the same seed within a second).
    /// </summary>
    /// <remarks>
    /// The claim is <see cref="ClaimFile"/>, created with O_EXCL before anything else is written and removed by
    /// <see cref="Finish"/>: of two runs starting into one folder at once exactly one creates it, and the other is
    /// refused whichever comes first. A folder whose run died keeps it, and stays refused (it is not empty).
    /// </remarks>
    /// <exception cref="RunDirectoryException">--out is empty, names a file or a non-empty folder, or another run holds it.</exception>
    public static RunDirectory Create(string reportsRoot, string scenarioName, long seed, DateTime startedUtc, string? outDir = null)
    {
        if (outDir is not null)
        {
            if (string.IsNullOrWhiteSpace(outDir))
                throw new RunDirectoryException("--out is empty; give a folder that does not exist yet or is empty");
            if (File.Exists(outDir))
                throw new RunDirectoryException($"--out {outDir} is a file; give a folder that does not exist yet or is empty");
            return Claim(outDir, out var refusal) ?? throw new RunDirectoryException($"--out {outDir} {refusal}");
        }
        var parent = System.IO.Path.Combine(reportsRoot, SafeName(scenarioName));
        var stem = $"{startedUtc.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{seed.ToString(CultureInfo.InvariantCulture)}";
        for (var n = 1; ; n++)
        {
            var path = System.IO.Path.Combine(parent, n == 1 ? stem : $"{stem}-{n}");
            if (File.Exists(path)) continue;
            if (Claim(path, out _) is { } run) return run;
        }
    }

    /// <summary>The folder of a run in progress: holds who claimed it until <see cref="Finish"/>.</summary>
    public const string ClaimFile = ".fdr-run.claim";

    private static RunDirectory? Claim(string path, out string refusal, bool allowContent = false)
    {
        string full;
        try
        {
            full = Directory.CreateDirectory(path).FullName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new RunDirectoryException($"{path}: cannot create the run folder: {e.Message}");
        }
        var claim = System.IO.Path.Combine(full, ClaimFile);
        try
        {
            using var stream = new FileStream(claim, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.Write(Encoding.UTF8.GetBytes($"{{\"pid\": {Environment.ProcessId}, \"host\": \"{Environment.MachineName}\"}}\n"));
        }
        catch (IOException) when (File.Exists(claim))
        {
            refusal = "is being written by another run (it holds " + ClaimFile + "); give another folder";
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new RunDirectoryException($"{path}: cannot write in the run folder: {e.Message}");
        }
        // Claimed; anything else already there belongs to an earlier run or to someone else.
        if (!allowContent && Directory.EnumerateFileSystemEntries(full).Any(e => System.IO.Path.GetFileName(e) != ClaimFile))
        {
            File.Delete(claim);
            refusal = "is not empty; a run never mixes its files with another's. Give a new folder, or empty or remove this one";
            return null;
        }
        refusal = "";
        return new RunDirectory(full);
    }

    /// <summary>
    /// --force: empties <paramref name="path"/> when it holds a finished run, so a new run can take it. Anything else is
    /// refused and left alone: a folder that is no run's (never delete a user's files), a run going on or killed (resume it).
    /// </summary>
    /// <exception cref="RunDirectoryException">The folder is not a finished run's.</exception>
    public static void ClearFinished(string path)
    {
        if (!Directory.Exists(path) || !Directory.EnumerateFileSystemEntries(path).Any()) return;
        if (File.Exists(System.IO.Path.Combine(path, ClaimFile)))
            throw new RunDirectoryException($"--out {path}: a run is going on there or was killed (it holds {ClaimFile}); --force replaces only a finished run (fdr run --resume continues a killed one)");
        RunInfo info;
        try { info = new RunDirectory(System.IO.Path.GetFullPath(path)).ReadRunInfo(); }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or NotSupportedException)
        {
            throw new RunDirectoryException($"--out {path}: not a finished run's folder (no readable {RunFile}); --force replaces only a finished run, remove other folders yourself");
        }
        if (info.ExitStatus is null)
            throw new RunDirectoryException($"--out {path}: its run never finished; --force replaces only a finished run (fdr run --resume continues a killed one)");
        foreach (var entry in Directory.EnumerateFileSystemEntries(path))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }

    /// <summary>Creates the folder for the run described by <paramref name="info"/> (scenario name, seed, start).</summary>
    public static RunDirectory Create(string reportsRoot, RunInfo info, string? outDir = null) =>
        Create(reportsRoot, info.Scenario, info.Seed, info.StartedUtc, outDir);

    /// <summary>
    /// Starts a run of <paramref name="scenario"/>: creates its folder (see <see cref="Create(string, string, long, DateTime, string?)"/>),
    /// writes scenario.yaml and run.json without an exit status. End it with <see cref="Finish"/>.
    /// </summary>
    public static RunDirectory Start(Scenario scenario, string reportsRoot, string? outDir, out RunInfo info, TimeProvider? clock = null, RunShard? shard = null,
        IReadOnlyList<Scenarios.AppliedOverlay>? overlays = null)
    {
        info = RunInfo.Start(scenario, clock) with { Shard = shard, Overlays = overlays is { Count: > 0 } ? overlays : null };
        var run = Create(reportsRoot, info, outDir);
        run.WriteScenario(scenario);
        run.WriteRunInfo(info);
        return run;
    }

    /// <summary>
    /// Makes run.json's serializer ready (its metadata and code are made on first use: 58-68 ms of CPU), so that
    /// <see cref="Start"/> finds it ready: a run calls it on the idle core while it reads its scenario.
    /// </summary>
    public static void Prepare() => JsonSerializer.SerializeToUtf8Bytes(new RunInfo(), RunInfoJsonContext.Default.RunInfo);

    /// <summary>Rewrites run.json with the end time, <paramref name="exitStatus"/> and the summary counters. Returns what it wrote.</summary>
    /// <remarks>Releases the folder's claim: the run is over (the folder, no longer empty, is not reused).</remarks>
    public RunInfo Finish(RunInfo started, int exitStatus, IReadOnlyDictionary<string, double>? summary = null, TimeProvider? clock = null)
    {
        var ended = started.End(exitStatus, summary, clock);
        WriteRunInfo(ended);
        File.Delete(System.IO.Path.Combine(Path, ClaimFile));
        return ended;
    }

    /// <summary>
    /// Takes over the folder of a live run that died (kill -9, a node lost: its claim is left, run.json has no exit status)
    /// or was interrupted (exit 130 or 143), to continue it: the claim is taken again with O_EXCL once its holder is known
    /// gone, and what the dead process was writing (NAME.tmp) is removed. Returns the run as run.json describes it.
    /// </summary>
    /// <exception cref="RunDirectoryException">No such run, a run that ended otherwise, or a run still going on.</exception>
    public static RunDirectory Resume(string path, out RunInfo info, out string? note)
    {
        note = null;
        if (!Directory.Exists(path) || !File.Exists(System.IO.Path.Combine(path, RunFile)))
            throw new RunDirectoryException($"--resume {path}: not a run folder (no {RunFile})");
        var run = new RunDirectory(System.IO.Path.GetFullPath(path));
        try { info = run.ReadRunInfo(); }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or NotSupportedException)
        {
            throw new RunDirectoryException($"--resume {path}: {RunFile} is damaged ({e.Message.ReplaceLineEndings(" ")})");
        }
        if (info.ExitStatus is { } exit && exit is not (ExitCodes.Interrupted or ExitCodes.Terminated))
            throw new RunDirectoryException($"--resume {path}: the run ended with exit {exit}; only a run that was killed or interrupted can be resumed");
        var claim = System.IO.Path.Combine(run.Path, ClaimFile);
        if (File.Exists(claim))
        {
            var (pid, host) = Holder(claim);
            if (host == Environment.MachineName && pid is { } p && Alive(p))
                throw new RunDirectoryException($"--resume {path}: the run is still going on (process {p} holds {ClaimFile}); stop it first");
            if (host != Environment.MachineName)
                note = $"the run was held by host {host}: make sure its process is gone before it is resumed here";
            File.Delete(claim);
        }
        if (Claim(run.Path, out var refusal, allowContent: true) is null) throw new RunDirectoryException($"--resume {path} {refusal}");
        foreach (var temp in Directory.EnumerateFiles(run.Path, "*" + ParquetObservationSink.TempSuffix)) File.Delete(temp);
        return run;
    }

    private static (int? Pid, string? Host) Holder(string claim)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(claim));
            return (doc.RootElement.TryGetProperty("pid", out var p) && p.TryGetInt32(out var pid) ? pid : null,
                doc.RootElement.TryGetProperty("host", out var h) ? h.GetString() : null);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return (null, null); // a claim cut by the kill: its holder is gone
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>An existing run folder (for reading, or for `fdr report`).</summary>
    public static RunDirectory Open(string path) =>
        Directory.Exists(path) ? new RunDirectory(System.IO.Path.GetFullPath(path)) : throw new RunDirectoryException($"{path}: no such run folder");

    /// <summary>A folder-name-safe scenario name: letters, digits, '.', '-' and '_' kept, anything else '_'.</summary>
    public static string SafeName(string name)
    {
        var b = new StringBuilder(name.Length);
        foreach (var c in name.Trim())
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        var s = b.ToString().Trim('.');
        return s.Length == 0 ? "unnamed" : s;
    }

    /// <summary>Writes scenario.yaml: the scenario as resolved, every default filled in.</summary>
    public void WriteScenario(Scenario scenario) => WriteAtomically(System.IO.Path.Combine(Path, ScenarioFile), ScenarioWriter.ToYaml(scenario));

    /// <summary>Writes (or replaces) run.json.</summary>
    public void WriteRunInfo(RunInfo info) => WriteAtomically(System.IO.Path.Combine(Path, RunFile), JsonSerializer.Serialize(info, RunInfoJsonContext.Default.RunInfo) + "\n");

    public RunInfo ReadRunInfo() =>
        JsonSerializer.Deserialize(File.ReadAllText(System.IO.Path.Combine(Path, RunFile)), RunInfoJsonContext.Default.RunInfo)
        ?? throw new InvalidDataException($"{System.IO.Path.Combine(Path, RunFile)} is empty");

    /// <summary>Opens the observation files of this run for writing.</summary>
    public ParquetObservationSink OpenSink(ParquetSinkOptions? options = null) => new(Path, options);

    /// <summary>Reads the observation files of this run.</summary>
    public ObservationReader Observations() => new(Path);

    /// <summary>Writes <paramref name="text"/> (UTF-8, no BOM) as PATH.tmp, flushes it to disk, then renames it to PATH.</summary>
    public static void WriteAtomically(string path, string text) => WriteAtomically(path, new UTF8Encoding(false).GetBytes(text), durable: true);

    /// <summary>
    /// Writes <paramref name="bytes"/> as PATH.tmp, then renames it to PATH: a reader never sees half a file. With
    /// <paramref name="durable"/> the bytes are flushed to disk before the rename (what a power cut must not lose); without,
    /// for files made again from the observations (the plots), the rename alone.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes, bool durable)
    {
        var temp = path + ParquetObservationSink.TempSuffix;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

/// <summary>A run folder that cannot be used; the message says why and what to do.</summary>
public sealed class RunDirectoryException(string message) : IOException(message);
