using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FdrHarness.Rucio.Double;

/// <summary>A refusal the way Rucio's REST layer answers it: status, ExceptionClass, ExceptionMessage (JSON body and headers).</summary>
public sealed class RucioError(int status, string exceptionClass, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string ExceptionClass { get; } = exceptionClass;
}

/// <summary>
/// What Flask answers for an exception Rucio does not map (KeyError, ValueError, SQL errors): 500 text/html whose body is
/// the bare Python repr, no ExceptionClass header.
/// </summary>
public sealed class RawError(int status, string text, string contentType = "text/html; charset=utf-8") : Exception(text)
{
    public int Status { get; } = status;
    public string Text { get; } = text;
    public string ContentType { get; } = contentType;
}

/// <summary>How Rucio's Python server writes values: json.dumps (", " and ": "), jsonify (compact, sorted), repr, dates.</summary>
public static class Wire
{
    /// <summary>json.dumps default: ", " and ": " separators, non-ASCII escaped.</summary>
    public static string Dumps(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, spaced: true, sorted: false);
        return sb.ToString();
    }

    /// <summary>Flask's jsonify: compact and with sorted keys (GET /rses/{rse}/protocols, /attr/).</summary>
    public static string Jsonify(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, spaced: false, sorted: true);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, bool spaced, bool sorted)
    {
        switch (node)
        {
            case null: sb.Append("null"); break;
            case JsonObject o:
            {
                sb.Append('{');
                var first = true;
                IEnumerable<KeyValuePair<string, JsonNode?>> items = sorted ? o.OrderBy(kv => kv.Key, StringComparer.Ordinal) : o;
                foreach (var (k, v) in items)
                {
                    if (!first) sb.Append(spaced ? ", " : ",");
                    first = false;
                    WriteString(sb, k);
                    sb.Append(spaced ? ": " : ":");
                    Write(sb, v, spaced, sorted);
                }
                sb.Append('}');
                break;
            }
            case JsonArray a:
            {
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(spaced ? ", " : ",");
                    Write(sb, a[i], spaced, sorted);
                }
                sb.Append(']');
                break;
            }
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: WriteString(sb, v.GetValue<string>()); break;
                    case JsonValueKind.True: sb.Append("true"); break;
                    case JsonValueKind.False: sb.Append("false"); break;
                    case JsonValueKind.Null: sb.Append("null"); break;
                    default: sb.Append(v.ToJsonString()); break;
                }
                break;
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Python's repr of a parsed JSON value: {'k': 'v', 'n': 1, 't': True, 'x': None}.</summary>
    public static string Repr(JsonNode? node)
    {
        var sb = new StringBuilder();
        Repr(sb, node);
        return sb.ToString();
    }

    private static void Repr(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null: sb.Append("None"); break;
            case JsonObject o:
            {
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(ReprString(k)).Append(": ");
                    Repr(sb, v);
                }
                sb.Append('}');
                break;
            }
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Repr(sb, a[i]);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                sb.Append(v.GetValueKind() switch
                {
                    JsonValueKind.String => ReprString(v.GetValue<string>()),
                    JsonValueKind.True => "True",
                    JsonValueKind.False => "False",
                    JsonValueKind.Null => "None",
                    _ => v.ToJsonString(),
                });
                break;
        }
    }

    /// <summary>repr(str): single quotes unless the text holds a single quote and no double quote.</summary>
    public static string ReprString(string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            if (c == quote || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\t') sb.Append("\\t");
            else sb.Append(c);
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Dates in Rucio's JSON: "Wed, 02 Dec 2026 01:39:25 UTC".</summary>
    public static string Date(DateTimeOffset t) =>
        t.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>str(datetime) as in Hermes payloads: "2026-12-02 00:52:44.230216".</summary>
    public static string PyDate(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>repr(datetime): datetime.datetime(2026, 12, 2, 1, 41, 14, 652067).</summary>
    public static string PyDateRepr(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        var micro = (u.Ticks % TimeSpan.TicksPerSecond) / 10;
        return string.Create(CultureInfo.InvariantCulture, $"datetime.datetime({u.Year}, {u.Month}, {u.Day}, {u.Hour}, {u.Minute}, {u.Second}, {micro})");
    }

    public static JsonNode? Str(string? s) => s is null ? null : JsonValue.Create(s);

    public static JsonNode? DateOrNull(DateTimeOffset? t) => t is { } d ? JsonValue.Create(Date(d)) : null;

    /// <summary>The ExceptionMessage header: newlines as spaces, the first 125 characters and "..." when longer (common.py error_headers).</summary>
    public static string CutHeader(string message)
    {
        var m = message.Replace('\n', ' ').Replace('\r', ' ');
        return m.Length > 125 ? m[..125] + "..." : m;
    }
}
