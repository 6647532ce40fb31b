using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio;

/// <summary>What the command line adds to a scenario for a live run.</summary>
public sealed record LiveRunOptions
{
    /// <summary>--rucio-url: replaces target.rucio.url (and FDR_RUCIO_URL).</summary>
    public Uri? RucioUrl { get; init; }
    /// <summary>--out: the run folder; reports/&lt;scenario&gt;/&lt;time&gt;-&lt;seed&gt; when null.</summary>
    public string? OutDir { get; init; }
    public string ReportsRoot { get; init; } = RunDirectory.DefaultReportsRoot;
    /// <summary>Environment lookup: FDR_RUCIO_URL, FDR_RUCIO_ACCOUNT, FDR_RUCIO_VO, FDR_RUCIO_TOKEN, FDR_RUCIO_PASSWORD and the scenario's *_env names.</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>The reachability check gives up after this long (the whole command must answer within 30 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Keep reading events until the scenario's duration has passed (false: stop when the phases are done).</summary>
    public bool WaitForDuration { get; init; } = true;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>
    /// Called with the run folder once its observation files are complete, also after Ctrl-C: the report and the threshold
    /// verdict. Returns the exit code of the verdict (0 or 99), which replaces a successful run's.
    /// </summary>
    public Func<string, int>? Conclude { get; init; }
    /// <summary>Abort-on-fail, made with the run's start time: sees every event kept and is asked now and then whether the run must stop.</summary>
    public Func<DateTime, LiveAbortCheck>? AbortOnFail { get; init; }
    /// <summary>
    /// Work that runs beside the phases for the whole run (the cluster's chaos and observation), writing into the run's
    /// sink; cancelled and awaited before the observation files are closed. It tells its own errors and returns an exit
    /// code, which replaces a successful run's.
    /// </summary>
    public Func<LiveRunContext, CancellationToken, Task<int>>? Alongside { get; init; }
    /// <summary>Sees every observation after it is written (the live metrics).</summary>
    public IObservationSink? Observer { get; init; }
    /// <summary>Called once the run has started, with what can be read while it runs (the live metrics).</summary>
    public Action<LiveRunView>? Started { get; init; }
    /// <summary>How often rule states are polled (replaced rules of a qos_transition; progress without a broker).</summary>
    internal TimeSpan RulePoll { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Tests shorten the client's timeouts and backoff.</summary>
    internal Func<RucioClientOptions, RucioClientOptions>? TuneClient { get; init; }
}

/// <summary>
/// What <see cref="LiveRunOptions.Alongside"/> gets: the run folder, its start, the sink shared with the broker's events,
/// and <paramref name="Counters"/> it may fill for run.json's summary.
/// </summary>
public sealed record LiveRunContext(string RunPath, DateTime StartedUtc, IObservationSink Sink, IDictionary<string, double> Counters);

/// <summary>What a live run shows while it runs: its start, the files registered so far, the statistics of its Rucio calls
/// (<paramref name="Api"/>) and of its load batches (<paramref name="Load"/>).</summary>
public sealed record LiveRunView(DateTime StartedUtc, TimeProvider Time, Func<long> FilesRegistered, OperationStats Api, OperationStats Load);

/// <summary>Abort-on-fail for a live run: <paramref name="Observe"/> gets each event kept and <paramref name="ObservePod"/> each
/// pod change; <paramref name="Check"/> answers why the run must stop (a line for the operator), or null to go on; asked
/// every <paramref name="Interval"/>.</summary>
public sealed record LiveAbortCheck(Action<HermesEvent> Observe, Func<DateTime, string?> Check, TimeSpan Interval, Action<PodLifecycleEvent>? ObservePod = null);

/// <summary>
/// `fdr run SCENARIO --target rucio`: drives a real Rucio with the scenario's phases at the pace of their load simulations,
/// reads Hermes events from the broker into events.parquet, and writes the API latency table. Exit codes as design.md:
/// 3 when the server cannot be reached or refuses the credentials (one line on stderr), 130 on Ctrl-C (partial results kept).
/// </summary>
public static class LiveRun
{
    public static async Task<int> ExecuteAsync(Scenario scenario, LiveRunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var env = options.Env;
        var configured = scenario.Target.Rucio;
        var url = options.RucioUrl ?? (env("FDR_RUCIO_URL") is { Length: > 0 } u && Uri.TryCreate(u, UriKind.Absolute, out var eu) ? eu : null) ?? configured?.Url;
        if (url is null)
        {
            await stderr.WriteLineAsync("fdr: no Rucio URL: set target.rucio.url in the scenario, --rucio-url or FDR_RUCIO_URL").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        var connection = (configured ?? new RucioConnection { Url = url, Auth = DefaultAuth(env) }) with
        {
            Url = url,
            Account = env("FDR_RUCIO_ACCOUNT") is { Length: > 0 } a ? a : configured?.Account is { Length: > 0 } ca ? ca : "root",
            Vo = env("FDR_RUCIO_VO") is { Length: > 0 } vo ? vo : configured?.Vo,
        };
        var display = Display(url);

        // 1. Reachable? A short, bounded probe: the operator learns in seconds that the URL is wrong.
        var probeOptions = RucioClientOptions.From(connection, env) with
        {
            MaxRetries = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(250),
            RetryMaxDelay = TimeSpan.FromSeconds(2),
            AttemptTimeout = TimeSpan.FromSeconds(6),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            Time = options.Time,
        };
        var apiStats = new OperationStats();
        string version;
        using (var probe = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            probe.CancelAfter(options.ProbeTimeout);
            using var prober = new RucioClient(options.TuneClient?.Invoke(probeOptions) ?? probeOptions, apiStats);
            try
            {
                version = await prober.PingAsync(probe.Token).ConfigureAwait(false);
                await prober.AuthenticateNowAsync(probe.Token).ConfigureAwait(false);
            }
            catch (RucioUnreachableException e)
            {
                await stderr.WriteLineAsync($"fdr: cannot reach Rucio at {display}: {OneLine(e.Reason)}").ConfigureAwait(false);
                return ExitCodes.TargetUnreachable;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"fdr: cannot reach Rucio at {display}: no answer within {options.ProbeTimeout.TotalSeconds:0} s").ConfigureAwait(false);
                return ExitCodes.TargetUnreachable;
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Interrupted;
            }
            catch (RucioException e)
            {
                await stderr.WriteLineAsync($"fdr: Rucio at {display} refused the harness: {(int)e.Status} {e.ExceptionClass}: {OneLine(e.ServerMessage)}").ConfigureAwait(false);
                return ExitCodes.TargetUnreachable;
            }
        }
        await stdout.WriteLineAsync($"Rucio {version} at {display}, account {connection.Account}").ConfigureAwait(false);
        // The run's client: full retries (the probe's were short so that a wrong URL is told at once).
        var runOptions = RucioClientOptions.From(connection, env) with { Time = options.Time };
        using var client = new RucioClient(options.TuneClient?.Invoke(runOptions) ?? runOptions, apiStats);

        // 2. The run itself.
        var run = RunDirectory.Start(scenario with { Target = scenario.Target with { Kind = TargetKind.Rucio, Rucio = connection } },
            options.ReportsRoot, options.OutDir, out var info, options.Time);
        var exit = ExitCodes.Success;
        var besideCounters = new System.Collections.Concurrent.ConcurrentDictionary<string, double>(StringComparer.Ordinal);
        var driver = new LiveDriver(scenario, connection, client, options, stdout);
        await using (var parquet = run.OpenSink())
        {
            var abortCheck = options.AbortOnFail?.Invoke(info.StartedUtc);
            var sink = new SynchronizedSink(options.Observer is { } observer ? new TeeSink(parquet, observer) : parquet, abortCheck?.Observe, abortCheck?.ObservePod);
            options.Started?.Invoke(new LiveRunView(info.StartedUtc, options.Time, () => driver.FilesRegistered, apiStats, driver.LoadStats));
            using var stopEvents = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var stopPhases = CancellationTokenSource.CreateLinkedTokenSource(ct);
            HermesConsumer? consumer = null;
            Task? consuming = null;
            if (connection.Broker is { } broker)
            {
                consumer = new HermesConsumer(new HermesConsumerOptions
                {
                    Broker = broker.Url,
                    Destination = broker.Destination,
                    Username = broker.UsernameEnv is { } ue ? env(ue) : null,
                    Password = broker.PasswordEnv is { } pe ? env(pe) : null,
                    Scopes = scenario.Experiments.Select(x => x.EffectiveScope)
                        .Concat(scenario.Workload.OfType<NoisePhase>().Select(n => n.Scope)).ToHashSet(StringComparer.Ordinal),
                    SubscriptionName = "fdr-" + RunDirectory.SafeName(scenario.Run.Name),
                    Time = options.Time,
                }, sink);
                consuming = consumer.RunAsync(stopEvents.Token);
            }
            else
            {
                await stdout.WriteLineAsync("no broker configured (target.rucio.broker): progress comes from rule states only").ConfigureAwait(false);
            }
            var beside = options.Alongside is { } alongside
                ? Task.Run(() => alongside(new LiveRunContext(run.Path, info.StartedUtc, sink, besideCounters), stopEvents.Token))
                : Task.FromResult(ExitCodes.Success);
            string? abortReason = null;
            var watching = abortCheck is { } abort ? WatchAsync(abort, options.Time, r => { abortReason = r; stopPhases.Cancel(); }, stopPhases.Token) : Task.CompletedTask;

            try
            {
                await driver.RunPhasesAsync(stopPhases.Token).ConfigureAwait(false);
                if (options.WaitForDuration) await driver.ObserveUntilAsync(info.StartedUtc + scenario.Run.Duration, consumer, stopPhases.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                exit = ExitCodes.Interrupted;
                await stdout.WriteLineAsync("interrupted: writing what was observed so far").ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (abortReason is not null)
            {
                exit = ExitCodes.ThresholdsFailed;
                await stderr.WriteLineAsync($"fdr: aborted: {abortReason}").ConfigureAwait(false);
            }
            catch (RucioUnreachableException e)
            {
                exit = ExitCodes.TargetUnreachable;
                await stderr.WriteLineAsync($"fdr: lost Rucio at {display}: {OneLine(e.Reason)}").ConfigureAwait(false);
            }
            await stopPhases.CancelAsync().ConfigureAwait(false);
            await driver.DrainAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            await stopEvents.CancelAsync().ConfigureAwait(false);
            if (consuming is not null) await consuming.ConfigureAwait(false);
            var besideExit = await beside.ConfigureAwait(false);
            if (exit == ExitCodes.Success) exit = besideExit;
            if (consumer is not null)
                await stdout.WriteLineAsync($"events: {consumer.Written} written, {consumer.Filtered} of other scopes, {consumer.Duplicates} redeliveries dropped").ConfigureAwait(false);
        }

        var csv = apiStats.ToCsv() + string.Concat(driver.LoadStats.ToCsv().Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => "load:" + l + "\n"));
        RunDirectory.WriteAtomically(Path.Combine(run.Path, "api-latency.csv"), csv);
        if (options.Conclude?.Invoke(run.Path) is { } verdict && exit == ExitCodes.Success) exit = verdict;
        var summary = new Dictionary<string, double>
        {
            ["files.registered"] = driver.FilesRegistered,
            ["rules.created"] = driver.RulesCreated,
            ["rules.retired"] = driver.RulesRetired,
            ["noise.files"] = driver.NoiseFiles,
            ["api.calls"] = apiStats.Summaries().Sum(s => s.Count),
            ["api.failed"] = apiStats.Summaries().Sum(s => s.Failed),
        };
        foreach (var (name, value) in besideCounters) summary[name] = value;
        run.Finish(info, exit, summary, options.Time);
        await stdout.WriteLineAsync($"run folder: {run.Path}").ConfigureAwait(false);
        return exit;
    }

    /// <summary>Asks <paramref name="abort"/> every interval until it names a reason (then <paramref name="stop"/>) or the run ends.</summary>
    private static async Task WatchAsync(LiveAbortCheck abort, TimeProvider time, Action<string> stop, CancellationToken ct)
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

    private static RucioAuth DefaultAuth(Func<string, string?> env) => env("FDR_RUCIO_TOKEN") is { Length: > 0 }
        ? new RucioAuth { Method = AuthMethod.Token, TokenEnv = "FDR_RUCIO_TOKEN" }
        : new RucioAuth { Method = AuthMethod.Userpass, Username = env("FDR_RUCIO_USERNAME"), PasswordEnv = "FDR_RUCIO_PASSWORD" };

    private static string Display(Uri url) =>
        (string.IsNullOrEmpty(url.UserInfo) ? url : new UriBuilder(url) { UserName = "", Password = "" }.Uri).ToString().TrimEnd('/');

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
