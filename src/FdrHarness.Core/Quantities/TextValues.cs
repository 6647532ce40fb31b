using System.Globalization;

namespace FdrHarness.Core.Quantities;

/// <summary>A value written as one string in a scenario, with the words an error message uses for what is expected.</summary>
public interface ITextValue<TSelf> where TSelf : ITextValue<TSelf>
{
    static abstract string Expected { get; }
    static abstract bool TryParse(string text, out TSelf value, out string? error);
}

internal static class QuantityText
{
    public static bool TrySplit(string text, out double number, out string unit)
    {
        number = 0;
        unit = "";
        var s = text.Trim();
        var i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] is '.' or '-' or '+' or 'e' or 'E'))
        {
            // 'e' only counts as an exponent when digits surround it ("1e6"), not in "2 Exabytes".
            if (s[i] is 'e' or 'E' && (i == 0 || i + 1 >= s.Length || !(char.IsAsciiDigit(s[i + 1]) || s[i + 1] is '-' or '+'))) break;
            i++;
        }
        if (i == 0) return false;
        if (!double.TryParse(s.AsSpan(0, i), NumberStyles.Float, CultureInfo.InvariantCulture, out number)) return false;
        if (double.IsNaN(number) || double.IsInfinity(number)) return false;
        unit = s[i..].Trim();
        return unit.All(c => char.IsAsciiLetter(c) || c == '/');
    }
}
