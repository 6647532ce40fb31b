using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Figures;
using FdrHarness.Core.Observations;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Decisions.Compare;

/// <summary>A figure over one run (N = 1, no spread) or over a baseline's seeds: median, spread and range.</summary>
public sealed record FigureStats(double? Median, double? StdDev = null, double? Min = null, double? Max = null, int N = 1)
{
    public static FigureStats Of(IReadOnlyList<double?> values)
    {
        var known = values.OfType<double>().Order().ToArray();
        if (known.Length == 0) return new FigureStats(null, N: values.Count);
        var median = known.Length % 2 == 1 ? known[known.Length / 2] : (known[known.Length / 2 - 1] + known[known.Length / 2]) / 2;
        var mean = known.Average();
        double? sd = known.Length > 1 ? Math.Sqrt(known.Sum(x => (x - mean) * (x - mean)) / (known.Length - 1)) : null;
        return new FigureStats(Math.Round(median, 6), sd is { } s ? Math.Round(s, 6) : null, known[0], known[^1], known.Length);
    }
}

/// <summary>What a run was: comparing runs of different scenarios says nothing, so compare checks these first.</summary>
public sealed record RunIdentity(string Scenario, string Target, double? Scale, IReadOnlyList<string> Rses)
{
    /// <summary>What differs between two runs, one phrase each; empty when they are runs of the same scenario.</summary>
    public static IReadOnlyList<string> Differences(RunIdentity? a, RunIdentity? b)
    {
        if (a is null || b is null) return [];
        var d = new List<string>();
        if (a.Scenario != b.Scenario) d.Add($"scenario {a.Scenario} vs {b.Scenario}");
        if (a.Target != b.Target) d.Add($"target {a.Target} vs {b.Target}");
        if (a.Scale != b.Scale) d.Add($"scale {Text(a.Scale)} vs {Text(b.Scale)}");
        var (onlyA, onlyB) = (a.Rses.Except(b.Rses).ToList(), b.Rses.Except(a.Rses).ToList());
        if (onlyA.Count + onlyB.Count > 0)
            d.Add($"RSEs ({a.Rses.Count} vs {b.Rses.Count}: " + string.Join("; ", new[]
            {
                onlyA.Count > 0 ? "only in the baseline " + string.Join(", ", onlyA.Take(4)) + (onlyA.Count > 4 ? ", …" : "") : null,
                onlyB.Count > 0 ? "only in the current run " + string.Join(", ", onlyB.Take(4)) + (onlyB.Count > 4 ? ", …" : "") : null,
            }.OfType<string>()) + ")");
        return d;
    }

    private static string Text(double? x) => x?.ToString("0.###", CultureInfo.InvariantCulture) ?? "?";

    public static RunIdentity Of(JsonObject summary) => new(
        summary["run"]?["scenario"]?.GetValue<string>() ?? "",
        summary["run"]?["target"]?.GetValue<string>() ?? "",
        Figures.Number(summary["run"]?["scale"]),
        (summary["rses"] as JsonArray ?? []).Select(r => r?["rse"]?.GetValue<string>()).OfType<string>().Order(StringComparer.Ordinal).ToList());

    public JsonObject ToJson() => new()
    {
        ["scenario"] = Scenario, ["target"] = Target, ["scale"] = Scale,
        ["rses"] = new JsonArray(Rses.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
    };

    public static RunIdentity? FromJson(JsonNode? node) => node is not JsonObject o ? null : new(
        o["scenario"]?.GetValue<string>() ?? "", o["target"]?.GetValue<string>() ?? "", Figures.Number(o["scale"]),
        (o["rses"] as JsonArray ?? []).Select(r => r?.GetValue<string>()).OfType<string>().ToList());
}

/// <summary>
/// One side of a comparison: the figures of a run directory, a summary.json, or a baseline file (fdr baseline, or
/// compare --save-baseline), by the catalogue's names; and, when known, what run it was.
/// </summary>
public sealed record RunFigures(string Name, string Description, RunIdentity? Identity, IReadOnlyDictionary<string, FigureStats> Figures, IReadOnlyList<long> Seeds)
{
    public const string BaselineKind = "fdr-baseline";

    public int Runs => Figures.Values.Select(f => f.N).DefaultIfEmpty(1).Max();

    public static RunFigures Load(string path)
    {
        if (Directory.Exists(path))
        {
            var summary = Path.Combine(path, JsonExporter.FileName);
            if (File.Exists(summary)) return FromSummary(path, Read(summary));
            if (File.Exists(Path.Combine(path, ParquetObservationSink.EventsFile)))
                return FromSummary(path, Thresholds.Figures.ToJson(SummaryBuilder.Build(path, new Reporting.ReportOptions { Plots = false })));
            throw new CompareInputException($"{path}: not a run directory: it has neither summary.json nor events.parquet");
        }
        if (!File.Exists(path)) throw new CompareInputException($"{path}: no such run directory or file");
        var root = Read(path);
        if (root["kind"]?.ToString() == BaselineKind) return FromBaseline(path, root);
        if (root["schema_version"] is null || root["run"] is null)
            throw new CompareInputException($"{path}: neither a summary.json (\"schema_version\": 1) nor a baseline (\"kind\": \"{BaselineKind}\")");
        return FromSummary(path, root);
    }

