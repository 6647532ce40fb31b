using System.Globalization;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Cli.Commands;

/// <summary>A few lines that tell what a scenario will do: lake, load, daemons, faults.</summary>
public static class PlanPrinter
{
    public static void Print(Scenario s, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        var run = s.Run;
        o.WriteLine($"{run.Name}: {Durations.Format(run.Duration)} on the {s.Target.Kind.ToString().ToLowerInvariant()} target, seed {run.Seed}, scale {run.Scale.ToString(inv)}");
        var nodes = s.Cluster.Nodes.Sum(n => n.Count);
        o.WriteLine($"  lake:        {s.Rses.Count} RSEs, quota {new ByteSize(s.Rses.Sum(r => r.Quota.Bytes))}, QoS classes {string.Join(", ", s.Rses.Select(r => r.Attributes.GetValueOrDefault("QOS")).OfType<string>().Distinct())}");
        long files = 0;
        double bytes = 0;
        foreach (var e in s.Experiments)
        {
            var n = (long)Math.Round(e.Files * run.Scale, MidpointRounding.AwayFromZero); // as the file generator counts
            files += n;
            bytes += n * MeanSize(e.FileSize);
        }
        o.WriteLine($"  experiments: {s.Experiments.Count}, {files.ToString("N0", inv)} files, about {new ByteSize((long)bytes)}");
        foreach (var p in s.Workload)
        {
            var when = p.Start is { } st ? "at " + Durations.Format(st) : p.After is { } a ? "after " + a : "at 0s";
            o.WriteLine($"  phase:       {p.Name} ({ScenarioLoader.PhaseKind(p)}) {when}{(p.Experiments.Count > 0 ? " for " + string.Join(", ", p.Experiments) : "")}");
        }
        o.WriteLine($"  daemons:     {s.Daemons.Count} deployments, {s.Daemons.Sum(d => d.Replicas)} pods on {nodes} node{(nodes == 1 ? "" : "s")}");
        foreach (var c in s.Chaos) o.WriteLine($"  chaos:       {Describe(c)}");
        if (s.Thresholds.Count > 0) o.WriteLine($"  thresholds:  {string.Join("; ", s.Thresholds.Select(t => t.Expression.Text))}");
    }

    public static double MeanSize(FileSizeDistribution d) => d switch
    {
        FixedSize f => f.Size.Bytes,
        LognormalSize l => l.Mean.Bytes,
        HistogramSize h => h.Bins.Select((b, i) => (b.Weight, Mid: ((b.From?.Bytes ?? (i == 0 ? 1 : h.Bins[i - 1].UpTo.Bytes)) + b.UpTo.Bytes) / 2.0))
            .Sum(x => x.Weight * x.Mid) / Math.Max(1e-12, h.Bins.Sum(b => b.Weight)),
        _ => 0,
    };

    public static string Describe(ChaosAction c) => ChaosKind.For(c).Describe(c);
}
