using System.Diagnostics;
using System.Globalization;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using FdrHarness.Reporting;
using Spectre.Console;

namespace FdrHarness.Cli.Commands;

/// <summary>A rehearsal on the embedded data lake: run directory, observations, live progress, end-of-run summary.</summary>
public static class EmbeddedRun
{
    public static int Execute(Scenario scenario, string? outDir, TextWriter stdout, TextWriter stderr, Signals signals, RunMetrics? metrics = null)
    {
        RunDirectory dir;
        RunInfo info;
        try
        {
            dir = RunDirectory.Start(scenario, RunDirectory.DefaultReportsRoot, outDir, out info);
        }
        catch (Exception e) when (e is RunDirectoryException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fdr run: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        stdout.WriteLine($"Run directory: {dir.Path}");

        var wall = Stopwatch.StartNew();
        LakeResult? result = null;
        var exit = ExitCodes.Success;
        using (var sink = dir.OpenSink())
        {
            try
            {
                result = WithProgress(stdout, scenario, progress => EmbeddedLake.Run(scenario, metrics is null ? sink : new TeeSink(sink, metrics),
                    metrics is null ? progress : new Reporter(p => { metrics.Progress(p.VirtualTime, p.FilesInjected); progress.Report(p); }), signals.Token));
            }
            catch (OperationCanceledException)
            {
                exit = signals.ExitCode(ExitCodes.Interrupted); // 130, or 143 for SIGTERM: run.json says which
            }
        }
        wall.Stop();
        if (result is null)
        {
            // The report reads only the observation files, so an interrupted run gets its partial report too.
            var partial = ReportBuilder.Build(dir.Path);
            dir.Finish(info, exit);
            stderr.WriteLine($"Interrupted after {wall.Elapsed.TotalSeconds:0.0} s; the partial report is {Path.Combine(partial.Directory, "report.html")}");
            return exit;
        }
        PrintSummary(result, wall.Elapsed, stdout);
        exit = RunVerdict.ReportAndJudge(scenario, dir.Path, stdout, metrics);
        dir.Finish(info, exit, Summary(result));
        return exit;
    }

    /// <summary>A live table when a person watches a terminal; one plain line per virtual hour otherwise (CI logs).</summary>
    private static LakeResult WithProgress(TextWriter stdout, Scenario scenario, Func<IProgress<LakeProgress>, LakeResult> run)
    {
        var interactive = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!interactive)
        {
            var nextHour = TimeSpan.Zero;
            return run(new Reporter(p =>
            {
                if (p.VirtualTime < nextHour && p.VirtualTime < p.Duration) return;
                nextHour = p.VirtualTime + TimeSpan.FromHours(1);
                stdout.WriteLine(Line(p));
            }));
        }
        LakeResult result = null!;
        var table = new Table().AddColumns("virtual time", "files", "transfers active", "done", "failed", "largest backlogs");
        AnsiConsole.Live(table).Start(ctx =>
        {
            var lastDraw = Stopwatch.StartNew();
            result = run(new Reporter(p =>
            {
                if (lastDraw.ElapsedMilliseconds < 100 && p.VirtualTime < p.Duration) return;
                lastDraw.Restart();
                table.Rows.Clear();
                table.AddRow($"{Durations.Format(p.VirtualTime)} / {Durations.Format(p.Duration)}", N(p.FilesInjected), N(p.TransfersActive),
                    N(p.TransfersDone), N(p.TransfersFailed), Markup.Escape(Backlogs(p)));
                ctx.Refresh();
            }));
        });
        return result;
    }

    private static string Line(LakeProgress p) =>
        $"  {Durations.Format(p.VirtualTime),8} files {N(p.FilesInjected),9}  transfers active {N(p.TransfersActive),7} done {N(p.TransfersDone),9} failed {N(p.TransfersFailed),7}  backlog {Backlogs(p)}";

    private static string Backlogs(LakeProgress p) =>
        string.Join(", ", p.Backlog.Where(b => b.Value > 0).OrderByDescending(b => b.Value).Take(3).Select(b => $"{b.Key} {N(b.Value)}"));

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static void PrintSummary(LakeResult r, TimeSpan wall, TextWriter o)
    {
        o.WriteLine($"Done: {Durations.Format(r.VirtualEnd)} of virtual time in {wall.TotalSeconds:0.0} s, {N(r.Events)} events.");
        o.WriteLine($"  files:     {N(r.FilesInjected)} injected, {N(r.FilesReplicated)} replicated, {N(r.FilesDeleted)} deleted");
        var ratio = r.TransfersSubmitted == 0 ? 0 : 100.0 * r.TransfersDone / r.TransfersSubmitted;
        o.WriteLine($"  transfers: {N(r.TransfersSubmitted)} submitted, {N(r.TransfersDone)} done ({ratio:0.0} %), {N(r.TransfersFailed)} failed, {N(r.TransfersActive)} active; {new ByteSize(r.BytesTransferred)}");
        o.WriteLine($"  rules:     {N(r.RulesCreated)} created, {N(r.RulesOk)} OK, {N(r.RulesStuck)} stuck");
        foreach (var d in r.Daemons.Where(d => d.OomKills > 0 || d.Restarts > 0))
            o.WriteLine($"  {d.Daemon}: {d.OomKills} OOMKilled, {d.Restarts} restarts");
    }

    private static Dictionary<string, double> Summary(LakeResult r) => new()
    {
        ["files_injected"] = r.FilesInjected,
        ["transfers_submitted"] = r.TransfersSubmitted,
        ["transfers_done"] = r.TransfersDone,
        ["transfers_failed"] = r.TransfersFailed,
        ["rules_ok"] = r.RulesOk,
        ["events"] = r.Events,
    };

    /// <summary>Reports synchronously on the simulation's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<LakeProgress> report) : IProgress<LakeProgress>
    {
        public void Report(LakeProgress value) => report(value);
    }
}
