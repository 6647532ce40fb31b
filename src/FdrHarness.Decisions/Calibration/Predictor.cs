using System.Globalization;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Decisions.Sweep;
using FdrHarness.Lake.Daemons;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Decisions.Calibration;

/// <summary>A figure from the draws: the central draw's (the fitted values) and its 95 % band (<see cref="Predictor.Band"/>: the draws' range at least).</summary>
public sealed record Spread(double Central, double Low, double High);

/// <summary>
/// One daemon at one scale. <paramref name="MemoryLimit"/>: the limit in force at the run's end (after any limit change);
/// <paramref name="OomKilled"/>: how many draws had it OOMKilled; <paramref name="SetMemory"/>/<paramref name="SetCpu"/>:
/// the limits to set (the band's top peak memory × 1.15, its top peak CPU), a floor only when a draw was OOMKilled.
/// </summary>
public sealed record ScalePrediction(double Scale, Spread Memory, Spread Cpu, int OomKills, int OomKilled, long? MemoryLimit, double? CpuLimit, long SetMemory, double SetCpu);

/// <summary>Per daemon: its prediction at each scale, and the first scale at which its limit in force is exceeded (OOMKilled) by the fitted values, and by any draw.</summary>
public sealed record DaemonPrediction(string Daemon, int Replicas, IReadOnlyList<ScalePrediction> Points, double? FirstOomScale, double? FirstOomScaleAnyDraw);

/// <summary>Nodes of the scenario's largest pool that the limits to set at a scale need (null without a node shape).</summary>
public sealed record NodesAt(double Scale, int? Nodes);

public sealed record Prediction(string Scenario, IReadOnlyList<double> Scales, int Draws, IReadOnlyList<DaemonPrediction> Daemons, IReadOnlyList<NodesAt> Nodes,
    double? NodeCpu, long? NodeMemory, int? NodesAvailable, bool Intervals);

/// <summary>
/// The calibrated lake at several scales, several times: draw 0 with the fitted values, draws 1..N-1 with each calibrated
/// value moved within its 95 % interval (normal, half-width / 1.96 as σ, independently per value, from named streams of the
/// scenario's seed: predict/draw/K/DAEMON/KEY). Every (scale, draw) is one point of a sweep, run on every core or as shards.
/// </summary>
public static class Predictor
{
    /// <summary>Headroom over the top of the peak memory's band in the limits to set (KRR's).</summary>
    public const double Headroom = 1.15;

    public static string Label(double scale, int draw) =>
        scale.ToString(CultureInfo.InvariantCulture) + (draw == 0 ? "" : " draw " + draw.ToString(CultureInfo.InvariantCulture));

    /// <summary>Every point run on this machine's cores, then <see cref="From"/>.</summary>
    public static Prediction Predict(Scenario calibrated, PredictionIntervals intervals, IReadOnlyList<double> scales, int draws, IProgress<string>? progress = null)
    {
        var points = Points(calibrated, intervals, scales, draws);
        var measured = SweepRunner.RunPoints("scale", points, [.. Enumerable.Range(0, points.Count)], progress);
        return From(calibrated, scales, draws, !intervals.IsEmpty, measured);
    }

    /// <summary>The points to run, scale-major: (scale, draw 0), (scale, draw 1), ...; one draw when there are no intervals.</summary>
    public static IReadOnlyList<(string Label, double X, Scenario Scenario)> Points(Scenario calibrated, PredictionIntervals intervals, IReadOnlyList<double> scales, int draws)
    {
        ArgumentNullException.ThrowIfNull(calibrated);
        ArgumentNullException.ThrowIfNull(intervals);
        var n = intervals.IsEmpty ? 1 : draws;
        var drawn = Enumerable.Range(0, n).Select(k => Draw(calibrated, intervals, k)).ToList();
        return [.. scales.SelectMany(s => drawn.Select((d, k) => (Label(s, k), s, d with { Run = d.Run with { Scale = s } })))];
    }

    /// <summary>Draw <paramref name="k"/>: the fitted values (k = 0), or each interval's value moved by a seeded normal draw (never below 0).</summary>
    public static Scenario Draw(Scenario calibrated, PredictionIntervals intervals, int k)
    {
        if (k == 0 || intervals.IsEmpty) return calibrated;
        var c = CultureInfo.InvariantCulture;
        var daemons = calibrated.Daemons.ToList();
        foreach (var (name, keys) in intervals.Daemons)
        {
            var i = daemons.FindIndex(d => d.Name == name);
            var spec = i >= 0 ? daemons[i] : new DaemonSpec { Name = name };
            var m = DaemonModel.For(spec);
            var model = new Dictionary<string, string>(spec.Model, StringComparer.Ordinal);
            foreach (var (key, half) in keys)
            {
                var rng = new SplitMix64(StableHash.Of(unchecked((ulong)calibrated.Run.Seed), $"predict/draw/{k}/{name}/{key}"));
                double central = key switch
                {
                    "base_memory" => m.BaseMemory, "memory_per_item" => m.MemoryPerItem, "cache_per_item" => m.CachePerItem, "cache_max" => m.CacheMax,
                    "idle_cpu" => m.IdleCpu, "cost_per_item" => m.CostPerItem, "cost_per_bulk" => m.CostPerBulk,
                    _ => throw new InvalidOperationException($"no interval for {key}"),
                };
                var v = Math.Max(0, central + rng.NextGaussian() * half / 1.96);
                model[key] = key switch
                {
                    "idle_cpu" => Math.Round(v, 4).ToString("0.####", c),
                    "cost_per_item" or "cost_per_bulk" => Math.Round(v, 7).ToString("0.#######", c) + "s",
                    _ => Math.Round(v).ToString("0", c),
                };
            }
            spec = spec with { Model = model };
            if (i >= 0) daemons[i] = spec;
            else daemons.Add(spec);
        }
        return calibrated with { Daemons = daemons };
    }

