using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FdrHarness.Decisions.Recommend;
using ScottPlot;

namespace FdrHarness.Decisions.Calibration;

/// <summary>fdr predict's outputs: the table (text, CSV, JSON), the plots, and a Helm values override per scale.</summary>
public static class PredictionReport
{
    public const string TextFile = "predict.txt";
    public const string CsvFile = "predict.csv";
    public const string JsonFile = "predict.json";

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static string S(double scale) => scale.ToString(C);
    private static string Mi(double bytes) => (bytes / 1048576).ToString("0", C);
    private static string Cores(double cores) => cores.ToString("0.###", C);

    public static string Text(Prediction p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var sb = new StringBuilder();
        sb.Append(C, $"fdr predict {p.Scenario}: the calibrated lake at scale {string.Join(", ", p.Scales.Select(S))}; ");
        sb.Append(p.Intervals
            ? $"{p.Draws} draws of the calibrated values within their 95 % intervals: each peak is the fitted values' [95 % band from the draws]\n\n"
            : "no intervals in the overlays (none from fdr calibrate): one run per scale with the scenario's values\n\n");
        sb.Append($"{"daemon",-26} {"scale",6} {"peak memory Mi",-22} {"peak cpu",-22} {"limit",8} {"OOMKilled",10} {"set memory/cpu",-16}\n");
        foreach (var d in p.Daemons)
            foreach (var x in d.Points)
            {
                var killed = x.OomKills > 0 ? $"{x.OomKills}x" : "no";
                if (p.Intervals) killed += $" {x.OomKilled}/{p.Draws}";
                // A draw OOMKilled at its limit peaked there: what it needs is above, the figure is a floor.
                var set = $"{(x.OomKilled > 0 ? ">" : "")}{HelmRecommender.Memory(x.SetMemory)}/{HelmRecommender.Cpu(x.SetCpu)}";
                sb.Append(C, $"{d.Daemon,-26} {S(x.Scale),6} {$"{Mi(x.Memory.Central)} [{Mi(x.Memory.Low)}-{Mi(x.Memory.High)}]",-22} ");
                sb.Append(C, $"{$"{Cores(x.Cpu.Central)} [{Cores(x.Cpu.Low)}-{Cores(x.Cpu.High)}]",-22} {(x.MemoryLimit is { } l ? $"{l >> 20}Mi" : "none"),8} {killed,10} {set,-16}\n");
            }
        sb.Append("\nFirst scale at which the memory limit in force (after any limit change) is exceeded (OOMKilled):\n");
        sb.Append($"{"daemon",-26} {"limit",8} {"fitted",12} {"any draw",12}\n");
        foreach (var d in p.Daemons)
        {
            var limit = d.Points.Select(x => x.MemoryLimit).LastOrDefault(l => l is not null);
            sb.Append(C, $"{d.Daemon,-26} {(limit is { } l ? $"{l >> 20}Mi" : "none"),8} {(d.FirstOomScale is { } f ? S(f) : "none"),12} {(d.FirstOomScaleAnyDraw is { } a ? S(a) : "none"),12}\n");
        }
        var shape = p.NodeCpu is { } c && p.NodeMemory is { } m ? $" of {HelmRecommender.Cpu(c)} CPU / {HelmRecommender.Memory(m)}" : "";
        sb.Append(C, $"\nNodes needed{shape} for the limits to set (the band's top peak memory × {Predictor.Headroom:0.00}, its top peak CPU): ");
        sb.Append(string.Join(", ", p.Nodes.Select(n => $"scale {S(n.Scale)}: {(n.Nodes is { } k ? k.ToString(C) : "?")}")));
        sb.Append(p.NodesAvailable is { } avail ? $" (the scenario has {avail})\n" : "\n");
        return sb.ToString();
    }

