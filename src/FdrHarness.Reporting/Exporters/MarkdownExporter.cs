using System.Text;
using FdrHarness.Reporting.Analysis;
using static FdrHarness.Reporting.Exporters.ReportFiles;
using static FdrHarness.Reporting.Exporters.Tables;

namespace FdrHarness.Reporting.Exporters;

/// <summary>report.md: GitHub-flavoured and compact enough for a pull-request comment (weak links only, not the whole matrix).</summary>
public sealed class MarkdownExporter : IExporter
{
    public IEnumerable<string> Export(ExportContext context)
    {
        Write(context.Summary, context.RunDir, context.Verdict);
        return [FileName];
    }


    public const string FileName = "report.md";

    public static string ToMarkdown(Summary s, ReportVerdict? verdict = null)
    {
        var b = new StringBuilder();
        b.Append($"## Rehearsal report: {s.Run.Scenario}\n\n");
        b.Append($"Target {s.Run.Target}, seed {s.Run.Seed}, {Time(s.Run.Start)} → {Time(s.Run.End)} ({Duration(s.Run.DurationSeconds)} observed).\n\n");
        if (verdict is not null)
        {
            b.Append($"### Verdict: {verdict.Headline}\n\n");
            if (verdict.Lines.Count > 0)
            {
                Table(b, ["", "threshold", "value", "limit", "why"],
                    verdict.Lines.Select(l => new[] { l.Passed ? "✓" : "✗", l.Threshold + (l.Over == "run" ? "" : $" ({l.Over})"), l.Value, l.Limit, l.Why }));
                b.Append('\n');
            }
        }
        foreach (var line in Tables.Headline(s)) b.Append($"- {line}\n");
        b.Append("\n**Findings**\n\n");
        foreach (var line in Tables.Findings(s)) b.Append($"- {line}\n");

        var m = s.TransferMatrix;
        var target = m.LinkTarget ?? 0.9;
        var weak = m.Links.Where(c => c.Submitted > 0 && c.DoneOverSubmitted < target).OrderBy(c => c.DoneOverSubmitted).ThenBy(c => c.Src, StringComparer.Ordinal).ToList();
        b.Append($"\n### Transfer matrix: links below {Pct(target)} done/submitted ({weak.Count} of {m.LinksWithData})\n\n");
        if (weak.Count > 0)
        {
            Table(b, ["src", "dst", "done/submitted", "done/(done+failed)", "submitted", "done", "failed"],
                weak.Take(15).Select(c => new[] { c.Src, c.Dst, Pct(c.DoneOverSubmitted), Pct1(c.Efficiency), Num(c.Submitted), Num(c.Done), Num(c.Failed) }));
            if (weak.Count > 15) b.Append($"\n…and {weak.Count - 15} more in transfer-matrix.csv.\n");
        }

        b.Append("\n### Resource usage\n\n");
        // Numbers only, so the table fits a pull-request comment; what happened to each pod is in the findings above.
        Table(b, ["daemon", "pods", "CPU limit", "CPU p50", "CPU peak", "memory limit", "memory p50", "memory peak", "OOMKilled", "restarts"],
            s.Resources.Select(u => new[]
            {
                u.Daemon, ReplicasText(u.Replicas, u.Threads), Cpu(u.CpuLimit), Cpu(u.CpuP50), Cpu(u.CpuPeak), Mem(u.MemoryLimit), Mem(u.MemoryP50), Mem(u.MemoryPeak),
                u.OomKilled.ToString(C), u.Restarts.ToString(C),
            }));

        b.Append("\n### Takeaway: limits to set\n\n");
        Table(b, Tables.TakeawayHeader, Tables.TakeawayRows(s));
        b.Append($"\n{Tables.NodesLine(s.Takeaway)}\n");

        if (s.Faults.Count > 0)
        {
            b.Append("\n### Faults\n\n");
            Table(b, Tables.FaultHeader, Tables.FaultRows(s));
        }
        if (s.ApiLatency.Count > 0)
        {
            b.Append("\n### API latency\n\n");
            Table(b, Tables.ApiLatencyHeader, Tables.ApiLatencyRows(s));
        }
        b.Append("\nFull report: report.html; every figure: summary.json.\n");
        return b.ToString();
    }

    public static void Write(Summary s, string dir, ReportVerdict? verdict = null) => ReportFiles.Write(Path.Combine(dir, FileName), ToMarkdown(s, verdict));

    /// <summary>A GitHub table; a column whose cells are all numbers (or "-") is right-aligned, so digits line up.</summary>
    private static void Table(StringBuilder b, IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        var list = rows.ToList();
        Row(b, header);
        b.Append('|');
        for (var i = 0; i < header.Count; i++)
            b.Append(i > 0 && list.Count > 0 && list.All(r => i >= r.Length || Numeric(r[i])) ? " ---: |" : " :--- |");
        b.Append('\n');
        foreach (var r in list) Row(b, r);
    }

    private static bool Numeric(string cell) => cell.Length == 0 || cell == "-" || char.IsAsciiDigit(cell[0]) || cell[0] is '+' or '−' or '<' or '>' or '≤';

    private static void Row(StringBuilder b, IEnumerable<string> cells) =>
        b.Append("| ").AppendJoin(" | ", cells.Select(c => c.Replace("|", "\\|"))).Append(" |\n");
}
