using System.Globalization;
using System.Text.Json.Nodes;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Decisions.Calibration;

/// <summary>
/// The 95 % half-widths of calibrated values, per daemon and model key, in the scenario's units (bytes, cores, seconds):
/// the <c>calibration.intervals</c> of the overlays fdr calibrate writes (a later overlay's value wins), which fdr predict draws within.
/// </summary>
public sealed class PredictionIntervals
{
    public SortedDictionary<string, SortedDictionary<string, double>> Daemons { get; } = new(StringComparer.Ordinal);
    public bool IsEmpty => Daemons.Values.All(k => k.Count == 0);

    /// <summary>The intervals of the calibrated overlays' <c>calibration</c> mappings; <see cref="CalibrationInputException"/> (file:line:column) on a malformed one.</summary>
    public static PredictionIntervals From(IEnumerable<YMapping> calibrations)
    {
        ArgumentNullException.ThrowIfNull(calibrations);
        var result = new PredictionIntervals();
        foreach (var c in calibrations)
        {
            if (c["intervals"] is not { } node) continue;
            if (node is not YMapping daemons) throw Bad(node, "calibration.intervals must map daemon names to their keys' half-widths");
            foreach (var (name, keys) in daemons.Entries)
            {
                if (keys is YScalar { IsNull: true }) continue;
                if (keys is not YMapping m) throw Bad(keys, $"calibration.intervals.{name.Value} must map model keys to half-widths");
                if (!result.Daemons.TryGetValue(name.Value, out var of)) result.Daemons[name.Value] = of = new(StringComparer.Ordinal);
                foreach (var (key, value) in m.Entries)
                {
                    if (!Calibrator.FittedKeys.Contains(key.Value))
                        throw Bad(key, $"calibration.intervals.{name.Value}: '{key.Value}' is not a calibrated key; expected one of {string.Join(", ", Calibrator.FittedKeys)}");
                    if (value is not YScalar text || Parse(key.Value, text.Value) is not { } half)
                        throw Bad(value, $"calibration.intervals.{name.Value}.{key.Value}: expected a non-negative {Unit(key.Value)}");
                    of[key.Value] = half;
                }
            }
        }
        return result;
    }

    /// <summary>The least half-width, relative to the value, calibrate writes (see <see cref="HalfWidth"/>).</summary>
    public const double MinRelativeHalfWidth = 0.005;

    /// <summary>The work-driven keys: their columns are the replay's counts of work (items, bulks, units in flight and finished).</summary>
    private static readonly string[] CountDriven = ["cost_per_item", "cost_per_bulk", "memory_per_item", "cache_per_item"];

    /// <summary>
    /// The 95 % half-width fdr calibrate writes for a value: least squares' half-width and the error of the replay's work
    /// counts, added in quadrature. Least squares treats the counts as exact and the samples' residuals as independent,
    /// but the counts come from a replay of the run whose timing follows the fitted costs, not the run's: an error that
    /// runs through the whole replay (items finishing a little earlier or later) does not average out over the samples,
    /// so it is left out of least squares' interval (errors in variables). Its size is measured by the CPU fit's relative
    /// RMS error on the run (<see cref="DaemonFit.CpuError"/>): CPU-seconds are linear in the counts with no other noise,
    /// so on a replay that reproduces the run that error is zero (the default-model closed loop), and what remains is the
    /// counts' relative error. A count-driven value (per item, per bulk, in flight, finished) moves by as much, relative:
    /// σ = CpuError · |value|, 1.96 σ added in quadrature. base_memory, idle_cpu and cache_max keep least squares'.
    /// </summary>
    public static double HalfWidth(DaemonFit fit, FittedValue value)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(value);
        var ols = double.IsFinite(value.HalfWidth) ? value.HalfWidth : 0;
        // Since the replay follows the run's transfers it settles on the run's timing and both errors can be ~0 while
        // the prediction still differs slightly (keys told only in a sum, values settled to 1 %): at least ±0.5 %.
        var floor = MinRelativeHalfWidth * Math.Abs(value.Value);
        if (!CountDriven.Contains(value.Key) || !double.IsFinite(fit.CpuError)) return Math.Max(ols, floor);
        var counts = 1.96 * fit.CpuError * Math.Abs(value.Value);
        return Math.Max(Math.Sqrt(ols * ols + counts * counts), floor);
    }

    private static CalibrationInputException Bad(YNode at, string message) => new($"{at.At}: {message}");

    private static string Unit(string key) => key switch
    {
        "idle_cpu" => "CPU quantity (cores)",
        "cost_per_item" or "cost_per_bulk" => "duration",
        _ => "size (bytes)",
    };

    private static double? Parse(string key, string text)
    {
        double? v = key switch
        {
            "idle_cpu" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var cores) ? cores
                : CpuQuantity.TryParse(text, out var q, out _) ? q.Cores : null,
            "cost_per_item" or "cost_per_bulk" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds
                : Durations.TryParse(text, out var d, out _) ? d.TotalSeconds : null,
            _ => ByteSize.TryParse(text, out var b, out _) ? b.Bytes : null,
        };
        return v is { } x && double.IsFinite(x) && x >= 0 ? x : null;
    }

    /// <summary>As a predict shard's options keep them (doubles round-trip), and back.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject();
        foreach (var (name, keys) in Daemons)
        {
            var k = new JsonObject();
            foreach (var (key, half) in keys) k[key] = half;
            o[name] = k;
        }
        return o;
    }

    public static PredictionIntervals FromJson(JsonObject? o)
    {
        var result = new PredictionIntervals();
        foreach (var (name, keys) in o ?? [])
        {
            var of = result.Daemons[name] = new(StringComparer.Ordinal);
            foreach (var (key, half) in keys as JsonObject ?? throw new FormatException($"intervals.{name} is not an object"))
                of[key] = half?.GetValue<double>() ?? throw new FormatException($"intervals.{name}.{key} is null");
        }
        return result;
    }
}
