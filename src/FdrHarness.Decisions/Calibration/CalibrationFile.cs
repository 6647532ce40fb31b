using System.Globalization;
using System.Text;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FdrHarness.Decisions.Calibration;

/// <summary>A calibration file that cannot be read; the message names the file and what is wrong.</summary>
public sealed class CalibrationInputException(string message) : Exception(message);

/// <summary>
/// The calibration file: a scenario overlay with <c>daemons.NAME.model</c> keys and <c>links.overrides</c>, each fitted
/// value commented with its 95 % interval. Applied over a scenario, its model keys replace the scenario's and its link
/// overrides come after the scenario's (later entries win).
/// </summary>
public static class CalibrationFile
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The scenario without the model keys a calibration fits (the daemons' defaults then apply).</summary>
    public static Scenario Strip(Scenario s) => s with
    {
        Daemons = s.Daemons.Select(d => d with
        {
            Model = d.Model.Where(kv => !Calibrator.FittedKeys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        }).ToList(),
    };

    /// <summary>The fitted values as model keys (only what was fitted from the run; a kept default is not written).</summary>
    public static Dictionary<string, Dictionary<string, string>> ModelKeys(Calibration c) =>
        c.Daemons.ToDictionary(d => d.Daemon, d => d.Values.Where(v => v.Determined).ToDictionary(v => v.Key, Format), StringComparer.Ordinal);

    public static Scenario Apply(Scenario s, Calibration c) =>
        Apply(s, ModelKeys(c), c.Links.Where(Told).Select(l => (l.Source, l.Destination, l.Probability)).ToList());

    /// <summary>A link whose attempts pin its probability within ±5 pp (95 %); fewer attempts leave the scenario's value.</summary>
    public static bool Told(LinkFit l) => l.HalfWidth <= 0.05;

    public static Scenario Apply(Scenario s, IReadOnlyDictionary<string, Dictionary<string, string>> models, IReadOnlyList<(string Source, string Destination, double Probability)> links)
    {
        var daemons = s.Daemons.ToList();
        foreach (var (name, keys) in models.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (keys.Count == 0) continue;
            var i = daemons.FindIndex(d => d.Name == name);
            var spec = i >= 0 ? daemons[i] : new DaemonSpec { Name = name };
            var model = new Dictionary<string, string>(spec.Model, StringComparer.Ordinal);
            foreach (var (k, v) in keys) model[k] = v;
            spec = spec with { Model = model };
            if (i >= 0) daemons[i] = spec;
            else daemons.Add(spec);
        }
        var rses = s.Rses.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var overrides = s.Links.Overrides.ToList();
        foreach (var (src, dst, p) in links)
            if (rses.Contains(src) && rses.Contains(dst))
                overrides.Add(new LinkOverride { Source = RseExpression.Parse(src), Destination = RseExpression.Parse(dst), FailureProbability = p });
        return s with { Daemons = daemons, Links = s.Links with { Overrides = overrides } };
    }

    /// <summary>A value in the scenario's units: CPU in cores, costs in seconds, memory in bytes.</summary>
    public static string Format(FittedValue v) => v.Key switch
    {
        "idle_cpu" => Math.Round(v.Value, 4).ToString("0.####", C),
        "cost_per_item" or "cost_per_bulk" => Math.Round(v.Value, 7).ToString("0.#######", C) + "s",
        _ => Math.Round(v.Value).ToString("0", C),
    };

    private static string Human(string key, double value) => key switch
    {
        "idle_cpu" => $"{value * 1000:0.##}m",
        "cost_per_item" or "cost_per_bulk" => $"{value * 1000:0.###}ms",
        _ => $"{value / 1048576:0.###}Mi",
    };

    public static string Yaml(Calibration c, string runDir)
    {
        var sb = new StringBuilder();
        sb.Append(C, $"# fdr calibrate {runDir}: the lake's work models fitted to the run's observations ({c.Passes} replay passes).\n");
        sb.Append("# Merge over a scenario with 'fdr predict SCENARIO --calibration FILE'; or copy the daemons.*.model and\n");
        sb.Append("# links.overrides entries into the scenario. Units: CPU in cores, costs in seconds, memory in bytes.\n");
        sb.Append("# Each value: its 95 % interval and the fit's error on the run (relative RMS of CPU-seconds / memory per sample).\n");
        sb.Append("daemons:\n");
        foreach (var d in c.Daemons)
        {
            sb.Append(C, $"  {d.Daemon}:  # {d.CpuRows} CPU samples (error {d.CpuError:P1}), {d.MemoryRows} memory samples (error {d.MemoryError:P1}){(d.Note is null ? "" : "; " + d.Note)}\n");
            var written = d.Values.Where(v => v.Determined).ToList();
            sb.Append(written.Count == 0 ? "    model: {}\n" : "    model:\n");
            foreach (var v in written)
                sb.Append(C, $"      {v.Key}: {Format(v)}  # {Human(v.Key, v.Value)} ± {Human(v.Key, v.HalfWidth)}\n");
            foreach (var v in d.Values.Where(v => !v.Determined))
                sb.Append(C, $"      # {v.Key}: {v.Note}\n");
        }
        sb.Append("links:\n  overrides:\n");
        if (!c.Links.Any(Told)) sb.Append("    []  # no link had enough attempts to tell\n");
        foreach (var l in c.Links.Where(l => !Told(l)))
            sb.Append(C, $"    # {l.Source} -> {l.Destination}: {l.Failures} of {l.Attempts} attempts failed (± {l.HalfWidth * 100:0.#} pp): too few to tell, not written\n");
        foreach (var l in c.Links.Where(Told))
            sb.Append(C, $"    - {{source: {l.Source}, destination: {l.Destination}, failure_probability: {l.Probability:0.######}}}  # {l.Failures} of {l.Attempts} attempts, ± {l.HalfWidth * 100:0.##} pp\n");
        return sb.ToString();
    }

    /// <summary>Reads a calibration file back: its model keys per daemon and its link overrides (names of RSEs, not expressions).</summary>
    public static (Dictionary<string, Dictionary<string, string>> Models, List<(string Source, string Destination, double Probability)> Links) Read(string path)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(path)) stream.Load(reader);
            root = stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode m
                ? m : throw new CalibrationInputException($"{path}: not a calibration file (expected one YAML mapping with daemons and links)");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new CalibrationInputException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}");
        }
        var models = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var links = new List<(string, string, double)>();
        foreach (var (k, v) in root.Children)
        {
            var key = ((YamlScalarNode)k).Value;
            if (key == "daemons" && v is YamlMappingNode daemons)
            {
                foreach (var (dn, dv) in daemons.Children)
                {
                    var name = ((YamlScalarNode)dn).Value!;
                    if (dv is not YamlMappingNode dm || dm.Children.Count != 1 || !dm.Children.TryGetValue(new YamlScalarNode("model"), out var mv) || mv is not YamlMappingNode model)
                        throw new CalibrationInputException($"{path}:{dn.Start.Line}:{dn.Start.Column}: daemons.{name} must hold only 'model'");
                    var keys = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (mk, mvv) in model.Children)
                    {
                        var mkey = ((YamlScalarNode)mk).Value!;
                        var text = (mvv as YamlScalarNode)?.Value ?? "";
                        if (!Calibrator.FittedKeys.Contains(mkey))
                            throw new CalibrationInputException($"{path}:{mk.Start.Line}:{mk.Start.Column}: daemons.{name}.model: '{mkey}' is not a calibrated key; expected one of {string.Join(", ", Calibrator.FittedKeys)}");
                        if (!Valid(mkey, text))
                            throw new CalibrationInputException($"{path}:{mvv.Start.Line}:{mvv.Start.Column}: daemons.{name}.model.{mkey}: '{text}' is not a non-negative {(mkey.StartsWith("cost", StringComparison.Ordinal) ? "duration" : mkey == "idle_cpu" ? "CPU quantity" : "size")}");
                        keys[mkey] = text;
                    }
                    models[name] = keys;
                }
            }
            else if (key == "links" && v is YamlMappingNode l)
            {
                foreach (var (lk, lv) in l.Children)
                {
                    if (((YamlScalarNode)lk).Value != "overrides" || lv is not YamlSequenceNode seq)
                        throw new CalibrationInputException($"{path}:{lk.Start.Line}:{lk.Start.Column}: links must hold only an 'overrides' list");
                    foreach (var item in seq.Children)
                    {
                        string? Field(string f) => item is YamlMappingNode im && im.Children.TryGetValue(new YamlScalarNode(f), out var n) ? (n as YamlScalarNode)?.Value : null;
                        var (src, dst, p) = (Field("source"), Field("destination"), Field("failure_probability"));
                        if (src is null || dst is null || !double.TryParse(p, NumberStyles.Float, C, out var prob) || prob is < 0 or > 1)
                            throw new CalibrationInputException($"{path}:{item.Start.Line}:{item.Start.Column}: a link override needs source, destination and failure_probability from 0 to 1");
                        links.Add((src, dst, prob));
                    }
                }
            }
            else throw new CalibrationInputException($"{path}:{k.Start.Line}:{k.Start.Column}: unknown key '{key}'; a calibration file holds daemons and links");
        }
        return (models, links);
    }

    private static bool Valid(string key, string text) => key switch
    {
        "idle_cpu" => CpuQuantity.TryParse(text, out var cpu, out _) && cpu.Millicores >= 0,
        "cost_per_item" or "cost_per_bulk" => Durations.TryParse(text, out var d, out _) && d >= TimeSpan.Zero,
        _ => ByteSize.TryParse(text, out var b, out _) && b.Bytes >= 0,
    };
}
