using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;

namespace FdrHarness.Core.Execution;

/// <summary>
/// A place a plan is rehearsed on: the embedded lake (virtual time, seconds) or a live Rucio with its cluster
/// (wall-clock time, hours). A target carries out the plan's operations no earlier than their instants on its own
/// clock, writes what it observes into the context's sink, and returns its own counts — what the target holds, never
/// what the plan meant to do. It never reads the scenario's workload or chaos sections: the plan is its input.
/// </summary>
public interface IRehearsalTarget
{
    /// <summary>"embedded" or "rucio": run.json's target.</summary>
    string Kind { get; }

    Task<TargetOutcome> ExecuteAsync(RunPlan plan, RehearsalContext context, CancellationToken ct);
}

/// <summary>What a target is handed for one run: where it writes and how it reports progress.</summary>
/// <param name="Progress">Progress for the terminal, reported on the target's thread; may be null.</param>
/// <param name="Shard">
/// The part of the plan this process carries out (<c>--shard i/N</c>); null for the whole plan. A target carries out
/// only the shard's operations where its peers share the target (a live Rucio), writes only the shard's observations
/// (<see cref="ShardSink"/>) and counts only the shard's part, so the shards' counts sum to the whole run's.
/// </param>
/// <param name="Abort">
/// Set when the run stops on a failed abort_on_fail threshold: the target calls it, with a line for the operator, when it
/// can no longer observe what those thresholds judge (a silent broker); the run's token is then cancelled. Null: no such threshold.
/// </param>
public sealed record RehearsalContext(string RunPath, DateTime StartedUtc, IObservationSink Sink, TextWriter Log, IProgress<RehearsalProgress>? Progress = null,
    PlanShard? Shard = null, Action<string>? Abort = null);

/// <summary>The terminal's view of a running rehearsal, whatever the target.</summary>
/// <param name="Elapsed">Time on the target's clock since the start (virtual for the lake).</param>
public sealed record RehearsalProgress(TimeSpan Elapsed, TimeSpan Duration, long FilesInjected, long TransfersActive, long TransfersDone,
    long TransfersFailed, IReadOnlyList<KeyValuePair<string, long>> Backlog);

/// <summary>
/// A target's end of run: its counts under <see cref="RunCounters"/>' names, lines for the terminal, and an exit code
/// that replaces a successful run's (3 when the target was lost, for instance).
/// </summary>
public sealed record TargetOutcome(IReadOnlyDictionary<string, double> Counters, IReadOnlyList<string> Summary, int ExitCode = ExitCodes.Success);