    /// <summary>
    /// A 95 % prediction interval from the draws: the draws are a sample of the figure's distribution under the values'
    /// uncertainty, so the next draw falls within mean ± t(0.975, n−1) · s · √(1 + 1/n) (the normal prediction interval
    /// for one more observation; a handful of draws gives a wide t). The draws' own lowest and highest are kept inside it;
    /// with fewer than 3 draws it is their range. Never below 0.
    /// </summary>
    public static Spread Band(double central, IReadOnlyList<double> draws)
    {
        ArgumentNullException.ThrowIfNull(draws);
        var (low, high) = (draws.Min(), draws.Max());
        if (draws.Count < 3) return new Spread(central, low, high);
        var mean = draws.Average();
        var s = Math.Sqrt(draws.Sum(x => (x - mean) * (x - mean)) / (draws.Count - 1));
        var half = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, draws.Count - 1, 0.975) * s * Math.Sqrt(1 + 1.0 / draws.Count);
        return new Spread(central, Math.Max(0, Math.Min(low, mean - half)), Math.Max(high, mean + half));
    }

    /// <summary>The prediction from every point measured (one process's, or its shards' joined by fdr merge), in <see cref="Points"/>' order.</summary>
    public static Prediction From(Scenario calibrated, IReadOnlyList<double> scales, int draws, bool intervals, IReadOnlyList<SweepPoint> measured)
    {
        ArgumentNullException.ThrowIfNull(calibrated);
        ArgumentNullException.ThrowIfNull(measured);
        var n = intervals ? draws : 1;
        if (measured.Count != scales.Count * n) throw new InvalidOperationException($"{measured.Count} points measured for {scales.Count} scales × {n} draws");
        var sorted = scales.Select((s, j) => (Scale: s, Points: measured.Skip(j * n).Take(n).ToList())).OrderBy(x => x.Scale).ToList();
        var names = measured.SelectMany(p => p.Observed.Daemons.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var daemons = names.Select(name =>
        {
            var replicas = Math.Max(calibrated.Daemons.FirstOrDefault(d => d.Name == name)?.Replicas ?? 1, 1);
            var points = new List<ScalePrediction>();
            foreach (var (scale, ps) in sorted)
            {
                var of = ps.Select(p => p.Observed.Daemons.GetValueOrDefault(name)).ToList();
                if (of[0] is not { } central) continue;
                var present = of.OfType<DaemonPeaks>().ToList();
                var memory = Band(central.PeakMemory, [.. present.Select(d => (double)d.PeakMemory)]);
                var cpu = Band(central.PeakCpu, [.. present.Select(d => d.PeakCpu)]);
                points.Add(new ScalePrediction(scale, memory, cpu, central.OomKills, present.Count(d => d.OomKills > 0), central.MemoryLimit, central.CpuLimit,
                    (long)Math.Ceiling(memory.High * Headroom), Math.Ceiling(Math.Max(cpu.High, 0.001) * 1000 - 1e-9) / 1000));
            }
            return new DaemonPrediction(name, replicas, points, points.FirstOrDefault(p => p.OomKills > 0)?.Scale, points.FirstOrDefault(p => p.OomKilled > 0)?.Scale);
        }).ToList();
        var pool = calibrated.Cluster.Nodes.OrderByDescending(p => p.Cpu.Cores * p.Memory.Bytes).FirstOrDefault();
        var nodes = sorted.Select(x => new NodesAt(x.Scale, pool is null ? null : Recommendations.NodesNeeded(
            daemons.SelectMany(d => d.Points.Where(p => p.Scale == x.Scale).SelectMany(p => Enumerable.Repeat((p.SetCpu, p.SetMemory), d.Replicas))),
            pool.Cpu.Cores, pool.Memory.Bytes))).ToList();
        return new Prediction(calibrated.Run.Name, [.. sorted.Select(x => x.Scale)], n, daemons, nodes, pool?.Cpu.Cores, pool?.Memory.Bytes,
            calibrated.Cluster.Nodes.Sum(p => p.Count) is var count and > 0 ? count : null, intervals);
    }
}
