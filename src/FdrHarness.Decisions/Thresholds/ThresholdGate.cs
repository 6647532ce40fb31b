using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Reporting;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Decisions.Thresholds;

/// <summary>
/// The end-of-run gate: every threshold of the scenario against a reported run directory (summary.json must exist:
/// call after ReportBuilder.Build), then <see cref="Write"/> prints ✓/✗ per threshold and writes thresholds.junit.xml.
/// </summary>
public static class ThresholdGate
{
    public const string JUnitFile = "thresholds.junit.xml";

    public static ThresholdVerdict Evaluate(Scenario scenario, string runDir)
    {
        var summaryPath = Path.Combine(runDir, JsonExporter.FileName);
        // The report's own file when there is one (no second pass over the observations); else build the summary.
        var figures = File.Exists(summaryPath) ? Figures.Load(summaryPath) : Figures.ToJson(SummaryBuilder.Build(runDir, new Reporting.ReportOptions { Plots = false }));
        return Evaluate(scenario, figures, runDir);
    }

    public static ThresholdVerdict Evaluate(Scenario scenario, Summary summary, string? runDir) => Evaluate(scenario, Figures.ToJson(summary), runDir);

    private static ThresholdVerdict Evaluate(Scenario scenario, JsonObject figures, string? runDir)
    {
        var start = figures["run"]?["start"]?.GetValue<DateTime>() ?? DateTime.MinValue;
        var end = figures["run"]?["end"]?.GetValue<DateTime>() ?? start;
        EventWindows? events = null;
        // Events are read once, and only when a phase or window threshold asks for them.
        EventWindows? Events() => events ??= runDir is not null && File.Exists(Path.Combine(runDir, ParquetObservationSink.EventsFile)) ? EventWindows.FromRun(runDir) : null;
        return new ThresholdVerdict(scenario.Thresholds.Select(t => ThresholdEvaluator.Evaluate(t, figures, Events, start, end, scenario)).ToList());
    }

    /// <summary>
    /// The run's report with the thresholds' verdict at its top: the summary is built once, judged, and every exporter
    /// writes with the verdict. What <c>fdr run</c> ends with and <c>fdr report</c> rebuilds.
    /// </summary>
    public static (ReportResult Report, ThresholdVerdict Verdict) ReportAndJudge(Scenario scenario, string runDir, ReportOptions? options = null)
    {
        ThresholdVerdict? verdict = null;
        var report = ReportBuilder.Build(runDir, (options ?? new ReportOptions()) with
        {
            Judge = summary => ToReport(verdict = Evaluate(scenario, summary, runDir)),
        });
        return (report, verdict!);
    }

    /// <summary>The verdict as the report shows it: per threshold the figure that decided, its value, the limit, ✓/✗ and why.</summary>
    public static ReportVerdict ToReport(ThresholdVerdict verdict) => new(verdict.Results.Select(r =>
    {
        var withData = r.Values.Where(v => v.Value is not null).ToList();
        var decisive = r.Failing.FirstOrDefault() ?? (withData.Count == 1 ? withData[0] : null);
        var e = r.Threshold.Expression;
        var limit = e.Limit;
        return new VerdictLine(e.Text, r.Over, decisive?.Figure ?? (withData.Count > 1 ? $"{withData.Count} values" : Core.Figures.FigureCatalog.Canonical(e.FigurePath)),
            decisive is not null ? Figures.Format(decisive) : withData.Count > 1 ? "all hold" : "no data", limit, r.Passed,
            r.Passed ? (withData.Count > 1 ? r.Detail : "holds") : r.Detail);
    }).ToList());

    /// <summary>The ✓/✗ summary on <paramref name="output"/>, and thresholds.junit.xml into <paramref name="runDir"/>.</summary>
    public static void Write(ThresholdVerdict verdict, string runDir, TextWriter output, string suite = "thresholds")
    {
        output.Write(ToText(verdict));
        File.WriteAllText(Path.Combine(runDir, JUnitFile), ToJUnit(verdict, suite), new UTF8Encoding(false));
    }

    public static string ToText(ThresholdVerdict verdict)
    {
        var sb = new StringBuilder();
        if (verdict.Results.Count == 0) return "thresholds: none declared\n";
        sb.Append("thresholds:\n");
        foreach (var r in verdict.Results)
            sb.Append($"  {(r.Passed ? "✓" : "✗")} {r.Name}  —  {(r.Error is not null ? "error: " : "")}{r.Detail}\n");
        sb.Append(verdict.Passed ? $"  all {verdict.Results.Count} thresholds hold\n" : $"  {verdict.Failed} of {verdict.Results.Count} thresholds failed\n");
        return sb.ToString();
    }

