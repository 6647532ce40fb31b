using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FdrHarness.Core.Observations;
using FdrHarness.Decisions.Thresholds;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Decisions.Compare;

public enum Direction { HigherIsBetter, LowerIsBetter, Informational }

/// <summary>How a figure is judged: which way is better, and the change that is still noise (the larger of the two).</summary>
public sealed record Tolerance(string Pattern, Direction Direction, double Relative, double Absolute)
{
    private readonly Regex _regex = new("^" + Regex.Escape(Pattern).Replace(@"\*", "[^.]*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
    public bool Matches(string figure) => _regex.IsMatch(figure);
    public double Noise(double baseline) => Math.Max(Absolute, Relative * Math.Abs(baseline));
}

public enum Change { Same, WithinNoise, Improved, Regressed, Informational, OnlyInBaseline, OnlyInCurrent, NoData }

public sealed record FigureComparison(string Figure, double? Baseline, double? Current, Direction Direction, Change Verdict, double? Noise)
{
    public double? Delta => Baseline is { } b && Current is { } c ? c - b : null;
    public double? Relative => Baseline is { } b && Current is { } c && b != 0 ? (c - b) / Math.Abs(b) : null;
}

public sealed record Comparison(string Baseline, string Current, IReadOnlyList<FigureComparison> Figures)
{
    /// <summary>Headline figures first (transfers, throughput, rules), then links, daemons and the rest.</summary>
    public IReadOnlyList<FigureComparison> Regressions => Figures.Where(f => f.Verdict == Change.Regressed).OrderBy(f => Rank(f.Figure)).ToList();
    public IReadOnlyList<FigureComparison> Improvements => Figures.Where(f => f.Verdict == Change.Improved).OrderBy(f => Rank(f.Figure)).ToList();

    private static int Rank(string figure) => figure.Split('.', '[')[0] switch
    {
        "transfers" or "throughput" => 0, "rules" => 1, "links" => 2, "daemons" => 3, _ => 4,
    };
    public int ExitCode => Regressions.Count > 0 ? Core.ExitCodes.ThresholdsFailed : Core.ExitCodes.Success;
}

/// <summary>A run directory, summary.json or baseline file that cannot be compared; the message says which and why.</summary>
public sealed class CompareInputException(string message) : Exception(message);

/// <summary>
/// Two runs' figures side by side. Figures are summary.json's, flattened to paths (lists by item: links[SRC->DST].x,
/// daemons[NAME].x, rses[NAME].x, experiments[SCOPE].x), plus throughput.files_per_second / bytes_per_second.
/// A change is a regression only when it goes the worse way by more than the figure's noise: max(absolute, relative ×
/// |baseline|). The embedded lake is deterministic (same seed, same figures), so the noise is there for other seeds,
/// scales and real Rucio runs. Figures without a rule are shown but never judged.
/// </summary>
public static class SummaryComparer
{
    /// <summary>The documented defaults, first match wins (also in src/FdrHarness.Decisions/README.md).</summary>
    public static readonly IReadOnlyList<Tolerance> Defaults =
    [
        new("transfers.efficiency", Direction.HigherIsBetter, 0, 0.02),
        new("transfers.done_over_submitted", Direction.HigherIsBetter, 0, 0.02),
        new("links[*].efficiency", Direction.HigherIsBetter, 0, 0.05),
        new("links[*].done_over_submitted", Direction.HigherIsBetter, 0, 0.05),
        new("transfers.done", Direction.HigherIsBetter, 0.05, 0),
        new("transfers.bytes_done", Direction.HigherIsBetter, 0.05, 0),
        new("throughput.*", Direction.HigherIsBetter, 0.05, 0),
        new("rules.rules_ok", Direction.HigherIsBetter, 0.05, 0),
        new("experiments[*].transfers_done", Direction.HigherIsBetter, 0.05, 0),
        new("experiments[*].deletions_done", Direction.HigherIsBetter, 0.05, 0),
        new("transfers.failed", Direction.LowerIsBetter, 0.10, 5),
        new("transfers.submission_failed", Direction.LowerIsBetter, 0.10, 5),
        new("transfers.lost", Direction.LowerIsBetter, 0, 0),
        new("rules.completion_seconds.*", Direction.LowerIsBetter, 0.10, 60),
        new("transfer_matrix.links_below_target", Direction.LowerIsBetter, 0, 0),
        new("daemons[*].oom_killed", Direction.LowerIsBetter, 0, 0),
        new("daemons[*].restarts", Direction.LowerIsBetter, 0, 0),
        new("daemons[*].killed_other", Direction.LowerIsBetter, 0, 0),
        new("daemons[*].memory_p*", Direction.LowerIsBetter, 0.10, 16 << 20),
        new("daemons[*].memory_peak", Direction.LowerIsBetter, 0.10, 16 << 20),
        new("daemons[*].cpu_p*", Direction.LowerIsBetter, 0.10, 0.01),
        new("daemons[*].cpu_peak", Direction.LowerIsBetter, 0.10, 0.01),
        new("daemons[*].peak_backlog", Direction.LowerIsBetter, 0.20, 10),
        new("daemons[*].pending_seconds", Direction.LowerIsBetter, 0.20, 60),
        new("daemons[*].crash_loop_seconds", Direction.LowerIsBetter, 0.20, 60),
        new("faults[*].time_to_recover_seconds", Direction.LowerIsBetter, 0.20, 60),
        new("takeaway.nodes_needed_*", Direction.LowerIsBetter, 0, 0),
    ];

    public const string BaselineKind = "fdr-baseline";

    /// <summary>Figures of a run directory, a summary.json, or a baseline file written by <see cref="SaveBaseline"/>.</summary>
    public static IReadOnlyDictionary<string, double?> Load(string path)
    {
        if (Directory.Exists(path))
        {
            var summary = Path.Combine(path, JsonExporter.FileName);
            if (File.Exists(summary)) return Flatten(Figures.Load(summary));
            if (File.Exists(Path.Combine(path, ParquetObservationSink.EventsFile)))
                return Flatten(Figures.ToJson(SummaryBuilder.Build(path, new Reporting.ReportOptions { Plots = false })));
            throw new CompareInputException($"{path}: not a run directory: it has neither summary.json nor events.parquet");
        }
        if (!File.Exists(path)) throw new CompareInputException($"{path}: no such run directory or file");
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CompareInputException($"{path}: not a JSON object"); }
        catch (JsonException e) { throw new CompareInputException($"{path}: not JSON: {e.Message}"); }
        if (root["kind"]?.ToString() == BaselineKind && root["figures"] is JsonObject figures)
            return figures.ToDictionary(kv => kv.Key, kv => Figures.Number(kv.Value), StringComparer.Ordinal);
        if (root["schema_version"] is null || root["run"] is null)
            throw new CompareInputException($"{path}: neither a summary.json (\"schema_version\": 1) nor a baseline (\"kind\": \"{BaselineKind}\")");
        try { return Flatten(Figures.Load(path)); }
        catch (InvalidDataException e) { throw new CompareInputException(e.Message); }
    }

    /// <summary>Every numeric leaf as a path; lists by item name; series over time and histograms are left out.</summary>
    public static IReadOnlyDictionary<string, double?> Flatten(JsonObject root)
    {
        var result = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o)
                        if (k is not ("over_time" or "histogram" or "schema_version" or "by_scope_and_type" or "by_protocol_and_type" or "incidents" or "sources" or "destinations"))
                            Walk(v, path.Length == 0 ? k : path + "." + k);
                    break;
                case JsonArray a:
                    foreach (var (name, item) in Figures.Items(a)) Walk(item, $"{path}[{name}]");
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                    result[path] = Figures.Number(v);
                    break;
                case null:
                    result[path] = null;
                    break;
            }
        }
        Walk(root, "");
        // Thresholds' names for the two lists people gate on most.
        return result.ToDictionary(kv => Rename(kv.Key), kv => kv.Value, StringComparer.Ordinal);
    }

    private static string Rename(string path) =>
        path.StartsWith("transfer_matrix.links[", StringComparison.Ordinal) ? path["transfer_matrix.".Length..]
        : path.StartsWith("resources[", StringComparison.Ordinal) ? "daemons" + path["resources".Length..]
        : path;

    public static Comparison Compare(string baselinePath, string currentPath, IReadOnlyList<Tolerance>? overrides = null) =>
        Compare(Load(baselinePath), Load(currentPath), baselinePath, currentPath, overrides);

    public static Comparison Compare(IReadOnlyDictionary<string, double?> baseline, IReadOnlyDictionary<string, double?> current,
        string baselineName, string currentName, IReadOnlyList<Tolerance>? overrides = null)
    {
        var rules = (overrides ?? []).Concat(Defaults).ToList();
        var names = baseline.Keys.Union(current.Keys).Order(StringComparer.Ordinal);
        var figures = names.Select(name =>
        {
            var rule = rules.FirstOrDefault(r => r.Matches(name));
            var direction = rule?.Direction ?? Direction.Informational;
            var inBase = baseline.TryGetValue(name, out var b);
            var inCur = current.TryGetValue(name, out var c);
            Change verdict;
            double? noise = b is { } bb && rule is not null ? rule.Noise(bb) : null;
            if (!inBase) verdict = Change.OnlyInCurrent;
            else if (!inCur) verdict = Change.OnlyInBaseline;
            else if (b is null || c is null) verdict = b is null && c is null ? Change.Same : Change.NoData;
            else if (b.Value == c.Value) verdict = Change.Same;
            else if (rule is null || direction == Direction.Informational) verdict = Change.Informational;
            else
            {
                var better = direction == Direction.HigherIsBetter ? c > b : c < b;
                verdict = Math.Abs(c.Value - b.Value) <= noise!.Value + 1e-12 ? Change.WithinNoise : better ? Change.Improved : Change.Regressed;
            }
            return new FigureComparison(name, b, c, direction, verdict, noise);
        }).ToList();
        // A baseline file keeps only judged figures: figures only in the current run are then not news.
        return new Comparison(baselineName, currentName, figures);
    }

    /// <summary>The judged figures of a run, small enough to keep in a repository as the next comparisons' baseline.</summary>
    public static string SaveBaseline(string runOrSummary)
    {
        var figures = Load(runOrSummary).Where(kv => Defaults.Any(r => r.Matches(kv.Key)))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var root = new JsonObject
        {
            ["kind"] = BaselineKind,
            ["schema_version"] = 1,
            ["figures"] = new JsonObject(figures.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)(kv.Value is { } v ? JsonValue.Create(v) : null)))),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Markdown for a pull-request comment: the verdict, the regressions and improvements, then every figure folded.</summary>
    public static string ToMarkdown(Comparison c)
    {
        var sb = new StringBuilder();
        var regressions = c.Regressions;
        sb.Append(regressions.Count > 0
            ? $"### ❌ fdr compare: {regressions.Count} figure{(regressions.Count == 1 ? "" : "s")} regressed\n\n"
            : $"### ✅ fdr compare: no regression ({c.Improvements.Count} improved)\n\n");
        sb.Append($"Baseline `{c.Baseline}` → current `{c.Current}`. A change within a figure's noise (max of absolute, relative × baseline) is not a regression.\n\n");
        void Table(IEnumerable<FigureComparison> rows)
        {
            sb.Append("| figure | baseline | current | change | noise | verdict |\n|---|---:|---:|---:|---:|---|\n");
            foreach (var f in rows)
                sb.Append($"| `{f.Figure}` | {Figures.Format(f.Baseline)} | {Figures.Format(f.Current)} | {ChangeText(f)} | {(f.Noise is { } n ? "±" + Figures.Format(n) : "")} | {VerdictText(f)} |\n");
            sb.Append('\n');
        }
        if (regressions.Count > 0) { sb.Append("**Regressed**\n\n"); Table(regressions); }
        if (c.Improvements.Count > 0) { sb.Append("**Improved**\n\n"); Table(c.Improvements); }
        sb.Append($"<details><summary>All {c.Figures.Count} figures</summary>\n\n");
        Table(c.Figures);
        sb.Append("</details>\n");
        return sb.ToString();
    }

    private static string ChangeText(FigureComparison f) => f.Delta is not { } d ? "" :
        (d >= 0 ? "+" : "") + Figures.Format(d) + (f.Relative is { } r ? $" ({(r >= 0 ? "+" : "")}{(r * 100).ToString("0.#", CultureInfo.InvariantCulture)} %)" : "");

    private static string VerdictText(FigureComparison f) => f.Verdict switch
    {
        Change.Regressed => "❌ regressed" + (f.Direction == Direction.HigherIsBetter ? " (higher is better)" : " (lower is better)"),
        Change.Improved => "✅ improved",
        Change.WithinNoise => "≈ within noise",
        Change.Same => "=",
        Change.OnlyInBaseline => "only in baseline",
        Change.OnlyInCurrent => "only in current",
        Change.NoData => "no data on one side",
        _ => "changed (not judged)",
    };

    /// <summary>"PATTERN=5%" (relative) or "PATTERN=0.02" (absolute), keeping the default direction of the figure.</summary>
    public static Tolerance ParseTolerance(string text)
    {
        var eq = text.LastIndexOf('=');
        if (eq <= 0) throw new CompareInputException($"--tolerance {text}: expected FIGURE=5% or FIGURE=0.02, e.g. transfers.done=10%");
        var pattern = text[..eq].Trim();
        var value = text[(eq + 1)..].Trim();
        var rel = value.EndsWith('%');
        if (!double.TryParse(rel ? value[..^1] : value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || x < 0)
            throw new CompareInputException($"--tolerance {text}: '{value}' is not a tolerance; expected 5% or 0.02");
        var direction = Defaults.FirstOrDefault(d => d.Matches(pattern) || d.Pattern == pattern)?.Direction ?? Direction.HigherIsBetter;
        return new Tolerance(pattern, direction, rel ? x / 100 : 0, rel ? 0 : x);
    }
}
