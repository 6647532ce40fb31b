using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using ScottPlot;

namespace FdrHarness.Decisions.Sweep;

/// <summary>A scenario setting that cannot be swept; the message says which and why.</summary>
public sealed class SweepInputException(string message) : Exception(message);

/// <summary>One point of a sweep: the value swept (scale or setting), and what the lake did with it.</summary>
public sealed record SweepPoint(string Label, double X, double Scale, AggregatingSink Observed, long BacklogAtEnd, TimeSpan Elapsed)
{
    public double Seconds => Math.Max((Observed.Last - Observed.First).TotalSeconds, 1);
    public double FilesPerSecond => Observed.TransfersDone / Seconds;
    public double BytesPerSecond => Observed.BytesDone / Seconds;

    /// <summary>The point as a sweep shard's points.json keeps it (<paramref name="index"/>: its place among the sweep's points).</summary>
    public JsonObject ToJson(int index) => new()
    {
        ["index"] = index, ["label"] = Label, ["x"] = X, ["scale"] = Scale, ["backlog_at_end"] = BacklogAtEnd,
        ["elapsed_seconds"] = Elapsed.TotalSeconds, ["observed"] = Observed.ToJson(),
    };

    /// <summary>The point <see cref="ToJson"/> wrote; throws <see cref="FormatException"/> or <see cref="InvalidOperationException"/> on anything else.</summary>
    public static SweepPoint FromJson(JsonObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        JsonNode Get(string key) => o[key] ?? throw new FormatException($"no \"{key}\"");
        return new SweepPoint(Get("label").GetValue<string>(), Get("x").GetValue<double>(), Get("scale").GetValue<double>(),
            AggregatingSink.FromJson(Get("observed") as JsonObject ?? throw new FormatException("\"observed\" is not an object")),
            Get("backlog_at_end").GetValue<long>(), TimeSpan.FromSeconds(Get("elapsed_seconds").GetValue<double>()));
    }
}

/// <summary>Per daemon across the sweep: the fitted growth (peak ≈ a · scale^b) and where its limit is first exceeded.</summary>
public sealed record DaemonGrowth(string Daemon, double? MemoryExponent, double? MemoryCoefficient, double? CpuExponent, long? MemoryLimit,
    string? FirstOomAt, double? ExtrapolatedOomScale);

/// <param name="Shards">Null when one process ran every point (on its cores); else how many shards' points fdr merge joined.</param>
public sealed record SweepResult(string Scenario, string Swept, IReadOnlyList<SweepPoint> Points, IReadOnlyList<DaemonGrowth> Daemons, TimeSpan Wall, int? Shards = null);

/// <summary>
/// Runs the embedded lake once per sweep point, in parallel on every core (each run is independent and deterministic
/// from the scenario's seed), counting into memory instead of writing Parquet.
/// </summary>
public static class SweepRunner
{
    public static IReadOnlyList<(string Label, double X, Scenario Scenario)> Scales(Scenario s, IReadOnlyList<double> scales) =>
        scales.Select(x => (x.ToString(CultureInfo.InvariantCulture), x, s with { Run = s.Run with { Scale = x } })).ToList();

    /// <summary>"PATH=V1,V2,V3": one point per value of any --set path (<see cref="ScenarioSettings"/>), e.g. daemons.NAME.limits.memory=1Gi,2Gi,3Gi.</summary>
    public static IReadOnlyList<(string Label, double X, Scenario Scenario)> Setting(Scenario s, string assignment)
    {
        var (path, values) = ScenarioSettings.Split(assignment);
        var points = new List<(string, double, Scenario)>();
        foreach (var raw in values.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var changed = ScenarioSettings.Apply(s, path, raw, out var x);
            points.Add((raw, x, changed));
        }
        if (points.Count == 0) throw new SweepInputException($"--set {assignment}: no values after '='");
        return points;
    }

    public static SweepResult Run(string name, string swept, IReadOnlyList<(string Label, double X, Scenario Scenario)> points, IProgress<string>? progress = null)
    {
        var wall = Stopwatch.StartNew();
        var results = RunPoints(swept, points, Enumerable.Range(0, points.Count).ToList(), progress);
        return Join(name, swept, points, results, wall.Elapsed);
    }

