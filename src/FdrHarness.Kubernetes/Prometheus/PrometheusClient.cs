using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FdrHarness.Kubernetes.Prometheus;

/// <summary>One value of a series at one instant.</summary>
public readonly record struct PromPoint(DateTime Time, double Value);

/// <summary>A series of a query result: its labels (metric name under "__name__" when kept) and its points,
/// one for an instant query (vector), several for a range query (matrix).</summary>
public sealed record PromSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<PromPoint> Points)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : "";
}

/// <summary>Prometheus refused a query or could not be understood: errorType and error from its body when it sent them.</summary>
public sealed class PrometheusException(string errorType, string message, HttpStatusCode? status)
    : Exception($"Prometheus: {errorType}: {message}")
{
    /// <summary>Prometheus' errorType (bad_data, timeout, execution, ...), or "http" / "invalid_response" when the body had none.</summary>
    public string ErrorType { get; } = errorType;
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The two calls of Prometheus' HTTP API the harness needs: /api/v1/query (instant) and /api/v1/query_range.
/// Queries go as POST forms so long PromQL never meets a URL length limit. Scalar results come back as one
/// series without labels; string results are refused (no sampler asks for one).
/// </summary>
public sealed class PrometheusClient(HttpClient http)
{
    /// <summary>For a base address such as http://prometheus:9090 (a path prefix, e.g. behind a proxy, is kept).</summary>
    public PrometheusClient(Uri baseAddress) : this(new HttpClient { BaseAddress = EndWithSlash(baseAddress), Timeout = TimeSpan.FromSeconds(30) })
    {
    }

    public Task<IReadOnlyList<PromSeries>> QueryAsync(string promql, DateTime? at = null, CancellationToken cancel = default)
    {
        var form = new List<KeyValuePair<string, string>> { new("query", promql) };
        if (at is { } t) form.Add(new("time", Unix(t)));
        return PostAsync("api/v1/query", form, cancel);
    }

    public Task<IReadOnlyList<PromSeries>> QueryRangeAsync(string promql, DateTime start, DateTime end, TimeSpan step, CancellationToken cancel = default)
    {
        if (step <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(step), "the step must be positive");
        return PostAsync("api/v1/query_range", [
            new("query", promql), new("start", Unix(start)), new("end", Unix(end)),
            new("step", step.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)),
        ], cancel);
    }

    private async Task<IReadOnlyList<PromSeries>> PostAsync(string path, List<KeyValuePair<string, string>> form, CancellationToken cancel)
    {
        using var response = await http.PostAsync(path, new FormUrlEncodedContent(form), cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        return Parse(body, response.StatusCode);
    }

    /// <summary>Parses a response body of either endpoint; errors become <see cref="PrometheusException"/>.</summary>
    internal static IReadOnlyList<PromSeries> Parse(string body, HttpStatusCode status)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            // A proxy's HTML page or an empty body: say what came, briefly.
            var kind = (int)status is >= 200 and < 300 ? "invalid_response" : "http";
            throw new PrometheusException(kind, $"HTTP {(int)status}, not a Prometheus answer: {Snippet(body)}", status);
        }
        using (doc)
        {
            var root = doc.RootElement;
            var state = root.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (state != "success")
            {
                var errorType = root.TryGetProperty("errorType", out var et) ? et.GetString() ?? "error" : "error";
                var error = root.TryGetProperty("error", out var e) ? e.GetString() ?? "" : $"HTTP {(int)status}: {Snippet(body)}";
                throw new PrometheusException(errorType, error, status);
            }
            var data = root.GetProperty("data");
            var resultType = data.GetProperty("resultType").GetString();
            var result = data.GetProperty("result");
            return resultType switch
            {
                "vector" => [.. result.EnumerateArray().Select(r => new PromSeries(Labels(r), [Point(r.GetProperty("value"))]))],
                "matrix" => [.. result.EnumerateArray().Select(r => new PromSeries(Labels(r), [.. r.GetProperty("values").EnumerateArray().Select(Point)]))],
                "scalar" => [new PromSeries(new Dictionary<string, string>(), [Point(result)])],
                _ => throw new PrometheusException("invalid_response", $"result type '{resultType}' is not a vector, matrix or scalar", status),
            };
        }
    }

    private static Dictionary<string, string> Labels(JsonElement series)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (series.TryGetProperty("metric", out var metric))
            foreach (var p in metric.EnumerateObject())
                labels[p.Name] = p.Value.GetString() ?? "";
        return labels;
    }

    /// <summary>[unix seconds, "value"]: the value is a string so NaN and ±Inf survive JSON.</summary>
    private static PromPoint Point(JsonElement pair)
    {
        var seconds = pair[0].GetDouble();
        var text = pair[1].GetString() ?? "NaN";
        var value = text switch
        {
            "+Inf" or "Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new PromPoint(DateTime.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)), value);
    }

    internal static string Unix(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return ((utc - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond).ToString("0.###", CultureInfo.InvariantCulture);
    }

    private static string Snippet(string body)
    {
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? "(empty body)" : line.Length > 200 ? line[..200] + "…" : line;
    }

    private static Uri EndWithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
