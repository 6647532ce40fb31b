using System.Globalization;

namespace FdrHarness.Core.Figures;

/// <summary>
/// A figure's value as a person reads it, the same on the console, in compare and in the report: ratios as
/// percentages, durations with their unit, memory in MiB/GiB, data in GB/TB, CPU in cores.
/// </summary>
public static class FigureFormat
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Value(double? value, FigureUnit unit) => value is not { } v ? "no data" : unit switch
    {
        FigureUnit.Ratio => Number(v * 100, 2) + " %",
        FigureUnit.Seconds => Seconds(v),
        FigureUnit.Milliseconds => Number(v, 1) + " ms",
        FigureUnit.Bytes => Decimal(v),
        FigureUnit.Memory => Binary(v),
        FigureUnit.Cores => Number(v, 3) + (Math.Abs(v) == 1 ? " core" : " cores"),
        FigureUnit.FilesPerSecond => Number(v, 3) + " files/s",
        FigureUnit.BytesPerSecond => Decimal(v) + "/s",
        FigureUnit.Count => Number(v, 1),
        _ => Number(v, 6),
    };

    /// <summary>A difference in the figure's unit, signed; ratios in percentage points.</summary>
    public static string Delta(double delta, FigureUnit unit)
    {
        var sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
        var size = Math.Abs(delta);
        return sign + (unit == FigureUnit.Ratio ? Number(size * 100, 2) + " pp" : Value(size, unit));
    }

    /// <summary>Value for a figure name; a name outside the catalogue prints as a plain number.</summary>
    public static string Of(string figure, double? value) => Value(value, FigureCatalog.Find(figure)?.Unit ?? FigureUnit.Number);

    private static string Number(double v, int decimals)
    {
        var format = Math.Abs(v) >= 1000 ? "#,0" + (decimals > 0 && Math.Abs(v) < 100_000 ? "." + new string('#', Math.Min(decimals, 1)) : "")
            : "0." + new string('#', decimals);
        return v.ToString(format, C);
    }

    /// <summary>"58 s", "4m40s", "2h05m": the way scenario durations are written, with the unit always shown.</summary>
    public static string Seconds(double s)
    {
        if (Math.Abs(s) < 60) return Number(s, 1) + " s";
        var t = TimeSpan.FromSeconds(Math.Round(Math.Abs(s)));
        var text = t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{t.Minutes}m{t.Seconds:00}s";
        return (s < 0 ? "-" : "") + text;
    }

    /// <summary>Memory as Kubernetes limits are written: MiB up to 10 GiB, GiB above.</summary>
    public static string Binary(double bytes)
    {
        var a = Math.Abs(bytes);
        if (a >= 10.0 * (1L << 30)) return (bytes / (1L << 30)).ToString("0.#", C) + " GiB";
        if (a >= 1 << 20) return (bytes / (1 << 20)).ToString(a >= 100 << 20 ? "0" : "0.#", C) + " MiB";
        if (a >= 1 << 10) return (bytes / (1 << 10)).ToString("0.#", C) + " KiB";
        return bytes.ToString("0", C) + " B";
    }

    /// <summary>Data volume in the decimal units quotas are written in (GB, TB).</summary>
    public static string Decimal(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        var u = 0;
        var x = bytes;
        while (Math.Abs(x) >= 1000 && u < units.Length - 1) { x /= 1000; u++; }
        return u == 0 ? $"{x.ToString("0", C)} B" : $"{x.ToString(Math.Abs(x) >= 100 ? "0" : Math.Abs(x) >= 10 ? "0.0" : "0.00", C)} {units[u]}";
    }
}
