using System.Globalization;
using System.Text.Json.Nodes;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Decisions.Thresholds;

/// <summary>One threshold's outcome: the values it saw (one per item, and per window), the worst of them, and why.</summary>
public sealed record ThresholdResult
{
    public required Threshold Threshold { get; init; }
    /// <summary>"run", "phase NAME" or "every 1h window".</summary>
    public required string Over { get; init; }
    public required bool Passed { get; init; }
    /// <summary>Set when the threshold could not be evaluated (unknown figure, unknown phase); it then fails.</summary>
    public string? Error { get; init; }
    public IReadOnlyList<FigureValue> Values { get; init; } = [];
    public IReadOnlyList<FigureValue> Failing { get; init; } = [];
    public required string Detail { get; init; }
    public string Name => Threshold.Expression.Text + (Over == "run" ? "" : $" ({Over})");
}

/// <summary>
/// All thresholds of a scenario against one run. Exit code: 0 all hold, 99 one fails — also one that could not be
/// evaluated (its reason says why): after a run, nothing is "invalid input" any more; validate catches those before.
/// </summary>
public sealed record ThresholdVerdict(IReadOnlyList<ThresholdResult> Results)
{
    public bool Passed => Results.All(r => r.Passed);
    public int Failed => Results.Count(r => !r.Passed);
    public bool HasErrors => Results.Any(r => r.Error is not null);
    public int ExitCode => Passed ? Core.ExitCodes.Success : Core.ExitCodes.ThresholdsFailed;
}

/// <summary>
/// Evaluates thresholds: whole-run ones on the report's figures (summary.json), phase and window ones on
/// <see cref="EventWindows"/>. A value of null (no data, e.g. a link nothing was submitted on) is skipped; a threshold
/// with no value at all fails ("no data"). With [*] every item must hold; with [name] the one item.
/// </summary>
public static class ThresholdEvaluator
{
    public static ThresholdResult Evaluate(Threshold t, JsonObject figures, Func<EventWindows?>? events, DateTime runStart, DateTime runEnd, Scenario? scenario)
    {
        try
        {
            if (t.Window is null && t.Phase is null) return Judge(t, "run", Figures.Resolve(figures, t.Expression.Figure));
            CheckWindowed(t);
            var store = events?.Invoke() ?? throw new FigureException("phase and window thresholds need the run's events.parquet");
            if (t.Phase is { } phase)
            {
                var range = PhaseTimes.Of(scenario, phase, runStart, runEnd)
                    ?? throw new FigureException($"no phase named '{phase}' (phases: {string.Join(", ", PhaseTimes.Names(scenario))})");
                return Judge(t, $"phase {phase}", Figures.Resolve(store.Figures(range.From, range.To), t.Expression.Figure));
            }
            return Judge(t, $"every {Text(t.Window!.Value)} window", Windowed(t, store, runStart, runEnd));
        }
        catch (FigureException e)
        {
            return new ThresholdResult { Threshold = t, Over = Over(t), Passed = false, Error = e.Message, Detail = e.Message };
        }
    }

    /// <summary>Sliding windows of the threshold's length, stepped by a quarter of it, over the run (at least one window).</summary>
    internal static List<FigureValue> Windowed(Threshold t, EventWindows store, DateTime from, DateTime to)
    {
        var length = t.Window!.Value;
        var step = length / 4;
        var values = new List<FigureValue>();
        for (var start = from; ; start += step)
        {
            var end = start + length;
            foreach (var v in Figures.Resolve(store.Figures(start, end), t.Expression.Figure))
                values.Add(v with { Figure = $"{v.Figure} @ +{Text(start - from)}" });
            if (end >= to || step <= TimeSpan.Zero) break;
        }
        return values;
    }

    internal static void CheckWindowed(Threshold t)
    {
        if (!EventWindows.WindowedRoots.Contains(t.Expression.Figure[0].Name))
            throw new FigureException($"'{t.Expression.FigurePath}' is a whole-run figure; over a phase or a window only {string.Join(", ", EventWindows.WindowedRoots.Select(r => r + ".*"))} are computed (see src/FdrHarness.Decisions/README.md)");
    }

    internal static ThresholdResult Judge(Threshold t, string over, IReadOnlyList<FigureValue> values)
    {
        var withData = values.Where(v => v.Value is not null).ToList();
        var failing = withData.Where(v => !t.Expression.Holds(v.Value!.Value)).ToList();
        var op = t.Expression.Limit;
        string detail;
        if (withData.Count == 0) detail = NoData + ": " + NoDataReason(t.Expression.FigurePath, over);
        else if (withData.Count == 1) detail = $"{withData[0].Figure} = {Figures.Format(withData[0])}";
        else if (failing.Count == 0) detail = $"all {withData.Count} values hold (worst {Worst(t, withData).Figure} = {Figures.Format(Worst(t, withData))})";
        else detail = $"{failing.Count} of {withData.Count} fail {op}: " + string.Join(", ", failing.Take(5).Select(v => $"{v.Figure} = {Figures.Format(v)}")) + (failing.Count > 5 ? ", …" : "");
        return new ThresholdResult { Threshold = t, Over = over, Passed = withData.Count > 0 && failing.Count == 0, Values = values, Failing = failing, Detail = detail };
    }

