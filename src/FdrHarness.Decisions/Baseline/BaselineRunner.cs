using System.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Decisions.Compare;
using FdrHarness.Lake;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Decisions.Baseline;

/// <summary>A baseline: each judged figure's median and spread over N runs of one scenario with derived seeds.</summary>
public sealed record BaselineResult(RunIdentity Identity, IReadOnlyList<long> Seeds, IReadOnlyDictionary<string, FigureStats> Figures, TimeSpan Wall)
{
    public string ToJson() => RunFigures.ToBaselineJson(Identity, Seeds, Figures);
}

/// <summary>
/// Learns a scenario's noise instead of guessing it: runs it on the embedded lake with N seeds derived from its own
/// (named streams, never seed + i), in parallel on the cores, each into a scratch run directory that is reported
/// exactly as <c>fdr run</c> reports (so the figures are the same ones compare reads), then keeps each figure's
/// median, standard deviation and range.
/// </summary>
public static class BaselineRunner
{
    /// <summary>The seeds of a baseline: derived from the scenario's seed and the run's index, positive and readable.</summary>
    public static IReadOnlyList<long> Seeds(long seed, int count) =>
        Enumerable.Range(0, count).Select(i => (long)(StableHash.Of(unchecked((ulong)seed), $"baseline-seed-{i}") % 1_000_000_000UL)).ToList();

    public static BaselineResult Run(Scenario scenario, int count, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), "a spread needs at least 2 runs");
        var wall = Stopwatch.StartNew();
        var seeds = Seeds(scenario.Run.Seed, count);
        var scratch = Path.Combine(Path.GetTempPath(), $"fdr-baseline-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        var runs = new IReadOnlyDictionary<string, double?>[count];
        RunIdentity? identity = null;
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, i =>
            {
                var clock = Stopwatch.StartNew();
                var s = scenario with { Run = scenario.Run with { Seed = seeds[i] } };
                var dir = RunDirectory.Create(scratch, s.Run.Name, s.Run.Seed, new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), Path.Combine(scratch, $"seed-{seeds[i]}"));
                dir.WriteScenario(s);
                var info = RunInfo.Start(s);
                dir.WriteRunInfo(info);
                using (var sink = dir.OpenSink())
                    EmbeddedLake.Run(s, sink, null, ct);
                dir.WriteRunInfo(info.End(0));
                var summary = Thresholds.Figures.ToJson(SummaryBuilder.Build(dir.Path, new Reporting.ReportOptions { Plots = false }));
                runs[i] = RunFigures.Flatten(summary);
                identity ??= RunIdentity.Of(summary);
                Directory.Delete(dir.Path, recursive: true);
                progress?.Report($"seed {seeds[i]}: done in {clock.Elapsed.TotalSeconds:0.0} s");
            });
        }
        finally
        {
            try { if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
        var names = runs.SelectMany(r => r.Keys).Distinct(StringComparer.Ordinal);
        var figures = names.ToDictionary(n => n, n => FigureStats.Of(runs.Select(r => r.GetValueOrDefault(n)).ToList()), StringComparer.Ordinal);
        return new BaselineResult(identity!, seeds, figures, wall.Elapsed);
    }
}
