using System.Globalization;
using System.Text.RegularExpressions;

namespace FdrHarness.Decisions.Calibration;

/// <summary>A measured figure as the seed's tables write it: one value ("300 MiB", "0.05") or a range ("0.2-0.7", "1-2 GiB"); Typical is the range's middle.</summary>
public sealed record Measured(double Low, double High, string Text)
{
    public double Typical => (Low + High) / 2;
}

/// <summary>One service's measured usage during the run: typical CPU (cores) and memory (bytes), from the seed's daemons table.</summary>
public sealed record MeasuredDaemon(string Daemon, string Service, Measured? Cpu, Measured? Memory, int Line);

/// <summary>A table of measured usage (the seed's daemons-during-fdr.csv) and, optionally, its transfer matrix (done / submitted in percent per link).</summary>
public sealed partial class ReferenceTable
{
    public IReadOnlyList<MeasuredDaemon> Daemons { get; }
    public IReadOnlyDictionary<(string Source, string Destination), double> Matrix { get; }
    public string Path { get; }

    private ReferenceTable(string path, IReadOnlyList<MeasuredDaemon> daemons, IReadOnlyDictionary<(string, string), double> matrix) =>
        (Path, Daemons, Matrix) = (path, daemons, matrix);

    /// <summary>The seed's service names in the harness's words; a service measured before and after its limits were set counts after.</summary>
    private static string Daemon(string service)
    {
        var name = ServiceSuffix().Replace(service, "").Trim();
        return name switch
        {
            "ui" => "rucio-ui",
            "server" => "rucio-server",
            "server-auth" => "rucio-server-auth",
            "reaper2" => "reaper",
            _ => name,
        };
    }

    /// <summary>Reads <paramref name="path"/> (columns service, usage_cpu, usage_memory; '#' lines are comments) and the matrix at <paramref name="matrixPath"/> when given.</summary>
    /// <exception cref="CalibrationInputException">A file that is not such a table: the message says file:line and what.</exception>
    public static ReferenceTable Read(string path, string? matrixPath)
    {
        var lines = Lines(path);
        var header = lines.FirstOrDefault();
        if (header.Text is null) throw new CalibrationInputException($"{path}: no header line (expected service,...,usage_cpu,...,usage_memory,...)");
        var columns = header.Text.Split(',');
        int Column(string name) => Array.IndexOf(columns, name) is var i and >= 0 ? i
            : throw new CalibrationInputException($"{path}:{header.Line}: no '{name}' column (the header has {string.Join(", ", columns)})");
        var (service, cpu, memory) = (Column("service"), Column("usage_cpu"), Column("usage_memory"));
        var daemons = new Dictionary<string, MeasuredDaemon>(StringComparer.Ordinal);
        foreach (var (number, text) in lines.Skip(1))
        {
            var cells = text.Split(',');
            if (cells.Length < columns.Length) throw new CalibrationInputException($"{path}:{number}: {cells.Length} cells where the header has {columns.Length}");
            var name = Daemon(cells[service]);
            var row = new MeasuredDaemon(name, cells[service], Parse(cells[cpu], false, path, number), Parse(cells[memory], true, path, number), number);
            // "(after limits)" rows win over "(before limits)": the steady state is what a model is fitted to.
            if (!daemons.ContainsKey(name) || cells[service].Contains("after", StringComparison.Ordinal)) daemons[name] = row;
        }
        var matrix = new Dictionary<(string, string), double>();
        if (matrixPath is not null)
        {
            var m = Lines(matrixPath);
            if (m.Count == 0) throw new CalibrationInputException($"{matrixPath}: no header line (expected src,RSE,RSE,...)");
            var destinations = m[0].Text.Split(',');
            foreach (var (number, text) in m.Skip(1))
            {
                var cells = text.Split(',');
                for (var j = 1; j < Math.Min(cells.Length, destinations.Length); j++)
                {
                    if (cells[j].Length == 0) continue;
                    if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent < 0)
                        throw new CalibrationInputException($"{matrixPath}:{number}: '{cells[j]}' is not a percentage");
                    matrix[(cells[0], destinations[j])] = percent;
                }
            }
        }
        return new ReferenceTable(path, [.. daemons.Values.OrderBy(d => d.Daemon, StringComparer.Ordinal)], matrix);
    }

    private static List<(int Line, string Text)> Lines(string path)
    {
        string[] all;
        try
        {
            all = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CalibrationInputException($"{path}: {e.Message}");
        }
        return [.. all.Select((t, i) => (i + 1, t.Trim())).Where(l => l.Item2.Length > 0 && !l.Item2.StartsWith('#'))];
    }

    /// <summary>"0.2-0.7", "2-4", "300 MiB", "1-2 GiB", "&gt;2.5 GiB cache"; empty is not measured.</summary>
    private static Measured? Parse(string text, bool memory, string path, int line)
    {
        if (text.Trim().Length == 0) return null;
        var m = Figure().Match(text.Trim());
        if (!m.Success) throw new CalibrationInputException($"{path}:{line}: '{text}' is not a measured {(memory ? "memory (e.g. 300 MiB or 1-2 GiB)" : "CPU (cores, e.g. 0.05 or 0.2-0.7)")}");
        var low = double.Parse(m.Groups["low"].Value, CultureInfo.InvariantCulture);
        var high = m.Groups["high"].Success ? double.Parse(m.Groups["high"].Value, CultureInfo.InvariantCulture) : low;
        var unit = m.Groups["unit"].Value switch { "GiB" => 1024.0 * 1024 * 1024, "MiB" => 1024.0 * 1024, "KiB" => 1024.0, _ => 1.0 };
        if (memory && unit == 1) throw new CalibrationInputException($"{path}:{line}: '{text}' has no unit (MiB or GiB)");
        return new Measured(low * unit, high * unit, text.Trim());
    }

    [GeneratedRegex(@"\s*\((before|after) limits\)")]
    private static partial Regex ServiceSuffix();

    [GeneratedRegex(@"^>?\s*(?<low>\d+(\.\d+)?)\s*(-\s*(?<high>\d+(\.\d+)?))?\s*(?<unit>KiB|MiB|GiB)?")]
    private static partial Regex Figure();
}
