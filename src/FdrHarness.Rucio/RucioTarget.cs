using System.Collections.Concurrent;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio;

/// <summary>What the command line adds to a scenario for a live run.</summary>
public sealed record LiveRunOptions
{
    /// <summary>--rucio-url: replaces target.rucio.url (and FDR_RUCIO_URL).</summary>
    public Uri? RucioUrl { get; init; }
    /// <summary>Environment lookup: FDR_RUCIO_URL, FDR_RUCIO_ACCOUNT, FDR_RUCIO_VO, FDR_RUCIO_TOKEN, FDR_RUCIO_PASSWORD and the scenario's *_env names.</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>The reachability check gives up after this long (the whole command must answer within 30 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>The preflight's reads (scopes, RSEs, attributes, limits) give up after this long.</summary>
    public TimeSpan PreflightTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Keep reading events until the scenario's duration has passed (false: stop when the operations are done).</summary>
    public bool WaitForDuration { get; init; } = true;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>
    /// Work that runs beside the operations for the whole run (the cluster's chaos and observation), writing into the
    /// run's sink; cancelled and awaited before the target returns. It tells its own errors and returns an exit code,
    /// which replaces a successful run's.
    /// </summary>
    public Func<LiveRunContext, CancellationToken, Task<int>>? Alongside { get; init; }
    /// <summary>
    /// `fdr run --resume`: the journal of the killed run. Its done work is not done again; the run goes on in its folder
    /// from its original start (the plan's instants), appending to its journal.
    /// </summary>
    public RunJournal.Contents? Resume { get; init; }
    /// <summary>Called once the run has started, with what can be read while it runs (the live metrics).</summary>
    public Action<LiveRunView>? Started { get; init; }
    /// <summary>How often rule states are polled (replaced rules of a qos_transition; progress without a broker).</summary>
    internal TimeSpan RulePoll { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>An operation that failed after the client's retries is tried again this many times, the first after this long.</summary>
    internal int OperationRetries { get; init; } = 5;
    internal TimeSpan OperationRetryDelay { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Tests shorten the client's timeouts and backoff.</summary>
    internal Func<RucioClientOptions, RucioClientOptions>? TuneClient { get; init; }
}

/// <summary>What a live run shows while it runs: its start, the files registered so far, the statistics of its Rucio calls
/// (<paramref name="Api"/>) and of its planned operations (<paramref name="Load"/>).</summary>
public sealed record LiveRunView(DateTime StartedUtc, TimeProvider Time, Func<long> FilesRegistered, OperationStats Api, OperationStats Load);

/// <summary>
/// What <see cref="LiveRunOptions.Alongside"/> gets: the plan, the run folder, its start, the sink shared with the
/// broker's events, and <paramref name="Counters"/> it may fill for run.json's summary (names from <see cref="RunCounters"/>).
/// </summary>
public sealed record LiveRunContext(RunPlan Plan, string RunPath, DateTime StartedUtc, IObservationSink Sink, IDictionary<string, double> Counters);

/// <summary>
/// A live Rucio as a rehearsal target: <see cref="ConnectAsync"/> checks that it answers and accepts the credentials
/// (exit 3 with one line when not, before anything is written); <see cref="ExecuteAsync"/> carries out the plan's
/// operations at their instants on wall-clock time, reads Hermes events from the broker into the run's sink, and
/// reports what Rucio holds at the end, read back from it.
/// </summary>
public sealed class RucioTarget : IRehearsalTarget, IDisposable
{
    private readonly LiveRunOptions _options;
    private readonly OperationStats _apiStats;
    private readonly RucioClient _client;
    private readonly TextWriter _stdout;

    private RucioTarget(RucioConnection connection, LiveRunOptions options, OperationStats apiStats, TextWriter stdout)
    {
        Connection = connection;
        _options = options;
        _apiStats = apiStats;
        _stdout = stdout;
        // The run's client: full retries (the probe's were short so that a wrong URL is told at once).
        var runOptions = RucioClientOptions.From(connection, options.Env) with { Time = options.Time };
        _client = new RucioClient(options.TuneClient?.Invoke(runOptions) ?? runOptions, apiStats);
    }

    public string Kind => "rucio";

    /// <summary>The connection as used: URL, account and VO after --rucio-url and the FDR_RUCIO_* variables.</summary>
    public RucioConnection Connection { get; }

    /// <summary>
    /// Resolves the connection, then a short, bounded probe (ping and authentication), then the preflight: every gap between
    /// what the scenario asks and what this Rucio has, one line each with its fix, before anything is written. Exit 2
    /// without a URL or when the scenario asks what this Rucio cannot give, 3 when it is unreachable, refuses the harness
    /// or lacks something (scopes, attributes, limits, RSEs, protocols).
    /// </summary>
    public static async Task<(RucioTarget? Target, int Exit)> ConnectAsync(Scenario scenario, LiveRunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var (target, exit) = await ProbeAsync(scenario, options, stdout, stderr, ct).ConfigureAwait(false);
        if (target is null) return (null, exit);
        var gaps = await target.CheckAsync(scenario, stderr, ct).ConfigureAwait(false);
        if (gaps is null || gaps.Count > 0)
        {
            target.Dispose();
            if (gaps is null) return (null, ExitCodes.TargetUnreachable);
            if (scenario.Target.Rucio?.Disposable == true && gaps.Any(g => g.Repair is not null))
                await stderr.WriteLineAsync("fdr: target.rucio is disposable: `fdr live prepare SCENARIO` creates the scopes, RSE attributes and account limits above").ConfigureAwait(false);
            return (null, gaps.Any(g => g.InScenario) ? ExitCodes.InvalidInput : ExitCodes.TargetUnreachable);
        }
        return (target, ExitCodes.Success);
    }

    /// <summary>
    /// `fdr live prepare`: on an instance the scenario marks <c>disposable: true</c>, creates what a rehearsal needs and may
    /// be created (scopes, RSE attributes, account limits), then tells the gaps left. Exit 0 when none is left; 2 when the
    /// instance is not marked disposable (nothing contacted) or the scenario asks what Rucio cannot give; 3 otherwise.
    /// </summary>
    public static async Task<int> PrepareAsync(Scenario scenario, LiveRunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Target.Rucio is not { Disposable: true })
        {
            await stderr.WriteLineAsync("fdr live prepare: the scenario does not mark its Rucio as disposable (target.rucio.disposable: true); " +
                "prepare changes only test instances marked so, and this one was not contacted").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        var (target, exit) = await ProbeAsync(scenario, options, stdout, stderr, ct).ConfigureAwait(false);
        if (target is null) return exit;
        using (target)
        {
            var request = PreflightRequest.ForScenario(scenario, target.Connection.Injection);
            try
            {
                var (done, left) = await Preflight.PrepareAsync(target._client, request, ct).ConfigureAwait(false);
                foreach (var line in done) await stdout.WriteLineAsync("  " + line).ConfigureAwait(false);
                foreach (var gap in left) await stderr.WriteLineAsync("fdr: preflight: " + gap.Line).ConfigureAwait(false);
                await stdout.WriteLineAsync(left.Count == 0
                    ? $"Rucio at {Display(target.Connection.Url)} is ready for {scenario.Run.Name} ({done.Count} changes made)"
                    : $"{done.Count} changes made; {left.Count} gaps left that prepare does not create").ConfigureAwait(false);
                return left.Count == 0 ? ExitCodes.Success : left.Any(g => g.InScenario) ? ExitCodes.InvalidInput : ExitCodes.TargetUnreachable;
            }
            catch (Exception e) when (IsRucioFailure(e))
            {
                await stderr.WriteLineAsync($"fdr live prepare: Rucio at {Display(target.Connection.Url)} refused: {OneLine(e.Message)}").ConfigureAwait(false);
                return ExitCodes.TargetUnreachable;
            }
        }
    }

    /// <summary>The preflight with the run's client (full retries): the gaps, each told on stderr; null when Rucio could not be read.</summary>
    private async Task<IReadOnlyList<PreflightGap>?> CheckAsync(Scenario scenario, TextWriter stderr, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(_options.PreflightTimeout);
        try
        {
            var gaps = await Preflight.CheckAsync(_client, PreflightRequest.ForScenario(scenario, Connection.Injection), bounded.Token).ConfigureAwait(false);
            foreach (var gap in gaps) await stderr.WriteLineAsync("fdr: preflight: " + gap.Line).ConfigureAwait(false);
            return gaps;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"fdr: preflight: Rucio at {Display(Connection.Url)} did not answer within {_options.PreflightTimeout.TotalSeconds:0} s").ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsRucioFailure(e))
        {
            await stderr.WriteLineAsync($"fdr: preflight: Rucio at {Display(Connection.Url)} could not be read: {OneLine(e.Message)}").ConfigureAwait(false);
            return null;
        }
    }

    private static bool IsRucioFailure(Exception e) =>
        e is RucioException or RucioUnreachableException or HttpRequestException or System.Text.Json.JsonException or InvalidDataException;

    /// <summary>Resolves the connection, then a short, bounded probe (ping and authentication): exit 2 without a URL, 3 when unreachable or refused.</summary>
    private static async Task<(RucioTarget? Target, int Exit)> ProbeAsync(Scenario scenario, LiveRunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var env = options.Env;
        var configured = scenario.Target.Rucio;
        var url = options.RucioUrl ?? (env("FDR_RUCIO_URL") is { Length: > 0 } u && Uri.TryCreate(u, UriKind.Absolute, out var eu) ? eu : null) ?? configured?.Url;
        if (url is null)
        {
            await stderr.WriteLineAsync("fdr: no Rucio URL: set target.rucio.url in the scenario, --rucio-url or FDR_RUCIO_URL").ConfigureAwait(false);
            return (null, ExitCodes.InvalidInput);
        }
        var connection = (configured ?? new RucioConnection { Url = url, Auth = DefaultAuth(env) }) with
        {
            Url = url,
            Account = env("FDR_RUCIO_ACCOUNT") is { Length: > 0 } a ? a : configured?.Account is { Length: > 0 } ca ? ca : "root",
            Vo = env("FDR_RUCIO_VO") is { Length: > 0 } vo ? vo : configured?.Vo,
        };
        var display = Display(url);
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
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
        probe.CancelAfter(options.ProbeTimeout);
        using var prober = new RucioClient(options.TuneClient?.Invoke(probeOptions) ?? probeOptions, apiStats);
        try
        {
            var version = await prober.PingAsync(probe.Token).ConfigureAwait(false);
            await prober.AuthenticateNowAsync(probe.Token).ConfigureAwait(false);
            await stdout.WriteLineAsync($"Rucio {version} at {display}, account {connection.Account}").ConfigureAwait(false);
            return (new RucioTarget(connection, options, apiStats, stdout), ExitCodes.Success);
        }
        catch (RucioUnreachableException e)
        {
            await stderr.WriteLineAsync($"fdr: cannot reach Rucio at {display}: {OneLine(e.Reason)}").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"fdr: cannot reach Rucio at {display}: no answer within {options.ProbeTimeout.TotalSeconds:0} s").ConfigureAwait(false);
        }
        catch (RucioException e)
        {
            await stderr.WriteLineAsync($"fdr: Rucio at {display} refused the harness: {(int)e.Status} {e.ExceptionClass}: {OneLine(e.ServerMessage)}").ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"fdr: Rucio at {display} gave an answer the harness cannot read: {OneLine(e.Message)}").ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested();
        return (null, ExitCodes.TargetUnreachable);
    }

