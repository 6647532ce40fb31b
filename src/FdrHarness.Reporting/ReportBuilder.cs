using System.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Reporting;

/// <summary>What <see cref="ReportBuilder.Build"/> wrote.</summary>
public sealed record ReportResult(string Directory, Summary Summary, IReadOnlyList<string> Files, TimeSpan Elapsed, ReportVerdict? Verdict = null);

/// <summary>
/// The rehearsal report of a run directory, from its observation files alone: one <see cref="Summary"/>, then each
/// exporter writes its files beside the observations (report.html, report.md, summary.json, *.csv, plots/).
/// </summary>
public static class ReportBuilder
{
    /// <exception cref="ReportInputException">The folder is missing or has no events.parquet.</exception>
    public static ReportResult Build(string runDir, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        if (!Directory.Exists(runDir))
            throw new ReportInputException("no such run directory (a folder under reports/<scenario>/)");
        if (!File.Exists(Path.Combine(runDir, ParquetObservationSink.EventsFile)))
            throw new ReportInputException($"not a run directory: it has no {ParquetObservationSink.EventsFile}");
        var clock = Stopwatch.StartNew();
        // The plots' threads start now: while the event pass runs they draw the plots that need no events (paying the
        // plots' first-use cost, code and fonts, there too), or warm up while this thread reads the other files when the
        // run's sink fed the events; then they draw the report's plots while this thread judges and writes the text formats.
        var drawing = options.Plots ? new PlotExporter.Drawing(runDir, options.Png) : null;
        Summary summary;
        ReportVerdict? verdict;
        List<string> files;
        try
        {
            summary = SummaryBuilder.Build(runDir, options, drawing is null ? null : drawing.WarmUp, drawing is null ? null : drawing.DrawEarly);
            drawing?.Start(summary);
            verdict = options.Judge?.Invoke(summary);
            var context = new ExportContext(summary, runDir, verdict, options) { Drawing = drawing };
            files = ReportFormats.All.SelectMany(e => e.Export(context).ToList()).ToList();
        }
        finally
        {
            drawing?.Stop();
        }
        // report.html first: it is what a user opens.
        files = [.. files.Where(f => f == HtmlExporter.FileName), .. files.Where(f => f != HtmlExporter.FileName)];
        return new ReportResult(Path.GetFullPath(runDir), summary, files, clock.Elapsed, verdict);
    }
}

/// <summary>A run directory that cannot be reported on; the message says why, callers name the directory.</summary>
public sealed class ReportInputException(string message) : IOException(message);