    private static JsonObject Read(string path)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CompareInputException($"{path}: not a JSON object");
            if (root["kind"] is null)
            {
                if (root["schema_version"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && Thresholds.Figures.Number(v) is not 1)
                    throw new CompareInputException($"{path}: summary.json schema_version {v}; this fdr reads 1");
                Thresholds.Figures.AddThroughput(root);
            }
            return root;
        }
        catch (JsonException e) { throw new CompareInputException($"{path}: not JSON: {e.Message}"); }
        catch (InvalidOperationException e) { throw new CompareInputException($"{path}: not a summary.json: {e.Message}"); }
    }

    public static RunFigures FromSummary(string name, JsonObject summary)
    {
        RunIdentity? identity;
        try { identity = RunIdentity.Of(summary); }
        catch (InvalidOperationException) { identity = null; }
        var seed = Thresholds.Figures.Number(summary["run"]?["seed"]);
        return new RunFigures(name, "one run", identity,
            Flatten(summary).ToDictionary(kv => kv.Key, kv => new FigureStats(kv.Value), StringComparer.Ordinal),
            seed is { } s ? [(long)s] : []);
    }

    private static RunFigures FromBaseline(string path, JsonObject root)
    {
        if (root["figures"] is not JsonObject figures) throw new CompareInputException($"{path}: a baseline without \"figures\"");
        var stats = new Dictionary<string, FigureStats>(StringComparer.Ordinal);
        foreach (var (key, node) in figures)
        {
            // schema 1: "figure": value; schema 2: "figure": {median, stdev, min, max, n}
            stats[FigureCatalogName(key)] = node is JsonObject o
                ? new FigureStats(Thresholds.Figures.Number(o["median"]), Thresholds.Figures.Number(o["stdev"]), Thresholds.Figures.Number(o["min"]),
                    Thresholds.Figures.Number(o["max"]), (int)(Thresholds.Figures.Number(o["n"]) ?? 1))
                : new FigureStats(Thresholds.Figures.Number(node));
        }
        var seeds = (root["seeds"] as JsonArray ?? []).Select(s => Thresholds.Figures.Number(s)).OfType<double>().Select(s => (long)s).ToList();
        var identity = RunIdentity.FromJson(root["run"]);
        var n = stats.Values.Select(s => s.N).DefaultIfEmpty(1).Max();
        return new RunFigures(path, n > 1 ? $"{n} seeds" + (identity is null ? "" : $" of {identity.Scenario}") : "one run", identity, stats, seeds);
    }

    private static string FigureCatalogName(string key) => FigureCatalog.Canonical(FigureCatalog.FromSummaryPath(key));

    /// <summary>Every numeric leaf of summary.json by the catalogue's name (links[SRC->DST].x, daemons[NAME].x, …); series over time, histograms and counts by type are left out.</summary>
    public static IReadOnlyDictionary<string, double?> Flatten(JsonObject root)
    {
        var result = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o)
                        if (k is not ("over_time" or "histogram" or "schema_version" or "by_type" or "by_scope_and_type" or "by_protocol_and_type" or "incidents" or "sources" or "destinations"))
                            Walk(v, path.Length == 0 ? k : path + "." + k);
                    break;
                case JsonArray a:
                    foreach (var (name, item) in Thresholds.Figures.Items(a)) Walk(item, $"{path}[{name}]");
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                    result[FigureCatalogName(path)] = Thresholds.Figures.Number(v);
                    break;
                case JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                    break;
                case null:
                    result[FigureCatalogName(path)] = null;
                    break;
            }
        }
        Walk(root, "");
        return result;
    }

    /// <summary>The baseline file: the judged figures' statistics over the runs, and what scenario they are of.</summary>
    public static string ToBaselineJson(RunIdentity? identity, IReadOnlyList<long> seeds, IReadOnlyDictionary<string, FigureStats> figures)
    {
        var root = new JsonObject
        {
            ["kind"] = BaselineKind,
            ["schema_version"] = 2,
            ["run"] = identity?.ToJson(),
            ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            ["figures"] = new JsonObject(figures.Where(kv => FigureCatalog.Find(kv.Key)?.Judged == true).OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject
                {
                    ["median"] = kv.Value.Median, ["stdev"] = kv.Value.StdDev, ["min"] = kv.Value.Min, ["max"] = kv.Value.Max, ["n"] = kv.Value.N,
                }))),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
