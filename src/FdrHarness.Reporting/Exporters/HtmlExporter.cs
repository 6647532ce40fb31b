using System.Buffers;
using System.Net;
using System.Text;
using FdrHarness.Reporting.Analysis;
using static FdrHarness.Reporting.Exporters.ReportFiles;

namespace FdrHarness.Reporting.Exporters;

/// <summary>report.html: one self-contained file (styles inline, plots as SVG data: URLs) that opens offline.</summary>
public sealed class HtmlExporter : IExporter
{
    public IEnumerable<string> Export(ExportContext context)
    {
        Write(context.Summary, context.Plots, context.RunDir, context.Verdict);
        return [FileName];
    }


    public const string FileName = "report.html";
    public static readonly string[] Sections = ["Verdict", "Summary", "Transfer matrix", "Events over time", "Resource usage", "Takeaway", "Faults"];

    private const string Style = """
        body{font-family:"DejaVu Sans",Arial,sans-serif;margin:16px 24px;color:#222;max-width:1600px}
        h1{font-size:22px}h2{border-bottom:2px solid #1565c0;padding-bottom:4px;margin-top:36px}
        table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
        th{background:#f0f4f8}td.l,th.l{text-align:left}tr.total td{font-weight:bold}td{white-space:nowrap}td:last-child{white-space:normal;min-width:12em}
        tr.bad td{background:#ffebee}tr.warn td{background:#fff3e0}
        .nodata{background:#eee;color:#888;font-size:11px}
        .find li{margin:3px 0}img{width:100%;height:auto;border:1px solid #ddd;margin:6px 0;display:block}img.natural{width:auto;max-width:100%}
        .grid{display:grid;grid-template-columns:1fr 1fr;gap:6px}@media (max-width:1000px){.grid{grid-template-columns:1fr}}
        .scroll{overflow-x:auto;max-width:100%}
        nav a{margin-right:14px;white-space:nowrap}.note{color:#555;font-size:13px}
        .verdict{font-size:18px;font-weight:bold;padding:8px 12px;border-radius:4px;display:inline-block}
        .pass{background:#c8e6c9;color:#1b5e20}.fail{background:#ffcdd2;color:#b71c1c}.none{background:#eee;color:#555}
        td.pass,td.fail{text-align:center;font-weight:bold}
        """;

