using System.Diagnostics;
using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using MathNet.Numerics.Statistics;

/// <summary>
/// lake-scaling &lt;scenario.yaml&gt; [--scales 0.1,0.2,0.5,1,2,5,10] [--runs N] [--scale-capacity]: the embedded lake at each
/// scale (quotas scaled with it, as bench lake --scale-quotas; with --scale-capacity above 1× also its daemons, links and
/// nodes), each in a fresh process, with a sink that only counts. Prints the
/// median wall and CPU per scale and the least-squares fit of log(wall) on log(events): a slope of 1 is cost linear
/// in events, R² how well one line fits.
/// </summary>
internal static class LakeScalingBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("usage: FdrHarness.Bench lake-scaling <scenario.yaml> [--scales 0.1,0.2,0.5,1,2,5,10] [--runs N]");
            return 2;
        }
        var inv = CultureInfo.InvariantCulture;
        string? Arg(string name)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        // One run in this process: the child's side.
        var capacity = args.Contains("--scale-capacity");
        if (Arg("one") is { } one) return RunOne(args[0], double.Parse(one, inv), capacity);

        var scales = (Arg("scales") ?? "0.1,0.2,0.5,1,2,5,10").Split(',').Select(s => double.Parse(s, inv)).ToArray();
        var runs = int.Parse(Arg("runs") ?? "3", inv);
        Console.WriteLine(string.Create(inv, $"lake-scaling: {args[0]}, scales {string.Join(", ", scales.Select(s => s.ToString(inv)))}, {runs} runs each (medians){(capacity ? ", daemons, links and nodes scaled too" : "")}, {Environment.ProcessorCount} cores, load {Machine.LoadAverage()}"));
        var points = new List<(double Scale, long Events, double Wall, double Cpu, double PeakMiB)>();
        foreach (var scale in scales)
        {
            var samples = new List<(long Events, double Wall, double Cpu, double PeakMiB)>();
            for (var r = 0; r < runs; r++)
            {
                if (Child(args[0], scale, capacity) is not { } s) return 1;
                samples.Add(s);
            }
            var wall = Statistics.Median(samples.Select(s => s.Wall));
            var cpu = Statistics.Median(samples.Select(s => s.Cpu));
            var peak = Statistics.Median(samples.Select(s => s.PeakMiB));
            points.Add((scale, samples[0].Events, wall, cpu, peak));
            Console.WriteLine(string.Create(inv, $"  scale {scale,5}: {samples[0].Events,12:N0} events, wall {wall,7:0.00} s, CPU {cpu,7:0.00} s, {samples[0].Events / wall,10:N0} events/s, peak {peak,6:0} MiB"));
        }
        var (slope, r2) = Fit(points.Select(p => (Math.Log(p.Events), Math.Log(p.Wall))).ToList());
        var (cpuSlope, cpuR2) = Fit(points.Select(p => (Math.Log(p.Events), Math.Log(p.Cpu))).ToList());
        Console.WriteLine(string.Create(inv, $"  log-log fit of wall on events: slope {slope:0.000}, R² {r2:0.0000}; of CPU: slope {cpuSlope:0.000}, R² {cpuR2:0.0000}; load {Machine.LoadAverage()}"));
        // The same points as fixed cost + cost per event: what a run pays whatever its size (start-up, JIT, the
        // daemons' ticks over the whole duration) and what each event adds.
        var (perEvent, fixedWall) = Line(points.Select(p => ((double)p.Events, p.Wall)).ToList());
        var (cpuPerEvent, fixedCpu) = Line(points.Select(p => ((double)p.Events, p.Cpu)).ToList());
        Console.WriteLine(string.Create(inv, $"  linear fit: wall {fixedWall:0.00} s + events / {1 / perEvent:N0} per s; CPU {fixedCpu:0.00} s + events / {1 / cpuPerEvent:N0} per s"));
        return 0;
    }

    /// <summary>The lake at one scale in a fresh process (no JIT or heap carried over): events, wall s, CPU s, peak MiB.</summary>
    private static (long, double, double, double)? Child(string scenario, double scale, bool capacity)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(LakeScalingBenchmark).Assembly.Location);
        foreach (var a in new[] { "lake-scaling", scenario, "--one", scale.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        if (capacity) psi.ArgumentList.Add("--scale-capacity");
        using var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.Error.WriteLine($"lake-scaling: scale {scale} failed (exit {p.ExitCode})");
            return null;
        }
        var f = line.Split(' ');
        var inv = CultureInfo.InvariantCulture;
        return (long.Parse(f[0], inv), double.Parse(f[1], inv), double.Parse(f[2], inv), double.Parse(f[3], inv));
    }

    private static int RunOne(string path, double scale, bool capacity)
    {
        var loaded = ScenarioLoader.Load(path);
        if (!loaded.Ok)
        {
            foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
            return 2;
        }
        var s = loaded.Scenario!;
        s = s with
        {
            Run = s.Run with { Scale = scale },
            Rses = [.. s.Rses.Select(r => r with { Quota = new ByteSize((long)(r.Quota.Bytes * Math.Max(1, scale))), Watermark = new ByteSize((long)(r.Watermark.Bytes * Math.Max(1, scale))) })],
        };
        if (capacity) s = WithCapacity(s, Math.Max(1, scale));
        var sink = new EventCountingSink();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        EmbeddedLake.Run(s, sink);
        watch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sink.Events} {watch.Elapsed.TotalSeconds:0.000} {cpu.TotalSeconds:0.000} {peak:0}"));
        return 0;
    }

    /// <summary>
    /// The lake grown with its load (--scale-capacity): daemons' pods, links' bandwidth and max_active and the nodes
    /// times <paramref name="f"/>, so that a larger run moves proportionally more transfers instead of queueing them.
    /// </summary>
    private static Scenario WithCapacity(Scenario s, double f)
    {
        static int Times(int n, double f) => (int)Math.Ceiling(n * f);
        var d = s.Links.Defaults;
        return s with
        {
            Daemons = [.. s.Daemons.Select(x => x with { Replicas = Times(x.Replicas, f) })],
            Cluster = s.Cluster with { Nodes = [.. s.Cluster.Nodes.Select(n => n with { Count = Times(n.Count, f) })] },
            Links = s.Links with
            {
                Defaults = d with { Bandwidth = new Bandwidth((d.Bandwidth?.BytesPerSecond ?? 1e9) * f), MaxActive = Times(d.MaxActive ?? 100, f) },
                Overrides = [.. s.Links.Overrides.Select(o => o with
                {
                    Bandwidth = o.Bandwidth is { } b ? new Bandwidth(b.BytesPerSecond * f) : null,
                    MaxActive = o.MaxActive is { } m ? Times(m, f) : null,
                })],
            },
        };
    }

    /// <summary>Least squares y = a + b x: the slope b and R².</summary>
    internal static (double Slope, double R2) Fit(IReadOnlyList<(double X, double Y)> points)
    {
        var n = points.Count;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        var sxy = points.Sum(p => (p.X - mx) * (p.Y - my));
        var syy = points.Sum(p => (p.Y - my) * (p.Y - my));
        var slope = sxy / sxx;
        var r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return n < 2 ? (double.NaN, double.NaN) : (slope, r2);
    }

    /// <summary>Least squares y = a + b x: (b, a).</summary>
    private static (double Slope, double Intercept) Line(IReadOnlyList<(double X, double Y)> points)
    {
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
        return (slope, my - slope * mx);
    }
}
