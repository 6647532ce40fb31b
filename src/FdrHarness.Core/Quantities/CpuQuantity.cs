using System.Globalization;

namespace FdrHarness.Core.Quantities;

/// <summary>CPU in Kubernetes' units: "700m" is 0.7 cores, "2" is two cores.</summary>
public readonly record struct CpuQuantity(long Millicores) : IComparable<CpuQuantity>, ITextValue<CpuQuantity>
{
    public double Cores => Millicores / 1000.0;
    public static CpuQuantity FromCores(double cores) => new((long)Math.Round(cores * 1000));
    public static string Expected => "a CPU quantity such as \"700m\", \"0.7\" or \"2\"";

    public static bool TryParse(string text, out CpuQuantity value, out string? error)
    {
        value = default;
        if (!QuantityText.TrySplit(text, out var number, out var unit) || number < 0)
        {
            error = $"'{text}' is not {Expected}";
            return false;
        }
        var millicores = unit switch { "" => number * 1000, "m" => number, _ => double.NaN };
        if (millicores > 1e12)
        {
            error = $"CPU quantity '{text}' is out of range";
            return false;
        }
        switch (unit)
        {
            case "": value = FromCores(number); break;
            case "m": value = new CpuQuantity((long)Math.Round(number)); break;
            default:
                error = $"unknown CPU unit '{unit}' in '{text}'; expected cores (\"0.7\") or millicores (\"700m\")";
                return false;
        }
        error = null;
        return true;
    }

    public static CpuQuantity Parse(string text) =>
        TryParse(text, out var v, out var e) ? v : throw new FormatException(e);

    public int CompareTo(CpuQuantity other) => Millicores.CompareTo(other.Millicores);
    public static bool operator <(CpuQuantity a, CpuQuantity b) => a.Millicores < b.Millicores;
    public static bool operator >(CpuQuantity a, CpuQuantity b) => a.Millicores > b.Millicores;
    public static bool operator <=(CpuQuantity a, CpuQuantity b) => a.Millicores <= b.Millicores;
    public static bool operator >=(CpuQuantity a, CpuQuantity b) => a.Millicores >= b.Millicores;

    public override string ToString() =>
        Millicores % 1000 == 0 ? (Millicores / 1000).ToString(CultureInfo.InvariantCulture) : Millicores.ToString(CultureInfo.InvariantCulture) + "m";
}
