using System.Globalization;
using System.Text;

namespace FdrHarness.Core.Quantities;

/// <summary>Durations as "24h", "90m", "1h30m", "10s", "500ms", "2d"; a bare number is seconds.</summary>
public static class Durations
{
    public const string Expected = "a duration such as \"24h\", \"30m\", \"1h30m\", \"45s\" or \"500ms\"";

    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        error = $"'{text}' is not {Expected}";
        var s = text.Trim();
        if (s.Length == 0) return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            // "NaN" and "Infinity" parse as doubles; TimeSpan.FromSeconds throws on them.
            if (!double.IsFinite(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2) return false;
            value = TimeSpan.FromSeconds(seconds);
            error = null;
            return true;
        }
        var i = 0;
        double total = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
            while (i < s.Length && s[i] == ' ') i++;
            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            if (unitStart == i)
            {
                error = $"'{text}': the number {s[start..unitStart].Trim()} has no unit; expected ms, s, m, h, d or w (only a bare number alone means seconds)";
                return false;
            }
            var factor = s[unitStart..i] switch
            {
                "ms" => 0.001,
                "s" or "sec" => 1,
                "m" or "min" => 60,
                "h" => 3600,
                "d" => 86400,
                "w" => 7 * 86400,
                _ => double.NaN,
            };
            if (double.IsNaN(factor))
            {
                error = $"unknown duration unit '{s[unitStart..i]}' in '{text}'; expected ms, s, m, h, d or w";
                return false;
            }
            total += n * factor;
            while (i < s.Length && s[i] == ' ') i++;
        }
        if (total > TimeSpan.MaxValue.TotalSeconds / 2) return false;
        value = TimeSpan.FromSeconds(total);
        error = null;
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v, out var e) ? v : throw new FormatException(e);

    /// <summary>A short form that parses back: "24h", "1h30m", "45s", "250ms" (hours, not days: rehearsals are read in hours).</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0s";
        var sb = new StringBuilder();
        var ms = (long)Math.Round(value.TotalMilliseconds);
        void Part(long unitMs, string unit)
        {
            if (ms >= unitMs)
            {
                sb.Append(ms / unitMs).Append(unit);
                ms %= unitMs;
            }
        }
        Part(3_600_000, "h");
        Part(60_000, "m");
        Part(1000, "s");
        Part(1, "ms");
        return sb.ToString();
    }
}
