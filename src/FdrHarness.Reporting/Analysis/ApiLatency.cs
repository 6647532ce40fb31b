using System.Globalization;

namespace FdrHarness.Reporting.Analysis;

/// <summary>One operation of a live run against Rucio: counts, latency from the intended start, status codes.</summary>
public sealed record ApiLatencyRow(
    string Operation, long Count, long Ok, long Failed, long Retries, long Late, long Dropped,
    double P50Ms, double P95Ms, double P99Ms, double MaxMs, string StatusCodes);

/// <summary>
/// The live target writes api-latency.csv into the run directory; the embedded lake has no API and writes none.
/// Columns: operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes ("200:12 503:1").
/// </summary>
public static class ApiLatency
{
    public const string FileName = "api-latency.csv";

    public static IReadOnlyList<ApiLatencyRow> Read(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return [];
        var rows = new List<ApiLatencyRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (lineNumber++ == 0 || line.Length == 0) continue; // header
            var f = line.Split(',');
            if (f.Length != 12) throw new InvalidDataException($"{path}:{lineNumber}: expected 12 columns, found {f.Length}");
            long L(int i) => long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{path}:{lineNumber}: column {i + 1} '{f[i]}' is not a whole number");
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{path}:{lineNumber}: column {i + 1} '{f[i]}' is not a number");
            rows.Add(new ApiLatencyRow(f[0], L(1), L(2), L(3), L(4), L(5), L(6), D(7), D(8), D(9), D(10), f[11]));
        }
        return rows;
    }
}