    public async Task<TargetOutcome> ExecuteAsync(RunPlan plan, RehearsalContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var start = new DateTimeOffset(context.StartedUtc, TimeSpan.Zero);
        // A shard carries out its part of the plan; every shard reads the same broker and keeps the events of its own DIDs.
        var shard = context.Shard ?? PlanShard.Whole(plan);
        var sink = shard.IsWhole ? context.Sink : new ShardSink(context.Sink, shard);
        var log = context.Log;
        using var journal = _options.Resume is null
            ? RunJournal.Create(context.RunPath, JournalHeader.Of(plan, context.StartedUtc))
            : RunJournal.Append(context.RunPath, _options.Time.GetUtcNow().UtcDateTime);
        var executor = new PlanExecutor(plan, shard, Connection, _client, _options, log, sink, start, journal, _options.Resume);
        var counters = new ConcurrentDictionary<string, double>(StringComparer.Ordinal);
        var summary = new List<string>();
        var exit = ExitCodes.Success;
        var cutOff = false;

        using var stopEvents = new CancellationTokenSource();
        using var stopOperations = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The planned end plus the grace (target.rucio.grace): a server that hangs cannot keep the run going for ever. What
        // talks to Rucio after the operations (the last retirements, the read-back) ends by then too.
        var grace = Connection.Grace;
        using var deadline = new CancellationTokenSource(plan.Duration + grace, _options.Time);
        using var operations = CancellationTokenSource.CreateLinkedTokenSource(stopOperations.Token, deadline.Token);
        executor.StopBackgroundOn(stopEvents.Token, deadline.Token);
        _options.Started?.Invoke(new LiveRunView(context.StartedUtc, _options.Time, () => executor.FilesRegistered, _apiStats, executor.Operations));

        HermesConsumer? consumer = null;
        Task? consuming = null;
        if (Connection.Broker is { } broker)
        {
            consumer = new HermesConsumer(new HermesConsumerOptions
            {
                Broker = broker.Url,
                Destination = broker.Destination,
                Username = broker.UsernameEnv is { } ue ? _options.Env(ue) : null,
                Password = broker.PasswordEnv is { } pe ? _options.Env(pe) : null,
                Scopes = plan.Experiments.Select(x => x.Scope).Concat(plan.Noise.Scopes).ToHashSet(StringComparer.Ordinal),
                // One durable subscription per run, and only events of the run's window: a second run of the scenario never
                // reads the first one's events.
                SubscriptionName = HermesConsumer.SubscriptionNameFor(Path.GetFileName(Path.GetFullPath(context.RunPath).TrimEnd(Path.DirectorySeparatorChar))),
                WindowStart = context.StartedUtc,
                Warn = line => log.WriteLine("fdr: " + line),
                SilenceThreshold = broker.MaxSilence,
                Time = _options.Time,
            }, sink);
            // A silent broker means the run observes nothing: with abort_on_fail thresholds the run stops (their verdict
            // cannot be watched); otherwise the warning line and the summary say so.
            consumer.Silenced += quiet => context.Abort?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"the broker {Display(broker.Url)} sent no message and no heart-beat for {quiet.TotalSeconds:0} s (target.rucio.broker.max_silence): abort_on_fail thresholds cannot be watched"));
            consuming = consumer.RunAsync(stopEvents.Token);
            // A topic keeps nothing for a subscription that does not exist yet: subscribe before the first operation.
            using var subscribing = CancellationTokenSource.CreateLinkedTokenSource(ct);
            subscribing.CancelAfter(_options.ProbeTimeout);
            try { await consumer.Subscribed.WaitAsync(subscribing.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await log.WriteLineAsync($"fdr: not subscribed to the broker within {_options.ProbeTimeout.TotalSeconds:0} s: events before the subscription are lost").ConfigureAwait(false);
            }
        }
        else
        {
            await log.WriteLineAsync("no broker configured (target.rucio.broker): progress comes from rule states only").ConfigureAwait(false);
        }
        // The cluster's chaos and observation happen once, on the shard that owns the cluster. It ends on its own at the
        // planned end (a kill running late still happens); a run that ends otherwise cuts it short.
        using var stopCluster = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var beside = _options.Alongside is { } alongside && shard.OwnsCluster
            ? Task.Run(() => alongside(new LiveRunContext(plan, context.RunPath, context.StartedUtc, sink, counters), stopCluster.Token), CancellationToken.None)
            : Task.FromResult(ExitCodes.Success);

