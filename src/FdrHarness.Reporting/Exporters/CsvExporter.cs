using System.Globalization;
using System.Text;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Exporters;

/// <summary>One CSV per table, raw numbers (bytes, cores, ratios 0..1) for spreadsheets and scripts.</summary>
public sealed class CsvExporter : IExporter
{
    public IEnumerable<string> Export(ExportContext context)
    {
        Write(context.Summary, context.RunDir);
        return Files;
    }


    public static readonly string[] Files =
        ["transfer-matrix.csv", "resource-usage.csv", "takeaway.csv", "events-by-type.csv", "experiments.csv", "rses.csv", "faults.csv"];

    public static void Write(Summary s, string dir)
    {
        Emit(dir, "transfer-matrix.csv", ["src", "dst", "submitted", "done", "failed", "bytes_done", "done_over_submitted", "efficiency", "verdict"],
            s.TransferMatrix.Links.Select(c => new object?[] { c.Src, c.Dst, c.Submitted, c.Done, c.Failed, c.BytesDone, c.DoneOverSubmitted, c.Efficiency, c.Verdict ?? (c.Submitted == 0 ? "no-data" : "") }));
        Emit(dir, "resource-usage.csv",
            ["daemon", "replicas", "threads", "cpu_request", "memory_request", "cpu_limit", "memory_limit", "cpu_p50", "cpu_p90", "cpu_p95", "cpu_peak",
             "memory_p50", "memory_p90", "memory_peak", "restarts", "oom_killed", "killed_by_chaos", "killed_other", "pending_seconds", "crash_loop_seconds", "peak_backlog", "sustained_backlog", "comment"],
            s.Resources.Select(u => new object?[] { u.Daemon, u.Replicas, u.Threads, u.CpuRequest, u.MemoryRequest, u.CpuLimit, u.MemoryLimit, u.CpuP50, u.CpuP90, u.CpuP95, u.CpuPeak,
                u.MemoryP50, u.MemoryP90, u.MemoryPeak, u.Restarts, u.OomKilled, u.KilledByChaos, u.KilledOther, u.PendingSeconds, u.CrashLoopSeconds, u.PeakBacklog, u.SustainedBacklog, Tables.Comment(u, s.Incidents) }));
        Emit(dir, "takeaway.csv",
            ["daemon", "replicas", "threads", "vpa_cpu", "vpa_memory", "vpa_oom_bump", "krr_cpu_request", "krr_memory", "current_cpu_limit", "current_memory_limit", "memory_advice"],
            s.Takeaway.Daemons.Select(r => new object?[] { r.Daemon, r.Replicas, r.Threads, r.VpaCpu, r.VpaMemory, r.VpaOomBump, r.KrrCpuRequest, r.KrrMemory, r.CurrentCpuLimit, r.CurrentMemoryLimit, r.MemoryAdvice })
                .Append(["TOTAL", s.Takeaway.Pods, null, s.Takeaway.VpaCpu, s.Takeaway.VpaMemory, null, s.Takeaway.KrrCpu, s.Takeaway.KrrMemory, s.Takeaway.CurrentCpu, s.Takeaway.CurrentMemory, $"nodes needed vpa={s.Takeaway.NodesNeededVpa} krr={s.Takeaway.NodesNeededKrr}"]));
        Emit(dir, "events-by-type.csv", ["event_type", "count"], s.Events.ByType.Select(c => new object?[] { c.Key, c.Count }));
        Emit(dir, "experiments.csv", ["scope", "injected_files", "injected_bytes", "files", "datasets", "containers", "bytes", "average_file_size", "transfers_done", "deletions_done", "dids_erased"],
            s.Experiments.Select(e => new object?[] { e.Scope, e.InjectedFiles, e.InjectedBytes, e.Files, e.Datasets, e.Containers, e.Bytes, e.AverageFileSize, e.TransfersDone, e.DeletionsDone, e.DidsErased }));
        Emit(dir, "rses.csv", ["rse", "qos", "quota", "watermark", "injected_bytes", "injected_files", "bytes_in", "files_in", "bytes_out", "bytes_deleted", "files_deleted", "net_bytes", "net_over_quota"],
            s.Rses.Select(r => new object?[] { r.Rse, r.Qos, r.Quota, r.Watermark, r.InjectedBytes, r.InjectedFiles, r.BytesIn, r.FilesIn, r.BytesOut, r.BytesDeleted, r.FilesDeleted, r.NetBytes, r.NetOverQuota }));
        Emit(dir, "faults.csv", ["name", "kind", "target", "start", "end", "backlog_of", "backlog_before", "backlog_peak", "recovered_at", "time_to_recover_seconds", "detail"],
            s.Faults.Select(f => new object?[] { f.Name, f.Kind, f.Target, f.Start, f.End, f.BacklogOf, f.BacklogBefore, f.BacklogPeak, f.RecoveredAt, f.TimeToRecoverSeconds, f.Detail }));
    }

    private static void Emit(string dir, string file, string[] header, IEnumerable<object?[]> rows)
    {
        var b = new StringBuilder();
        b.AppendJoin(',', header).Append('\n');
        foreach (var row in rows) b.AppendJoin(',', row.Select(Field)).Append('\n');
        ReportFiles.Write(Path.Combine(dir, file), b.ToString());
    }

    internal static string Field(object? value)
    {
        var s = value switch
        {
            null => "",
            DateTime t => t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }
}
