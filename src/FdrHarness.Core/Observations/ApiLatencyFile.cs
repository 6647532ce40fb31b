using System.Globalization;
using System.Text;

namespace FdrHarness.Core.Observations;

/// <summary>
/// One kind of call a live run made on its target: counts, latency from the intended start, status codes ("200:12 503:1"),
/// and why the failed calls whose status does not say it failed ("unreadable:1 no_answer:3": a 200 whose body could not be
/// read, no answer at all, "cancelled" by the run's end).
/// </summary>
public sealed record ApiLatencyRow(
    string Operation, long Count, long Ok, long Failed, long Retries, long Late, long Dropped,
    double P50Ms, double P95Ms, double P99Ms, double MaxMs, string StatusCodes, string Failures = "");

/// <summary>
/// api-latency.csv of a run directory: written by the observation sink from the rows a live target hands it; the
/// embedded lake has no API and writes none.
/// Columns: operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes,failures (files of
/// runs before the failures column have 12 columns and are read with it empty).
/// </summary>
public static class ApiLatencyFile
{
    public const string FileName = "api-latency.csv";
    private const string Header = "operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes,failures";

    public static string ToCsv(IEnumerable<ApiLatencyRow> rows)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.Operation.Replace(',', ';')},{r.Count},{r.Ok},{r.Failed},{r.Retries},{r.Late},{r.Dropped},{r.P50Ms:0.###},{r.P95Ms:0.###},{r.P99Ms:0.###},{r.MaxMs:0.###},{r.StatusCodes},{r.Failures}\n");
        return sb.ToString();
    }

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
            if (f.Length is not (12 or 13)) throw new InvalidDataException($"{path}:{lineNumber}: expected 13 columns, found {f.Length}");
            long L(int i) => long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{path}:{lineNumber}: column {i + 1} '{f[i]}' is not a whole number");
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{path}:{lineNumber}: column {i + 1} '{f[i]}' is not a number");
            rows.Add(new ApiLatencyRow(f[0], L(1), L(2), L(3), L(4), L(5), L(6), D(7), D(8), D(9), D(10), f[11], f.Length > 12 ? f[12] : ""));
        }
        return rows;
    }
}
