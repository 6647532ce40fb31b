using FdrHarness.Core.Observations;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// lifecycle.parquet, faults.parquet and injections.parquet decoded by <see cref="ColumnChunks"/>, only the columns the
/// report reads: the generic row reader JIT-compiled its column code (over DateTime, DateTime?, int, long and strings)
/// and its iterators over each record type on every report, for files of a few hundred rows. Each returns the file's
/// rows in file order, or null when some column is not as the sink writes it (then the row reader reads the file).
/// </summary>
internal static class RecordColumns
{
    /// <summary>Time, daemon, pod, event and reason of each pod lifecycle event (node and restarts stay default).</summary>
    public static PodLifecycleEvent[]? Lifecycle(string path)
    {
        using var file = Columns.Open(path, [("time", Kind.Time), ("daemon", Kind.String), ("pod", Kind.String), ("event", Kind.String), ("reason", Kind.String)]);
        if (file is null) return null;
        var rows = new PodLifecycleEvent[file.Rows];
        Symbols daemons = new(), pods = new(), events = new(), reasons = new();
        file.Decode((group, n, at) =>
        {
            var (time, daemon, pod, @event, reason) = (new long[n], new int[n], new int[n], new int[n], new int[n]);
            file.Numbers(group, 0, n, time);
            file.Strings(group, 1, n, daemons, daemon);
            file.Strings(group, 2, n, pods, pod);
            file.Strings(group, 3, n, events, @event);
            file.Strings(group, 4, n, reasons, reason);
            for (var i = 0; i < n; i++)
                rows[at + i] = new PodLifecycleEvent
                {
                    Time = Utc(time[i]), Daemon = daemons.Text(daemon[i])!, Pod = pods.Text(pod[i])!, Event = events.Text(@event[i])!,
                    Reason = reasons.Text(reason[i]),
                };
        });
        return rows;
    }

    /// <summary>Every column of each chaos action.</summary>
    public static FaultRecord[]? Faults(string path)
    {
        using var file = Columns.Open(path, [("start", Kind.Time), ("end", Kind.Time), ("name", Kind.String), ("kind", Kind.String),
            ("target", Kind.String), ("detail", Kind.String)]);
        if (file is null) return null;
        var rows = new FaultRecord[file.Rows];
        Symbols names = new(), kinds = new(), targets = new(), details = new();
        file.Decode((group, n, at) =>
        {
            var (start, end, noEnd) = (new long[n], new long[n], new bool[n]);
            var (name, kind, target, detail) = (new int[n], new int[n], new int[n], new int[n]);
            file.Numbers(group, 0, n, start);
            file.Numbers(group, 1, n, end, noEnd);
            file.Strings(group, 2, n, names, name);
            file.Strings(group, 3, n, kinds, kind);
            file.Strings(group, 4, n, targets, target);
            file.Strings(group, 5, n, details, detail);
            for (var i = 0; i < n; i++)
                rows[at + i] = new FaultRecord
                {
                    Start = Utc(start[i]), End = noEnd[i] ? null : Utc(end[i]), Name = names.Text(name[i])!, Kind = kinds.Text(kind[i])!,
                    Target = targets.Text(target[i])!, Detail = details.Text(detail[i]),
                };
        });
        return rows;
    }

    /// <summary>Time, scope, RSE, files and bytes of each row (the DID's name stays default: the report sums per scope and RSE).</summary>
    public static InjectionRecord[]? Injections(string path)
    {
        using var file = Columns.Open(path, [("time", Kind.Time), ("scope", Kind.String), ("rse", Kind.String), ("files", Kind.Int64), ("bytes", Kind.Int64)]);
        if (file is null) return null;
        var rows = new InjectionRecord[file.Rows];
        Symbols scopes = new(), rses = new();
        file.Decode((group, n, at) =>
        {
            var (time, scope, rse, files, bytes) = (new long[n], new int[n], new int[n], new long[n], new long[n]);
            file.Numbers(group, 0, n, time);
            file.Strings(group, 1, n, scopes, scope);
            file.Strings(group, 2, n, rses, rse);
            file.Numbers(group, 3, n, files);
            file.Numbers(group, 4, n, bytes);
            for (var i = 0; i < n; i++)
                rows[at + i] = new InjectionRecord
                {
                    Time = Utc(time[i]), Scope = scopes.Text(scope[i])!, Rse = rses.Text(rse[i])!, Files = files[i], Bytes = bytes[i],
                };
        });
        return rows;
    }

