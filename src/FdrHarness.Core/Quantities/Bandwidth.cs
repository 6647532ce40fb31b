using System.Globalization;

namespace FdrHarness.Core.Quantities;

/// <summary>A data rate: "1.25 GB/s", "500MB/s", "10 Gbps", "800 Mbit/s".</summary>
public readonly record struct Bandwidth(double BytesPerSecond) : ITextValue<Bandwidth>
{
    public static string Expected => "a rate such as \"1.25 GB/s\", \"500 MB/s\" or \"10 Gbps\"";

    public static bool TryParse(string text, out Bandwidth value, out string? error)
    {
        value = default;
        error = $"'{text}' is not {Expected}";
        if (!QuantityText.TrySplit(text, out var number, out var unit) || number < 0) return false;
        var bits = unit.EndsWith("bps", StringComparison.Ordinal) || unit.EndsWith("bit/s", StringComparison.Ordinal);
        string prefix;
        if (bits) prefix = unit.EndsWith("bps", StringComparison.Ordinal) ? unit[..^3] : unit[..^5];
        else if (unit.EndsWith("/s", StringComparison.Ordinal)) prefix = unit[..^2];
        else return false;
        if (bits)
        {
            double factor = prefix switch { "" => 1, "k" or "K" => 1e3, "M" => 1e6, "G" => 1e9, "T" => 1e12, _ => double.NaN };
            if (double.IsNaN(factor)) return false;
            value = new Bandwidth(number * factor / 8);
        }
        else
        {
            if (!ByteSize.TryParse(number.ToString(CultureInfo.InvariantCulture) + " " + prefix, out var size, out _)) return false;
            value = new Bandwidth(size.Bytes);
        }
        error = null;
        return true;
    }

    public override string ToString() => new ByteSize((long)BytesPerSecond) + "/s";
}