    public const string NoData = "no data";

    /// <summary>Why a figure has no value: what did not happen in the run (or the phase, the windows).</summary>
    internal static string NoDataReason(string figure, string over)
    {
        var generic = Core.Figures.FigureCatalog.Generic(Core.Figures.FigureCatalog.Canonical(figure));
        var where = over == "run" ? "in the run" : $"in {over}";
        return generic switch
        {
            _ when generic.StartsWith("rules.completion_seconds", StringComparison.Ordinal) => $"no rule reached RULE_OK after a transfer request {where}",
            _ when generic.StartsWith("links[*].", StringComparison.Ordinal) => $"nothing was submitted on the link {where}",
            "transfers.efficiency" => $"no transfer finished or failed {where}",
            "transfers.done_over_submitted" => $"no transfer was submitted {where}",
            _ when generic.StartsWith("throughput.", StringComparison.Ordinal) => $"no time was observed {where}",
            _ when generic.StartsWith("faults[*].", StringComparison.Ordinal) => "the watched backlog never came back to its level before the fault",
            _ when generic.StartsWith("daemons[*].", StringComparison.Ordinal) => "the daemon's pods were never sampled",
            _ => $"the figure has no value {where}",
        };
    }

    private static FigureValue Worst(Threshold t, List<FigureValue> values) =>
        t.Expression.Operator is Core.Scenarios.Thresholds.ComparisonOperator.Greater or Core.Scenarios.Thresholds.ComparisonOperator.GreaterOrEqual
            ? values.MinBy(v => v.Value)! : values.MaxBy(v => v.Value)!;

    private static string Over(Threshold t) => t.Phase is { } p ? $"phase {p}" : t.Window is { } w ? $"every {Text(w)} window" : "run";

    internal static string Text(TimeSpan span) =>
        span.TotalHours >= 1 && span.Minutes == 0 && span.Seconds == 0 ? $"{(int)span.TotalHours}h"
        : span.TotalMinutes >= 1 && span.Seconds == 0 ? (span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m" : $"{(int)span.TotalMinutes}m")
        : span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}

/// <summary>
/// When each workload phase ran: from its start (start:, or after: X — X's start, or its last file for an inject
/// phase, as the embedded lake schedules it) until the next phase starts or the run ends.
/// </summary>
public static class PhaseTimes
{
    /// <summary>The phases' names as the plan, the validator and the report make them (<see cref="DefaultNames"/>).</summary>
    public static IEnumerable<string> Names(Scenario? scenario) => scenario is null ? [] : DefaultNames.Apply(scenario).Workload.Select(p => p.Name!);

    public static (DateTime From, DateTime To)? Of(Scenario? scenario, string phase, DateTime runStart, DateTime runEnd)
    {
        if (scenario is null) return null;
        var phases = DefaultNames.Apply(scenario).Workload;
        var names = phases.Select(p => p.Name!).ToList();
        var starts = new TimeSpan?[phases.Count];
        TimeSpan StartOf(int i, int depth = 0)
        {
            if (starts[i] is { } s) return s;
            var p = phases[i];
            var a = p.After is { } after ? names.IndexOf(after) : -1;
            var start = p.Start ?? (a >= 0 && depth < phases.Count ? StartOf(a, depth + 1) + (phases[a] is InjectPhase inj ? LoadLength(inj) : TimeSpan.Zero) : TimeSpan.Zero);
            starts[i] = start;
            return start;
        }
        var index = names.FindIndex(n => string.Equals(n, phase, StringComparison.OrdinalIgnoreCase));
        if (index < 0) return null;
        var from = StartOf(index);
        var next = Enumerable.Range(0, phases.Count).Select(i => StartOf(i)).Where(s => s > from).DefaultIfEmpty(runEnd - runStart).Min();
        return (runStart + from, runStart + next);
    }

    /// <summary>An inject phase writes its last file when its last load step ends.</summary>
    private static TimeSpan LoadLength(InjectPhase phase) => phase.Load.Aggregate(TimeSpan.Zero, (sum, step) =>
        sum + (step.GetType().GetProperty("During")?.GetValue(step) as TimeSpan? ?? TimeSpan.Zero));
}
