using System.Text.RegularExpressions;

namespace FdrHarness.Core.Figures;

/// <summary>What a figure's number is in: how it is read, written in a threshold and printed.</summary>
public enum FigureUnit
{
    /// <summary>A whole number of things (transfers, rules, restarts).</summary>
    Count,
    /// <summary>A fraction 0..1 (may pass 1 for done/submitted); printed and written as a percentage.</summary>
    Ratio,
    Seconds,
    Milliseconds,
    /// <summary>Data volume: decimal units (GB, TB) as quotas and the FDR write them.</summary>
    Bytes,
    /// <summary>Memory: binary units (MiB, GiB) as Kubernetes limits are written.</summary>
    Memory,
    Cores,
    FilesPerSecond,
    BytesPerSecond,
    /// <summary>A plain number with no unit (a seed, a scale).</summary>
    Number,
}

/// <summary>Which way a figure gets better; <see cref="Neither"/> figures are shown by compare but never judged.</summary>
public enum Better { Higher, Lower, Neither }

/// <summary>
/// How much a figure moves between runs that should be alike (other seeds, a real cluster): the tolerance
/// <c>fdr compare</c> uses when no baseline of repeated runs gives the spread. The change that is still noise is the
/// larger of <see cref="Relative"/> × |baseline| and <see cref="Absolute"/> (in the figure's unit).
/// </summary>
public sealed record NoiseClass(string Name, double Relative, double Absolute)
{
    /// <summary>Whole-lake ratios: 2 percentage points.</summary>
    public static readonly NoiseClass Ratio = new("ratio", 0, 0.02);
    /// <summary>Per-link ratios over few transfers: 5 percentage points.</summary>
    public static readonly NoiseClass LinkRatio = new("link-ratio", 0, 0.05);
    /// <summary>Work done (transfers, bytes, rates, rules OK): 5 %.</summary>
    public static readonly NoiseClass Volume = new("volume", 0.05, 0);
    /// <summary>Failure counts: 10 % or 5.</summary>
    public static readonly NoiseClass Failures = new("failures", 0.10, 5);
    /// <summary>Events that should not happen at all (lost transfers, pods killed otherwise): any increase counts.</summary>
    public static readonly NoiseClass Exact = new("exact", 0, 0);
    /// <summary>Incidents that may be part of the rehearsal (OOM kills, restarts): any from none counts; beyond, 10 %.</summary>
    public static readonly NoiseClass Incidents = new("incidents", 0.10, 0);
    /// <summary>Durations (rule completion): 10 % or 60 s.</summary>
    public static readonly NoiseClass Duration = new("duration", 0.10, 60);
    /// <summary>Memory of a pod: 10 % or 16 MiB.</summary>
    public static readonly NoiseClass Memory = new("memory", 0.10, 16 << 20);
    /// <summary>CPU of a pod: 10 % or 0.01 core.</summary>
    public static readonly NoiseClass Cpu = new("cpu", 0.10, 0.01);
    /// <summary>Queue lengths: 20 % or 10 items.</summary>
    public static readonly NoiseClass Backlog = new("backlog", 0.20, 10);
    /// <summary>Time spent pending, crash-looping or recovering: 20 % or 60 s.</summary>
    public static readonly NoiseClass Recovery = new("recovery", 0.20, 60);
    /// <summary>Shown, never judged.</summary>
    public static readonly NoiseClass None = new("none", 0, 0);

    public double Noise(double baseline) => Math.Max(Absolute, Relative * Math.Abs(baseline));
}

/// <summary>What names the items of a list figure: links[SRC->DST], daemons[NAME], rses[NAME], …</summary>
public enum ItemKind { None, Link, Daemon, Rse, Scope, Fault, Operation }

/// <summary>
/// One figure of the report. <see cref="Name"/> is how thresholds, <c>fdr compare</c>, the console and the report
/// write it (lists as <c>links[*]</c>); <see cref="SummaryPath"/> is where summary.json keeps it.
/// </summary>
public sealed record FigureInfo(string Name, FigureUnit Unit, Better Better, NoiseClass Noise, string Description)
{
    /// <summary>Also computed over a phase or a sliding window (from the events), not only over the whole run.</summary>
    public bool Windowed { get; init; }
    /// <summary>Needs pod samples or lifecycle: a live run without target.kubernetes has no value.</summary>
    public bool NeedsPods { get; init; }
    /// <summary>Only live runs measure it (the harness's calls to Rucio).</summary>
    public bool LiveOnly { get; init; }
    /// <summary>Judged when it goes the worse way by more than its noise.</summary>
    public bool Judged => Better != Better.Neither;
    public string SummaryPath => FigureCatalog.ToSummaryPath(Name);
}

