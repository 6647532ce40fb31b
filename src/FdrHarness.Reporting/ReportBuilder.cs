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
        // The plots that need no events are drawn while the event pass still runs (paying the plots' first-use cost, code
        // and fonts, there too); with the events fed by the run's sink, the other core warms up while this one reads the files.
        PlotExporter.Early? early = null;
        var summary = SummaryBuilder.Build(runDir, options, options.Plots ? PlotExporter.WarmUp : null,
            options.Plots ? (withoutEvents, eventsDone) => early = PlotExporter.DrawEarly(withoutEvents, eventsDone) : null);
        // The plots (most of the exporters' time) start on the other cores while this thread judges and writes the text formats.
        var drawing = options.Plots ? PlotExporter.Start(summary, runDir, early) : null;
        ReportVerdict? verdict;
        List<string> files;
        try
        {
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
