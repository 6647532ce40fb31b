using System.Globalization;
using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Decisions.Calibration;

/// <summary>What the lake used per daemon (over its running pods' samples: mean CPU, median working set) and per link (transfers submitted and done).</summary>
public sealed class LakeUsage : IObservationSink
{
    private readonly Dictionary<string, (List<double> Cpu, List<double> Memory)> _samples = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), (long Submitted, long Done)> _links = [];

    public void Sample(in PodSample s)
    {
        if (s.State != "Running") return;
        if (!_samples.TryGetValue(s.Daemon, out var of)) _samples[s.Daemon] = of = ([], []);
        of.Cpu.Add(s.CpuCores);
        of.Memory.Add(s.MemoryBytes);
    }

    public void Event(in HermesEvent e)
    {
        if (e.SrcRse is not { } src || e.DstRse is not { } dst) return;
        var done = e.EventType == EventTypes.TransferDone;
        if (!done && e.EventType != EventTypes.TransferSubmitted) return;
        var (s, d) = _links.GetValueOrDefault((src, dst));
        _links[(src, dst)] = done ? (s, d + 1) : (s + 1, d);
    }

    public void Lifecycle(in PodLifecycleEvent e) { }
    public void Fault(in FaultRecord f) { }
    public void Injection(in InjectionRecord r) { }
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }

    public (double Cpu, double Memory)? Typical(string daemon) =>
        _samples.TryGetValue(daemon, out var of) && of.Cpu.Count > 0 ? (of.Cpu.Average(), Median(of.Memory)) : null;

    /// <summary>done / submitted in percent, as the seed's matrix; null for a link without submissions.</summary>
    public double? DoneOverSubmitted(string source, string destination) =>
        _links.TryGetValue((source, destination), out var l) && l.Submitted > 0 ? 100.0 * l.Done / l.Submitted : null;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static LakeUsage Of(Scenario scenario)
    {
        var usage = new LakeUsage();
        EmbeddedLake.Run(scenario, usage);
        return usage;
    }
}

/// <summary>One daemon: measured, the calibrated lake's and the uncalibrated lake's typical CPU (cores) and memory (bytes).</summary>
public sealed record DaemonCloseness(string Daemon, Measured? Cpu, Measured? Memory, (double Cpu, double Memory)? Calibrated, (double Cpu, double Memory)? Uncalibrated);

/// <summary>The fit to a reference table: the scenario's model keys, and how close each lake comes to what was measured.</summary>
public sealed record ReferenceCalibration(string Scenario, string Reference, IReadOnlyDictionary<string, Dictionary<string, string>> Models, IReadOnlyList<DaemonCloseness> Daemons,
    IReadOnlyList<(string Source, string Destination, double Measured, double? Calibrated, double? Uncalibrated)> Links, int Runs);

