using FdrHarness.Core.Observations;
using System.Collections.Concurrent;
using System.Globalization;
using HdrHistogram;

namespace FdrHarness.Rucio.Load;

/// <summary>How one operation ended, as the load engine and the API statistics count it.</summary>
public enum OperationResult { Ok, Failed }

/// <summary>One row of the report's "API latency" table (NBomber's words: request count, ok, fail).</summary>
/// <param name="Failures">Failed calls whose status does not tell why, by reason (<see cref="CallFailure"/>).</param>
public sealed record OperationSummary(
    string Operation, long Count, long Ok, long Failed, long Retries, long Late, long Dropped,
    double P50Ms, double P95Ms, double P99Ms, double MaxMs, IReadOnlyDictionary<int, long> StatusCodes, IReadOnlyDictionary<string, long> Failures);

/// <summary>Why a call failed when its status code does not say it (api-latency.csv's failures column).</summary>
public static class CallFailure
{
    /// <summary>An answer with a success status whose body is not what Rucio sends (cut JSON, an HTML page, another shape).</summary>
    public const string Unreadable = "unreadable";
    /// <summary>No answer: connection refused or reset, or the attempt timed out.</summary>
    public const string NoAnswer = "no_answer";
    /// <summary>Stopped by the run (its end, Ctrl-C) before an answer came.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>Latency and outcome per operation name. Thread-safe; latencies in an HdrHistogram (µs, 3 digits).</summary>
public sealed class OperationStats
{
    private const long HighestMicros = 24L * 3600 * 1_000_000; // a day: anything longer is clamped, never thrown

    private sealed class Entry
    {
        public readonly Lock Gate = new();
        public readonly LongHistogram Histogram = new(HighestMicros, 3);
        public long Count, Ok, Failed, Retries, Late, Dropped;
        public readonly Dictionary<int, long> Status = [];
        public readonly Dictionary<string, long> Failures = new(StringComparer.Ordinal);
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private Entry Get(string op) => _entries.GetOrAdd(op, static _ => new Entry());

    /// <summary>
    /// Records one finished call: latency from its intended start, its result, the HTTP status (0 when none) and, for a
    /// failure the status does not explain, why (<see cref="CallFailure"/>).
    /// </summary>
    public void Record(string operation, TimeSpan latency, OperationResult result, int statusCode = 0, string? failure = null)
    {
        var e = Get(operation);
        var us = Math.Clamp((long)(latency.Ticks / 10), 0, HighestMicros);
        lock (e.Gate)
        {
            e.Count++;
            if (result == OperationResult.Ok) e.Ok++; else e.Failed++;
            e.Histogram.RecordValue(us);
            if (statusCode != 0) e.Status[statusCode] = e.Status.GetValueOrDefault(statusCode) + 1;
            if (result == OperationResult.Failed && failure is not null) e.Failures[failure] = e.Failures.GetValueOrDefault(failure) + 1;
        }
    }

    /// <summary>
    /// A call recorded as answered (its status arrived) whose body then could not be read: failed after all, for the
    /// reason <see cref="CallFailure.Unreadable"/> (its status stays in the status codes).
    /// </summary>
    public void Unreadable(string operation)
    {
        var e = Get(operation);
        lock (e.Gate)
        {
            if (e.Ok > 0) e.Ok--; else e.Count++; // never recorded as answered: count it now
            e.Failed++;
            e.Failures[CallFailure.Unreadable] = e.Failures.GetValueOrDefault(CallFailure.Unreadable) + 1;
        }
    }

    /// <summary>A retried attempt (its status still counts in the status codes).</summary>
    public void Retry(string operation, int statusCode)
    {
        var e = Get(operation);
        lock (e.Gate)
        {
            e.Retries++;
            if (statusCode != 0) e.Status[statusCode] = e.Status.GetValueOrDefault(statusCode) + 1;
        }
    }

    public void Late(string operation, long n = 1) { var e = Get(operation); lock (e.Gate) e.Late += n; }

    public void Dropped(string operation, long n = 1) { var e = Get(operation); lock (e.Gate) e.Dropped += n; }

    public OperationSummary? Summary(string operation) =>
        _entries.TryGetValue(operation, out var e) ? Summarize(operation, e) : null;

    public IReadOnlyList<OperationSummary> Summaries() =>
        [.. _entries.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Summarize(kv.Key, kv.Value))];

    private static OperationSummary Summarize(string op, Entry e)
    {
        lock (e.Gate)
        {
            double Ms(long us) => us / 1000.0;
            var any = e.Histogram.TotalCount > 0;
            return new OperationSummary(op, e.Count, e.Ok, e.Failed, e.Retries, e.Late, e.Dropped,
                any ? Ms(e.Histogram.GetValueAtPercentile(50)) : 0,
                any ? Ms(e.Histogram.GetValueAtPercentile(95)) : 0,
                any ? Ms(e.Histogram.GetValueAtPercentile(99)) : 0,
                any ? Ms(e.Histogram.GetMaxValue()) : 0,
                new SortedDictionary<int, long>(e.Status), new SortedDictionary<string, long>(e.Failures, StringComparer.Ordinal));
        }
    }

    /// <summary>The rows of api-latency.csv.</summary>
    public IEnumerable<ApiLatencyRow> Rows(string prefix = "") => Summaries().Select(s => new ApiLatencyRow(prefix + s.Operation, s.Count, s.Ok, s.Failed,
        s.Retries, s.Late, s.Dropped, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, string.Join(' ', s.StatusCodes.Select(kv => $"{kv.Key}:{kv.Value}")),
        string.Join(' ', s.Failures.Select(kv => $"{kv.Key}:{kv.Value}"))));
}
