using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// The part of `fdr run`'s lifecycle a Rucio test needs: connect, then the plan into a run directory's sink. (The
/// report and the verdict are the command's; tests/FdrHarness.Cli.Tests covers the whole lifecycle.)
/// </summary>
internal static class LiveHarness
{
    public sealed record Run(int Exit, TargetOutcome? Outcome, string Directory, string Stdout, string Stderr);

    /// <param name="shard">--shard i/N: the part of the plan this run carries out; null for the whole plan.</param>
    public static async Task<Run> RunAsync(Scenario scenario, LiveRunOptions options, string? outDir = null, CancellationToken ct = default, ShardSpec? shard = null)
    {
        outDir ??= Path.Combine(Path.GetTempPath(), "fdr-live-" + Guid.NewGuid().ToString("N"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (target, exit) = await RucioTarget.ConnectAsync(scenario, options, stdout, stderr, ct);
        if (target is null) return new Run(exit, null, outDir, stdout.ToString(), stderr.ToString());
        using (target)
        {
            var resolved = scenario with { Target = scenario.Target with { Kind = TargetKind.Rucio, Rucio = target.Connection } };
            var dir = RunDirectory.Start(resolved, RunDirectory.DefaultReportsRoot, outDir, out var info, shard: shard is { } s ? new RunShard(s.Index, s.Count) : null);
            TargetOutcome outcome;
            var plan = RunPlan.Create(resolved);
            await using (var sink = dir.OpenSink())
                outcome = await target.ExecuteAsync(plan, new RehearsalContext(dir.Path, info.StartedUtc, new SynchronizedSink(sink), stdout, null,
                    shard is { } part ? new PlanShard(plan, part) : null), ct);
            dir.Finish(info, outcome.ExitCode, outcome.Counters);
            foreach (var line in outcome.Summary) stdout.WriteLine(line);
            return new Run(outcome.ExitCode, outcome, dir.Path, stdout.ToString(), stderr.ToString());
        }
    }
}
