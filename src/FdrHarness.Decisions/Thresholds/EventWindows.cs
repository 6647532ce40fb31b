using System.Text.Json.Nodes;
using FdrHarness.Core.Figures;
using FdrHarness.Core.Observations;

namespace FdrHarness.Decisions.Thresholds;

/// <summary>
/// The transfer and rule events of a run kept in columns, so the figures of any time window can be computed: what
/// phase and sliding-window thresholds (and a live run's abort-on-fail) are evaluated on. Fed from events.parquet or,
/// live, event by event. Figures over a window: transfers.{queued, submitted, done, failed, submission_failed, lost,
/// bytes_done, efficiency, done_over_submitted}, throughput.{files_per_second, bytes_per_second},
/// links[..].{submitted, done, failed, bytes_done, done_over_submitted, efficiency},
/// rules.{rules_ok, measured, completion_time.{min, p50, p90, p95, p99, max, mean}}; the others are whole-run only.
/// </summary>
public sealed class EventWindows
{
    public static readonly string[] WindowedRoots = ["transfers", "throughput", "links", "rules"];

    private enum Kind : byte { Queued, Submitted, Done, Failed, SubmissionFailed, Lost, RuleOk }

    private readonly List<long> _ticks = [];
    private readonly List<Kind> _kinds = [];
    private readonly List<int> _links = [];
    private readonly List<int> _rules = [];
    private readonly List<long> _bytes = [];
    private readonly Dictionary<(string, string), int> _linkIds = [];
    private readonly List<(string Src, string Dst)> _linkNames = [];
    private readonly Dictionary<string, int> _ruleIds = new(StringComparer.Ordinal);
    private bool _sorted = true;

    public DateTime? First => _ticks.Count > 0 ? new DateTime(_ticks.Min(), DateTimeKind.Utc) : null;
    public DateTime? Last => _ticks.Count > 0 ? new DateTime(_ticks.Max(), DateTimeKind.Utc) : null;

    public static EventWindows FromRun(string runDir)
    {
        var w = new EventWindows();
        var reader = new ObservationReader(runDir);
        foreach (var batch in reader.EventBatches(["event_type", "created_at", "src_rse", "dst_rse", "rule_id", "bytes"]))
            foreach (var e in batch) w.Add(e);
        return w;
    }

    public void Add(in HermesEvent e)
    {
        Kind kind;
        switch (e.EventType)
        {
            case EventTypes.TransferQueued: kind = Kind.Queued; break;
            case EventTypes.TransferSubmitted: kind = Kind.Submitted; break;
            case EventTypes.TransferDone: kind = Kind.Done; break;
            case EventTypes.TransferFailed: kind = Kind.Failed; break;
            case EventTypes.TransferSubmissionFailed: kind = Kind.SubmissionFailed; break;
            case EventTypes.TransferLost: kind = Kind.Lost; break;
            case "RULE_OK": kind = Kind.RuleOk; break;
            default: return;
        }
        var t = e.CreatedAt.Ticks;
        if (_ticks.Count > 0 && t < _ticks[^1]) _sorted = false;
        _ticks.Add(t);
        _kinds.Add(kind);
        _bytes.Add(e.Bytes ?? 0);
        var link = -1;
        if (e.SrcRse is { } src && e.DstRse is { } dst)
        {
            if (!_linkIds.TryGetValue((src, dst), out link)) { link = _linkIds[(src, dst)] = _linkNames.Count; _linkNames.Add((src, dst)); }
        }
        _links.Add(link);
        var rule = -1;
        if (e.RuleId is { } r && !_ruleIds.TryGetValue(r, out rule)) rule = _ruleIds[r] = _ruleIds.Count;
        _rules.Add(rule);
    }

