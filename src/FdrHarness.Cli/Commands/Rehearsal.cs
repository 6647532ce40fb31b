using System.Diagnostics;
using System.Globalization;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Reporting;
using FdrHarness.Reporting.Input;
using Spectre.Console;

namespace FdrHarness.Cli.Commands;

/// <summary>Where a run goes and how it is stopped.</summary>
public sealed record RehearsalOptions
{
    /// <summary>--out: the run folder; reports/&lt;scenario&gt;/&lt;time&gt;-&lt;seed&gt; when null.</summary>
    public string? OutDir { get; init; }
    public string ReportsRoot { get; init; } = RunDirectory.DefaultReportsRoot;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Live metrics (--metrics-port): they see every observation and the progress; null when off.</summary>
    public RunMetrics? Metrics { get; init; }
    /// <summary>`fdr run --resume`: the taken-over folder of the run to continue, and its run.json (its original start).</summary>
    public (RunDirectory Directory, RunInfo Info)? Resume { get; init; }
    /// <summary>The exit code when the run's token is cancelled (130 for SIGINT, 143 for SIGTERM).</summary>
    public Func<int> InterruptedExit { get; init; } = () => ExitCodes.Interrupted;
    /// <summary>--shard i/N: carry out part i of N of the plan (recorded in run.json for fdr merge); null for the whole plan.</summary>
    public ShardSpec? Shard { get; init; }
    /// <summary>-q: no plan, progress or summary lines; the run folder, the report and the verdict are still said.</summary>
    public bool Quiet { get; init; }
    /// <summary>--no-color (or NO_COLOR set): progress as plain lines, never the live table's escape codes.</summary>
    public bool Plain { get; init; }
    /// <summary>--force: a finished run's folder at --out is emptied and reused instead of refused.</summary>
    public bool Force { get; init; }
    /// <summary>--png: the report writes each plot as plots/*.png too.</summary>
    public bool Png { get; init; }
    /// <summary>--overlay files merged over the scenario (run.json records them with their sha256).</summary>
    public IReadOnlyList<Core.Scenarios.AppliedOverlay>? Overlays { get; init; }
    /// <summary>
    /// The report's event pass, fed as the sink writes events.parquet (<see cref="ObservationFeed"/>); null: the run makes
    /// its own. Used only for a run that writes its files whole (not a shard, not a resumed run); tests pass theirs to see
    /// whether the report took it.
    /// </summary>
    public ObservationFeed? ReportFeed { get; init; }
}

/// <summary>
/// The one lifecycle of a run, whatever the target: run directory → sink → target → report → verdict → run.json.
/// Interrupted or aborted, the observations so far are completed and reported; run.json always gets an exit status.
/// </summary>
public static class Rehearsal
{
    public static Task<int> RunAsync(RunPlan plan, IRehearsalTarget target, RehearsalOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct) =>
        RunAsync(plan.Scenario, Task.FromResult(plan), target, options, stdout, stderr, ct);