    public static string Csv(Prediction p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var sb = new StringBuilder("scale,daemon,replicas,peak_memory_bytes,peak_memory_low,peak_memory_high,peak_cpu_cores,peak_cpu_low,peak_cpu_high,oom_kills,draws_oom_killed,draws,memory_limit_bytes,cpu_limit_cores,set_memory_bytes,set_cpu_cores,nodes_needed\n");
        foreach (var scale in p.Scales)
            foreach (var d in p.Daemons)
                foreach (var x in d.Points.Where(x => x.Scale == scale))
                    sb.Append(C, $"{S(scale)},{d.Daemon},{d.Replicas},{x.Memory.Central:R},{x.Memory.Low:R},{x.Memory.High:R},{x.Cpu.Central:R},{x.Cpu.Low:R},{x.Cpu.High:R},{x.OomKills},{x.OomKilled},{p.Draws},{x.MemoryLimit},{x.CpuLimit:R},{x.SetMemory},{x.SetCpu:R},{p.Nodes.First(n => n.Scale == scale).Nodes}\n");
        return sb.ToString();
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string ToJson(Prediction p) => JsonSerializer.Serialize(p, Json) + "\n";

    /// <summary>rucio-daemons values at one scale: {daemon}Count and resources (servers in their own files, as fdr recommend writes them).</summary>
    public static IReadOnlyList<(string File, string Text)> Values(Prediction p, double scale)
    {
        ArgumentNullException.ThrowIfNull(p);
        var at = p.Daemons.SelectMany(d => d.Points.Where(x => x.Scale == scale).Select(x => (d, x))).ToList();
        var nodes = p.Nodes.FirstOrDefault(n => n.Scale == scale)?.Nodes;
        var head = $"# values override for scale {S(scale)} of {p.Scenario}, predicted by fdr predict on the calibrated lake" +
            (p.Intervals ? $" ({p.Draws} draws)" : "") + $"\n# memory: the top of the 95 % band of the peak × {Predictor.Headroom.ToString("0.00", C)}; CPU request: its peak. Nodes needed: {nodes?.ToString(C) ?? "unknown (no node shape)"}\n";
        var daemons = new StringBuilder(head);
        var files = new List<(string, string)>();
        foreach (var (d, x) in at)
        {
            var resources = Resources(x, HelmRecommender.Servers.Contains(d.Daemon) ? "" : "  ");
            if (HelmRecommender.Servers.Contains(d.Daemon))
                files.Add(($"{d.Daemon}.values.yaml", head + $"replicaCount: {d.Replicas}\n" + resources));
            else
                daemons.Append(C, $"{HelmRecommender.HelmKey(d.Daemon)}Count: {d.Replicas}\n{HelmRecommender.HelmKey(d.Daemon)}:\n{resources}");
        }
        files.Insert(0, ("rucio-daemons.values.yaml", daemons.ToString()));
        return files;
    }

    private static string Resources(ScalePrediction x, string indent)
    {
        var cpuLimit = x.CpuLimit is { } l ? $"cpu: {HelmRecommender.Cpu(Math.Max(l, x.SetCpu))}, " : "";
        var note = x.OomKilled > 0 ? $"   # OOMKilled at {HelmRecommender.Memory(x.MemoryLimit ?? 0)} in {x.OomKilled} draws: needs more than this\n" : "\n";
        return $"{indent}resources:\n{indent}  requests: {{cpu: {HelmRecommender.Cpu(x.SetCpu)}, memory: {HelmRecommender.Memory(x.SetMemory)}}}\n" +
            $"{indent}  limits: {{{cpuLimit}memory: {HelmRecommender.Memory(x.SetMemory)}}}{note}";
    }

    /// <summary>Writes the table (text, CSV, JSON), predict-memory.png, predict-cpu.png and values/scale-S/*.values.yaml into <paramref name="dir"/>; returns the files (relative).</summary>
    public static IReadOnlyList<string> Write(Prediction p, string dir)
    {
        ArgumentNullException.ThrowIfNull(p);
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        void Put(string name, string text)
        {
            var path = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Core.Observations.RunDirectory.WriteAtomically(path, text);
            files.Add(name);
        }
        Put(TextFile, Text(p));
        Put(CsvFile, Csv(p));
        Put(JsonFile, ToJson(p));
        foreach (var scale in p.Scales)
            foreach (var (file, text) in Values(p, scale))
                Put(Path.Combine("values", "scale-" + S(scale), file), text);
        Fonts.Default = "DejaVu Sans";
        Save(dir, "predict-memory", Plot(p, "Peak memory per daemon against scale (band: 95 % from the draws)", x => x.Memory, 1.0 / 1048576, "MiB"), files);
        Save(dir, "predict-cpu", Plot(p, "Peak CPU per daemon against scale (band: 95 % from the draws)", x => x.Cpu, 1, "cores"), files);
        return files;
    }

    private static void Save(string dir, string name, Plot plot, List<string> files)
    {
        plot.SavePng(Path.Combine(dir, name + ".png"), 1000, 500);
        files.Add(name + ".png");
    }

    private static Plot Plot(Prediction p, string title, Func<ScalePrediction, Spread> of, double unit, string label)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category20();
        var shown = p.Daemons.Where(d => d.Points.Count > 0 && d.Points.Any(x => of(x).High > 0)).ToList();
        for (var i = 0; i < shown.Count; i++)
        {
            var d = shown[i];
            var color = palette.GetColor(i);
            var xs = d.Points.Select(x => x.Scale).ToArray();
            // The band first, under its line: the 95 % band from the draws (Predictor.Band).
            if (p.Intervals && xs.Length > 1)
            {
                var band = plot.Add.FillY(xs, [.. d.Points.Select(x => of(x).Low * unit)], [.. d.Points.Select(x => of(x).High * unit)]);
                band.FillColor = color.WithOpacity(0.25);
                band.LineStyle.Width = 0;
            }
            var line = plot.Add.ScatterLine(xs, [.. d.Points.Select(x => of(x).Central * unit)]);
            line.Color = color;
            line.LegendText = d.Daemon;
            line.MarkerSize = 6;
        }
        plot.Title(title);
        plot.XLabel("scale");
        plot.YLabel(label);
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