    /// <summary>
    /// report.html's bytes (UTF-8): its text, and the plots' data: URLs (<see cref="PlotExporter.PlotFile.SvgUrl"/>, UTF-8
    /// already) copied in where they go, not made into text and encoded back.
    /// </summary>
    public static ReadOnlyMemory<byte> ToHtml(Summary s, IReadOnlyList<PlotExporter.PlotFile> plots, ReportVerdict? verdict = null)
    {
        // Sized for the plots and about twice the text: the buffer is not copied as it grows.
        var size = 256 * 1024;
        foreach (var p in plots) size += p.SvgUrl.Length;
        var html = new ArrayBufferWriter<byte>(size);
        var b = new StringBuilder();
        var byName = plots.ToDictionary(p => p.Name);
        b.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        b.Append($"<title>Rehearsal report: {E(s.Run.Scenario)}</title><style>{Style}</style></head><body>\n");
        b.Append($"<h1>Rehearsal report: {E(s.Run.Scenario)}</h1>\n<p class=\"note\">Target {E(s.Run.Target)}, seed {s.Run.Seed}, observed {Time(s.Run.Start)} → {Time(s.Run.End)} UTC ({Duration(s.Run.DurationSeconds)}). Computed from the run's observation files only.</p>\n");
        b.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        b.Append("<nav>").AppendJoin("", Sections.Select(x => $"<a href=\"#{Id(x)}\">{E(x)}</a>")).Append("</nav>\n");

        Section(b, "Verdict");
        if (verdict is null) b.Append("<p class=\"verdict none\">Not judged: this report was built without the scenario's thresholds.</p>\n");
        else
        {
            b.Append($"<p class=\"verdict {(verdict.Lines.Count == 0 ? "none" : verdict.Passed ? "pass" : "fail")}\">{E(verdict.Headline)}</p>\n");
            if (verdict.Lines.Count > 0)
            {
                b.Append("<div class=\"scroll\"><table><tr><th></th><th class=\"l\">Threshold</th><th class=\"l\">Over</th><th class=\"l\">Figure</th><th>Value</th><th>Limit</th><th class=\"l\">Why</th></tr>\n");
                foreach (var l in verdict.Lines)
                    b.Append($"<tr><td class=\"{(l.Passed ? "pass" : "fail")}\">{(l.Passed ? "✓" : "✗")}</td><td class=\"l\">{E(l.Threshold)}</td><td class=\"l\">{E(l.Over)}</td><td class=\"l\">{E(l.Figure)}</td><td>{E(l.Value)}</td><td>{E(l.Limit)}</td><td class=\"l\">{E(l.Why)}</td></tr>\n");
                b.Append("</table></div>\n");
            }
        }

        Section(b, "Summary");
        b.Append("<ul>").AppendJoin("", Tables.Headline(s).Select(l => $"<li>{E(l)}</li>")).Append("</ul>\n<h3>Findings</h3><ul class=\"find\">")
            .AppendJoin("", Tables.Findings(s).Select(l => $"<li>{E(l)}</li>")).Append("</ul>\n");
        b.Append($"<h3>Experiments</h3><p class=\"note\">{E(Tables.InjectedNote(s))} Files moved are those seen in a transfer or deletion event.</p>");
        Table(b, ["Scope", "Files injected", "Bytes injected", "Average file size", "Datasets", "Containers", "Files moved", "Transfers done", "Deletions", "DIDs erased"],
            s.Experiments.Select(x => new[] { x.Scope, Tables.Recorded(x.InjectedFiles, Num), Tables.Recorded(x.InjectedBytes, v => Bytes(v)), x.AverageFileSize is { } a ? Bytes(a) : "-", Num(x.Datasets), Num(x.Containers), Num(x.Files), Num(x.TransfersDone), Num(x.DeletionsDone), Num(x.DidsErased) }));
        b.Append("<h3>RSEs</h3><p class=\"note\">Bytes written by injection, moved by transfers and deletions; net = injected + in − deleted.</p>");
        Table(b, ["RSE", "QoS", "Quota", "Watermark", "Injected", "Files injected", "In (transfers)", "Files in", "Out (as source)", "Deleted", "Files deleted", "Net"],
            s.Rses.Select(r => new[] { r.Rse, r.Qos ?? "-", r.Quota is { } q ? Bytes(q) : "-", r.Watermark is { } w ? Bytes(w) : "-", Tables.Recorded(r.InjectedBytes, v => Bytes(v)), Tables.Recorded(r.InjectedFiles, Num),
                Bytes(r.BytesIn), Num(r.FilesIn), Bytes(r.BytesOut), Bytes(r.BytesDeleted), Num(r.FilesDeleted), Tables.Recorded(r.NetBytes, v => Bytes(v)) }));

        Section(b, "Transfer matrix");
        var m = s.TransferMatrix;
        var target = m.LinkTarget ?? 0.9;
        b.Append($"<p class=\"note\">transfer-done / transfer-submitted per source (row) and destination (column), the FDR's definition: retries are new submissions, so a cell can pass 100 %. Every declared RSE has a row and a column; NO DATA where nothing was submitted. Hover a cell of the table for its counts and Rucio's done/(done+failed); transfer-matrix.csv has them all. Target {Pct(target)}: {m.LinksBelowTarget} of {m.LinksWithData} links with data below.</p>\n");
        Image(b, html, byName, "transfer-matrix", "natural");
        var cells = m.Links.ToDictionary(c => (c.Src, c.Dst));
        b.Append("<div class=\"scroll\"><table class=\"matrix\"><tr><th class=\"l\">src \\ dst</th>").AppendJoin("", m.Destinations.Select(d => $"<th>{E(d)}</th>")).Append("</tr>\n");
        foreach (var src in m.Sources)
        {
            b.Append($"<tr><th class=\"l\">{E(src)}</th>");
            foreach (var dst in m.Destinations)
            {
                var c = cells[(src, dst)];
                var title = E($"{src} → {dst}: submitted {Num(c.Submitted)}, done {Num(c.Done)}, failed {Num(c.Failed)}, done/(done+failed) {Pct1(c.Efficiency)}");
                if (c.Submitted == 0) b.Append($"<td class=\"nodata\" title=\"{title}\">NO DATA</td>");
                else
                {
                    var (bg, fg) = Tables.MatrixColors(c.DoneOverSubmitted!.Value);
                    b.Append($"<td style=\"background:{bg};color:{fg}\" title=\"{title}\">{E(Tables.MatrixCell(c))}</td>");
                }
            }
            b.Append("</tr>\n");
        }
        b.Append("</table></div>\n");

        Section(b, "Events over time");
        b.Append("<p class=\"note\">Dashed purple lines: chaos actions (see Faults).</p>");
        foreach (var name in new[] { "events-over-time", "events-by-scope", "events-by-protocol", "throughput", "backlog", "deletion-backlog", "rule-completion" }) Image(b, html, byName, name);
        b.Append("<h3>Events by type</h3>");
        Table(b, ["Event type", "Count"], s.Events.ByType.Select(c => new[] { c.Key, Num(c.Count) }));
        Pivot(b, "Events by scope and type", "Scope", s.Events.ByScopeAndType);
        Pivot(b, "Events by protocol and type", "Protocol", s.Events.ByProtocolAndType);

        Section(b, "Resource usage");
        b.Append("<p class=\"note\">Usage: median CPU (cores) and working set over the run, peak in brackets. Plots: blue use (max over the daemon's pods), red dashed limit, red lines OOMKilled, orange lines other kills.</p>");
        // Rows tinted like the plots: red OOMKilled, orange killed otherwise.
        Table(b, Tables.UsageHeader, Tables.UsageRows(s), rowClass: i => s.Resources[i].OomKilled > 0 ? "bad" : s.Resources[i].KilledByChaos + s.Resources[i].KilledOther > 0 ? "warn" : null);
        Image(b, html, byName, "memory-vs-limit");
        var shown = PlotExporter.WorthAPlot(s).ToList();
        var quiet = s.Resources.Where(u => !shown.Contains(u)).Select(u => u.Daemon).ToList();
        if (shown.Count > 0)
        {
            b.Append("<p class=\"note\">Daemons with something to see (OOMKilled, killed, limits changed, or a backlog): CPU and memory over time.</p><div class=\"grid\">");
            foreach (var u in shown)
            {
                Image(b, html, byName, $"cpu-{u.Daemon}");
                Image(b, html, byName, $"memory-{u.Daemon}");
            }
            b.Append("</div>\n");
        }
        if (quiet.Count > 0)
            b.Append($"<p class=\"note\">No plot for the {quiet.Count} daemons that ran without a kill, a limit change or a backlog (their figures are in the table above): {E(string.Join(", ", quiet))}.</p>\n");

        Section(b, "Takeaway");
        b.Append("<p class=\"note\">Per pod. VPA: p90 + 15 %; after an OOM max(used + 100 MiB, used × 1.2); at least 25 mCPU / 250 MiB. KRR simple: CPU request p95 (no CPU limit), memory request = limit = peak × 1.15. Totals multiply by replicas.</p>");
        Table(b, Tables.TakeawayHeader, Tables.TakeawayRows(s), totalLast: true,
            rowClass: i => i < s.Takeaway.Daemons.Count && s.Takeaway.Daemons[i].MemoryAdvice is "raise" or "set" ? "bad" : null);
        b.Append($"<p>{E(Tables.NodesLine(s.Takeaway))}</p>\n");

        Section(b, "Faults");
        if (s.Faults.Count == 0) b.Append("<p>No chaos action in this run.</p>");
        else
        {
            b.Append("<p class=\"note\">Time to recover: from the fault until the backlog watched is back to its level just before it.</p>");
            Table(b, Tables.FaultHeader, Tables.FaultRows(s));
        }
        if (s.Incidents.Count > 0)
        {
            b.Append("<h3>Pod kills</h3><p class=\"note\">Grouped by what killed the pods; every kill is in summary.json (incidents).</p>");
            Table(b, ["What", "Daemon", "Pods killed", "First", "Last"], Tables.IncidentGroups(s));
        }
        if (s.ApiLatency.Count > 0)
        {
            Section(b, "API latency");
            b.Append("<p class=\"note\">The harness's calls to Rucio; latency from each call's intended start (no coordinated omission).</p>");
            Table(b, Tables.ApiLatencyHeader, Tables.ApiLatencyRows(s));
        }
        b.Append("</body></html>\n");
        Flush(b, html);
        return html.WrittenMemory;
    }