    /// <summary>
    /// As above, with the plan of <paramref name="scenario"/> (its phases and chaos named: <see cref="RunPlan.Scenario"/>)
    /// still being made: the run folder and the sink are set up meanwhile, and the plan is awaited only when the target needs it.
    /// </summary>
    public static async Task<int> RunAsync(Core.Scenarios.Model.Scenario scenario, Task<RunPlan> planning, IRehearsalTarget target, RehearsalOptions options,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        RunDirectory dir;
        RunInfo info;
        try
        {
            if (options.Resume is { } resume) (dir, info) = resume;
            else
            {
                if (options.Force && options.OutDir is { } outDir) RunDirectory.ClearFinished(outDir);
                dir = RunDirectory.Start(scenario, options.ReportsRoot, options.OutDir, out info, options.Time,
                options.Shard is { } s ? new RunShard(s.Index, s.Count) : null, options.Overlays);
            }
        }
        catch (Exception e) when (e is RunDirectoryException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"fdr run: {e.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        await stdout.WriteLineAsync($"Run directory: {dir.Path}").ConfigureAwait(false);

        var wall = Stopwatch.StartNew();
        TargetOutcome? outcome = null;
        var exit = ExitCodes.Success;
        // --shard 0/1 is the whole plan (a one-pod Indexed Job): a whole run, with its report and thresholds.
        var shardSpec = options.Shard is { IsWhole: false } spec ? spec : (ShardSpec?)null;
        if (shardSpec is { } announced) await stdout.WriteLineAsync($"Shard {announced}: its part of the plan; the thresholds and the report come from fdr merge").ConfigureAwait(false);
        PlanShard? shard = null;
        // Abort-on-fail watches a live run on its wall clock; the lake is judged once, at its end; a shard sees only its part.
        var abort = target.Kind == "embedded" || shardSpec is not null ? null : RunVerdict.AbortOnFail(scenario, stdout)?.Invoke(info.StartedUtc);
        string? abortReason = null;
        // The report's event pass fed as the sink writes events.parquet, so the report does not decode it again: for a run
        // that writes its files whole (not a shard, not a resumed run); the report checks the file holds what it saw.
        var feed = shardSpec is null && options.Resume is null ? options.ReportFeed ?? new ObservationFeed() : null;
        if (feed is null) options.ReportFeed?.Drop(shardSpec is not null ? "a shard writes a part of the run's observations" : "a resumed run's files were begun by another process");
        // One full row group waiting for the writer, not two: the fed pass's accumulators (about 15 MB on the main job) live
        // through the run now, and one event row group less (≈ 9 MB and its strings) keeps the run's peak where it was
        // (README benchmarks). The writer is the slower of the two: a deeper queue did not shorten the run.
        await using (var parquet = dir.OpenSink(new ParquetSinkOptions { Observer = feed, MaxPendingRowGroups = 1 }))
        {
            var pods = new PodIncidents();
            IObservationSink sink = new ObservedSink(options.Metrics is { } m ? new TeeSink(parquet, m) : parquet, abort?.Observe,
                e => { pods.Observe(e); abort?.ObservePod?.Invoke(e); });
            // The lake calls the sink from its one thread; a live run's producers (broker, cluster) are several.
            if (target.Kind != "embedded") sink = new SynchronizedSink(sink);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Action<string>? abortWith = abort is null ? null : reason =>
            {
                Interlocked.CompareExchange(ref abortReason, reason, null);
                stop.Cancel();
            };
            var watching = abortWith is null ? Task.CompletedTask : WatchAsync(abort!, options.Time, abortWith, stop.Token);
            try
            {
                var plan = await planning.ConfigureAwait(false);
                if (shardSpec is { } part) shard = new PlanShard(plan, part);
                outcome = await WithProgress(stdout, target, options, pods, progress =>
                    target.ExecuteAsync(plan, new RehearsalContext(dir.Path, info.StartedUtc, sink, stdout, progress, shard, abortWith), stop.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                exit = options.InterruptedExit();
                await stdout.WriteLineAsync("interrupted: writing what was observed so far").ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (abortReason is not null)
            {
                exit = ExitCodes.ThresholdsFailed;
                await stderr.WriteLineAsync($"fdr: aborted: {abortReason}").ConfigureAwait(false);
            }
            await stop.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }
        wall.Stop();
        // Interrupted or aborted: the report reads what the files hold.
        if (outcome is null) feed?.Drop("the run did not finish");

        if (outcome is not null)
        {
            await stdout.WriteLineAsync($"Done in {wall.Elapsed.TotalSeconds:0.0} s" + (options.Quiet ? "" : ":")).ConfigureAwait(false);
            if (!options.Quiet)
                foreach (var line in outcome.Summary) await stdout.WriteLineAsync("  " + line).ConfigureAwait(false);
            exit = outcome.ExitCode;
        }
        // The report reads only the observation files, so an interrupted or aborted run gets its report too. A shard's
        // observations are a part of the run's: its report and thresholds come from the merged shards.
        if (shardSpec is null)
        {
            // The lake's state is garbage now: free it before the report allocates, so the peaks of the two phases don't add
            // up (README benchmarks: without it 290-295 MiB against 261-264). Not compacting: the report reuses the space in
            // place, and the main job's peak is the same as with a compacting, decommitting collection, for 0.2-0.3 CPU-s less.
            // In the background: the report starts while it marks, instead of after a 30-40 ms pause (same peak).
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
            await stdout.WriteLineAsync("Writing the report and judging the thresholds…").ConfigureAwait(false);
            var verdict = RunVerdict.ReportAndJudge(scenario, dir.Path, stdout, options.Metrics, feed, options.Png);
            if (exit == ExitCodes.Success) exit = verdict;
        }
        else if (outcome is not null && shardSpec is { } done)
        {
            await stdout.WriteLineAsync($"Shard {done} finished: join the {done.Count} shards' folders with fdr merge RUN_DIR... --out DIR").ConfigureAwait(false);
        }
        dir.Finish(info, exit, outcome?.Counters, options.Time);
        if (outcome is null) await stderr.WriteLineAsync($"Interrupted after {wall.Elapsed.TotalSeconds:0.0} s; the partial report is {Path.Combine(dir.Path, "report.html")}").ConfigureAwait(false);
        return exit;
    }

    /// <summary>Asks <paramref name="abort"/> every interval until it names a reason (then <paramref name="stop"/>) or the run ends.</summary>
    private static async Task WatchAsync(AbortCheck abort, TimeProvider time, Action<string> stop, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(abort.Interval, time, ct).ConfigureAwait(false);
                if (abort.Check(time.GetUtcNow().UtcDateTime) is { } reason)
                {
                    stop(reason);
                    return;
                }
            }
        }
        catch (OperationCanceledException) { /* the run ended first */ }
    }

    /// <summary>
    /// The lake's progress: a live table when a person watches a terminal in colour, one plain line per virtual hour
    /// otherwise (CI logs, --no-color); nothing with -q. A live target prints its own lines.
    /// </summary>
    private static async Task<TargetOutcome> WithProgress(TextWriter stdout, IRehearsalTarget target, RehearsalOptions options, PodIncidents pods,
        Func<IProgress<RehearsalProgress>?, Task<TargetOutcome>> run)
    {
        if (target.Kind != "embedded") return await run(null).ConfigureAwait(false);
        if (options.Metrics is { } metrics)
        {
            var inner = run;
            run = progress => inner(new Reporter(p => { metrics.Progress(p.Elapsed, p.FilesInjected); progress?.Report(p); }));
        }
        if (options.Quiet) return await run(null).ConfigureAwait(false);
        var wall = Stopwatch.StartNew();
        var interactive = !options.Plain && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!interactive)
        {
            var nextHour = TimeSpan.Zero;
            return await run(new Reporter(p =>
            {
                if (p.Elapsed < nextHour && p.Elapsed < p.Duration) return;
                nextHour = p.Elapsed + TimeSpan.FromHours(1);
                stdout.WriteLine(Line(p, wall.Elapsed, pods));
            })).ConfigureAwait(false);
        }
        TargetOutcome outcome = null!;
        var table = new Table().AddColumns("virtual time", "wall", "ETA", "files", "transfers active", "done", "failed", "OOMKills", "kills", "largest backlogs");
        await AnsiConsole.Live(table).StartAsync(async ctx =>
        {
            var lastDraw = Stopwatch.StartNew();
            outcome = await run(new Reporter(p =>
            {
                if (lastDraw.ElapsedMilliseconds < 100 && p.Elapsed < p.Duration) return;
                lastDraw.Restart();
                table.Rows.Clear();
                table.AddRow($"{Durations.Format(p.Elapsed)} / {Durations.Format(p.Duration)}", Seconds(wall.Elapsed), Eta(p, wall.Elapsed),
                    N(p.FilesInjected), N(p.TransfersActive), N(p.TransfersDone), N(p.TransfersFailed), N(pods.OomKills), N(pods.Kills),
                    Markup.Escape(Backlogs(p)));
                ctx.Refresh();
            })).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return outcome;
    }

    private static string Line(RehearsalProgress p, TimeSpan wall, PodIncidents pods) =>
        $"  {Durations.Format(p.Elapsed),8} (wall {Seconds(wall)}, ETA {Eta(p, wall)}) files {N(p.FilesInjected),9}  transfers active {N(p.TransfersActive),7} done {N(p.TransfersDone),9} failed {N(p.TransfersFailed),7}  OOMKills {N(pods.OomKills)} kills {N(pods.Kills)}  backlog {Backlogs(p)}";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    /// <summary>Wall time left, from the pace so far (virtual time per wall second).</summary>
    private static string Eta(RehearsalProgress p, TimeSpan wall) =>
        p.Elapsed >= p.Duration ? "0 s" : p.Elapsed <= TimeSpan.Zero ? "-" : Seconds(wall * ((p.Duration - p.Elapsed) / p.Elapsed));

    private static string Backlogs(RehearsalProgress p) =>
        string.Join(", ", p.Backlog.Where(b => b.Value > 0).OrderByDescending(b => b.Value).Take(3).Select(b => $"{b.Key} {N(b.Value)}"));

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>OOMKills and chaos kills seen so far in the pods' lifecycle, whatever the target: the progress shows them.</summary>
    private sealed class PodIncidents
    {
        private long _oomKills, _kills;
        public long OomKills => Interlocked.Read(ref _oomKills);
        public long Kills => Interlocked.Read(ref _kills);

        public void Observe(PodLifecycleEvent e)
        {
            if (e.Event == LifecycleEvents.OomKilled) Interlocked.Increment(ref _oomKills);
            else if (e.Event == LifecycleEvents.Killed) Interlocked.Increment(ref _kills);
        }
    }

    /// <summary>Reports synchronously on the target's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<RehearsalProgress> report) : IProgress<RehearsalProgress>
    {
        public void Report(RehearsalProgress value) => report(value);
    }
}
