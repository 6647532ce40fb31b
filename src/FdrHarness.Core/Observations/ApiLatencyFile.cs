using System.Globalization;
using System.Text;

namespace FdrHarness.Core.Observations;

/// <summary>One kind of call a live run made on its target: counts, latency from the intended start, status codes ("200:12 503:1").</summary>
public sealed record ApiLatencyRow(
    string Operation, long Count, long Ok, long Failed, long Retries, long Late, long Dropped,
    double P50Ms, double P95Ms, double P99Ms, double MaxMs, string StatusCodes);

/// <summary>
/// api-latency.csv of a run directory: written by the observation sink from the rows a live target hands it; the
/// embedded lake has no API and writes none.
/// Columns: operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes.
/// </summary>
public static class ApiLatencyFile
{
    public const string FileName = "api-latency.csv";
    private const string Header = "operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes";

    public static string ToCsv(IEnumerable<ApiLatencyRow> rows)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.Operation.Replace(',', ';')},{r.Count},{r.Ok},{r.Failed},{r.Retries},{r.Late},{r.Dropped},{r.P50Ms:0.###},{r.P95Ms:0.###},{r.P99Ms:0.###},{r.MaxMs:0.###},{r.StatusCodes}\n");
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