    /// <summary>JUnit XML: one testsuite, one testcase per threshold; a failed one has &lt;failure&gt;, an unevaluable one &lt;error&gt;.</summary>
    public static string ToJUnit(ThresholdVerdict verdict, string suite = "thresholds")
    {
        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(new StringWriter(sb), new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false }))
        {
            w.WriteStartElement("testsuites");
            w.WriteStartElement("testsuite");
            w.WriteAttributeString("name", suite);
            w.WriteAttributeString("tests", verdict.Results.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteAttributeString("failures", verdict.Results.Count(r => !r.Passed && r.Error is null).ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteAttributeString("errors", verdict.Results.Count(r => r.Error is not null).ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var r in verdict.Results)
            {
                w.WriteStartElement("testcase");
                w.WriteAttributeString("classname", suite);
                w.WriteAttributeString("name", r.Name);
                if (!r.Passed)
                {
                    w.WriteStartElement(r.Error is null ? "failure" : "error");
                    w.WriteAttributeString("message", r.Detail);
                    w.WriteString(string.Join("\n", (r.Failing.Count > 0 ? r.Failing : r.Values).Select(v => $"{v.Figure} = {Figures.Format(v)}")));
                    w.WriteEndElement();
                }
                else
                {
                    w.WriteElementString("system-out", r.Detail);
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndElement();
        }
        return sb.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"", StringComparison.Ordinal) + "\n";
    }
}

/// <summary>
/// Abort-on-fail for live runs: feed it the events and pod lifecycle as they arrive (<see cref="Observe(in HermesEvent)"/>),
/// call <see cref="Check"/> now and then; it evaluates the thresholds marked abort_on_fail that these can answer
/// (transfers, throughput, links, rules over the run so far, the phase so far or the last window; daemons' oom_kills and
/// restarts over the run so far) and says whether to stop. Not thread-safe: the caller serializes.
/// </summary>
public sealed class LiveThresholdMonitor(Scenario scenario, DateTime runStart)
{
    private readonly EventWindows _events = new();
    // Every daemon of the scenario counts from zero, so "daemons[x].oom_kills == 0" holds until x is OOMKilled.
    private readonly SortedDictionary<string, (int OomKilled, int Restarts)> _pods =
        new(scenario.Daemons.ToDictionary(d => d.Name, _ => (0, 0)), StringComparer.Ordinal);

    public IReadOnlyList<Threshold> Watched { get; } = scenario.Thresholds.Where(t => t.AbortOnFail && AnswerableLive(t)).ToList();

    /// <summary>Thresholds marked abort_on_fail whose figure only the end-of-run report has: judged then, not watched.</summary>
    public IReadOnlyList<Threshold> NotWatched { get; } = scenario.Thresholds.Where(t => t.AbortOnFail && !AnswerableLive(t)).ToList();

    private static bool AnswerableLive(Threshold t)
    {
        var root = t.Expression.Figure[0].Name;
        return EventWindows.WindowedRoots.Contains(root) || (root == "daemons" && t.Window is null && t.Phase is null);
    }

    public void Observe(in HermesEvent e) => _events.Add(e);

    public void Observe(in PodLifecycleEvent e)
    {
        if (e.Event is not (LifecycleEvents.OomKilled or LifecycleEvents.Restarted)) return;
        var (oom, restarts) = _pods.GetValueOrDefault(e.Daemon);
        _pods[e.Daemon] = e.Event == LifecycleEvents.OomKilled ? (oom + 1, restarts) : (oom, restarts + 1);
    }

    /// <summary>The report's resources, as far as the lifecycle tells them live.</summary>
    private JsonArray PodFigures() => new(_pods.Select(kv => (JsonNode)new JsonObject
    {
        ["daemon"] = kv.Key, ["oom_killed"] = kv.Value.OomKilled, ["restarts"] = kv.Value.Restarts,
    }).ToArray());

    /// <summary>Results of the watched thresholds at <paramref name="now"/>; a threshold without data yet is not a failure here.</summary>
    public IReadOnlyList<ThresholdResult> Check(DateTime now)
    {
        var results = new List<ThresholdResult>();
        foreach (var t in Watched)
        {
            try
            {
                var (from, over) = t.Window is { } w ? (now - w, $"last {ThresholdEvaluator.Text(w)}") : (runStart, "run so far");
                var to = now;
                if (t.Phase is { } phase)
                {
                    if (PhaseTimes.Of(scenario, phase, runStart, DateTime.MaxValue - TimeSpan.FromDays(1)) is not { } range) throw new FigureException($"no phase named '{phase}'");
                    if (now < range.From) continue;
                    (from, to, over) = (range.From, now < range.To ? now : range.To, $"phase {phase} so far");
                }
                var figures = _events.Figures(from, to);
                figures["resources"] = PodFigures();
                var r = ThresholdEvaluator.Judge(t, over, Figures.Resolve(figures, t.Expression.Figure));
                results.Add(r.Detail.StartsWith(ThresholdEvaluator.NoData, StringComparison.Ordinal) ? r with { Passed = true } : r);
            }
            catch (FigureException e)
            {
                results.Add(new ThresholdResult { Threshold = t, Over = "live", Passed = false, Error = e.Message, Detail = e.Message });
            }
        }
        return results;
    }

    public bool ShouldAbort(DateTime now, out IReadOnlyList<ThresholdResult> failed)
    {
        failed = Check(now).Where(r => !r.Passed).ToList();
        return failed.Count > 0;
    }
}
