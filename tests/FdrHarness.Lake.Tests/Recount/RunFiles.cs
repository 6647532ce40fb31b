using Parquet;
using Parquet.Schema;

namespace FdrHarness.Lake.Tests.Recount;

/// <summary>
/// A run directory's observation files read with Parquet.Net directly, column by column: a reader independent of
/// Core's ObservationReader and of the Reporting code path, so the invariants are recomputed by a second hand.
/// </summary>
internal sealed class RunFiles
{
    public required Table Events { get; init; }
    public required Table Samples { get; init; }
    public required Table Lifecycle { get; init; }
    public required Table Faults { get; init; }
    public required Table Injections { get; init; }

    public static RunFiles Read(string dir) => new()
    {
        Events = Table.Read(Path.Combine(dir, "events.parquet"), "event_type", "created_at", "src_rse", "dst_rse", "rse", "request_id",
            "previous_request_id", "rule_id", "bytes", "reason", "retry_count", "submitted_at", "started_at", "transferred_at"),
        Samples = Table.Read(Path.Combine(dir, "samples.parquet"), "time", "daemon", "pod", "state", "cpu_cores", "memory_bytes", "cpu_limit", "memory_limit", "restarts", "backlog"),
        Lifecycle = Table.Read(Path.Combine(dir, "lifecycle.parquet"), "time", "daemon", "pod", "event", "reason"),
        Faults = Table.Read(Path.Combine(dir, "faults.parquet"), "start", "end", "name", "kind", "target", "detail"),
        Injections = Table.Read(Path.Combine(dir, "injections.parquet"), "time", "scope", "name", "rse", "files", "bytes"),
    };

    /// <summary>Events of one type.</summary>
    public long Count(string eventType) => Events.Column<string?>("event_type").LongCount(t => t == eventType);

    public readonly record struct LifecycleRow(DateTime Time, string Daemon, string Pod, string Event, string? Reason);

    public IReadOnlyList<LifecycleRow> LifecycleRows()
    {
        var (t, d, p, e, r) = (Lifecycle.Column<DateTime>("time"), Lifecycle.Column<string?>("daemon"), Lifecycle.Column<string?>("pod"),
            Lifecycle.Column<string?>("event"), Lifecycle.Column<string?>("reason"));
        return Enumerable.Range(0, Lifecycle.Rows).Select(i => new LifecycleRow(t[i], d[i]!, p[i]!, e[i]!, r[i])).ToArray();
    }

    /// <summary>Named columns of one file, every row group concatenated.</summary>
    internal sealed class Table(Dictionary<string, Array> columns, int rows)
    {
        public int Rows { get; } = rows;

        public T[] Column<T>(string name) => (T[])columns[name];

        public static Table Read(string path, params string[] names)
        {
            var reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
            try
            {
                var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name, StringComparer.Ordinal);
                var parts = names.ToDictionary(n => n, _ => new List<Array>(), StringComparer.Ordinal);
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rowGroup = reader.OpenRowGroupReader(g);
                    var rows = (int)rowGroup.RowCount;
                    foreach (var n in names) parts[n].Add(ReadColumn(rowGroup, fields[n], rows));
                }
                var columns = new Dictionary<string, Array>(StringComparer.Ordinal);
                var total = 0;
                foreach (var n in names)
                {
                    var all = Array.CreateInstance(ElementType(fields[n]), parts[n].Sum(a => a.Length));
                    var at = 0;
                    foreach (var a in parts[n])
                    {
                        Array.Copy(a, 0, all, at, a.Length);
                        at += a.Length;
                    }
                    columns[n] = all;
                    total = all.Length;
                }
                return new Table(columns, total);
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }

        private static Array ReadColumn(ParquetRowGroupReader rowGroup, DataField f, int rows)
        {
            if (IsString(f))
            {
                var strings = new string?[rows];
                rowGroup.ReadAsync(f, strings.AsMemory()).AsTask().GetAwaiter().GetResult();
                return strings;
            }
            return (f.ClrType, f.IsNullable) switch
            {
                (var t, false) when t == typeof(DateTime) => Values<DateTime>(rowGroup, f, rows),
                (var t, true) when t == typeof(DateTime) => Nullables<DateTime>(rowGroup, f, rows),
                (var t, false) when t == typeof(double) => Values<double>(rowGroup, f, rows),
                (var t, true) when t == typeof(double) => Nullables<double>(rowGroup, f, rows),
                (var t, false) when t == typeof(long) => Values<long>(rowGroup, f, rows),
                (var t, true) when t == typeof(long) => Nullables<long>(rowGroup, f, rows),
                (var t, false) when t == typeof(int) => Values<int>(rowGroup, f, rows),
                (var t, true) when t == typeof(int) => Nullables<int>(rowGroup, f, rows),
                _ => throw new NotSupportedException($"column {f.Name}: {f.ClrType}"),
            };
        }

        private static T[] Values<T>(ParquetRowGroupReader rowGroup, DataField f, int rows) where T : struct
        {
            var a = new T[rows];
            rowGroup.ReadAsync(f, a.AsMemory()).AsTask().GetAwaiter().GetResult();
            return a;
        }

        private static T?[] Nullables<T>(ParquetRowGroupReader rowGroup, DataField f, int rows) where T : struct
        {
            var a = new T?[rows];
            rowGroup.ReadAsync(f, a.AsMemory()).AsTask().GetAwaiter().GetResult();
            return a;
        }

        private static bool IsString(DataField f) => f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>);

        private static Type ElementType(DataField f) =>
            IsString(f) ? typeof(string) : f.IsNullable ? typeof(Nullable<>).MakeGenericType(f.ClrType) : f.ClrType;
    }
}
