using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using static FdrHarness.Reporting.Exporters.ReportFiles;

namespace FdrHarness.Reporting.Exporters;

/// <summary>The report's tables as text cells, in the seed's wording, shared by the Markdown and HTML exporters.</summary>
internal static class Tables
{
    public static string ReplicasText(int replicas, int? threads) => threads is > 1 ? $"{replicas} x {threads} threads" : $"{replicas}";

    /// <summary>The seed's Restarts/Comments column: what happened to the pods, and why.</summary>
    public static string Comment(ResourceUsage u, IReadOnlyList<PodIncident> incidents)
    {
        var parts = new List<string>();
        if (u.OomKilled > 0)
        {
            var reason = incidents.LastOrDefault(i => i.Daemon == u.Daemon && i.Event == LifecycleEvents.OomKilled)?.Reason;
            parts.Add($"OOMKilled {u.OomKilled}" + (reason is null ? "" : $" ({reason})"));
        }
        if (u.KilledByChaos > 0) parts.Add($"killed by chaos {u.KilledByChaos}");
        if (u.KilledOther > 0)
        {
            var reason = incidents.LastOrDefault(i => i.Daemon == u.Daemon && i.Event == LifecycleEvents.Killed && !(i.Reason ?? "").StartsWith("chaos:", StringComparison.Ordinal))?.Reason;
            parts.Add($"killed {u.KilledOther}" + (reason is null ? "" : $" ({reason})"));
        }
        if (u.Restarts > 0) parts.Add($"{u.Restarts} restarts");
        if (u.CrashLoopSeconds > 0) parts.Add($"CrashLoopBackOff {Duration(u.CrashLoopSeconds)}");
        if (u.PendingSeconds > 0) parts.Add($"pending {Duration(u.PendingSeconds)}");
        return parts.Count == 0 ? "OK" : string.Join(", ", parts);
    }

    public static string Limit(double? cpu, long? mem) => cpu is null && mem is null ? "-" : $"{Cpu(cpu)} {Mem(mem)}";

    public static string[] UsageHeader => ["Service", "Requests [CPU Memory]", "Limits [CPU Memory]", "Usage [CPU (peak) Memory (peak)]", "Restarts/Comments"];

    public static IEnumerable<string[]> UsageRows(Summary s) => s.Resources.Select(u => new[]
    {
        $"{u.Daemon} ({ReplicasText(u.Replicas, u.Threads)})",
        Limit(u.CpuRequest, u.MemoryRequest),
        Limit(u.CpuLimit, u.MemoryLimit) + (u.InitialMemoryLimit is not null || u.InitialCpuLimit is not null ? $" (was {Limit(u.InitialCpuLimit ?? u.CpuLimit, u.InitialMemoryLimit ?? u.MemoryLimit)})" : ""),
        $"{Cpu(u.CpuP50)} ({Cpu(u.CpuPeak)}) {Mem(u.MemoryP50)} ({Mem(u.MemoryPeak)})",
        Comment(u, s.Incidents),
    });

    public static string[] TakeawayHeader => ["Service", "Replicas", "VPA CPU", "VPA memory", "KRR CPU request", "KRR memory", "Limit now", "Memory"];

    public static IEnumerable<string[]> TakeawayRows(Summary s)
    {
        foreach (var r in s.Takeaway.Daemons)
            yield return
            [
                r.Daemon, ReplicasText(r.Replicas, r.Threads), Cpu(r.VpaCpu), Mem(r.VpaMemory) + (r.VpaOomBump ? " (after OOM)" : ""),
                Cpu(r.KrrCpuRequest), Mem(r.KrrMemory), Limit(r.CurrentCpuLimit, r.CurrentMemoryLimit), r.MemoryAdvice,
            ];
        var t = s.Takeaway;
        yield return ["Total", $"{t.Pods} pods", Cpu(t.VpaCpu), Mem(t.VpaMemory), Cpu(t.KrrCpu), Mem(t.KrrMemory),
            t.CurrentCpu is null && t.CurrentMemory is null ? "-" : $"{Cpu(t.CurrentCpu)} {Mem(t.CurrentMemory)}", ""];
    }

    public static string NodesLine(Takeaway t) => t.NodeCpu is null
        ? "The scenario declares no nodes: node count not computed."
        : $"Nodes of {Cpu(t.NodeCpu)} CPU / {Mem(t.NodeMemory)} needed: {t.NodesNeededVpa} with the VPA recommendation, {t.NodesNeededKrr} with KRR's (requests, first-fit); the scenario has {t.NodesAvailable}.";

    public static string[] ApiLatencyHeader => ["Operation", "Count", "OK", "Failed", "Retried", "Late", "Dropped", "p50", "p95", "p99", "max", "Status codes", "Failed because"];

    public static IEnumerable<string[]> ApiLatencyRows(Summary s) => s.ApiLatency.Select(r => new[]
    {
        r.Operation, N(r.Count), N(r.Ok), N(r.Failed), N(r.Retries), N(r.Late), N(r.Dropped),
        Ms(r.P50Ms), Ms(r.P95Ms), Ms(r.P99Ms), Ms(r.MaxMs), r.StatusCodes, r.Failures,
    });

