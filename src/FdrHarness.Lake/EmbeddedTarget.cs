using System.Globalization;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;

namespace FdrHarness.Lake;

/// <summary>The embedded data lake as a rehearsal target: the plan on virtual time, in seconds, identical on every run.</summary>
public sealed class EmbeddedTarget : IRehearsalTarget
{
    public string Kind => "embedded";

    /// <summary>The lake's end-of-run counters, once <see cref="ExecuteAsync"/> has returned.</summary>
    public LakeResult? Result { get; private set; }

    public Task<TargetOutcome> ExecuteAsync(RunPlan plan, RehearsalContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var progress = context.Progress is { } p ? new Reporter(x => p.Report(new RehearsalProgress(x.VirtualTime, x.Duration, x.FilesInjected,
            x.TransfersActive, x.TransfersDone, x.TransfersFailed, x.Backlog))) : null;
        if (context.Shard is not { IsWhole: false } shard)
        {
            var r = EmbeddedLake.Run(plan, context.Sink, progress, ct);
            Result = r;
            return Task.FromResult(new TargetOutcome(Counters(plan.Counts, LakePart.Whole(r), r.Events), Summary(r)));
        }
        // A shard simulates the whole lake (the shards' operations share it) and keeps only its part's observations and counts.
        var sink = new ShardSink(context.Sink, shard);
        var result = EmbeddedLake.Run(plan, shard, sink, progress, ct);
        Result = result;
        return Task.FromResult(new TargetOutcome(Counters(shard.Counts, result.Part, sink.Events), [$"shard {shard.Spec}: {ShardLine(shard, result.Part)}", .. Summary(result)]));
    }

    /// <summary>run.json's counts: what was planned (the whole plan or a shard's part) and what those files and rules did.</summary>
    private static Dictionary<string, double> Counters(PlanCounts planned, LakePart p, long events) => new()
    {
        [RunCounters.FilesPlanned] = planned.Files,
        [RunCounters.FilesInjected] = p.FilesInjected,
        [RunCounters.FilesRefused] = p.FilesRefused,
        [RunCounters.RulesPlanned] = planned.Rules,
        [RunCounters.RulesCreated] = p.RulesCreated,
        [RunCounters.RulesOk] = p.RulesOk,
        [RunCounters.RulesStuck] = p.RulesStuck,
        [RunCounters.NoiseFiles] = planned.NoiseFiles,
        [RunCounters.TransfersSubmitted] = p.TransfersSubmitted,
        [RunCounters.TransfersDone] = p.TransfersDone,
        [RunCounters.TransfersFailed] = p.TransfersFailed,
        [RunCounters.Events] = events,
    };

    private static string ShardLine(PlanShard shard, LakePart p)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        return $"its part {N(p.FilesInjected)} of {N(shard.Counts.Files)} files injected, {N(p.TransfersSubmitted)} transfers submitted, " +
            $"{N(p.RulesCreated)} rules; the lines below are the whole lake's";
    }

    private static List<string> Summary(LakeResult r)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var ratio = r.TransfersSubmitted == 0 ? 0 : 100.0 * r.TransfersDone / r.TransfersSubmitted;
        var lines = new List<string>
        {
            $"{Durations.Format(r.VirtualEnd)} of virtual time, {N(r.Events)} events",
            $"files:     {N(r.FilesInjected)} injected, {N(r.FilesRefused)} refused, {N(r.FilesReplicated)} replicated, {N(r.FilesDeleted)} deleted",
            string.Create(CultureInfo.InvariantCulture,
                $"transfers: {N(r.TransfersSubmitted)} submitted, {N(r.TransfersDone)} done ({ratio:0.0} %), {N(r.TransfersFailed)} failed, {N(r.TransfersActive)} active; {new ByteSize(r.BytesTransferred)}"),
            $"rules:     {N(r.RulesCreated)} created, {N(r.RulesOk)} OK, {N(r.RulesStuck)} stuck",
        };
        foreach (var d in r.Daemons.Where(d => d.OomKills > 0 || d.Restarts > 0))
            lines.Add($"{d.Daemon}: {d.OomKills} OOMKilled, {d.Restarts} restarts");
        return lines;
    }

    /// <summary>Reports synchronously on the simulation's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<LakeProgress> report) : IProgress<LakeProgress>
    {
        public void Report(LakeProgress value) => report(value);
    }
}
