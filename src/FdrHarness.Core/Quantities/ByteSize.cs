using System.Globalization;

namespace FdrHarness.Core.Quantities;

/// <summary>A number of bytes. Parses "100 TB" (SI, ×1000), "200Mi" / "2.5 GiB" (binary, ×1024) and plain byte counts.</summary>
public readonly record struct ByteSize(long Bytes) : IComparable<ByteSize>, ITextValue<ByteSize>
{
    public static ByteSize Zero => new(0);
    public static ByteSize FromMiB(double mib) => new((long)Math.Round(mib * 1024 * 1024));
    public double MiB => Bytes / (1024.0 * 1024.0);
    public double GiB => Bytes / (1024.0 * 1024.0 * 1024.0);

    public static string Expected => "a size such as \"573 MB\", \"100 TB\", \"200Mi\" or \"2.5Gi\"";

    private static readonly (string Unit, double Factor)[] Units =
    [
        ("B", 1), ("", 1),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
        ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15),
        ("Ki", 1024d), ("Mi", 1024d * 1024), ("Gi", 1024d * 1024 * 1024), ("Ti", 1024d * 1024 * 1024 * 1024), ("Pi", 1024d * 1024 * 1024 * 1024 * 1024),
        ("KiB", 1024d), ("MiB", 1024d * 1024), ("GiB", 1024d * 1024 * 1024), ("TiB", 1024d * 1024 * 1024 * 1024), ("PiB", 1024d * 1024 * 1024 * 1024 * 1024),
    ];

    public static bool TryParse(string text, out ByteSize value, out string? error)
    {
        value = default;
        if (!QuantityText.TrySplit(text, out var number, out var unit))
        {
            error = $"'{text}' is not {Expected}";
            return false;
        }
        foreach (var (name, factor) in Units)
        {
            // Binary units are case-sensitive as in Kubernetes; "mb" and "kB" are forgiven for SI ones.
            var matches = name == unit || (!name.Contains('i') && name.Length > 0 && name == unit.ToUpperInvariant());
            if (!matches) continue;
            var bytes = number * factor;
            if (bytes < 0 || bytes > long.MaxValue / 2)
            {
                error = bytes < 0 ? $"size '{text}' is negative" : $"size '{text}' is out of range";
                return false;
            }
            value = new ByteSize((long)Math.Round(bytes));
            error = null;
            return true;
        }
        error = $"unknown size unit '{unit}' in '{text}'; expected B, KB, MB, GB, TB, PB (×1000) or Ki, Mi, Gi, Ti (×1024)";
        return false;
    }

    public static ByteSize Parse(string text) =>
        TryParse(text, out var v, out var e) ? v : throw new FormatException(e);

    public int CompareTo(ByteSize other) => Bytes.CompareTo(other.Bytes);
    public static bool operator <(ByteSize a, ByteSize b) => a.Bytes < b.Bytes;
    public static bool operator >(ByteSize a, ByteSize b) => a.Bytes > b.Bytes;
    public static bool operator <=(ByteSize a, ByteSize b) => a.Bytes <= b.Bytes;
    public static bool operator >=(ByteSize a, ByteSize b) => a.Bytes >= b.Bytes;

    /// <summary>Human form: binary units for memory-like sizes are chosen by the caller; this prints SI.</summary>
    public override string ToString()
    {
        if (Bytes == 0) return "0 B";
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double v = Bytes;
        var i = 0;
        while (Math.Abs(v) >= 1000 && i < units.Length - 1) { v /= 1000; i++; }
        return v.ToString(v == Math.Floor(v) ? "0" : "0.###", CultureInfo.InvariantCulture) + " " + units[i];
    }

    /// <summary>A form that parses back to the same number of bytes: "200Mi", "100 TB", or a plain count.</summary>
    public string ToExactString()
    {
        if (Bytes == 0) return "0";
        string[] binary = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
        string[] si = ["", "KB", "MB", "GB", "TB", "PB"];
        for (var i = binary.Length - 1; i > 0; i--)
        {
            if (Bytes % (1L << (10 * i)) == 0) return (Bytes >> (10 * i)).ToString(CultureInfo.InvariantCulture) + binary[i];
            var factor = (long)Math.Pow(1000, i);
            if (Bytes % factor == 0) return (Bytes / factor).ToString(CultureInfo.InvariantCulture) + " " + si[i];
        }
        return Bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Kubernetes-style binary form ("250Mi", "2.5Gi").</summary>
    public string ToBinaryString()
    {
        string[] units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
        double v = Bytes;
        var i = 0;
        while (Math.Abs(v) >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return v.ToString("0.##", CultureInfo.InvariantCulture) + units[i];
    }
}
