using System.Diagnostics;
using System.Text.Json.Nodes;
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
        var runs = RunSeeds(scenario, count, Enumerable.Range(0, count).ToList(), progress, ct);
        return Join(scenario.Run.Seed, runs, wall.Elapsed);
    }

    /// <summary>
    /// The runs with the seeds at <paramref name="indices"/> of the baseline's <paramref name="count"/> (all of them, or a
    /// shard's: <c>--shard i/N</c>), in parallel on the cores, each reported as <c>fdr run</c> reports and flattened to its figures.
    /// </summary>
    public static IReadOnlyList<BaselineRun> RunSeeds(Scenario scenario, int count, IReadOnlyList<int> indices, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(indices);
        var seeds = Seeds(scenario.Run.Seed, count);
        var scratch = Path.Combine(Path.GetTempPath(), $"fdr-baseline-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        var runs = new BaselineRun[indices.Count];
        try
        {
            Parallel.For(0, indices.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, k =>
            {
                var clock = Stopwatch.StartNew();
                var seed = seeds[indices[k]];
                var s = scenario with { Run = scenario.Run with { Seed = seed } };
                var dir = RunDirectory.Create(scratch, s.Run.Name, s.Run.Seed, new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), Path.Combine(scratch, $"seed-{seed}"));
                dir.WriteScenario(s);
                var info = RunInfo.Start(s);
                dir.WriteRunInfo(info);
                using (var sink = dir.OpenSink())
                    EmbeddedLake.Run(s, sink, null, ct);
                dir.WriteRunInfo(info.End(0));
                var summary = Thresholds.Figures.ToJson(SummaryBuilder.Build(dir.Path, new Reporting.ReportOptions { Plots = false }));
                runs[k] = new BaselineRun(indices[k], seed, RunIdentity.Of(summary), RunFigures.Flatten(summary));
                Directory.Delete(dir.Path, recursive: true);
                progress?.Report($"seed {seed}: done in {clock.Elapsed.TotalSeconds:0.0} s");
            });
        }
        finally
        {
            try { if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
        return runs;
    }

    /// <summary>The baseline of every seed's run (one process's, or its shards' joined by fdr merge): each figure's median and spread.</summary>
    public static BaselineResult Join(long scenarioSeed, IReadOnlyList<BaselineRun> runs, TimeSpan wall)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var ordered = runs.OrderBy(r => r.Index).ToList();
        var names = ordered.SelectMany(r => r.Figures.Keys).Distinct(StringComparer.Ordinal);
        var figures = names.ToDictionary(n => n, n => FigureStats.Of(ordered.Select(r => r.Figures.GetValueOrDefault(n)).ToList()), StringComparer.Ordinal);
        return new BaselineResult(ordered[0].Identity, Seeds(scenarioSeed, ordered.Count), figures, wall);
    }
}

/// <summary>One run of a baseline: the seed at <see cref="Index"/> of its seeds, what run it was, and its figures by the catalogue's names.</summary>
public sealed record BaselineRun(int Index, long Seed, RunIdentity Identity, IReadOnlyDictionary<string, double?> Figures)
{
    public JsonObject ToJson()
    {
        var figures = new JsonObject();
        foreach (var (name, value) in Figures.OrderBy(f => f.Key, StringComparer.Ordinal)) figures[name] = value;
        return new JsonObject { ["index"] = Index, ["seed"] = Seed, ["identity"] = Identity.ToJson(), ["figures"] = figures };
    }

    /// <summary>The run <see cref="ToJson"/> wrote; throws <see cref="FormatException"/> or <see cref="InvalidOperationException"/> on anything else.</summary>
    public static BaselineRun FromJson(JsonObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var figures = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var (name, value) in o["figures"] as JsonObject ?? throw new FormatException("no \"figures\""))
            figures[name] = value?.GetValue<double>();
        return new BaselineRun((o["index"] ?? throw new FormatException("no \"index\"")).GetValue<int>(), (o["seed"] ?? throw new FormatException("no \"seed\"")).GetValue<long>(),
            RunIdentity.FromJson(o["identity"]) ?? throw new FormatException("no \"identity\""), figures);
    }
}