        var reachedEnd = false;
        try
        {
            await executor.RunAsync(operations.Token).ConfigureAwait(false);
            if (_options.WaitForDuration) await ObserveUntilAsync(executor, start + plan.Duration, consumer, operations.Token).ConfigureAwait(false);
            reachedEnd = _options.WaitForDuration;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            cutOff = true;
        }
        finally
        {
            await stopOperations.CancelAsync().ConfigureAwait(false);
            // Late events still arrive for a while (hermes' next pass); an interrupted run keeps its subscription for a resume.
            if (consumer is not null) await consumer.FinishAsync(_options.Time.GetUtcNow().UtcDateTime, unsubscribe: !ct.IsCancellationRequested, ct).ConfigureAwait(false);
            await stopEvents.CancelAsync().ConfigureAwait(false);
            if (!reachedEnd) await stopCluster.CancelAsync().ConfigureAwait(false);   // cut off, failed, or not waiting
            await executor.DrainAsync().ConfigureAwait(false);
            // Putting RSEs back matters more than the run's end: its own bound, at least 30 s.
            using (var restoring = new CancellationTokenSource(grace > TimeSpan.FromSeconds(30) ? grace : TimeSpan.FromSeconds(30), _options.Time))
            {
                var restored = await executor.RestoreOutagesAsync(restoring.Token).ConfigureAwait(false);
                if (restored > 0) summary.Add($"{restored} RSE availabilities put back as they were before the outage");
            }
            if (consuming is not null) await consuming.ConfigureAwait(false);
            var besideExit = await beside.ConfigureAwait(false);
            if (exit == ExitCodes.Success) exit = besideExit;
        }
        if (ct.IsCancellationRequested)
        {
            executor.WriteInjections(held: null);
            sink.ApiLatency([.. _apiStats.Rows(), .. executor.Operations.Rows("load:")]);
            ct.ThrowIfCancellationRequested();
        }

