using System.Globalization;
using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Exporters;

/// <summary>Writing and formatting shared by the exporters.</summary>
internal static class ReportFiles
{
    /// <summary>
    /// Atomic (NAME.tmp then rename), like every file of a run directory: a reader never sees half a report. Not flushed
    /// to disk, as the plots and report.html are not: <c>fdr report</c> makes them again from the observations (the
    /// flushes of summary.json, the CSVs and report.md held the report's thread 40-80 ms).
    /// </summary>
    public static void Write(string path, string text) => Write(path, Utf8.GetBytes(text));

    public static void Write(string path, ReadOnlySpan<byte> utf8) => RunDirectory.WriteAtomically(path, utf8, durable: false);

    private static readonly System.Text.UTF8Encoding Utf8 = new(false);

    public static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        var u = 0;
        while (Math.Abs(bytes) >= 1000 && u < units.Length - 1) { bytes /= 1000; u++; }
        return u == 0 ? $"{bytes.ToString("0", C)} B" : $"{bytes.ToString(bytes >= 100 ? "0" : bytes >= 10 ? "0.0" : "0.00", C)} {units[u]}";
    }

    /// <summary>Memory as operators write limits: whole MiB up to 10 GiB (7000 MiB, as set), GiB above.</summary>
    public static string Mem(long? bytes) => bytes is not { } b ? "-"
        : b >= 10L << 30 ? $"{(b / (double)(1L << 30)).ToString("0.#", C)} GiB"
        : $"{Math.Ceiling(b / (double)(1L << 20)).ToString("0", C)} MiB";

    public static string Cpu(double? cores) => cores is not { } c ? "-" : c >= 1 ? c.ToString("0.##", C) : c >= 0.01 ? c.ToString("0.00", C) : c.ToString("0.000", C);

    public static string Pct(double? ratio) => ratio is not { } r ? "NO DATA" : $"{(r * 100).ToString("0", C)}%";
    public static string Pct1(double? ratio) => ratio is not { } r ? "-" : $"{(r * 100).ToString("0.0", C)}%";

    public static string Num(long n) => n.ToString("N0", C);

    public static string Duration(double? seconds)
    {
        if (seconds is not { } s) return "-";
        var t = TimeSpan.FromSeconds(s);
        return s < 60 ? $"{s.ToString("0", C)}s" : s < 3600 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{(int)t.TotalHours}h{t.Minutes:00}m";
    }

    public static string Time(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss", C);
}