    private static string N(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    private static string Ms(double ms) => ms.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " ms";

    public static string[] FaultHeader => ["Fault", "Kind", "Target", "Start", "Backlog of", "Before", "Peak", "Time to recover"];

    public static IEnumerable<string[]> FaultRows(Summary s) => s.Faults.Select(f => new[]
    {
        f.Name, f.Kind, f.Target, Time(f.Start), f.BacklogOf, Num(f.BacklogBefore), Num(f.BacklogPeak),
        f.TimeToRecoverSeconds is { } t ? Duration(t) : "not recovered",
    });

    public static string MatrixCell(LinkCell c) => c.Submitted == 0 ? "NO DATA" : Pct(c.DoneOverSubmitted);

    /// <summary>The matrix's continuous scale, shared by the heatmap and the table: dark red at 0 %, through orange and yellow, to dark green at 100 % and above.</summary>
    public static readonly string[] MatrixScale = ["#b71c1c", "#e65100", "#f9a825", "#c0ca33", "#43a047", "#1b5e20"];

    /// <summary>Background and text colour of a cell with this done/submitted.</summary>
    public static (string Background, string Text) MatrixColors(double ratio)
    {
        var x = Math.Clamp(ratio, 0, 1) * (MatrixScale.Length - 1);
        var i = Math.Min((int)Math.Floor(x), MatrixScale.Length - 2);
        var t = x - i;
        static (int R, int G, int B) Rgb(string hex) => (Convert.ToInt32(hex[1..3], 16), Convert.ToInt32(hex[3..5], 16), Convert.ToInt32(hex[5..7], 16));
        var (a, b) = (Rgb(MatrixScale[i]), Rgb(MatrixScale[i + 1]));
        var (r, g, bl) = ((int)Math.Round(a.R + (b.R - a.R) * t), (int)Math.Round(a.G + (b.G - a.G) * t), (int)Math.Round(a.B + (b.B - a.B) * t));
        // Dark text on the light middle of the scale, white on its dark ends.
        var light = 0.299 * r + 0.587 * g + 0.114 * bl > 150;
        return ($"#{r:x2}{g:x2}{bl:x2}", light ? "#111" : "#fff");
    }

    /// <summary>Pod kills grouped by what killed them (OOMKilled, a chaos action, a rollout) and daemon.</summary>
    public static IEnumerable<string[]> IncidentGroups(Summary s) => s.Incidents
        .GroupBy(i => (What: i.Event == LifecycleEvents.OomKilled ? "OOMKilled" : i.Reason is { Length: > 0 } r ? (r.StartsWith("chaos:", StringComparison.Ordinal) ? $"chaos action {r[6..]}" : r) : "killed", i.Daemon))
        .OrderBy(g => g.Min(i => i.Time))
        .Select(g => new[] { g.Key.What, g.Key.Daemon, Num(g.Count()), Time(g.Min(i => i.Time)), Time(g.Max(i => i.Time)) });

    /// <summary>A figure of injections.parquet, or "not recorded" for a run written before the file existed.</summary>
    public static string Recorded(long? value, Func<long, string> format) => value is { } v ? format(v) : NotRecorded;

    public const string NotRecorded = "not recorded";

    public static string InjectedNote(Summary s) => s.Injected is null
        ? "Injected files not recorded: this run was written before injections.parquet existed, and Rucio sends no Hermes event for a registered replica."
        : "Files injected are those the target confirmed (injections.parquet); refused ones are in run.json (files.refused).";

    public static string[] Headline(Summary s)
    {
        var t = s.Transfers;
        return
        [
            s.Injected is { } i ? $"{Num(i.Files)} files injected ({Bytes(i.Bytes)})" : "files injected: not recorded (a run written before injections.parquet)",
            $"{Num(t.Submitted)} submissions totalling {Bytes(t.BytesSubmitted)}",
            $"{Num(t.Done)} completed transfers ({Bytes(t.BytesDone)}), {Num(t.Failed + t.SubmissionFailed)} failed",
            $"done/submitted {Pct1(t.DoneOverSubmitted)}, efficiency done/(done+failed) {Pct1(t.Efficiency)}, {Num(t.Retries)} retried submissions",
            $"{Num(s.Events.Total)} events; rules: {Num(s.Rules.RulesOk)} sent RULE_OK of {Num(s.Rules.Notifying)} that notify" +
                (s.Rules.RulesSeen > s.Rules.Notifying ? $" ({Num(s.Rules.RulesSeen - s.Rules.Notifying)} other rules, such as noise, never send it)" : "") +
                (s.Rules.CompletionSeconds is { } d ? $"; completion p50 {Duration(d.P50)}, p90 {Duration(d.P90)}" : ""),
        ];
    }

    /// <summary>One-line verdicts a person looks for first: weak links, restarted daemons, limits to change.</summary>
    public static IEnumerable<string> Findings(Summary s)
    {
        var target = s.TransferMatrix.LinkTarget ?? 0.9;
        var weak = s.TransferMatrix.Links.Where(c => c.Submitted > 0 && c.DoneOverSubmitted < target).OrderBy(c => c.DoneOverSubmitted).ToList();
        yield return s.TransferMatrix.LinksWithData == 0
            ? "No transfer was submitted: the transfer matrix is empty."
            : weak.Count == 0
            ? $"All {s.TransferMatrix.LinksWithData} links with data reach {Pct(target)} done/submitted."
            : $"{weak.Count} of {s.TransferMatrix.LinksWithData} links below {Pct(target)} done/submitted; worst: " +
              string.Join(", ", weak.Take(5).Select(c => $"{c.Src} → {c.Dst} {Pct(c.DoneOverSubmitted)}"));
        foreach (var u in s.Resources.Where(u => u.Status != "OK"))
            yield return $"{u.Daemon}: {Comment(u, s.Incidents)}.";
        foreach (var r in s.Takeaway.Daemons.Where(r => r.MemoryAdvice is "raise" or "set"))
            yield return $"{r.Daemon}: {r.MemoryAdvice} the memory limit to {Mem(r.VpaMemory)}" + (r.CurrentMemoryLimit is { } now ? $" (now {Mem(now)})." : " (none set now).");
    }
}
