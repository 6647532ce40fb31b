using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Exporters;

/// <summary>
/// What each exporter is handed: the run's summary, where to write, the verdict when thresholds were judged, and what
/// earlier exporters made for later ones (the plots report.html inlines).
/// </summary>
public sealed class ExportContext(Summary summary, string runDir, ReportVerdict? verdict, ReportOptions options)
{
    public Summary Summary { get; } = summary;
    public string RunDir { get; } = runDir;
    public ReportVerdict? Verdict { get; } = verdict;
    public ReportOptions Options { get; } = options;
    public IReadOnlyList<PlotExporter.PlotFile> Plots { get; set; } = [];
    /// <summary>The plots when they were started before the exporters ran (<see cref="ReportBuilder"/>); else the plot exporter draws them.</summary>
    internal PlotExporter.Drawing? Drawing { get; init; }
}

/// <summary>One report format; writes its files into the run directory and returns their paths relative to it.</summary>
public interface IExporter
{
    IEnumerable<string> Export(ExportContext context);
}

/// <summary>Every format, in the order they run (report.html last: it inlines the plots). A new format is one line here.</summary>
public static class ReportFormats
{
    public static readonly IReadOnlyList<IExporter> All =
        [new JsonExporter(), new CsvExporter(), new MarkdownExporter(), new PlotExporter(), new HtmlExporter()];
}
