using System.Globalization;
using System.Text;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Decisions.Calibration;

/// <summary>Per daemon: its peak memory and CPU at each scale, its memory limit, and the first scale at which it was OOMKilled.</summary>
public sealed record DaemonPrediction(string Daemon, IReadOnlyList<(double Scale, long PeakMemory, double PeakCpu, int OomKills)> Points, long? MemoryLimit, double? FirstOomScale);

/// <summary>The calibrated lake at several scales: the scenario with the calibration applied, run as a sweep (every core).</summary>
public static class Predictor
{
    public static IReadOnlyList<DaemonPrediction> Predict(Scenario calibrated, IReadOnlyList<double> scales, IProgress<string>? progress = null)
    {
        var sweep = SweepRunner.Run(calibrated.Run.Name, "scale", SweepRunner.Scales(calibrated, scales), progress);
        return FromSweep(calibrated, sweep);
    }

    /// <summary>The prediction a sweep of <paramref name="calibrated"/> over scales gives (one process's, or its shards' joined by fdr merge).</summary>
    public static IReadOnlyList<DaemonPrediction> FromSweep(Scenario calibrated, SweepResult sweep)
    {
        ArgumentNullException.ThrowIfNull(calibrated);
        ArgumentNullException.ThrowIfNull(sweep);
        var points = sweep.Points.OrderBy(p => p.Scale).ToList();
        return points.SelectMany(p => p.Observed.Daemons.Keys).Distinct().Order(StringComparer.Ordinal).Select(name =>
        {
            var of = points.Where(p => p.Observed.Daemons.ContainsKey(name)).Select(p => (p.Scale, D: p.Observed.Daemons[name])).ToList();
            var limit = calibrated.Daemons.FirstOrDefault(d => d.Name == name)?.Limits.Memory?.Bytes;
            var firstOom = of.FirstOrDefault(x => x.D.OomKills > 0);
            return new DaemonPrediction(name, of.Select(x => (x.Scale, x.D.PeakMemory, x.D.PeakCpu, x.D.OomKills)).ToList(), limit,
                firstOom.D is null ? null : firstOom.Scale);
        }).ToList();
    }

    public static string Text(IReadOnlyList<DaemonPrediction> daemons, IReadOnlyList<double> scales)
    {
        var c = CultureInfo.InvariantCulture;
        var sorted = scales.Order().ToList();
        var sb = new StringBuilder();
        sb.Append($"{"daemon",-26} ");
        foreach (var s in sorted) sb.Append($"{"peak mem ×" + s.ToString(c),16} {"peak cpu ×" + s.ToString(c),14} ");
        sb.Append($"{"limit",9}  first OOMKill\n");
        foreach (var d in daemons)
        {
            sb.Append($"{d.Daemon,-26} ");
            foreach (var s in sorted)
            {
                var p = d.Points.FirstOrDefault(x => x.Scale == s);
                sb.Append($"{(d.Points.Any(x => x.Scale == s) ? $"{p.PeakMemory / 1048576.0:0}Mi" : "-"),16} {(d.Points.Any(x => x.Scale == s) ? p.PeakCpu.ToString("0.###", c) : "-"),14} ");
            }
            sb.Append($"{(d.MemoryLimit is { } l ? $"{l >> 20}Mi" : "none"),9}  {(d.FirstOomScale is { } f ? "at scale " + f.ToString(c) : "none at these scales")}\n");
        }
        return sb.ToString();
    }
}
