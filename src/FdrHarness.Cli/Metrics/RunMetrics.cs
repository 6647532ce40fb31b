using System.Collections.Concurrent;
using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Rucio;
using FdrHarness.Rucio.Load;
using Prometheus;

namespace FdrHarness.Cli.Metrics;

/// <summary>
/// The run's Prometheus metrics. Most come from the observations themselves (this is an <see cref="IObservationSink"/>
/// that a <see cref="TeeSink"/> shows every event, sample, pod change and fault after it is written), so both targets
/// export the same series; the rest is read from the target at each scrape: the elapsed time and injected files
/// (<see cref="Progress"/> on the embedded lake, <see cref="Watch"/> on a live run) and the harness's own calls.
/// </summary>
/// <remarks>Names follow Prometheus' conventions (fdr_ prefix, _total counters, base units); <see cref="Names"/> lists them all.</remarks>
public sealed class RunMetrics : IObservationSink
{
    /// <summary>At most this many (event type, source, destination) series; further links are counted as other → other.</summary>
    private const int MaxLinks = 10_000;

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private readonly Scenario _scenario;
    private readonly PlannedInjection _planned;
    private readonly Gauge _progress, _elapsed, _finished, _exitCode, _planFiles, _backlog, _thresholds;
    private readonly Counter _events, _transfers, _transferBytes, _deletions, _deletedBytes, _rulesOk, _podEvents, _chaos, _injected;
    private readonly Counter _operations, _late, _dropped, _retries;
    private readonly ConcurrentDictionary<(string Type, string? Src, string? Dst), (Counter.Child Event, Counter.Child? Transfer)> _byEvent = new();
    private readonly LabelValues _eventTypes = new(), _rses = new(), _daemons = new(), _podEventNames = new(), _chaosTargets = new();
    private long _elapsedTicks, _filesInjected;
    private LiveRunView? _live;

    public RunMetrics(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        _scenario = scenario;
        _planned = new PlannedInjection(scenario);
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);

        f.CreateGauge("fdr_run_info", "The rehearsal: scenario, target and seed (value 1).", "scenario", "target", "seed")
            .WithLabels(scenario.Run.Name, scenario.Target.Kind == TargetKind.Rucio ? "rucio" : "embedded", scenario.Run.Seed.ToString(CultureInfo.InvariantCulture)).Set(1);
        f.CreateGauge("fdr_run_duration_seconds", "The scenario's run.duration.").Set(scenario.Run.Duration.TotalSeconds);
        _elapsed = f.CreateGauge("fdr_run_elapsed_seconds", "Time into the run (virtual time on the embedded lake).");
        _progress = f.CreateGauge("fdr_run_progress_ratio", "Elapsed over run.duration, 0 to 1.");
        _finished = f.CreateGauge("fdr_run_finished", "1 once the run has ended and its report is written.");
        _exitCode = f.CreateGauge("fdr_run_exit_code", "The run's exit code once finished (0 ok, 99 thresholds failed, 130 interrupted, ...); -1 while running.");
        _exitCode.Set(-1);

        _injected = f.CreateCounter("fdr_files_injected_total", "Files written into Rucio (registered or uploaded).");
        _planFiles = f.CreateGauge("fdr_injection_planned_files", "Files the scenario's load simulations have started by now: the target of fdr_files_injected_total.");

        _operations = f.CreateCounter("fdr_operations_total", "Live runs: the harness's operations (load batches and Rucio API calls) by outcome.", "operation", "result");
        _late = f.CreateCounter("fdr_operations_late_total", "Live runs: operations started later than planned (the target was slower than the load).", "operation");
        _dropped = f.CreateCounter("fdr_operations_dropped_total", "Live runs: operations dropped because the queue of waiting ones was full.", "operation");
        _retries = f.CreateCounter("fdr_operation_retries_total", "Live runs: Rucio API calls retried (5xx, 429, timeouts).", "operation");