/// <summary>
/// Fits a scenario's daemon models so that the lake's typical usage comes close to a table of measured usage (the seed's
/// daemons-during-fdr.csv): per daemon, the CPU costs are scaled so the mean CPU of its running pods (CPU-seconds are linear
/// in the costs) meets the measured (idle_cpu when it did no work), and base_memory moved by the gap between the measured
/// and the median working set.
/// The lake's timing depends on the costs, so it is run again with the new values, <c>passes</c> times.
/// </summary>
public static class ReferenceCalibrator
{
    public static ReferenceCalibration Run(Scenario scenario, ReferenceTable reference, int passes = 3, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(reference);
        var c = CultureInfo.InvariantCulture;
        var models = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var uncalibrated = LakeUsage.Of(scenario);
        progress?.Report("the uncalibrated lake: run");
        var usage = uncalibrated;
        var current = scenario;
        for (var pass = 0; pass < passes; pass++)
        {
            foreach (var m in reference.Daemons)
            {
                if (usage.Typical(m.Daemon) is not { } lake) continue;
                var spec = current.Daemons.FirstOrDefault(d => d.Name == m.Daemon) ?? new DaemonSpec { Name = m.Daemon };
                var model = DaemonModel.For(spec);
                if (!models.TryGetValue(m.Daemon, out var keys)) models[m.Daemon] = keys = new(StringComparer.Ordinal);
                if (m.Cpu is { } cpu)
                {
                    var working = lake.Cpu - model.IdleCpu;
                    if (working > 1e-4)
                    {
                        // The work's share scaled to what the measure leaves above idle; when idle alone is above the measure,
                        // idle and work share it half and half (one figure cannot tell them apart).
                        var idle = cpu.Typical > model.IdleCpu ? model.IdleCpu : cpu.Typical / 2;
                        var k = Math.Clamp((cpu.Typical - idle) / working, 0.01, 100);
                        if (idle != model.IdleCpu) keys["idle_cpu"] = Math.Round(idle, 4).ToString("0.####", c);
                        keys["cost_per_item"] = Seconds(model.CostPerItem * k);
                        if (model.CostPerBulk > 0) keys["cost_per_bulk"] = Seconds(model.CostPerBulk * k);
                    }
                    else keys["idle_cpu"] = Math.Round(cpu.Typical, 4).ToString("0.####", c);
                }
                if (m.Memory is { } memory)
                    keys["base_memory"] = Math.Round(Math.Max(16 << 20, model.BaseMemory + (memory.Typical - lake.Memory))).ToString("0", c);
            }
            current = CalibrationFile.Apply(scenario, models, []);
            usage = LakeUsage.Of(current);
            progress?.Report($"pass {pass + 1}: run");
        }
        var daemons = reference.Daemons.Select(m => new DaemonCloseness(m.Daemon, m.Cpu, m.Memory, usage.Typical(m.Daemon), uncalibrated.Typical(m.Daemon))).ToList();
        var links = reference.Matrix.OrderBy(l => l.Key.Source, StringComparer.Ordinal).ThenBy(l => l.Key.Destination, StringComparer.Ordinal)
            .Select(l => (l.Key.Source, l.Key.Destination, l.Value, usage.DoneOverSubmitted(l.Key.Source, l.Key.Destination), uncalibrated.DoneOverSubmitted(l.Key.Source, l.Key.Destination))).ToList();
        return new ReferenceCalibration(scenario.Run.Name, reference.Path, models, daemons, links, passes + 1);
    }

    private static string Seconds(double s) => Math.Round(s, 7).ToString("0.#######", CultureInfo.InvariantCulture) + "s";

    /// <summary>The overlay: daemons.NAME.model with the fitted keys, and calibration: saying it came from a reference table (no intervals: one table tells none).</summary>
    public static string Yaml(ReferenceCalibration r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder();
        sb.Append($"# fdr calibrate --reference {r.Reference}: {r.Scenario}'s daemon models fitted so the lake's typical usage meets the measured ({r.Runs} lake runs).\n");
        sb.Append("# A scenario overlay: 'fdr run|predict|recommend ... --overlay FILE'. Units: CPU in cores, costs in seconds, memory in bytes.\n");
        sb.Append("daemons:\n");
        foreach (var (name, keys) in r.Models.OrderBy(m => m.Key, StringComparer.Ordinal).Where(m => m.Value.Count > 0))
        {
            var d = r.Daemons.First(x => x.Daemon == name);
            sb.Append($"  {name}:  # measured {d.Cpu?.Text ?? "-"} cores, {d.Memory?.Text ?? "-"}\n    model:\n");
            foreach (var (k, v) in keys.OrderBy(k => k.Key, StringComparer.Ordinal)) sb.Append($"      {k}: {v}\n");
        }
        sb.Append("# Not a scenario key: what the values were fitted to (no intervals: a table of typical figures tells none).\n");
        sb.Append($"{Core.Scenarios.ScenarioOverlay.CalibrationKey}:\n  reference: {System.Text.Json.JsonSerializer.Serialize(r.Reference)}\n  scenario: {System.Text.Json.JsonSerializer.Serialize(r.Scenario)}\n");
        return sb.ToString();
    }