    /// <summary>
    /// Runs the points at <paramref name="indices"/> (all of them, or a shard's: <c>--shard i/N</c>), in parallel on every
    /// core; each point's run depends only on its own scenario, so where it runs changes nothing it measures.
    /// </summary>
    public static IReadOnlyList<SweepPoint> RunPoints(string swept, IReadOnlyList<(string Label, double X, Scenario Scenario)> points, IReadOnlyList<int> indices, IProgress<string>? progress = null)
    {
        var results = new SweepPoint[indices.Count];
        // Largest first: the longest run starts at once instead of last, which keeps both cores busy to the end.
        var order = Enumerable.Range(0, indices.Count).OrderByDescending(k => points[indices[k]].Scenario.Run.Scale).ToArray();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, k =>
        {
            var (label, x, scenario) = points[indices[k]];
            var clock = Stopwatch.StartNew();
            var sink = new AggregatingSink();
            var result = EmbeddedLake.Run(scenario, sink);
            results[k] = new SweepPoint(label, x, scenario.Run.Scale, sink, result.Daemons.Sum(d => d.BacklogAtEnd), clock.Elapsed);
            progress?.Report($"{swept} {label}: done in {clock.Elapsed.TotalSeconds:0.0} s");
        });
        return results;
    }

    /// <summary>
    /// The sweep of every point's result (<paramref name="results"/>[j] measured at <paramref name="points"/>[j]): the
    /// growth fits and first OOMs. One process's run and <c>fdr merge</c> of its shards both end here.
    /// </summary>
    public static SweepResult Join(string name, string swept, IReadOnlyList<(string Label, double X, Scenario Scenario)> points, IReadOnlyList<SweepPoint> results, TimeSpan wall, int? shards = null)
    {
        var growth = Growth([.. results], swept == "scale", points[0].Scenario);
        return new SweepResult(name, swept, results, growth, wall, shards);
    }

    /// <summary>Least squares on log(peak) = log(a) + b·log(x), over the points where the daemon was not OOMKilled (a killed pod's peak is its limit).</summary>
    internal static (double A, double B)? Fit(IEnumerable<(double X, double Y)> points)
    {
        var p = points.Where(q => q.X > 0 && q.Y > 0).Select(q => (X: Math.Log(q.X), Y: Math.Log(q.Y))).ToList();
        if (p.Count < 2 || p.Select(q => q.X).Distinct().Count() < 2) return null;
        var (mx, my) = (p.Average(q => q.X), p.Average(q => q.Y));
        var b = p.Sum(q => (q.X - mx) * (q.Y - my)) / p.Sum(q => (q.X - mx) * (q.X - mx));
        return (Math.Exp(my - b * mx), b);
    }

    private static List<DaemonGrowth> Growth(SweepPoint[] points, bool byScale, Scenario scenario)
    {
        var names = points.SelectMany(p => p.Observed.Daemons.Keys).Distinct().Order(StringComparer.Ordinal);
        var sorted = points.OrderBy(p => p.X).ToArray();
        return names.Select(name =>
        {
            var of = sorted.Where(p => p.Observed.Daemons.ContainsKey(name)).Select(p => (p, d: p.Observed.Daemons[name])).ToList();
            var clean = of.Where(x => x.d.OomKills == 0).ToList();
            var fitOn = clean.Count >= 2 ? clean : of;
            var mem = byScale ? Fit(fitOn.Select(x => (x.p.X, (double)x.d.PeakMemory))) : null;
            var cpu = byScale ? Fit(fitOn.Select(x => (x.p.X, x.d.PeakCpu))) : null;
            var limit = scenario.Daemons.FirstOrDefault(d => d.Name == name)?.Limits.Memory?.Bytes ?? of.Select(x => x.d.MemoryLimit).FirstOrDefault(l => l is not null);
            var first = of.FirstOrDefault(x => x.d.OomKills > 0);
            double? extrapolated = first.p is null && mem is { } m && m.B > 0.01 && limit is { } l ? Math.Pow(l / m.A, 1 / m.B) : null;
            return new DaemonGrowth(name, mem?.B, mem?.A, cpu?.B, limit, first.p?.Label, extrapolated);
        }).ToList();
    }

    public static string Text(SweepResult r)
    {
        var sb = new StringBuilder();
        var C = CultureInfo.InvariantCulture;
        var wall = r.Wall.TotalSeconds.ToString("0.0", C);
        sb.Append(r.Shards is { } n
            ? $"sweep of {r.Scenario} over {r.Swept}: {r.Points.Count} runs on {n} shards, the longest shard in {wall} s\n\n"
            : $"sweep of {r.Scenario} over {r.Swept}: {r.Points.Count} runs in {wall} s on {Environment.ProcessorCount} cores\n\n");
        sb.Append($"{r.Swept,10} {"files/s",10} {"MB/s",10} {"done",10} {"failed",8} {"backlog@end",12} {"OOM kills",10} {"run s",7}\n");
        foreach (var p in r.Points.OrderBy(p => p.X))
            sb.Append($"{p.Label,10} {p.FilesPerSecond.ToString("0.###", C),10} {(p.BytesPerSecond / 1e6).ToString("0.##", C),10} {p.Observed.TransfersDone,10} {p.Observed.TransfersFailed,8} {p.BacklogAtEnd,12} {p.Observed.Daemons.Values.Sum(d => d.OomKills),10} {p.Elapsed.TotalSeconds.ToString("0.0", C),7}\n");
        sb.Append($"\n{"daemon",-26} {"peak memory per " + r.Swept,-40} {"mem ~ x^b",10} {"cpu ~ x^b",10} {"limit",9}  first OOM at\n");
        foreach (var g in r.Daemons)
        {
            var peaks = string.Join(" ", r.Points.OrderBy(p => p.X).Select(p => p.Observed.Daemons.TryGetValue(g.Daemon, out var d) ? $"{d.PeakMemory >> 20}Mi" : "-"));
            var largest = r.Points.Max(p => p.X);
            // Past 100× the largest point a power law says little: the daemon is flat, not about to OOM.
            var oom = g.FirstOomAt is { } f ? $"{r.Swept} {f}"
                : g.ExtrapolatedOomScale is { } e && e <= 100 * largest ? $"none swept; ≈ {e.ToString("0.##", C)} by the fit"
                : "none swept";
            sb.Append($"{g.Daemon,-26} {peaks,-40} {(g.MemoryExponent?.ToString("0.00", C) ?? "-"),10} {(g.CpuExponent?.ToString("0.00", C) ?? "-"),10} {(g.MemoryLimit is { } l ? $"{l >> 20}Mi" : "none"),9}  {oom}\n");
        }
        return sb.ToString();
    }

    public static string Csv(SweepResult r)
    {
        var C = CultureInfo.InvariantCulture;
        var sb = new StringBuilder($"{r.Swept},daemon,peak_memory_bytes,peak_cpu_cores,peak_backlog,backlog_at_end,oom_kills,memory_limit_bytes,files_per_second,bytes_per_second\n");
        foreach (var p in r.Points.OrderBy(p => p.X))
            foreach (var (name, d) in p.Observed.Daemons)
                sb.Append(C, $"{p.Label},{name},{d.PeakMemory},{d.PeakCpu},{d.PeakBacklog},{d.LastBacklog},{d.OomKills},{d.MemoryLimit},{p.FilesPerSecond:0.######},{p.BytesPerSecond:0.###}\n");
        return sb.ToString();
    }

    /// <summary>sweep.txt, sweep.csv and plots (memory, CPU, throughput, backlog against the swept value) into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> Write(SweepResult r, string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "sweep.txt"), Text(r));
        File.WriteAllText(Path.Combine(dir, "sweep.csv"), Csv(r));
        Fonts.Default = "DejaVu Sans";
        var xs = r.Points.OrderBy(p => p.X).ToArray();
        var x = xs.Select(p => p.X).ToArray();
        var files = new List<string> { "sweep.txt", "sweep.csv" };
        void Save(string name, Plot plot)
        {
            plot.SavePng(Path.Combine(dir, name + ".png"), 1000, 500);
            files.Add(name + ".png");
        }
        Plot PerDaemon(string title, Func<DaemonPeaks, double> value, string unit)
        {
            var p = new Plot();
            // 20 colours: the default 10 repeat when 17 daemons share one plot.
            p.Add.Palette = new ScottPlot.Palettes.Category20();
            foreach (var g in r.Daemons)
            {
                var ys = xs.Select(pt => pt.Observed.Daemons.TryGetValue(g.Daemon, out var d) ? value(d) : 0).ToArray();
                if (ys.All(v => v <= 0)) continue;
                var line = p.Add.ScatterLine(x, ys);
                line.LegendText = g.Daemon;
                line.MarkerSize = 6;
            }
            p.Title(title);
            p.XLabel(r.Swept);
            p.YLabel(unit);
            p.ShowLegend(Edge.Right);
            return p;
        }
        Save("memory-vs-" + r.Swept, PerDaemon($"Peak memory per daemon against {r.Swept}", d => d.PeakMemory / 1048576.0, "MiB"));
        Save("cpu-vs-" + r.Swept, PerDaemon($"Peak CPU per daemon against {r.Swept}", d => d.PeakCpu, "cores"));
        Save("backlog-vs-" + r.Swept, PerDaemon($"Peak backlog per daemon against {r.Swept}", d => d.PeakBacklog, "items"));
        var t = new Plot();
        var files1 = t.Add.ScatterLine(x, xs.Select(p => p.FilesPerSecond).ToArray());
        files1.LegendText = "files/s done";
        files1.MarkerSize = 6;
        t.Title($"Throughput against {r.Swept}");
        t.XLabel(r.Swept);
        t.YLabel("files per second");
        t.ShowLegend(Edge.Right);
        Save("throughput-vs-" + r.Swept, t);
        return files;
    }
}