        _events = f.CreateCounter("fdr_events_total", "Rucio (Hermes) events observed, by event_type.", "event_type");
        _transfers = f.CreateCounter("fdr_transfers_total", "Transfer events by state (queued, submitted, done, failed) and link.", "state", "src_rse", "dst_rse");
        _transferBytes = f.CreateCounter("fdr_transferred_bytes_total", "Bytes of done transfers by link.", "src_rse", "dst_rse");
        _deletions = f.CreateCounter("fdr_deletions_total", "Replicas deleted (deletion-done) by RSE.", "rse");
        _deletedBytes = f.CreateCounter("fdr_deleted_bytes_total", "Bytes deleted by RSE.", "rse");
        _rulesOk = f.CreateCounter("fdr_rules_ok_total", "Rules that reached OK (RULE_OK events: rules with notify Y or C).");

        _backlog = f.CreateGauge("fdr_daemon_backlog", "Each daemon's queue at its latest sample.", "daemon");
        _podEvents = f.CreateCounter("fdr_pod_events_total", "Pod changes by daemon and event (killed, oom-killed, restarted, crash-loop-back-off, limits-changed, ...).", "daemon", "event");
        _chaos = f.CreateCounter("fdr_chaos_actions_total", "Chaos actions as they happened, by kind and target.", "kind", "target");

        _thresholds = f.CreateGauge("fdr_threshold_state", "Each threshold: -1 not judged yet, 1 met, 0 failed.", "threshold");
        foreach (var t in scenario.Thresholds) _thresholds.WithLabels(ThresholdLabel(t)).Set(-1);

