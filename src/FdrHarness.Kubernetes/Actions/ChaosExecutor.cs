using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Planning;
using FdrHarness.Kubernetes.Targeting;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>Counts of what the chaos did in a run.</summary>
public sealed record ChaosCounts
{
    public int PodsKilled { get; init; }
    public int KillsSkipped { get; init; }
    public int LimitChanges { get; init; }
    public int ActionsFailed { get; init; }
    public int NotApplied { get; init; }
}

/// <summary>
/// Carries out the scenario's cluster actions at their times (offsets from the run's start, on the clock) in two
/// lanes, each in time order: pod kills, and limit changes. A limit change waits for its rollout, which may take
/// minutes; the kills do not wait for it. Within a lane one action at a time, so the blast radius of a kill is judged
/// on what the previous kill left. RSE outages and link degradation are audited as not applied.
/// </summary>
public sealed class ChaosExecutor(Scenario scenario, ChaosContext context)
{
    private readonly PodKiller _killer = new(context);
    private readonly LimitEnforcer _limits = new(context);
    private int _killed, _skipped, _changes, _failed, _notApplied;

    public ChaosCounts Counts => new()
    {
        PodsKilled = _killed, KillsSkipped = _skipped, LimitChanges = _changes, ActionsFailed = _failed, NotApplied = _notApplied,
    };

    /// <summary>The cluster actions in the order they happen: time, then position in the scenario.</summary>
    public static IReadOnlyList<(TimeSpan At, int Index, int Occurrence, ChaosAction Action)> Timeline(Scenario scenario)
    {
        var timeline = new List<(TimeSpan, int, int, ChaosAction)>();
        for (var i = 0; i < scenario.Chaos.Count; i++)
        {
            switch (scenario.Chaos[i])
            {
                case PodKill kill:
                    var n = 0;
                    foreach (var at in ChaosPlanner.Instants(kill.Schedule, scenario.Run.Duration)) timeline.Add((at, i, n++, kill));
                    break;
                case LimitChange change when change.At <= scenario.Run.Duration:
                    timeline.Add((change.At, i, 0, change));
                    break;
            }
        }
        return [.. timeline.OrderBy(t => t.Item1).ThenBy(t => t.Item2).ThenBy(t => t.Item3)];
    }

    /// <summary>Runs every action at start + its offset; returns when all are done or <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(DateTimeOffset start, CancellationToken ct)
    {
        foreach (var action in scenario.Chaos.Where(a => a is RseOutage or LinkDegradation))
        {
            _notApplied++;
            context.Audit.Write("skipped", TargetResolver.KindOf(action), TargetResolver.NameOf(action), null, [],
                ChaosPlanner.NotClusterAction);
        }
        var timeline = Timeline(scenario);
        await Task.WhenAll(
            LaneAsync(timeline.Where(t => t.Action is PodKill), start, ct),
            LaneAsync(timeline.Where(t => t.Action is LimitChange), start, ct)).ConfigureAwait(false);
    }

    private async Task LaneAsync(IEnumerable<(TimeSpan At, int Index, int Occurrence, ChaosAction Action)> lane, DateTimeOffset start, CancellationToken ct)
    {
        foreach (var (at, _, occurrence, action) in lane)
        {
            var wait = start + at - context.Clock.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, context.Clock, ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            await RunOneAsync(action, occurrence, ct).ConfigureAwait(false);
        }
    }

    internal async Task RunOneAsync(ChaosAction action, int occurrence, CancellationToken ct)
    {
        var name = TargetResolver.NameOf(action);
        switch (action)
        {
            case PodKill kill:
                var outcome = await _killer.KillAsync(kill, TargetResolver.Pods(kill.Selector, scenario), name, occurrence, ct).ConfigureAwait(false);
                Interlocked.Add(ref _killed, outcome.Killed.Count);
                Interlocked.Add(ref _skipped, outcome.Skipped.Count);
                if (outcome.Failure is not null) Interlocked.Increment(ref _failed);
                break;
            case LimitChange change:
                if (await _limits.ApplyAsync(change, TargetResolver.Deployment(change, scenario), name, ct).ConfigureAwait(false)) Interlocked.Increment(ref _changes);
                else Interlocked.Increment(ref _failed);
                break;
        }
    }

    /// <summary>Puts every changed limit back (see <see cref="ChaosRestore"/>).</summary>
    public Task<int> RestoreAsync(CancellationToken ct) => _limits.RestoreAllAsync(ct);
}