    /// <summary>
    /// Atomic, not flushed to disk, like the plots it inlines: <c>fdr report</c> makes it again from the observations
    /// (flushing its 2 MB took 10-15 ms, at the end of the report).
    /// </summary>
    public static void Write(Summary s, IReadOnlyList<PlotExporter.PlotFile> plots, string dir, ReportVerdict? verdict = null) =>
        Core.Observations.RunDirectory.WriteAtomically(Path.Combine(dir, FileName), ToHtml(s, plots, verdict).Span, durable: false);

    /// <summary>The text so far onto <paramref name="html"/> as UTF-8 (it ends before an inlined plot: no character is split).</summary>
    private static void Flush(StringBuilder b, ArrayBufferWriter<byte> html)
    {
        var text = b.ToString();
        html.Advance(Encoding.UTF8.GetBytes(text, html.GetSpan(Encoding.UTF8.GetByteCount(text))));
        b.Clear();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string Id(string section) => section.ToLowerInvariant().Replace(' ', '-');
    private static void Section(StringBuilder b, string title) => b.Append($"<h2 id=\"{Id(title)}\">{E(title)}</h2>\n");

    private static void Image(StringBuilder b, ArrayBufferWriter<byte> html, Dictionary<string, PlotExporter.PlotFile> plots, string name, string? cls = null)
    {
        if (!plots.TryGetValue(name, out var p)) return;
        b.Append($"<img{(cls is null ? "" : $" class=\"{cls}\"")} alt=\"{E(p.Title)}\" title=\"{E(p.Title)}\" src='data:image/svg+xml,");
        Flush(b, html);
        html.Write(p.SvgUrl);
        b.Append("'>\n");
    }

    /// <summary>
    /// The plot's SVG as the body of a data: URL in a single-quoted attribute: the characters that would end the attribute,
    /// start an HTML character reference or a URL's fragment, or be read as an escape are percent-encoded; the XML
    /// declaration and the newlines and tabs that indent the elements are left out (a URL parser drops them anyway).
    /// Plain text, not base64: a third smaller, and it stays vector (sharp at any zoom).
    /// </summary>
    internal static byte[] SvgUrl(ReadOnlySpan<byte> svg)
    {
        // UTF-8 holds the characters to escape as themselves (ASCII), never inside another character's bytes. A byte at a
        // time through a table: in an SVG one byte in a few is an angle bracket or a '#', too often for IndexOfAny to pay.
        if (svg.StartsWith("<?xml"u8)) svg = svg[(svg.IndexOf("?>"u8) + 2)..];
        var length = 0;
        foreach (var c in svg) length += UrlLength[c];
        var url = new byte[length];
        var at = 0;
        foreach (var c in svg)
        {
            switch (UrlLength[c])
            {
                case 1: url[at++] = c; break;
                case 3: url[at] = (byte)'%'; url[at + 1] = Hex[c >> 4]; url[at + 2] = Hex[c & 15]; at += 3; break;
            }
        }
        return url;
    }

    /// <summary>Each byte's length in the URL: 3 percent-encoded, 0 left out (newlines and tabs), else 1.</summary>
    private static readonly byte[] UrlLength = UrlLengths();

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    private static byte[] UrlLengths()
    {
        var lengths = new byte[256];
        lengths.AsSpan().Fill(1);
        foreach (var c in "%#&'<>"u8) lengths[c] = 3;
        foreach (var c in "\n\r\t"u8) lengths[c] = 0;
        return lengths;
    }

    private static void Table(StringBuilder b, IEnumerable<string> header, IEnumerable<string[]> rows, bool totalLast = false, Func<int, string?>? rowClass = null)
    {
        b.Append("<div class=\"scroll\"><table><tr>").AppendJoin("", header.Select((h, i) => $"<th{(i == 0 ? " class=\"l\"" : "")}>{E(h)}</th>")).Append("</tr>\n");
        var list = rows.ToList();
        for (var r = 0; r < list.Count; r++)
            b.Append(totalLast && r == list.Count - 1 ? "<tr class=\"total\">" : rowClass?.Invoke(r) is { } cls ? $"<tr class=\"{cls}\">" : "<tr>")
                .AppendJoin("", list[r].Select((c, i) => $"<td{(i == 0 || i == list[r].Length - 1 ? " class=\"l\"" : "")}>{E(c)}</td>")).Append("</tr>\n");
        b.Append("</table></div>\n");
    }

    private static void Pivot(StringBuilder b, string title, string what, IReadOnlyList<CountBy2> counts)
    {
        var types = counts.Select(c => c.Type).Distinct().Order(StringComparer.Ordinal).ToList();
        var keys = counts.Select(c => c.Key).Distinct().Order(StringComparer.Ordinal).ToList();
        var at = counts.ToDictionary(c => (c.Key, c.Type), c => c.Count);
        b.Append($"<h3>{E(title)}</h3>");
        Table(b, [what, .. types], keys.Select(k => new[] { k }.Concat(types.Select(t => at.TryGetValue((k, t), out var n) ? Num(n) : "")).ToArray()));
    }
}