        Registry.AddBeforeCollectCallback(Refresh);
    }

    /// <summary>Every metric name this program exports (the dashboard's queries may name only these).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "fdr_run_info", "fdr_run_duration_seconds", "fdr_run_elapsed_seconds", "fdr_run_progress_ratio", "fdr_run_finished", "fdr_run_exit_code",
        "fdr_files_injected_total", "fdr_injection_planned_files",
        "fdr_operations_total", "fdr_operations_late_total", "fdr_operations_dropped_total", "fdr_operation_retries_total",
        "fdr_events_total", "fdr_transfers_total", "fdr_transferred_bytes_total", "fdr_deletions_total", "fdr_deleted_bytes_total", "fdr_rules_ok_total",
        "fdr_daemon_backlog", "fdr_pod_events_total", "fdr_chaos_actions_total", "fdr_threshold_state",
    ];

    /// <summary>The embedded lake's progress: virtual time and files injected so far.</summary>
    public void Progress(TimeSpan elapsed, long filesInjected)
    {
        Interlocked.Exchange(ref _elapsedTicks, elapsed.Ticks);
        Interlocked.Exchange(ref _filesInjected, filesInjected);
    }

    /// <summary>A live run: its start, files registered and operation statistics, read at each scrape.</summary>
    public void Watch(LiveRunView live) => Volatile.Write(ref _live, live);

    /// <summary>The thresholds' verdict at the end of the run.</summary>
    public void Judged(ThresholdVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        foreach (var r in verdict.Results)
        {
            var label = ThresholdLabel(r.Threshold);
            // A threshold over several windows or items gives several results: one failure fails it.
            var child = _thresholds.WithLabels(label);
            child.Set(r.Passed && child.Value != 0 ? 1 : 0);
        }
    }

    public void Finished(int exitCode)
    {
        Refresh();
        _exitCode.Set(exitCode);
        _finished.Set(1);
    }

    private static string ThresholdLabel(Threshold t) =>
        t.Expression.Text + (t.Phase is { } p ? $" (phase {p})" : "") + (t.Window is { } w ? $" (every {Core.Quantities.Durations.Format(w)})" : "");

    /// <summary>Before each scrape: what is read rather than observed.</summary>
    private void Refresh()
    {
        var elapsed = TimeSpan.FromTicks(Interlocked.Read(ref _elapsedTicks));
        var files = Interlocked.Read(ref _filesInjected);
        if (Volatile.Read(ref _live) is { } live)
        {
            elapsed = live.Time.GetUtcNow().UtcDateTime - live.StartedUtc;
            if (elapsed > _scenario.Run.Duration) elapsed = _scenario.Run.Duration;
            files = live.FilesRegistered();
            Operations(live.Api);
            Operations(live.Load);
        }
        _elapsed.Set(elapsed.TotalSeconds);
        _progress.Set(Math.Clamp(elapsed / _scenario.Run.Duration, 0, 1));
        _injected.IncTo(files);
        _planFiles.Set(_planned.At(elapsed));
    }

    private void Operations(OperationStats stats)
    {
        foreach (var s in stats.Summaries())
        {
            _operations.WithLabels(s.Operation, "ok").IncTo(s.Ok);
            _operations.WithLabels(s.Operation, "failed").IncTo(s.Failed);
            _late.WithLabels(s.Operation).IncTo(s.Late);
            _dropped.WithLabels(s.Operation).IncTo(s.Dropped);
            _retries.WithLabels(s.Operation).IncTo(s.Retries);
        }
    }

    public void Event(in HermesEvent e)
    {
        var type = _eventTypes.Bound(e.EventType);
        var transfer = type.StartsWith("transfer-", StringComparison.Ordinal);
        var key = transfer ? (type, _rses.Bound(e.SrcRse), _rses.Bound(e.DstRse)) : (type, null, null);
        if (transfer && _byEvent.Count >= MaxLinks && !_byEvent.ContainsKey(key)) key = (type, "other", "other");
        var (evt, tr) = _byEvent.GetOrAdd(key, k => (_events.WithLabels(k.Type),
            transfer ? _transfers.WithLabels(k.Type["transfer-".Length..], k.Src ?? "", k.Dst ?? "") : null));
        evt.Inc();
        tr?.Inc();
        switch (type)
        {
            case EventTypes.TransferDone when e.Bytes is { } b: _transferBytes.WithLabels(key.Item2!, key.Item3!).Inc(b); break;
            case EventTypes.DeletionDone:
                var rse = _rses.Bound(e.Rse);
                _deletions.WithLabels(rse).Inc();
                if (e.Bytes is { } d) _deletedBytes.WithLabels(rse).Inc(d);
                break;
            case "RULE_OK": _rulesOk.Inc(); break;
        }
    }

    public void Sample(in PodSample s) => _backlog.WithLabels(_daemons.Bound(s.Daemon)).Set(s.Backlog);

    public void Lifecycle(in PodLifecycleEvent e) => _podEvents.WithLabels(_daemons.Bound(e.Daemon), _podEventNames.Bound(e.Event)).Inc();

    public void Fault(in FaultRecord f) => _chaos.WithLabels(f.Kind, _chaosTargets.Bound(f.Target)).Inc();

    /// <summary>fdr_files_injected_total comes from the target's progress, as each file goes in (a live run writes its injections at its end).</summary>
    public void Injection(in InjectionRecord r) { }

    /// <summary>
    /// The values one label has taken, at most <see cref="Max"/>; later new ones are counted as "other". Live events
    /// come from a broker: whatever a peer sends, the number of series (and the memory they take) stays bounded.
    /// </summary>
    private sealed class LabelValues
    {
        public const int Max = 500;
        private readonly ConcurrentDictionary<string, bool> _seen = new(StringComparer.Ordinal);

        public string Bound(string? value)
        {
            value ??= "";
            if (_seen.ContainsKey(value)) return value;
            if (_seen.Count >= Max) return "other";
            _seen.TryAdd(value, true);
            return value;
        }
    }

    /// <summary>The live view (<see cref="Watch"/>) already counts every call as it happens.</summary>
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }

    /// <summary>
    /// Files the plan's inject phases start by a time into the run, per whole second (one array of the run's length in
    /// seconds).
    /// </summary>
    private sealed class PlannedInjection
    {
        private readonly long[] _bySecond;

        public PlannedInjection(Scenario s)
        {
            _bySecond = new long[(long)Math.Ceiling(s.Run.Duration.TotalSeconds) + 1];
            foreach (var (at, files) in RunPlan.Create(s).InjectionTicks())
            {
                var second = (long)Math.Ceiling(at.TotalSeconds);
                if (second < _bySecond.Length) _bySecond[second] += files;
            }
            for (var i = 1; i < _bySecond.Length; i++) _bySecond[i] += _bySecond[i - 1];
        }

        public long At(TimeSpan elapsed) => _bySecond[Math.Clamp((long)elapsed.TotalSeconds, 0, _bySecond.Length - 1)];
    }
}