    private static DateTime Utc(long ticks) => new(ticks, DateTimeKind.Utc);

    /// <summary>How the sink writes a column: INT64 nanoseconds since 1970, a UTF-8 string, an INT64.</summary>
    private enum Kind { Time, String, Int64 }

    /// <summary>A file opened with the columns a decoder reads (by their index in <see cref="Open"/>'s list), and its rows.</summary>
    private sealed class Columns : IDisposable
    {
        private readonly ParquetInput _file;
        private readonly DataField[] _fields;
        private readonly bool[] _times;

        private Columns(ParquetInput file, DataField[] fields, bool[] times, int rows) => (_file, _fields, _times, Rows) = (file, fields, times, rows);

        public int Rows { get; }

        /// <summary>
        /// The file, or null when some column is not one <see cref="ColumnChunks"/> decodes or the file cannot be
        /// opened (a damaged file: the row reader says so as it does for every file).
        /// </summary>
        public static Columns? Open(string path, (string Name, Kind Kind)[] columns)
        {
            ParquetInput? file = null;
            try
            {
                file = new ParquetInput(path);
                var fields = new DataField[columns.Length];
                var times = new bool[columns.Length];
                var decodable = new (DataField, Parquet.Meta.Type)[columns.Length];
                for (var i = 0; i < columns.Length; i++)
                {
                    fields[i] = file.Field(columns[i].Name);
                    times[i] = columns[i].Kind == Kind.Time;
                    if (times[i] && !file.IsNanos(columns[i].Name)) return null;
                    decodable[i] = (fields[i], columns[i].Kind == Kind.String ? Parquet.Meta.Type.BYTE_ARRAY : Parquet.Meta.Type.INT64);
                }
                if (!file.Decodable(decodable)) return null;
                var rows = 0;
                for (var g = 0; g < file.Reader.RowGroupCount; g++)
                {
                    using var group = file.Reader.OpenRowGroupReader(g);
                    rows = checked(rows + ObservationReader.RowsOf(group, path));
                }
                var opened = new Columns(file, fields, times, rows);
                file = null;
                return opened;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return null;
            }
            finally
            {
                file?.Dispose();
            }
        }

        /// <summary>
        /// Each row group in file order, with its rows and the index of its first; what a damaged file makes the decoder
        /// throw is named as the row reader names it.
        /// </summary>
        public void Decode(Action<ParquetRowGroupReader, int, int> rowGroup)
        {
            foreach (var _ in ObservationReader.Guard(RowGroups(rowGroup), _file.Path)) { }
        }

        private IEnumerable<object?> RowGroups(Action<ParquetRowGroupReader, int, int> rowGroup)
        {
            for (int g = 0, at = 0; g < _file.Reader.RowGroupCount; g++)
            {
                using var group = _file.Reader.OpenRowGroupReader(g);
                var rows = ObservationReader.RowsOf(group, _file.Path);
                rowGroup(group, rows, at);
                at += rows;
                yield return null;
            }
        }

        /// <summary>An INT64 column, a time one as DateTime ticks.</summary>
        public void Numbers(ParquetRowGroupReader group, int column, int rows, long[] into, bool[]? nulls = null) =>
            _file.Numbers(group, _fields[column], rows, into, nulls, nanosToTicks: _times[column]);

        public void Strings(ParquetRowGroupReader group, int column, int rows, Symbols symbols, int[] ids) =>
            _file.Strings(group, _fields[column], rows, symbols, ids);

        public void Dispose() => _file.Dispose();
    }
}
