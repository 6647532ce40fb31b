using System.Text;
using FdrHarness.Reporting.Analysis;
using static FdrHarness.Reporting.Exporters.ReportFiles;

namespace FdrHarness.Reporting.Exporters;

/// <summary>report.md: GitHub-flavoured and compact enough for a pull-request comment (weak links only, not the whole matrix).</summary>
public static class MarkdownExporter
{
    public const string FileName = "report.md";

    public static string ToMarkdown(Summary s)
    {
        var b = new StringBuilder();
        b.Append($"## Rehearsal report: {s.Run.Scenario}\n\n");
        b.Append($"Target {s.Run.Target}, seed {s.Run.Seed}, {Time(s.Run.Start)} → {Time(s.Run.End)} ({Duration(s.Run.DurationSeconds)} observed).\n\n");
        foreach (var line in Tables.Headline(s)) b.Append($"- {line}\n");
        b.Append("\n**Findings**\n\n");
        foreach (var line in Tables.Findings(s)) b.Append($"- {line}\n");

        var m = s.TransferMatrix;
        var target = m.LinkTarget ?? 0.9;
        var weak = m.Links.Where(c => c.Submitted > 0 && c.DoneOverSubmitted < target).OrderBy(c => c.DoneOverSubmitted).ThenBy(c => c.Src, StringComparer.Ordinal).ToList();
        b.Append($"\n### Transfer matrix: links below {Pct(target)} done/submitted ({weak.Count} of {m.LinksWithData})\n\n");
        if (weak.Count > 0)
        {
            Row(b, ["src", "dst", "done/submitted", "done/(done+failed)", "submitted", "done", "failed"]);
            Rule(b, 7);
            foreach (var c in weak.Take(15))
                Row(b, [c.Src, c.Dst, Pct(c.DoneOverSubmitted), Pct1(c.Efficiency), Num(c.Submitted), Num(c.Done), Num(c.Failed)]);
            if (weak.Count > 15) b.Append($"\n…and {weak.Count - 15} more in transfer-matrix.csv.\n");
        }

        b.Append("\n### Resource usage\n\n");
        Row(b, Tables.UsageHeader);
        Rule(b, Tables.UsageHeader.Length);
        foreach (var r in Tables.UsageRows(s)) Row(b, r);

        b.Append("\n### Takeaway: limits to set\n\n");
        Row(b, Tables.TakeawayHeader);
        Rule(b, Tables.TakeawayHeader.Length);
        foreach (var r in Tables.TakeawayRows(s)) Row(b, r);
        b.Append($"\n{Tables.NodesLine(s.Takeaway)}\n");

        if (s.Faults.Count > 0)
        {
            b.Append("\n### Faults\n\n");
            Row(b, Tables.FaultHeader);
            Rule(b, Tables.FaultHeader.Length);
            foreach (var r in Tables.FaultRows(s)) Row(b, r);
        }
        if (s.ApiLatency.Count > 0)
        {
            b.Append("\n### API latency\n\n");
            Row(b, Tables.ApiLatencyHeader);
            Rule(b, Tables.ApiLatencyHeader.Length);
            foreach (var r in Tables.ApiLatencyRows(s)) Row(b, r);
        }
        b.Append("\nFull report: report.html; every figure: summary.json.\n");
        return b.ToString();
    }

    public static void Write(Summary s, string dir) => ReportFiles.Write(Path.Combine(dir, FileName), ToMarkdown(s));

    private static void Row(StringBuilder b, IEnumerable<string> cells) =>
        b.Append("| ").AppendJoin(" | ", cells.Select(c => c.Replace("|", "\\|"))).Append(" |\n");

    private static void Rule(StringBuilder b, int n) => b.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", n))).Append('\n');
}