    /// <summary>The closeness table: per daemon the measured, calibrated-lake and uncalibrated-lake typical CPU and memory; then the matrix.</summary>
    public static string Text(ReferenceCalibration r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var c = CultureInfo.InvariantCulture;
        string Cpu(double? v) => v is { } x ? x.ToString("0.###", c) : "-";
        string Mem(double? v) => v is { } x ? (x / 1048576).ToString("0", c) + "Mi" : "-";
        string Gap(double? lake, double? measured) => lake is { } l && measured is { } m && m > 0 ? ((l - m) / m).ToString("+0%;-0%;0%", c) : "-";
        var sb = new StringBuilder();
        sb.Append($"{"daemon",-26} {"cpu measured",13} {"calibrated",11} {"gap",6} {"uncalibrated",13} {"gap",6}   {"mem measured",13} {"calibrated",11} {"gap",6} {"uncalibrated",13} {"gap",6}\n");
        foreach (var d in r.Daemons)
        {
            var (mc, mm) = (d.Cpu?.Typical, d.Memory?.Typical);
            sb.Append($"{d.Daemon,-26} {Cpu(mc),13} {Cpu(d.Calibrated?.Cpu),11} {Gap(d.Calibrated?.Cpu, mc),6} {Cpu(d.Uncalibrated?.Cpu),13} {Gap(d.Uncalibrated?.Cpu, mc),6}   ");
            sb.Append($"{Mem(mm),13} {Mem(d.Calibrated?.Memory),11} {Gap(d.Calibrated?.Memory, mm),6} {Mem(d.Uncalibrated?.Memory),13} {Gap(d.Uncalibrated?.Memory, mm),6}\n");
        }
        if (r.Links.Count > 0)
        {
            var both = r.Links.Where(l => l.Calibrated is not null && l.Uncalibrated is not null).ToList();
            double Mean(Func<(string, string, double Measured, double? Calibrated, double? Uncalibrated), double> f) => both.Count == 0 ? double.NaN : both.Average(f);
            sb.Append(c, $"\ntransfer matrix, done/submitted over the {both.Count} of {r.Links.Count} measured links the lake used: ");
            sb.Append(c, $"measured mean {Mean(l => l.Measured):0.0} %, calibrated lake {Mean(l => l.Calibrated!.Value):0.0} % (mean gap {Mean(l => Math.Abs(l.Calibrated!.Value - l.Measured)):0.0} pp), ");
            sb.Append(c, $"uncalibrated lake {Mean(l => l.Uncalibrated!.Value):0.0} % (mean gap {Mean(l => Math.Abs(l.Uncalibrated!.Value - l.Measured)):0.0} pp)\n");
        }
        return sb.ToString();
    }

    public static string Csv(ReferenceCalibration r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder("kind,name,measured_cpu_cores,calibrated_cpu_cores,uncalibrated_cpu_cores,measured_memory_bytes,calibrated_memory_bytes,uncalibrated_memory_bytes,measured_done_over_submitted,calibrated_done_over_submitted,uncalibrated_done_over_submitted\n");
        var c = CultureInfo.InvariantCulture;
        foreach (var d in r.Daemons)
            sb.Append(c, $"daemon,{d.Daemon},{d.Cpu?.Typical:R},{d.Calibrated?.Cpu:R},{d.Uncalibrated?.Cpu:R},{d.Memory?.Typical:R},{d.Calibrated?.Memory:R},{d.Uncalibrated?.Memory:R},,,\n");
        foreach (var l in r.Links)
            sb.Append(c, $"link,{l.Source}->{l.Destination},,,,,,,{l.Measured:R},{l.Calibrated:R},{l.Uncalibrated:R}\n");
        return sb.ToString();
    }
}