        if (cutOff || executor.CutOff.Count > 0)
        {
            var running = executor.CutOff.Values.Sum();
            var kinds = running == 0 ? "" : " (" + string.Join(", ", executor.CutOff.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Take(5)
                .Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Key} {k.Value:N0}"))) + ")";
            summary.Add(string.Create(CultureInfo.InvariantCulture,
                $"cut off at the planned end + {Durations.Format(grace)} (target.rucio.grace): {running:N0} operations stopped while running{kinds}, {executor.NotStarted:N0} planned operations not started"));
        }
        if (_options.Resume is not null) summary.Add($"resumed: {executor.Skipped:N0} units of work done before were not done again");
        counters[RunCounters.OperationsCutOff] = executor.CutOff.Values.Sum() + executor.NotStarted;
        if (consumer is not null)
            summary.Add($"events: {consumer.Written} written, {consumer.Filtered} of other scopes, {consumer.Duplicates} redeliveries dropped"
                + (consumer.SilentPeriods > 0 ? $"; the broker fell silent {consumer.SilentPeriods} times" : ""));
        var held = new ConcurrentDictionary<(string Scope, string Name), long>();
        if (deadline.IsCancellationRequested) summary.Add("counts not read back from Rucio: the planned end plus the grace had passed; run.json has no file or rule counts");
        else await ReconcileAsync(plan, shard, executor, counters, held, summary, deadline.Token).ConfigureAwait(false);
        if (executor.WriteInjections(held).Note is { } unheld) summary.Add(unheld);
        counters[RunCounters.FilesPlanned] = shard.Counts.Files;
        counters[RunCounters.RulesPlanned] = shard.Counts.Rules;
        counters[RunCounters.DeletionsPlanned] = shard.Counts.RuleLifetimes + shard.Counts.DidLifetimes;
        counters[RunCounters.RulesRetired] = executor.RulesRetired;
        counters[RunCounters.NoiseFiles] = executor.NoiseFiles;
        counters[RunCounters.OperationsFailed] = executor.Failed;
        counters[RunCounters.ApiCalls] = _apiStats.Summaries().Sum(s => s.Count);
        counters[RunCounters.ApiFailed] = _apiStats.Summaries().Sum(s => s.Failed);
        if (executor.Failed > 0)
            summary.Add($"{executor.Failed:N0} operations never succeeded, e.g. {string.Join("; ", executor.Lost.Take(3))}");
        // Last: the read-back's calls are in the table too.
        sink.ApiLatency([.. _apiStats.Rows(), .. executor.Operations.Rows("load:")]);
        return new TargetOutcome(counters, summary, exit);
    }

    /// <summary>
    /// The run's counts as Rucio holds them: the files attached to each dataset the run wrote into, and the state of
    /// each rule it created. When Rucio cannot be read, the counts are left out and the summary says so.
    /// </summary>
    /// <param name="held">Filled with the files each dataset holds (a dataset gone is left out).</param>
    private async Task ReconcileAsync(RunPlan plan, PlanShard shard, PlanExecutor executor, ConcurrentDictionary<string, double> counters,
        ConcurrentDictionary<(string Scope, string Name), long> held, List<string> summary, CancellationToken ct)
    {
        try
        {
            var catalog = new RucioCatalog(_client, new CatalogOptions { Concurrency = Math.Max(1, Connection.Concurrency) });
            long files = 0;
            using var gate = new SemaphoreSlim(Math.Max(1, Connection.Concurrency));
            await Task.WhenAll(executor.Datasets.Select(async d =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    var e = plan.Experiments[d.Experiment];
                    var content = await catalog.ReadContentAsync(new DidRef(e.Scope, e.DatasetName(d.Dataset)), ct).ConfigureAwait(false);
                    Interlocked.Add(ref files, content?.Count ?? 0);
                    if (content is not null) held[(e.Scope, e.DatasetName(d.Dataset))] = content.Count;
                }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            // Replicas of the planned files (not of the datasets: a replica registered and never attached counts here too).
            var planned = shard.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).Select(f => new DidRef(f.File.Scope, f.File.Name)).ToList();
            var replicas = (await catalog.ReadReplicasAsync(planned, ct: ct).ConfigureAwait(false))
                .Count(r => r.States.Values.Any(s => s == "AVAILABLE"));
            var states = await catalog.ReadRuleStatesAsync([.. executor.RuleIds.Select(r => r.Id)], ct).ConfigureAwait(false);
            // A rule gone since (cleaned after its lifetime) was created all the same.
            var rules = states.Count;
            var ok = states.Values.Count(s => s?.State == "OK");
            var stuck = states.Values.Count(s => s?.State == "STUCK");
            // Deletions as Rucio holds them: the rules and DIDs the delete phases expire, with an expiry (or gone: cleaned, erased).
            var ids = executor.RuleIds.ToDictionary(r => r.Rule, r => r.Id);
            var expiringRules = executor.RulesToExpire.Count(rule => ids.TryGetValue(rule, out var id) && states.TryGetValue(id, out var st) && (st is null || st.ExpiresAt is not null));
            var expiringDids = 0;
            await Task.WhenAll(executor.DidsToExpire.Select(async did =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (await catalog.ReadDidAsync(did, ct).ConfigureAwait(false) is not { } info || info.ExpiredAt is not null) Interlocked.Increment(ref expiringDids);
                }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            counters[RunCounters.FilesInjected] = files;
            counters[RunCounters.FilesReplicas] = replicas;
            counters[RunCounters.DeletionsRules] = expiringRules;
            counters[RunCounters.DeletionsDids] = expiringDids;
            counters[RunCounters.RulesCreated] = rules;
            counters[RunCounters.RulesOk] = ok;
            counters[RunCounters.RulesStuck] = stuck;
            summary.Add(string.Create(CultureInfo.InvariantCulture,
                $"Rucio holds {files:N0} of the {shard.Counts.Files:N0} planned files in the run's datasets ({replicas:N0} with a replica); rules: {rules:N0} of {shard.Counts.Rules:N0} planned, {ok:N0} OK, {stuck:N0} stuck"));
            if (shard.Counts.RuleLifetimes + shard.Counts.DidLifetimes > 0)
                summary.Add(string.Create(CultureInfo.InvariantCulture,
                    $"deletions: Rucio holds {expiringRules:N0} of {shard.Counts.RuleLifetimes:N0} rules and {expiringDids:N0} of {shard.Counts.DidLifetimes:N0} DIDs as expiring or gone"));
        }
        catch (OperationCanceledException)
        {
            summary.Add("counts not read back from Rucio: the planned end plus the grace passed while reading; run.json has no file or rule counts");
        }
        catch (Exception e) when (e is RucioException or RucioUnreachableException or HttpRequestException or System.Text.Json.JsonException or InvalidDataException)
        {
            summary.Add($"counts not read back from Rucio ({OneLine(e.Message)}): run.json has no file or rule counts");
        }
    }

    /// <summary>After the operations: keep reading events (or polling a sample of rule states without a broker) until the run's end.</summary>
    private async Task ObserveUntilAsync(PlanExecutor executor, DateTimeOffset end, HermesConsumer? consumer, CancellationToken ct)
    {
        var rules = executor.RuleIds.Select(r => r.Id).ToList();
        while (_options.Time.GetUtcNow() < end)
        {
            var left = end - _options.Time.GetUtcNow();
            await Task.Delay(left < _options.RulePoll ? left : _options.RulePoll, _options.Time, ct).ConfigureAwait(false);
            if (consumer is not null)
            {
                await _stdout.WriteLineAsync($"  events: {consumer.Written} written").ConfigureAwait(false);
                continue;
            }
            var states = new SortedDictionary<string, int>(StringComparer.Ordinal);
            long ok = 0, replicating = 0, stuck = 0;
            var sample = rules.Take(200).ToList(); // polling a million rules would load the server we measure
            foreach (var id in sample)
            {
                try
                {
                    var s = await _client.GetRuleAsync(id, ct).ConfigureAwait(false);
                    states[s.State] = states.GetValueOrDefault(s.State) + 1;
                    // A rule's locks are its files' transfer requests: replicating = queued or in FTS, stuck = given up for now.
                    (ok, replicating, stuck) = (ok + s.LocksOk, replicating + s.LocksReplicating, stuck + s.LocksStuck);
                }
                catch (RucioNotFoundException) { states["CLEANED"] = states.GetValueOrDefault("CLEANED") + 1; }
                catch (Exception e) when (e is RucioException or RucioUnreachableException or HttpRequestException or System.Text.Json.JsonException)
                {
                    states["UNREADABLE"] = states.GetValueOrDefault("UNREADABLE") + 1;
                }
            }
            await _stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  rules ({sample.Count} of {rules.Count}): {string.Join(", ", states.Select(kv => $"{kv.Key} {kv.Value}"))}; files {ok} ok, {replicating} replicating, {stuck} stuck")).ConfigureAwait(false);
        }
    }

    public void Dispose() => _client.Dispose();

    private static RucioAuth DefaultAuth(Func<string, string?> env) => env("FDR_RUCIO_TOKEN") is { Length: > 0 }
        ? new RucioAuth { Method = AuthMethod.Token, TokenEnv = "FDR_RUCIO_TOKEN" }
        : new RucioAuth { Method = AuthMethod.Userpass, Username = env("FDR_RUCIO_USERNAME"), PasswordEnv = "FDR_RUCIO_PASSWORD" };

    /// <summary>The URL without user info, for the terminal and run.json.</summary>
    public static string Display(Uri url) =>
        (string.IsNullOrEmpty(url.UserInfo) ? url : new UriBuilder(url) { UserName = "", Password = "" }.Uri).ToString().TrimEnd('/');

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
