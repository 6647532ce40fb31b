using System.Globalization;
using System.Text;
using FdrHarness.Core.Observations;

namespace FdrHarness.Decisions.Calibration;

/// <summary>
/// One call kind's latency on the server, fitted to a live run's api-latency.csv row: a lognormal (service latencies are
/// right-skewed and positive) with <see cref="MedianMs"/> the row's p50 and <see cref="Sigma"/> from its p95
/// (ln(p95/p50) / 1.645). <see cref="MedianHalfWidthMs"/>: the 95 % half-width of the median from the sample median's
/// asymptotic variance, (π/2)·σ²/n on the log scale, plus 0.1 % for the histogram's resolution. <see cref="Error"/>: the fit's error on the run, the relative gap
/// between the row's p99 and the lognormal's. <see cref="MeanMs"/> = median·exp(σ²/2), what a single service time
/// would have to be. Null values with <see cref="Note"/> when the row cannot tell (too few answered calls).
/// </summary>
public sealed record CallLatencyFit(string Operation, long Calls, double? MedianMs, double MedianHalfWidthMs, double? Sigma, double? MeanMs, double? Error, string? Note);

/// <summary>
/// The server's latency per call kind, from api-latency.csv (live runs only: the embedded lake has no API and writes
/// none). The lake's rucio-server has no latency per call kind: a call costs its <c>cost_per_item</c> CPU (and
/// <c>wait_per_item</c>) whatever its kind, after the queue. So these fits are reported in the calibration file (under
/// <c>calibration.server_latency</c>, not a scenario key) and not applied to the lake.
/// </summary>
public static class ServerCalibration
{
    /// <summary>Answered calls a kind needs before its latency is told.</summary>
    public const int MinCalls = 20;

    private const double HistogramResolution = 0.001;
    private const double Z95 = 1.6448536269514722; // the standard normal's 95th percentile
    private const double Z99 = 2.3263478740408408;

    /// <summary>The fits of a run directory's api-latency.csv; empty when the run has none.</summary>
    public static IReadOnlyList<CallLatencyFit> Fit(string runDir) => Fit(ApiLatencyFile.Read(runDir));

    public static IReadOnlyList<CallLatencyFit> Fit(IReadOnlyList<ApiLatencyRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return [.. rows.OrderBy(r => r.Operation, StringComparer.Ordinal).Select(FitOne)];
    }

    private static CallLatencyFit FitOne(ApiLatencyRow r)
    {
        // The histogram holds every finished call, answered or not; a kind with too few is not told.
        if (r.Count < MinCalls || r.P50Ms <= 0)
            return new CallLatencyFit(r.Operation, r.Count, null, 0, null, null, null, $"{r.Count} calls: too few to tell (at least {MinCalls})");
        var median = r.P50Ms;
        var sigma = r.P95Ms > median ? Math.Log(r.P95Ms / median) / Z95 : 0;
        // The live target's histogram keeps 3 significant digits (HdrHistogram): its percentiles are off by up to 0.1 %
        // one way, a bias added to the sampling half-width, not in quadrature.
        var half = median * (Math.Exp(1.96 * sigma * Math.Sqrt(Math.PI / 2 / r.Count)) - 1 + HistogramResolution);
        var p99 = median * Math.Exp(Z99 * sigma);
        var error = r.P99Ms > 0 ? Math.Abs(p99 - r.P99Ms) / r.P99Ms : 0;
        return new CallLatencyFit(r.Operation, r.Count, median, half, sigma, median * Math.Exp(sigma * sigma / 2), error, null);
    }

    /// <summary>The <c>server_latency</c> mapping of the calibration file's <c>calibration:</c> section (empty text without fits).</summary>
    public static string Yaml(IReadOnlyList<CallLatencyFit> fits)
    {
        ArgumentNullException.ThrowIfNull(fits);
        if (fits.Count == 0) return "";
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("  # The server's latency per call kind (api-latency.csv): a lognormal per kind, median ± 95 % half-width (ms), sigma of\n");
        sb.Append("  # ln(latency), the fit's error on the run's p99. Reported only: the lake's rucio-server has one cost per call, whatever its kind.\n");
        sb.Append("  server_latency:\n");
        foreach (var f in fits)
            sb.Append(f.MedianMs is { } m
                ? string.Create(c, $"    {Json(f.Operation)}: {{calls: {f.Calls}, median_ms: {m:0.###}, median_half_width_ms: {f.MedianHalfWidthMs:0.###}, sigma: {f.Sigma:0.####}, mean_ms: {f.MeanMs:0.###}, p99_error: {f.Error:0.####}}}\n")
                : string.Create(c, $"    {Json(f.Operation)}: {{calls: {f.Calls}}}  # {f.Note}\n"));
        return sb.ToString();
    }

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
