using System.Globalization;
using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Scenarios.Thresholds;

public enum ComparisonOperator { Less, LessOrEqual, Greater, GreaterOrEqual, Equal, NotEqual }

/// <summary>
/// "figure operator value", e.g. "transfers.efficiency >= 95%", "daemons[judge-evaluator].oom_kills == 0",
/// "rules.completion_time.p95 < 2h". Only the syntax is checked here; figures are resolved against a report later.
/// </summary>
public sealed record ThresholdExpression(string Text, IReadOnlyList<FigureSegment> Figure, ComparisonOperator Operator, double Value, string ValueText)
    : ITextValue<ThresholdExpression>
{
    public static string Expected => "\"figure operator value\", e.g. \"transfers.efficiency >= 95%\" or \"daemons[judge-evaluator].oom_kills == 0\"";

    public string FigurePath => string.Join('.', Figure);

    /// <summary>The comparison as written, e.g. ">= 95%" (from the parse: a link selector such as links[A->B] holds a '>' of its own).</summary>
    public string Limit => Operator switch
    {
        ComparisonOperator.Less => "<", ComparisonOperator.LessOrEqual => "<=", ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=", ComparisonOperator.Equal => "==", _ => "!=",
    } + " " + ValueText;

    public static bool TryParse(string text, out ThresholdExpression value, out string? error)
    {
        if (TryParse(text, out value, out error, out var index)) return true;
        error += $" (column {index + 1} of the expression)";
        return false;
    }

    /// <summary>As <see cref="TryParse(string, out ThresholdExpression, out string?)"/>; <paramref name="errorIndex"/> is the 0-based offset of the problem.</summary>
    public static bool TryParse(string text, out ThresholdExpression value, out string? error, out int errorIndex)
    {
        value = null!;
        errorIndex = 0;
        var s = text;
        var i = 0;
        var segments = new List<FigureSegment>();
        SkipSpaces(s, ref i);
        while (true)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '_' or '-')) i++;
            if (i == start || !char.IsAsciiLetter(s[start]))
            {
                errorIndex = start;
                error = "expected a figure name, such as transfers.efficiency";
                return false;
            }
            var name = s[start..i];
            string? selector = null;
            if (i < s.Length && s[i] == '[')
            {
                var close = s.IndexOf(']', i);
                if (close < 0)
                {
                    errorIndex = i;
                    error = "this '[' is never closed; write [*] for every item or [name] for one";
                    return false;
                }
                selector = s[(i + 1)..close].Trim();
                if (selector.Length == 0)
                {
                    errorIndex = i;
                    error = "empty selector '[]'; write [*] for every item or [name] for one";
                    return false;
                }
                i = close + 1;
            }
            segments.Add(new FigureSegment(name, selector));
            if (i < s.Length && s[i] == '.') { i++; continue; }
            break;
        }
        SkipSpaces(s, ref i);
        ComparisonOperator op;
        string[] ops = ["<=", ">=", "==", "!=", "<", ">"];
        var matched = ops.FirstOrDefault(o => string.CompareOrdinal(s, i, o, 0, o.Length) == 0);
        if (matched is null)
        {
            errorIndex = i;
            var written = s[i..].TakeWhile(c => c is '=' or '<' or '>' or '!').ToArray();
            var meant = new string(written) switch { "=>" => ">=", "=<" => "<=", "=" => "==", "<>" => "!=", _ => null };
            error = meant is not null
                ? $"'{new string(written)}' is not a comparison; did you mean '{meant}'?"
                : $"expected a comparison (<, <=, >, >=, ==, !=) after '{s[..i].TrimEnd()}'";
            return false;
        }
        op = matched switch
        {
            "<=" => ComparisonOperator.LessOrEqual, ">=" => ComparisonOperator.GreaterOrEqual,
            "==" => ComparisonOperator.Equal, "!=" => ComparisonOperator.NotEqual,
            "<" => ComparisonOperator.Less, _ => ComparisonOperator.Greater,
        };
        i += matched.Length;
        var valueText = s[i..].Trim();
        if (!TryParseValue(valueText, out var number))
        {
            errorIndex = i;
            while (errorIndex < s.Length && s[errorIndex] == ' ') errorIndex++;
            error = $"'{valueText}' is not a value; expected a number, a percentage (95%), a duration (2h) or a size (10 TB)";
            return false;
        }
        value = new ThresholdExpression(text.Trim(), segments, op, number, valueText);
        error = null;
        return true;
    }

    /// <summary>Numbers in the unit the report uses: fractions for percentages, seconds for durations, bytes for sizes.</summary>
    private static bool TryParseValue(string text, out double value)
    {
        value = 0;
        if (text.Length == 0) return false;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        if (text.EndsWith('%') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            value /= 100;
            return true;
        }
        if (text.EndsWith("/s", StringComparison.Ordinal) && Bandwidth.TryParse(text, out var rate, out _))
        {
            value = rate.BytesPerSecond;
            return true;
        }
        if (Durations.TryParse(text, out var duration, out _))
        {
            value = duration.TotalSeconds;
            return true;
        }
        if (ByteSize.TryParse(text, out var size, out _))
        {
            value = size.Bytes;
            return true;
        }
        return false;
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] == ' ') i++;
    }

    public bool Holds(double figure) => Operator switch
    {
        ComparisonOperator.Less => figure < Value,
        ComparisonOperator.LessOrEqual => figure <= Value,
        ComparisonOperator.Greater => figure > Value,
        ComparisonOperator.GreaterOrEqual => figure >= Value,
        ComparisonOperator.Equal => figure == Value,
        _ => figure != Value,
    };

    public override string ToString() => Text;
}

public sealed record FigureSegment(string Name, string? Selector)
{
    public override string ToString() => Selector is null ? Name : $"{Name}[{Selector}]";
}
