using System.Globalization;
using System.Text;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;

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
        c.Daemons.ToDictionary(d => d.Daemon, d => d.Values.Where(v => v.Written).ToDictionary(v => v.Key, Format), StringComparer.Ordinal);

    /// <summary>
    /// The scenario with the calibration's values: model keys, told failure probabilities, and the bandwidths and
    /// ceilings the run contradicts the scenario on (<see cref="LinkCalibration.BandwidthToWrite"/>): the same links the
    /// overlay writes.
    /// </summary>
    public static Scenario Apply(Scenario s, Calibration c) =>
        Apply(s, ModelKeys(c), Overrides(c, s));

    /// <summary>The link overrides a calibration writes over scenario <paramref name="s"/>: every link with a told value.</summary>
    public static List<(string Source, string Destination, double? Probability, double? Bandwidth, int? MaxActive)> Overrides(Calibration c, Scenario? s) =>
        [.. c.Links.Select(l => (l.Source, l.Destination, Told(l) ? (double?)l.Probability : null, LinkCalibration.BandwidthToWrite(l, s), LinkCalibration.MaxActiveToWrite(l, s)))
            .Where(x => x.Item3 is not null || x.Item4 is not null || x.Item5 is not null)];

    /// <summary>A link whose attempts pin its probability within ±5 pp (95 %); fewer attempts leave the scenario's value.</summary>
    public static bool Told(LinkFit l) => l.HalfWidth <= 0.05;

    public static Scenario Apply(Scenario s, IReadOnlyDictionary<string, Dictionary<string, string>> models, IReadOnlyList<(string Source, string Destination, double? Probability, double? Bandwidth, int? MaxActive)> links)
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
        foreach (var (src, dst, p, bw, ma) in links)
            if (rses.Contains(src) && rses.Contains(dst))
                overrides.Add(new LinkOverride
                {
                    Source = RseExpression.Parse(src), Destination = RseExpression.Parse(dst), FailureProbability = p,
                    Bandwidth = bw is { } b ? new Core.Quantities.Bandwidth(BandwidthValue(b).BytesPerSecond) : null, MaxActive = ma,
                });
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

    /// <summary>
    /// The overlay text. <paramref name="run"/>: the run's scenario, whose own link overrides are written first, so that
    /// the overlay's list (which replaces the scenario's, as Helm replaces lists) keeps them, the fitted ones after (later wins).
    /// </summary>
    public static string Yaml(Calibration c, string runDir, Scenario? run = null, IReadOnlyList<CallLatencyFit>? server = null)
    {
        var sb = new StringBuilder();
        sb.Append(C, $"# fdr calibrate {runDir}: the lake's work models fitted to the run's observations ({c.Passes} replay passes).\n");
        sb.Append("# A scenario overlay: 'fdr run|predict|recommend ... --overlay FILE' merges it over a scenario (mappings key by key,\n");
        sb.Append("# lists replaced). Units: CPU in cores, costs in seconds, memory in bytes.\n");
        sb.Append("# Each value: its 95 % interval and the fit's error on the run (relative RMS of CPU-seconds / memory per sample).\n");
        sb.Append(c.Daemons.Count == 0 ? "daemons: {}\n" : "daemons:\n");
        foreach (var d in c.Daemons)
        {
            sb.Append(C, $"  {d.Daemon}:  # {d.CpuRows} CPU samples (error {d.CpuError:P1}), {d.MemoryRows} memory samples (error {d.MemoryError:P1}){(d.Note is null ? "" : "; " + d.Note)}\n");
            var written = d.Values.Where(v => v.Written).ToList();
            sb.Append(written.Count == 0 ? "    model: {}\n" : "    model:\n");
            foreach (var v in written)
                sb.Append(C, $"      {v.Key}: {Format(v)}  # {Human(v.Key, v.Value)} ± {Human(v.Key, PredictionIntervals.HalfWidth(d, v))}{(v.Combined ? "; " + v.Note : "")}\n");
            foreach (var v in d.Values.Where(v => !v.Written))
                sb.Append(C, $"      # {v.Key}: {v.Note}\n");
        }
        sb.Append("links:\n  overrides:\n");
        var own = run?.Links.Overrides ?? [];
        var linkOverrides = Overrides(c, run);
        if (linkOverrides.Count == 0 && own.Count == 0) sb.Append("    []  # the run told no link value that differs from the scenario's\n");
        if (own.Count > 0) sb.Append("    # the run's own overrides, kept (this list replaces the scenario's):\n");
        foreach (var o in own)
        {
            sb.Append("    - {source: ").Append(Quoted(o.Source.Text)).Append(", destination: ").Append(Quoted(o.Destination.Text));
            if (o.Bandwidth is { } bw) sb.Append(", bandwidth: ").Append(Core.Scenarios.Yaml.ScenarioWriter.Format(bw));
            if (o.MaxActive is { } ma) sb.Append(C, $", max_active: {ma}");
            if (o.FailureProbability is { } fp) sb.Append(", failure_probability: ").Append(Core.Scenarios.Yaml.ScenarioWriter.Format(fp));
            sb.Append("}\n");
        }
        // Per link: what the run told (each value with its 95 % interval) and what it could not; a told bandwidth or
        // ceiling the scenario already has (within the interval) is not written, the scenario's stands.
        foreach (var l in c.Links)
        {
            var notes = new List<string>();
            notes.Add(Told(l) ? $"{l.Failures} of {l.Attempts} attempts failed, ± {l.HalfWidth * 100:0.##} pp"
                : $"failure probability: {l.Failures} of {l.Attempts} attempts failed (± {l.HalfWidth * 100:0.#} pp): too few to tell, not written");
            var scenario = run is null ? default : LinkCalibration.InScenario(run, l.Source, l.Destination);
            notes.Add(l.Bandwidth is { } b
                ? $"bandwidth {MbPerSecond(b)} ± {l.BandwidthHalfWidth / 1e6:0.###} MB/s from {l.DoneTransfers} done transfers" +
                  (LinkCalibration.BandwidthToWrite(l, run) is null ? $", the scenario's {MbPerSecond(scenario.Bandwidth)} within it: kept" : "")
                : $"bandwidth: {l.BandwidthNote}; the scenario's kept");
            notes.Add(l.MaxActive is { } m
                ? $"max_active {m} (saturated: {l.Waited} transfers waited for a slot)" + (LinkCalibration.MaxActiveToWrite(l, run) is null ? ", the scenario's: kept" : "")
                : $"max_active: {l.MaxActiveNote}; the scenario's kept");
            var w = linkOverrides.FirstOrDefault(x => x.Source == l.Source && x.Destination == l.Destination);
            if (w.Source is null)
            {
                sb.Append(C, $"    # {l.Source} -> {l.Destination}: {string.Join("; ", notes)}\n");
                continue;
            }
            sb.Append(C, $"    - {{source: {Quoted(l.Source)}, destination: {Quoted(l.Destination)}");
            if (w.Bandwidth is { } wb) sb.Append(C, $", bandwidth: {MbPerSecond(wb)}");
            if (w.MaxActive is { } wm) sb.Append(C, $", max_active: {wm}");
            if (w.Probability is { } wp) sb.Append(C, $", failure_probability: {wp:0.######}");
            sb.Append(C, $"}}  # {string.Join("; ", notes)}\n");
        }
        if (run is not null)
        {
            var used = c.Links.Select(l => (l.Source, l.Destination)).ToHashSet();
            var never = run.Rses.SelectMany(a => run.Rses.Where(b => b.Name != a.Name).Select(b => (a.Name, b.Name))).Where(x => !used.Contains(x)).ToList();
            if (never.Count > 0)
                sb.Append(C, $"    # never used in this run (no transfer ended on them): the scenario's values kept for {never.Count} links: {string.Join(", ", never.Select(x => x.Item1 + " -> " + x.Item2))}\n");
        }
        sb.Append("# Not a scenario key: what the values were fitted from and their 95 % half-widths (bytes, cores, seconds), from which\n");
        sb.Append("# fdr predict draws; an overlay with it is labelled calibrated by fdr recommend and in run.json.\n");
        sb.Append(C, $"{Core.Scenarios.ScenarioOverlay.CalibrationKey}:\n  run: {Quoted(runDir)}\n  scenario: {Quoted(c.Scenario)}\n  intervals:{(c.Daemons.Count == 0 ? " {}" : "")}\n");
        foreach (var d in c.Daemons)
        {
            var told = d.Values.Where(v => v.Written && double.IsFinite(v.HalfWidth) && v.HalfWidth >= 0).ToList();
            sb.Append(C, $"    {d.Daemon}: {{{string.Join(", ", told.Select(v => $"{v.Key}: {Half(v.Key, PredictionIntervals.HalfWidth(d, v))}"))}}}\n");
        }
        if (server is not null) sb.Append(ServerCalibration.Yaml(server));
        return sb.ToString();
    }

    /// <summary>A half-width in the value's unit (bytes, cores, seconds), to six significant digits: a narrow one must not round to 0.</summary>
    private static string Half(string key, double half) => key is "base_memory" or "memory_per_item" or "cache_per_item" or "cache_max"
        ? Math.Ceiling(half).ToString("0", C) : half.ToString("G6", C);

    /// <summary>A bandwidth as the overlay writes it: MB/s to 4 significant digits (the parsed value is what the replay uses).</summary>
    public static Core.Quantities.Bandwidth BandwidthValue(double bytesPerSecond)
    {
        var mb = bytesPerSecond / 1e6;
        var digits = Math.Max(0, 3 - (int)Math.Floor(Math.Log10(Math.Max(mb, 1e-9))));
        return new Core.Quantities.Bandwidth(Math.Round(mb, Math.Min(digits, 9)) * 1e6);
    }

    /// <summary>"487.3 MB/s": the text of <see cref="BandwidthValue"/>, which parses back to it.</summary>
    public static string MbPerSecond(double bytesPerSecond) => (BandwidthValue(bytesPerSecond).BytesPerSecond / 1e6).ToString("0.#########", C) + " MB/s";

    private static string Quoted(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
