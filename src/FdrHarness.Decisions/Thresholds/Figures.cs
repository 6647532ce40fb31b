using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Figures;
using FdrHarness.Core.Scenarios.Thresholds;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Decisions.Thresholds;

/// <summary>A figure path that names nothing in the report, or names a group rather than a number.</summary>
public sealed class FigureException(string message) : Exception(message);

/// <summary>One number a figure path resolved to; <see cref="Item"/> names the list item ([*] gives one per item).</summary>
public sealed record FigureValue(string Figure, double? Value);

/// <summary>
/// Figure paths resolved against summary.json (snake_case keys, as written by the report), plus a few names thresholds
/// read better with: links = transfer_matrix.links (item "SRC->DST"), daemons = resources (item = daemon name),
/// completion_time = completion_seconds, oom_kills = oom_killed, and the derived throughput.files_per_second /
/// throughput.bytes_per_second (done over the run's duration). List items are named by their daemon, rse, scope,
/// name or key field.
/// </summary>
public static class Figures
{
    /// <summary>Names a figure uses for what summary.json keeps elsewhere: the catalogue's lists and older spellings.</summary>
    /// <remarks>Loops, not LINQ: LINQ's code over the catalogue's pairs (structs) was JIT-compiled on every report.</remarks>
    private static readonly Dictionary<string, string[]> Aliases = NewAliases();