/// <summary>
/// Every figure of a run, once: name, unit, which way is better and how noisy it is. Thresholds are checked against
/// it by <c>fdr validate</c> (with did-you-mean), <c>fdr compare</c> judges with it, and the console, the report and
/// compare print values with its units. summary.json keeps the same figures (a test keeps the two in step).
/// </summary>
public static partial class FigureCatalog
{
    private static FigureInfo F(string name, FigureUnit unit, Better better, NoiseClass noise, string description) => new(name, unit, better, noise, description);

    private static readonly FigureInfo[] Entries =
    [
        // transfers: totals over the run (or the phase / window) from Hermes events
        F("transfers.queued", FigureUnit.Count, Better.Neither, NoiseClass.None, "transfer requests queued (transfer-queued)") with { Windowed = true },
        F("transfers.submitted", FigureUnit.Count, Better.Neither, NoiseClass.None, "submissions to FTS, retries included (transfer-submitted)") with { Windowed = true },
        F("injected.files", FigureUnit.Count, Better.Higher, NoiseClass.Volume, "files the target holds as injected (injections.parquet)"),
        F("injected.bytes", FigureUnit.Bytes, Better.Higher, NoiseClass.Volume, "bytes of those files"),
        F("transfers.done", FigureUnit.Count, Better.Higher, NoiseClass.Volume, "transfers done (transfer-done)") with { Windowed = true },
        F("transfers.failed", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "transfers failed (transfer-failed)") with { Windowed = true },
        F("transfers.submission_failed", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "submissions FTS refused (transfer-submission_failed)") with { Windowed = true },
        F("transfers.lost", FigureUnit.Count, Better.Lower, NoiseClass.Exact, "transfers FTS lost track of (transfer-lost)") with { Windowed = true },
        F("transfers.retries", FigureUnit.Count, Better.Neither, NoiseClass.None, "submissions of a retried request"),
        F("transfers.bytes_submitted", FigureUnit.Bytes, Better.Neither, NoiseClass.None, "bytes of the submissions"),
        F("transfers.bytes_done", FigureUnit.Bytes, Better.Higher, NoiseClass.Volume, "bytes moved by transfers done") with { Windowed = true },
        F("transfers.efficiency", FigureUnit.Ratio, Better.Higher, NoiseClass.Ratio, "Rucio's efficiency: done / (done + failed + submission_failed)") with { Windowed = true },
        F("transfers.done_over_submitted", FigureUnit.Ratio, Better.Higher, NoiseClass.Ratio, "the FDR's figure: done / submitted") with { Windowed = true },
        F("throughput.files_per_second", FigureUnit.FilesPerSecond, Better.Higher, NoiseClass.Volume, "transfers done over the observed time") with { Windowed = true },
        F("throughput.bytes_per_second", FigureUnit.BytesPerSecond, Better.Higher, NoiseClass.Volume, "bytes done over the observed time") with { Windowed = true },

        // links: one item per (source, destination) of the declared RSEs, NO DATA ones included
        F("links[*].submitted", FigureUnit.Count, Better.Neither, NoiseClass.None, "submissions on the link") with { Windowed = true },
        F("links[*].done", FigureUnit.Count, Better.Neither, NoiseClass.None, "transfers done on the link") with { Windowed = true },
        F("links[*].failed", FigureUnit.Count, Better.Neither, NoiseClass.None, "transfers failed on the link") with { Windowed = true },
        F("links[*].bytes_done", FigureUnit.Bytes, Better.Neither, NoiseClass.None, "bytes moved on the link") with { Windowed = true },
        F("links[*].done_over_submitted", FigureUnit.Ratio, Better.Higher, NoiseClass.LinkRatio, "the FDR matrix cell: done / submitted") with { Windowed = true },
        F("links[*].efficiency", FigureUnit.Ratio, Better.Higher, NoiseClass.LinkRatio, "done / (done + failed) on the link") with { Windowed = true },
        F("transfer_matrix.links_with_data", FigureUnit.Count, Better.Neither, NoiseClass.None, "links with at least one submission"),
        F("transfer_matrix.links_below_target", FigureUnit.Count, Better.Lower, NoiseClass.Exact, "links with data below the link target"),
        F("transfer_matrix.link_target", FigureUnit.Ratio, Better.Neither, NoiseClass.None, "the link target done/submitted was judged against"),

        // rules
        F("rules.rules_seen", FigureUnit.Count, Better.Neither, NoiseClass.None, "rules named by a transfer request or a RULE_OK"),
        F("rules.notifying", FigureUnit.Count, Better.Neither, NoiseClass.None, "rules seen that send RULE_OK (notify C, P or Y): noise rules do not"),
        F("rules.rules_ok", FigureUnit.Count, Better.Higher, NoiseClass.Volume, "RULE_OK events (one per notifying rule that completed)") with { Windowed = true },
        F("rules.measured", FigureUnit.Count, Better.Neither, NoiseClass.None, "rules with a completion time (a transfer request before RULE_OK)") with { Windowed = true },
        .. new[] { "min", "p50", "p90", "p95", "p99", "max", "mean" }.Select(s =>
            F($"rules.completion_seconds.{s}", FigureUnit.Seconds, Better.Lower, NoiseClass.Duration, $"rule completion time, {s}: first transfer request to RULE_OK") with { Windowed = true }),

        // daemons: one item per daemon (Deployment), from pod samples and lifecycle
        .. Daemon("replicas", FigureUnit.Count, Better.Neither, NoiseClass.None, "most pods seen at once"),
        .. Daemon("threads", FigureUnit.Count, Better.Neither, NoiseClass.None, "threads per pod (scenario)"),
        .. Daemon("samples", FigureUnit.Count, Better.Neither, NoiseClass.None, "pod samples taken"),
        .. Daemon("cpu_request", FigureUnit.Cores, Better.Neither, NoiseClass.None, "CPU request at the end"),
        .. Daemon("cpu_limit", FigureUnit.Cores, Better.Neither, NoiseClass.None, "CPU limit at the end"),
        .. Daemon("memory_request", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory request at the end"),
        .. Daemon("memory_limit", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory limit at the end"),
        .. Daemon("initial_cpu_limit", FigureUnit.Cores, Better.Neither, NoiseClass.None, "CPU limit at the start, when it changed"),
        .. Daemon("initial_memory_limit", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory limit at the start, when it changed"),
        .. Daemon("cpu_p50", FigureUnit.Cores, Better.Lower, NoiseClass.Cpu, "CPU use of running pods, median"),
        .. Daemon("cpu_p90", FigureUnit.Cores, Better.Lower, NoiseClass.Cpu, "CPU use of running pods, p90"),
        .. Daemon("cpu_p95", FigureUnit.Cores, Better.Lower, NoiseClass.Cpu, "CPU use of running pods, p95"),
        .. Daemon("cpu_peak", FigureUnit.Cores, Better.Lower, NoiseClass.Cpu, "CPU use of running pods, largest sample"),
        .. Daemon("memory_p50", FigureUnit.Memory, Better.Lower, NoiseClass.Memory, "working set of running pods, median"),
        .. Daemon("memory_p90", FigureUnit.Memory, Better.Lower, NoiseClass.Memory, "working set of running pods, p90"),
        .. Daemon("memory_peak", FigureUnit.Memory, Better.Lower, NoiseClass.Memory, "working set of running pods, largest sample"),
        .. Daemon("memory_at_oom", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory in use at the last OOM kill"),
        .. Daemon("restarts", FigureUnit.Count, Better.Lower, NoiseClass.Incidents, "container restarts"),
        .. Daemon("oom_killed", FigureUnit.Count, Better.Lower, NoiseClass.Incidents, "pods OOMKilled"),
        .. Daemon("killed_by_chaos", FigureUnit.Count, Better.Neither, NoiseClass.None, "pods killed by the scenario's chaos"),
        .. Daemon("killed_other", FigureUnit.Count, Better.Lower, NoiseClass.Exact, "pods killed otherwise (eviction, rollout)"),
        .. Daemon("pending_seconds", FigureUnit.Seconds, Better.Lower, NoiseClass.Recovery, "time some pod was Pending after the daemon first ran (start-up excluded)"),
        .. Daemon("crash_loop_seconds", FigureUnit.Seconds, Better.Lower, NoiseClass.Recovery, "time some pod was in CrashLoopBackOff"),
        // The longest queue seen is one sample: on escape-fdr-2020 it is judge-evaluator's pile-up while its pods are
        // OOMKilled together (58 or 100 by whether the third pod dies too, seed by seed), the restart's mechanism
        // that oom_killed and restarts already judge. Shown, not judged; the queue held over 5 minutes is judged.
        .. Daemon("peak_backlog", FigureUnit.Count, Better.Neither, NoiseClass.None, "longest queue seen (one sample)"),
        .. Daemon("sustained_backlog", FigureUnit.Count, Better.Lower, NoiseClass.Backlog, "longest queue held over 5 minutes of samples"),

        // recommendations: what fdr recommend would set, per daemon
        .. Recommendation("replicas", FigureUnit.Count, "pods"),
        .. Recommendation("threads", FigureUnit.Count, "threads per pod"),
        .. Recommendation("vpa_cpu", FigureUnit.Cores, "VPA's CPU request"),
        .. Recommendation("vpa_memory", FigureUnit.Memory, "VPA's memory"),
        .. Recommendation("krr_cpu_request", FigureUnit.Cores, "KRR's CPU request"),
        .. Recommendation("krr_memory", FigureUnit.Memory, "KRR's memory request and limit"),
        .. Recommendation("current_cpu_limit", FigureUnit.Cores, "CPU limit now"),
        .. Recommendation("current_memory_limit", FigureUnit.Memory, "memory limit now"),
        F("takeaway.pods", FigureUnit.Count, Better.Neither, NoiseClass.None, "pods of every daemon") with { NeedsPods = true },
        F("takeaway.vpa_cpu", FigureUnit.Cores, Better.Neither, NoiseClass.None, "VPA's CPU over every pod") with { NeedsPods = true },
        F("takeaway.vpa_memory", FigureUnit.Memory, Better.Neither, NoiseClass.None, "VPA's memory over every pod") with { NeedsPods = true },
        F("takeaway.krr_cpu", FigureUnit.Cores, Better.Neither, NoiseClass.None, "KRR's CPU over every pod") with { NeedsPods = true },
        F("takeaway.krr_memory", FigureUnit.Memory, Better.Neither, NoiseClass.None, "KRR's memory over every pod") with { NeedsPods = true },
        F("takeaway.current_cpu", FigureUnit.Cores, Better.Neither, NoiseClass.None, "CPU limits now over every pod") with { NeedsPods = true },
        F("takeaway.current_memory", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory limits now over every pod") with { NeedsPods = true },
        F("takeaway.node_cpu", FigureUnit.Cores, Better.Neither, NoiseClass.None, "CPU of the scenario's largest node shape"),
        F("takeaway.node_memory", FigureUnit.Memory, Better.Neither, NoiseClass.None, "memory of the scenario's largest node shape"),
        F("takeaway.nodes_available", FigureUnit.Count, Better.Neither, NoiseClass.None, "nodes of that shape in the scenario"),
        F("takeaway.nodes_needed_vpa", FigureUnit.Count, Better.Lower, NoiseClass.Exact, "nodes that hold VPA's requests (first-fit)") with { NeedsPods = true },
        F("takeaway.nodes_needed_krr", FigureUnit.Count, Better.Lower, NoiseClass.Exact, "nodes that hold KRR's requests (first-fit)") with { NeedsPods = true },

        // RSEs and experiments
        .. Rse("quota", FigureUnit.Bytes, "quota (scenario)"),
        .. Rse("watermark", FigureUnit.Bytes, "watermark (scenario)"),
        .. Rse("injected_files", FigureUnit.Count, "files injected with the RSE as their write RSE (injections.parquet)"),
        .. Rse("injected_bytes", FigureUnit.Bytes, "bytes of those files"),
        .. Rse("bytes_in", FigureUnit.Bytes, "bytes written by transfers done"),
        .. Rse("files_in", FigureUnit.Count, "files written by transfers done"),
        .. Rse("bytes_out", FigureUnit.Bytes, "bytes read as a transfer source"),
        .. Rse("bytes_deleted", FigureUnit.Bytes, "bytes deleted (deletion-done)"),
        .. Rse("files_deleted", FigureUnit.Count, "files deleted (deletion-done)"),
        .. Rse("net_bytes", FigureUnit.Bytes, "bytes injected + bytes in − bytes deleted"),
        .. Rse("net_over_quota", FigureUnit.Ratio, "net bytes over the quota"),
        .. Experiment("injected_files", FigureUnit.Count, "files of the scope injected (injections.parquet)"),
        .. Experiment("injected_bytes", FigureUnit.Bytes, "bytes of those files"),
        .. Experiment("files", FigureUnit.Count, "files seen in a transfer or deletion event"),
        .. Experiment("bytes", FigureUnit.Bytes, "bytes of those files"),
        .. Experiment("average_file_size", FigureUnit.Bytes, "bytes over files"),
        .. Experiment("datasets", FigureUnit.Count, "datasets created (CREATE_DTS)"),
        .. Experiment("containers", FigureUnit.Count, "containers created (CREATE_CNT)"),
        F("experiments[*].transfers_done", FigureUnit.Count, Better.Higher, NoiseClass.Volume, "transfers done of the scope's files"),
        F("experiments[*].deletions_done", FigureUnit.Count, Better.Higher, NoiseClass.Volume, "deletions done of the scope's files"),
        .. Experiment("dids_erased", FigureUnit.Count, "DIDs erased (ERASE)"),

        // faults: one item per chaos action (several when a schedule repeats)
        F("faults[*].backlog_before", FigureUnit.Count, Better.Neither, NoiseClass.None, "the watched backlog just before the fault") with { NeedsPods = true },
        F("faults[*].backlog_peak", FigureUnit.Count, Better.Neither, NoiseClass.None, "the watched backlog's peak after it") with { NeedsPods = true },
        F("faults[*].time_to_recover_seconds", FigureUnit.Seconds, Better.Lower, NoiseClass.Recovery,
            "from the fault's end until the watched backlog is back to its level before it (0: it never rose)") with { NeedsPods = true },

        // the run and its events
        F("events.total", FigureUnit.Count, Better.Neither, NoiseClass.None, "Hermes events observed"),
        F("run.duration_seconds", FigureUnit.Seconds, Better.Neither, NoiseClass.None, "observed time span"),
        F("run.seed", FigureUnit.Number, Better.Neither, NoiseClass.None, "the scenario's seed"),
        F("run.scale", FigureUnit.Number, Better.Neither, NoiseClass.None, "the scenario's scale"),

        // live runs only: the harness's calls to Rucio
        .. Api("count", FigureUnit.Count, Better.Neither, NoiseClass.None, "calls"),
        .. Api("ok", FigureUnit.Count, Better.Neither, NoiseClass.None, "calls that succeeded"),
        .. Api("failed", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "calls that failed after retries"),
        .. Api("retries", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "retried calls"),
        .. Api("late", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "calls started late"),
        .. Api("dropped", FigureUnit.Count, Better.Lower, NoiseClass.Failures, "calls dropped"),
        .. Api("p50_ms", FigureUnit.Milliseconds, Better.Lower, NoiseClass.Duration, "latency from the intended start, median"),
        .. Api("p95_ms", FigureUnit.Milliseconds, Better.Lower, NoiseClass.Duration, "latency, p95"),
        .. Api("p99_ms", FigureUnit.Milliseconds, Better.Lower, NoiseClass.Duration, "latency, p99"),
        .. Api("max_ms", FigureUnit.Milliseconds, Better.Lower, NoiseClass.Duration, "latency, largest"),
    ];

    private static IEnumerable<FigureInfo> Daemon(string leaf, FigureUnit unit, Better better, NoiseClass noise, string description) =>
        [F($"daemons[*].{leaf}", unit, better, noise, description) with { NeedsPods = true }];

    private static IEnumerable<FigureInfo> Recommendation(string leaf, FigureUnit unit, string description) =>
        [F($"recommendations[*].{leaf}", unit, Better.Neither, NoiseClass.None, description) with { NeedsPods = true }];

    private static IEnumerable<FigureInfo> Rse(string leaf, FigureUnit unit, string description) =>
        [F($"rses[*].{leaf}", unit, Better.Neither, NoiseClass.None, description)];

    private static IEnumerable<FigureInfo> Experiment(string leaf, FigureUnit unit, string description) =>
        [F($"experiments[*].{leaf}", unit, Better.Neither, NoiseClass.None, description)];

    private static IEnumerable<FigureInfo> Api(string leaf, FigureUnit unit, Better better, NoiseClass noise, string description) =>
        [F($"api_latency[*].{leaf}", unit, better, noise, description) with { LiveOnly = true }];

    /// <summary>Lists, by the name a figure uses, with where summary.json keeps them and what names their items.</summary>
    public static readonly IReadOnlyDictionary<string, (string SummaryPath, ItemKind Items)> Lists = new Dictionary<string, (string, ItemKind)>(StringComparer.Ordinal)
    {
        ["links"] = ("transfer_matrix.links", ItemKind.Link),
        ["daemons"] = ("resources", ItemKind.Daemon),
        ["recommendations"] = ("takeaway.daemons", ItemKind.Daemon),
        ["rses"] = ("rses", ItemKind.Rse),
        ["experiments"] = ("experiments", ItemKind.Scope),
        ["faults"] = ("faults", ItemKind.Fault),
        ["api_latency"] = ("api_latency", ItemKind.Operation),
    };

    /// <summary>Older spellings still accepted in thresholds; everything prints the catalogue's name.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["completion_time"] = "completion_seconds",
        ["oom_kills"] = "oom_killed",
    };

    private static readonly Dictionary<string, FigureInfo> ByName = Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);

    public static IReadOnlyList<FigureInfo> All => Entries;

    /// <summary>The figure a path names ("links[A->B].efficiency", "rules.completion_time.p95"), or null.</summary>
    public static FigureInfo? Find(string path) => ByName.GetValueOrDefault(Canonical(Generic(path)));

    /// <summary>The catalogue's spelling: aliases replaced, selectors kept.</summary>
    public static string Canonical(string path)
    {
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var bracket = parts[i].IndexOf('[');
            var name = bracket < 0 ? parts[i] : parts[i][..bracket];
            if (Aliases.TryGetValue(name, out var real)) parts[i] = real + (bracket < 0 ? "" : parts[i][bracket..]);
        }
        return string.Join('.', parts);
    }

    /// <summary>Every selector written [*]: "links[A->B].done" → "links[*].done".</summary>
    public static string Generic(string path) => Selector().Replace(path, "[*]");

    /// <summary>summary.json's path of a figure name ("daemons[*].oom_killed" → "resources[*].oom_killed").</summary>
    public static string ToSummaryPath(string name)
    {
        var bracket = name.IndexOf('[');
        if (bracket < 0) return name;
        return Lists.TryGetValue(name[..bracket], out var list) ? list.SummaryPath + name[bracket..] : name;
    }

    /// <summary>The figure name of a summary.json path ("transfer_matrix.links[A->B].done" → "links[A->B].done").</summary>
    public static string FromSummaryPath(string path)
    {
        foreach (var (name, list) in Lists)
            if (path.StartsWith(list.SummaryPath + "[", StringComparison.Ordinal)) return name + path[list.SummaryPath.Length..];
        return path;
    }

    /// <summary>Up to three names closest to <paramref name="path"/> (selectors ignored), closest first.</summary>
    public static IReadOnlyList<string> Closest(string path, int count = 3)
    {
        var asked = Generic(path);
        return Entries.Select(e => (e.Name, Distance: Diagnostics.Suggestions.Distance(asked, e.Name)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).Take(count).Select(x => x.Name).ToList();
    }

    /// <summary>The one close enough to be what was meant, as validate's "did you mean" says it.</summary>
    public static string? DidYouMean(string path)
    {
        var asked = Generic(path);
        var best = Closest(path, 1).FirstOrDefault();
        if (best is null) return null;
        // Keep the user's selectors in the suggestion: links[A->B].efficency → links[A->B].efficiency.
        var suggestion = best;
        var selectors = Selector().Matches(path).Select(m => m.Value).ToList();
        if (selectors.Count > 0 && Selector().Matches(best).Count == selectors.Count)
        {
            var i = 0;
            suggestion = Selector().Replace(best, _ => selectors[i++]);
        }
        return Diagnostics.Suggestions.Distance(asked, best) <= Math.Max(3, asked.Length / 4) ? suggestion : null;
    }

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Selector();
}