    /// <summary>Figures over [from, to): events created in the window; a rule's completion counts in the window of its first transfer request.</summary>
    public JsonObject Figures(DateTime from, DateTime to)
    {
        EnsureSorted();
        var (lo, hi) = (LowerBound(from.Ticks), LowerBound(to.Ticks));
        var c = new long[7];
        long bytesDone = 0;
        var links = new Dictionary<int, (long Sub, long Done, long Failed, long Bytes)>();
        var ruleFirst = new Dictionary<int, long>();
        for (var i = lo; i < hi; i++)
        {
            var k = _kinds[i];
            c[(int)k]++;
            if (k == Kind.Done) bytesDone += _bytes[i];
            if (_links[i] >= 0 && k is Kind.Submitted or Kind.Done or Kind.Failed)
            {
                var l = links.GetValueOrDefault(_links[i]);
                links[_links[i]] = k switch
                {
                    Kind.Submitted => l with { Sub = l.Sub + 1 },
                    Kind.Done => l with { Done = l.Done + 1, Bytes = l.Bytes + _bytes[i] },
                    _ => l with { Failed = l.Failed + 1 },
                };
            }
            if (k == Kind.Queued && _rules[i] >= 0) ruleFirst.TryAdd(_rules[i], _ticks[i]);
        }
        var durations = new List<double>();
        if (ruleFirst.Count > 0)
            for (var i = lo; i < _ticks.Count; i++)
                if (_kinds[i] == Kind.RuleOk && _rules[i] >= 0 && ruleFirst.Remove(_rules[i], out var first) && first <= _ticks[i])
                    durations.Add((_ticks[i] - first) / (double)TimeSpan.TicksPerSecond);
        var sorted = durations.Order().ToArray();
        var seconds = (to - from).TotalSeconds;
        var (done, failed, subFailed, submitted) = (c[(int)Kind.Done], c[(int)Kind.Failed], c[(int)Kind.SubmissionFailed], c[(int)Kind.Submitted]);
        return new JsonObject
        {
            ["transfers"] = new JsonObject
            {
                ["queued"] = c[(int)Kind.Queued], ["submitted"] = submitted, ["done"] = done, ["failed"] = failed,
                ["submission_failed"] = subFailed, ["lost"] = c[(int)Kind.Lost], ["bytes_done"] = bytesDone,
                ["efficiency"] = Ratio(done, done + failed + subFailed), ["done_over_submitted"] = Ratio(done, submitted),
            },
            ["throughput"] = new JsonObject
            {
                ["files_per_second"] = seconds > 0 ? Math.Round(done / seconds, 6) : null,
                ["bytes_per_second"] = seconds > 0 ? Math.Round(bytesDone / seconds, 3) : null,
            },
            ["transfer_matrix"] = new JsonObject
            {
                ["links"] = new JsonArray(links.OrderBy(kv => _linkNames[kv.Key].Src, StringComparer.Ordinal).ThenBy(kv => _linkNames[kv.Key].Dst, StringComparer.Ordinal)
                    .Select(kv => (JsonNode)new JsonObject
                    {
                        ["src"] = _linkNames[kv.Key].Src, ["dst"] = _linkNames[kv.Key].Dst,
                        ["submitted"] = kv.Value.Sub, ["done"] = kv.Value.Done, ["failed"] = kv.Value.Failed, ["bytes_done"] = kv.Value.Bytes,
                        ["done_over_submitted"] = Ratio(kv.Value.Done, kv.Value.Sub), ["efficiency"] = Ratio(kv.Value.Done, kv.Value.Done + kv.Value.Failed),
                    }).ToArray()),
            },
            ["rules"] = new JsonObject
            {
                ["rules_ok"] = c[(int)Kind.RuleOk],
                ["measured"] = sorted.Length,
                ["completion_seconds"] = sorted.Length == 0 ? null : new JsonObject
                {
                    ["min"] = sorted[0], ["p50"] = Percentile(sorted, 0.5), ["p90"] = Percentile(sorted, 0.9), ["p95"] = Percentile(sorted, 0.95),
                    ["p99"] = Percentile(sorted, 0.99), ["max"] = sorted[^1], ["mean"] = Math.Round(sorted.Average(), 3),
                },
            },
        };
    }

    private void EnsureSorted()
    {
        if (_sorted) return;
        var order = Enumerable.Range(0, _ticks.Count).OrderBy(i => _ticks[i]).ToArray();
        void Permute<T>(List<T> list) { var copy = order.Select(i => list[i]).ToList(); list.Clear(); list.AddRange(copy); }
        Permute(_ticks); Permute(_kinds); Permute(_links); Permute(_rules); Permute(_bytes);
        _sorted = true;
    }

    private int LowerBound(long ticks)
    {
        int lo = 0, hi = _ticks.Count;
        while (lo < hi) { var mid = (lo + hi) / 2; if (_ticks[mid] < ticks) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static double? Ratio(long n, long d) => d > 0 ? Math.Round((double)n / d, 6) : null;

    /// <summary>The report's percentile, rounded as the report rounds.</summary>
    private static double Percentile(double[] sorted, double p) => Math.Round(Percentiles.Linear(sorted, p), 3);
}