    private static Dictionary<string, string[]> NewAliases()
    {
        var aliases = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, list) in FigureCatalog.Lists)
            if (name != list.SummaryPath) aliases.Add(name, list.SummaryPath.Split('.'));
        foreach (var (name, path) in FigureCatalog.Aliases) aliases.Add(name, [path]);
        return aliases;
    }

    /// <summary>
    /// The summary as summary.json has it (its bytes, which the report then writes), plus the derived throughput
    /// figures. Parsed nodes are made as they are read: the series over time are never built.
    /// </summary>
    public static JsonObject ToJson(Summary summary)
    {
        var root = JsonNode.Parse(JsonExporter.Utf8(summary).Span)!.AsObject();
        AddThroughput(root);
        return root;
    }

    /// <summary>Reads a summary.json written by the report (schema_version 1).</summary>
    public static JsonObject Load(string summaryJson)
    {
        var root = JsonNode.Parse(File.ReadAllText(summaryJson)) as JsonObject
            ?? throw new InvalidDataException($"{summaryJson}: not a JSON object");
        if (root["schema_version"]?.GetValue<int>() is not 1)
            throw new InvalidDataException($"{summaryJson}: expected \"schema_version\": 1");
        AddThroughput(root);
        return root;
    }

    internal static void AddThroughput(JsonObject root)
    {
        if (root.ContainsKey("throughput")) return;
        var seconds = Number(root["run"]?["duration_seconds"]);
        var done = Number(root["transfers"]?["done"]);
        var bytes = Number(root["transfers"]?["bytes_done"]);
        if (seconds is not > 0) return;
        root["throughput"] = new JsonObject
        {
            ["files_per_second"] = done is { } d ? Math.Round(d / seconds.Value, 6) : null,
            ["bytes_per_second"] = bytes is { } b ? Math.Round(b / seconds.Value, 3) : null,
        };
    }

    /// <summary>Every value the path names: one without a selector or with [name], one per item with [*]. Null = no data.</summary>
    /// <exception cref="FigureException">The path names nothing, or names a group or a list without a selector.</exception>
    public static IReadOnlyList<FigureValue> Resolve(JsonObject root, IReadOnlyList<FigureSegment> path)
    {
        var current = new List<(string Label, JsonNode? Node)> { ("", root) };
        var written = "";
        foreach (var segment in path)
        {
            var next = new List<(string, JsonNode?)>();
            foreach (var (label, node) in current)
            {
                // A group with nothing measured is null (a phase where no rule completed has no completion_seconds):
                // what lies under it has no value, and the threshold says why.
                if (node is null && written.Length > 0)
                {
                    next.Add((Join(label, segment.ToString()), null));
                    continue;
                }
                var obj = node as JsonObject ?? throw new FigureException($"'{written}' is a number, it has no '{segment.Name}'");
                var child = Child(obj, segment.Name, out var found);
                if (!found) throw Unknown(path);
                var here = Join(label, segment.Name);
                if (segment.Selector is null)
                {
                    if (child is JsonArray)
                        throw new FigureException($"'{Join(written, segment.Name)}' is a list: write {segment.Name}[*] for every item or {segment.Name}[NAME] for one (items: {string.Join(", ", Items(child).Take(6).Select(i => i.Name))})");
                    next.Add((here, child));
                    continue;
                }
                if (child is not JsonArray)
                    throw new FigureException($"'{Join(written, segment.Name)}' is not a list; drop the [{segment.Selector}]");
                var items = Items(child).ToList();
                var chosen = segment.Selector == "*" ? items
                    : items.Where(i => string.Equals(i.Name, segment.Selector, StringComparison.OrdinalIgnoreCase)).ToList();
                if (chosen.Count == 0 && segment.Selector != "*")
                    throw new FigureException($"'{Join(written, segment.ToString())}': no item named '{segment.Selector}' (items: {string.Join(", ", items.Take(12).Select(i => i.Name))}{(items.Count > 12 ? ", …" : "")})");
                next.AddRange(chosen.Select(i => ($"{here}[{i.Name}]", (JsonNode?)i.Node)));
            }
            written = Join(written, segment.ToString());
            current = next;
        }
        return current.Select(c => c.Node switch
        {
            null => new FigureValue(FigureCatalog.Canonical(c.Label), null),
            JsonValue v when Number(v) is { } x => new FigureValue(FigureCatalog.Canonical(c.Label), x),
            JsonObject o => throw new FigureException($"'{written}' is a group, not a number: pick one of {string.Join(", ", o.Select(kv => Join(written, kv.Key)).Take(10))}"),
            _ => throw new FigureException($"'{written}' is not a number"),
        }).ToList();
    }

    private static JsonNode? Child(JsonObject obj, string name, out bool found)
    {
        if (obj.TryGetPropertyValue(name, out var child)) { found = true; return child; }
        JsonNode? node = obj;
        if (Aliases.TryGetValue(name, out var alias))
        {
            foreach (var key in alias)
                if (node is JsonObject o && o.TryGetPropertyValue(key, out var c)) node = c;
                else { found = false; return null; }
            found = true;
            return node;
        }
        found = false;
        return null;
    }

    private static FigureException Unknown(IReadOnlyList<FigureSegment> path)
    {
        var asked = string.Join('.', path);
        var close = FigureCatalog.DidYouMean(asked) is { } meant ? $"did you mean '{meant}'?" : "close figures: " + string.Join(", ", FigureCatalog.Closest(asked));
        return new FigureException($"unknown figure '{asked}'; {close} (every figure: src/FdrHarness.Decisions/README.md)");
    }

    /// <summary>Every numeric figure path of the report, lists written [*]; series over time (over_time) are left out.</summary>
    public static IReadOnlyList<string> Names(JsonObject root)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) if (k != "over_time" && k != "histogram") Walk(v, Join(path, k));
                    break;
                case JsonArray a:
                    foreach (var item in a.Take(1)) Walk(item, path + "[*]");
                    break;
                case JsonValue v when v.GetValueKind() is JsonValueKind.Number:
                    names.Add(path);
                    break;
                case null:
                    names.Add(path);
                    break;
            }
        }
        Walk(root, "");
        return names.ToList();
    }

    /// <summary>The name a list item is selected by: SRC->DST for a link, else its daemon, rse, scope, name or key.</summary>
    internal static IEnumerable<(string Name, JsonNode? Node)> Items(JsonNode? list)
    {
        if (list is not JsonArray a) yield break;
        foreach (var item in a)
        {
            if (item is not JsonObject o) { yield return ("?", item); continue; }
            if (o["src"] is JsonValue s && o["dst"] is JsonValue d) { yield return ($"{s}->{d}", o); continue; }
            var key = new[] { "daemon", "rse", "scope", "name", "key" }.Select(k => o[k]).OfType<JsonValue>().FirstOrDefault();
            var name = key?.ToString() ?? "?";
            if (o["type"] is JsonValue t && key is not null && o["key"] is not null) name += "/" + t;
            yield return (name, o);
        }
    }

    internal static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return null;
        // Nodes built in code hold the CLR type they were given (long, int); parsed ones hold a JsonElement.
        if (v.TryGetValue<double>(out var d)) return d;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        return double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + "." + b;

    internal static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>A value in its figure's unit (the catalogue's); a window's label ("x @ +2h") names the figure before the '@'.</summary>
    public static string Format(string figure, double? v)
    {
        var at = figure.IndexOf(" @ ", StringComparison.Ordinal);
        return FigureFormat.Of(at < 0 ? figure : figure[..at], v);
    }

    public static string Format(FigureValue v) => Format(v.Figure, v.Value);
}
