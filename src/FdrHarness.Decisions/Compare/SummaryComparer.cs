using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FdrHarness.Core.Figures;

namespace FdrHarness.Decisions.Compare;

/// <summary>A --tolerance override: figures matching <see cref="Pattern"/> (* within one name part) get this noise.</summary>
public sealed record Tolerance(string Pattern, double Relative, double Absolute)
{
    private readonly Regex _regex = new("^" + Regex.Escape(Pattern).Replace(@"\*", "[^.]*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
    public bool Matches(string figure) => _regex.IsMatch(figure) || _regex.IsMatch(FigureCatalog.Generic(figure));
    public double Noise(double baseline) => Math.Max(Absolute, Relative * Math.Abs(baseline));
}

public enum Change { Same, WithinNoise, Improved, Regressed, NotJudged, OnlyInBaseline, OnlyInCurrent, NoData }

/// <summary>One figure, both sides. <see cref="NoiseFrom"/> says where the noise came from: the baseline's seeds, the catalogue or --tolerance.</summary>
public sealed record FigureComparison(string Figure, double? Baseline, double? Current, Change Verdict, double? Noise, string NoiseFrom)
{
    public FigureInfo? Info => FigureCatalog.Find(Figure);
    public FigureUnit Unit => Info?.Unit ?? FigureUnit.Number;
    public double? Delta => Baseline is { } b && Current is { } c ? c - b : null;
    public double? Relative => Baseline is { } b && Current is { } c && b != 0 ? (c - b) / Math.Abs(b) : null;
}

public sealed record Comparison(RunFigures Baseline, RunFigures Current, IReadOnlyList<FigureComparison> Figures, IReadOnlyList<string> Differences)
{
    public IReadOnlyList<FigureComparison> Regressions => Ordered(Change.Regressed);
    public IReadOnlyList<FigureComparison> Improvements => Ordered(Change.Improved);
    public int Unchanged => Figures.Count(f => f.Verdict is Change.Same or Change.WithinNoise);
    public int NotJudged => Figures.Count(f => f.Verdict == Change.NotJudged);
    public int WithoutData => Figures.Count(f => f.Verdict is Change.NoData or Change.OnlyInBaseline);
    public int ExitCode => Regressions.Count > 0 ? Core.ExitCodes.ThresholdsFailed : Core.ExitCodes.Success;

    /// <summary>Headline figures first (transfers, throughput, rules), then links, daemons and the rest; largest change first within.</summary>
    private List<FigureComparison> Ordered(Change change) => Figures.Where(f => f.Verdict == change)
        .OrderBy(f => Rank(f.Figure)).ThenByDescending(f => Math.Abs(f.Relative ?? 0)).ThenBy(f => f.Figure, StringComparer.Ordinal).ToList();

    private static int Rank(string figure) => figure.Split('.', '[')[0] switch
    {
        "transfers" or "throughput" => 0, "rules" => 1, "links" or "transfer_matrix" => 2, "daemons" => 3, _ => 4,
    };
}

/// <summary>A run directory, summary.json or baseline file that cannot be compared; the message says which and why.</summary>
public sealed class CompareInputException(string message) : Exception(message);

/// <summary>
/// Two runs' figures side by side, judged by the figure catalogue: a figure that gets better one way (higher or lower)
/// regressed when it went the worse way by more than its noise. The noise is learned when the baseline is a set of
/// seeds (<c>fdr baseline</c>): <see cref="SpreadMultiplier"/> standard deviations of the seeds' values, widened for
/// a new draw (× √(1 + 1/n)), never below the figure class's documented tolerance (five seeds that agree exactly do
/// not show that a figure never moves), around the seeds' median. Otherwise it is the class's tolerance:
/// max(absolute, relative × |baseline|). A link's ratio is at least as noisy as its binomial sampling error over the
/// link's transfers, and as the share of them still in flight at the end (they may end either way). --tolerance
/// overrides all of these.
/// </summary>
public static class SummaryComparer
{
    /// <summary>How many standard deviations of the baseline's seeds a new seed may still be away from their median.</summary>
    public const double SpreadMultiplier = 3;

    public static Comparison Compare(string baselinePath, string currentPath, IReadOnlyList<Tolerance>? overrides = null) =>
        Compare(RunFigures.Load(baselinePath), RunFigures.Load(currentPath), overrides);

    public static Comparison Compare(RunFigures baseline, RunFigures current, IReadOnlyList<Tolerance>? overrides = null)
    {
        var names = baseline.Figures.Keys.Union(current.Figures.Keys).Order(StringComparer.Ordinal);
        var figures = names.Select(name => Judge(name, baseline.Figures.GetValueOrDefault(name), current.Figures.GetValueOrDefault(name), overrides ?? [],
            Submitted(name, current), InFlight(name, current))).ToList();
        return new Comparison(baseline, current, figures, RunIdentity.Differences(baseline.Identity, current.Identity));
    }

    /// <summary>The same, on plain figure values (one run each side).</summary>
    public static Comparison Compare(IReadOnlyDictionary<string, double?> baseline, IReadOnlyDictionary<string, double?> current,
        string baselineName, string currentName, IReadOnlyList<Tolerance>? overrides = null) =>
        Compare(new RunFigures(baselineName, "one run", null, baseline.ToDictionary(kv => kv.Key, kv => new FigureStats(kv.Value)), []),
            new RunFigures(currentName, "one run", null, current.ToDictionary(kv => kv.Key, kv => new FigureStats(kv.Value)), []), overrides);

    /// <summary>Submissions on the link a ratio figure is about (links[X].done_over_submitted), in the current run.</summary>
    private static double? Submitted(string name, RunFigures current)
    {
        if (!name.StartsWith("links[", StringComparison.Ordinal)) return null;
        var dot = name.LastIndexOf('.');
        return current.Figures.GetValueOrDefault(name[..dot] + ".submitted")?.Median;
    }

    /// <summary>The share of a link's submissions neither done nor failed at the end, in the current run.</summary>
    private static double? InFlight(string name, RunFigures current)
    {
        if (!name.StartsWith("links[", StringComparison.Ordinal)) return null;
        var link = name[..name.LastIndexOf('.')];
        double? Of(string figure) => current.Figures.GetValueOrDefault(link + "." + figure)?.Median;
        return Of("submitted") is > 0 and var n && Of("done") is { } done && Of("failed") is { } failed
            ? Math.Max(0, n - done - failed) / n : null;
    }

    /// <summary>
    /// A ratio over n transfers moves by chance alone: its binomial standard error √(p(1−p)/n), with p kept a half
    /// transfer away from 0 and 1 (a link at 100 % over 13 transfers may well lose one next time).
    /// </summary>
    internal static double SamplingNoise(double ratio, double n)
    {
        if (n < 1) return 0;
        var p = Math.Clamp(ratio, 0.5 / n, 1 - 0.5 / n);
        return SpreadMultiplier * Math.Sqrt(p * (1 - p) / n);
    }

    private static FigureComparison Judge(string name, FigureStats? baseline, FigureStats? current, IReadOnlyList<Tolerance> overrides, double? transfers = null, double? inFlight = null)
    {
        var info = FigureCatalog.Find(name);
        var (b, c) = (baseline?.Median, current?.Median);
        if (baseline is null) return new(name, null, c, Change.OnlyInCurrent, null, "");
        if (current is null) return new(name, b, null, Change.OnlyInBaseline, null, "");
        var over = overrides.FirstOrDefault(o => o.Matches(name));
        if (info is null || (!info.Judged && over is null)) return new(name, b, c, b == c ? Change.Same : Change.NotJudged, null, "");
        if (b is null || c is null) return new(name, b, c, b is null && c is null ? Change.Same : Change.NoData, null, "");
        double noise;
        string from;
        if (over is not null) (noise, from) = (over.Noise(b.Value), "--tolerance");
        else if (baseline is { N: > 1, StdDev: { } sd })
            (noise, from) = (Math.Max(info.Noise.Noise(b.Value), SpreadMultiplier * sd * Math.Sqrt(1 + 1.0 / baseline.N)), $"{baseline.N} seeds");
        else (noise, from) = (info.Noise.Noise(b.Value), info.Noise.Name);
        if (over is null && info.Unit == FigureUnit.Ratio && transfers is { } n && SamplingNoise(b.Value, n) is var chance && chance > noise)
            (noise, from) = (chance, $"{n:0} transfers");
        if (over is null && info.Unit == FigureUnit.Ratio && inFlight is { } open && open > noise)
            (noise, from) = (open, $"{open:P0} in flight at the end");
        Change verdict;
        if (b.Value == c.Value) verdict = Change.Same;
        else if (Math.Abs(c.Value - b.Value) <= noise + 1e-9 * Math.Max(1, Math.Abs(b.Value))) verdict = Change.WithinNoise;
        else
        {
            var higher = info.Better == Better.Higher || (info.Better == Better.Neither && over is not null);
            verdict = (higher ? c > b : c < b) ? Change.Improved : Change.Regressed;
        }
        return new(name, b, c, verdict, noise, from);
    }

    /// <summary>The judged figures of one run as a baseline file (no spread: compare then uses the documented tolerances).</summary>
    public static string SaveBaseline(string runOrSummary)
    {
        var run = RunFigures.Load(runOrSummary);
        return RunFigures.ToBaselineJson(run.Identity, run.Seeds, run.Figures);
    }

    // ---- output: regressions, then improvements, then one line for the rest; one row per figure ----

    public static string ToText(Comparison c)
    {
        var sb = new StringBuilder();
        sb.Append(Headline(c)).Append('\n');
        sb.Append($"baseline {c.Baseline.Name} ({c.Baseline.Description}) → current {c.Current.Name}\n");
        if (c.Differences.Count > 0) sb.Append($"warning: different runs ({string.Join("; ", c.Differences)}), compared as asked\n");
        void Block(string title, IReadOnlyList<FigureComparison> rows)
        {
            if (rows.Count == 0) return;
            sb.Append($"\n{title} ({rows.Count}):\n");
            var cells = rows.Select(Cells).ToList();
            var widths = Enumerable.Range(0, 5).Select(i => cells.Max(r => r[i].Length)).ToArray();
            foreach (var r in cells)
                sb.Append("  ").Append(r[0].PadRight(widths[0])).Append("  ").Append(r[1].PadLeft(widths[1])).Append(" → ").Append(r[2].PadLeft(widths[2]))
                    .Append("  ").Append(r[3].PadRight(widths[3])).Append("  ").Append(r[4]).Append('\n');
        }
        Block("regressed", c.Regressions);
        Block("improved", c.Improvements);
        sb.Append('\n').Append(RestLine(c)).Append('\n');
        return sb.ToString();
    }

    public static string ToMarkdown(Comparison c)
    {
        var sb = new StringBuilder();
        sb.Append(c.Regressions.Count > 0 ? $"### ❌ {Headline(c)}\n\n" : $"### ✅ {Headline(c)}\n\n");
        sb.Append($"Baseline `{c.Baseline.Name}` ({c.Baseline.Description}) → current `{c.Current.Name}`.");
        if (c.Differences.Count > 0) sb.Append($" **Different runs**: {string.Join("; ", c.Differences)}.");
        sb.Append("\n\n");
        void Table(string title, IReadOnlyList<FigureComparison> rows)
        {
            if (rows.Count == 0) return;
            sb.Append($"**{title}**\n\n| figure | baseline | current | change | noise |\n|:---|---:|---:|---:|---:|\n");
            foreach (var r in rows.Select(Cells)) sb.Append($"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} | {r[4]} |\n");
            sb.Append('\n');
        }
        Table("Regressed", c.Regressions);
        Table("Improved", c.Improvements);
        sb.Append(RestLine(c)).Append('\n');
        return sb.ToString();
    }

    public static string ToJson(Comparison c)
    {
        JsonObject Row(FigureComparison f) => new()
        {
            ["figure"] = f.Figure, ["unit"] = f.Info?.Unit.ToString().ToLowerInvariant(), ["better"] = f.Info?.Better.ToString().ToLowerInvariant(),
            ["baseline"] = f.Baseline, ["current"] = f.Current, ["delta"] = f.Delta, ["relative"] = f.Relative is { } r ? Math.Round(r, 6) : null,
            ["noise"] = f.Noise, ["noise_from"] = f.NoiseFrom.Length > 0 ? f.NoiseFrom : null,
            ["verdict"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(f.Verdict.ToString()),
        };
        var root = new JsonObject
        {
            ["verdict"] = c.Regressions.Count > 0 ? "regressed" : "ok",
            ["baseline"] = new JsonObject { ["path"] = c.Baseline.Name, ["runs"] = c.Baseline.Runs, ["seeds"] = new JsonArray(c.Baseline.Seeds.Select(s => (JsonNode?)s).ToArray()) },
            ["current"] = new JsonObject { ["path"] = c.Current.Name },
            ["differences"] = new JsonArray(c.Differences.Select(d => (JsonNode?)d).ToArray()),
            ["regressions"] = new JsonArray(c.Regressions.Select(f => (JsonNode?)Row(f)).ToArray()),
            ["improvements"] = new JsonArray(c.Improvements.Select(f => (JsonNode?)Row(f)).ToArray()),
            ["unchanged"] = c.Unchanged, ["not_judged"] = c.NotJudged, ["without_data"] = c.WithoutData,
            ["figures"] = new JsonArray(c.Figures.Where(f => f.Verdict != Change.OnlyInCurrent || f.Info?.Judged == true).Select(f => (JsonNode?)Row(f)).ToArray()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    public static string Headline(Comparison c) => c.Regressions.Count > 0
        ? $"fdr compare: {c.Regressions.Count} figure{(c.Regressions.Count == 1 ? "" : "s")} regressed: {string.Join(", ", c.Regressions.Take(6).Select(r => r.Figure))}{(c.Regressions.Count > 6 ? ", …" : "")}"
        : $"fdr compare: no regression ({c.Improvements.Count} improved)";

    private static string RestLine(Comparison c)
    {
        var parts = new List<string> { $"{c.Unchanged} unchanged (within their noise)" };
        if (c.NotJudged > 0) parts.Add($"{c.NotJudged} changed but not judged (no better direction)");
        if (c.WithoutData > 0) parts.Add($"{c.WithoutData} without a value on one side");
        return "Unchanged: " + string.Join(", ", parts) + ".";
    }

    private static string[] Cells(FigureComparison f) =>
    [
        f.Figure, FigureFormat.Value(f.Baseline, f.Unit), FigureFormat.Value(f.Current, f.Unit),
        f.Delta is { } d ? FigureFormat.Delta(d, f.Unit) + (f.Relative is { } r && f.Unit != FigureUnit.Ratio ? $" ({(r >= 0 ? "+" : "−")}{Math.Abs(r * 100).ToString("0.#", CultureInfo.InvariantCulture)} %)" : "") : "",
        f.Noise is { } n ? $"±{(f.Unit == FigureUnit.Ratio ? FigureFormat.Delta(n, f.Unit)[1..] : FigureFormat.Value(n, f.Unit))} ({f.NoiseFrom})" : "",
    ];

    /// <summary>"PATTERN=5%" (relative) or "PATTERN=0.02" (absolute, in the figure's unit).</summary>
    public static Tolerance ParseTolerance(string text)
    {
        var eq = text.LastIndexOf('=');
        if (eq <= 0) throw new CompareInputException($"--tolerance {text}: expected FIGURE=5% or FIGURE=0.02, e.g. transfers.done=10%");
        var pattern = text[..eq].Trim();
        var value = text[(eq + 1)..].Trim();
        var rel = value.EndsWith('%');
        if (!double.TryParse(rel ? value[..^1] : value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || x < 0 || !double.IsFinite(x))
            throw new CompareInputException($"--tolerance {text}: '{value}' is not a tolerance; expected 5% or 0.02");
        if (!pattern.Contains('*') && FigureCatalog.Find(pattern) is null)
            throw new CompareInputException($"--tolerance {text}: unknown figure '{pattern}'" + (FigureCatalog.DidYouMean(pattern) is { } m ? $"; did you mean '{m}'?" : ""));
        return new Tolerance(FigureCatalog.Canonical(pattern), rel ? x / 100 : 0, rel ? 0 : x);
    }
}
