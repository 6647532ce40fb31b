using System.Globalization;
using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Scenarios;

/// <summary>
/// The keys of a daemon's <c>model:</c> (the embedded lake's work model, read by Lake/Daemons/DaemonModel) and what each
/// value must be, so that a scenario or an overlay with a wrong one is refused at its line instead of failing the run.
/// </summary>
public static class DaemonModelKeys
{
    private enum Kind { Duration, Count, Size, Cpu, Flag }

    private static readonly SortedDictionary<string, Kind> Keys = new(StringComparer.Ordinal)
    {
        ["tick"] = Kind.Duration, ["bulk"] = Kind.Count, ["cost_per_item"] = Kind.Duration, ["cost_per_bulk"] = Kind.Duration,
        ["wait_per_item"] = Kind.Duration, ["wait_per_bulk"] = Kind.Duration, ["base_memory"] = Kind.Size, ["memory_per_item"] = Kind.Size,
        ["cache_per_item"] = Kind.Size, ["cache_max"] = Kind.Size, ["idle_cpu"] = Kind.Cpu, ["startup"] = Kind.Duration,
        ["max_retries"] = Kind.Count, ["stuck_delay"] = Kind.Duration, ["greedy"] = Kind.Flag, ["deletion_time"] = Kind.Duration,
    };

    public static IEnumerable<string> All => Keys.Keys;

    /// <summary>What is wrong with <paramref name="key"/>: <paramref name="value"/>, or null when the lake can use it.</summary>
    public static string? Problem(string key, string value)
    {
        if (!Keys.TryGetValue(key, out var kind)) return $"'{key}' is not a work model key";
        var ok = kind switch
        {
            Kind.Duration => Durations.TryParse(value, out var d, out _) && d >= TimeSpan.Zero && (key != "tick" || d > TimeSpan.Zero),
            Kind.Count => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && (key != "bulk" || n > 0),
            Kind.Size => ByteSize.TryParse(value, out var b, out _) && b.Bytes >= 0,
            Kind.Cpu => CpuQuantity.TryParse(value, out var c, out _) && c.Millicores >= 0,
            _ => bool.TryParse(value, out _),
        };
        if (ok) return null;
        return $"{key}: '{value}' is not {kind switch
        {
            Kind.Duration => key == "tick" ? "a duration above 0 (e.g. 2s)" : "a duration of 0 or more (e.g. 10ms)",
            Kind.Count => key == "bulk" ? "a whole number above 0" : "a whole number of 0 or more",
            Kind.Size => "a size of 0 or more (e.g. 80Ki or bytes)",
            Kind.Cpu => "a CPU quantity of 0 or more (e.g. 5m or 0.005)",
            _ => "true or false",
        }}";
    }
}
