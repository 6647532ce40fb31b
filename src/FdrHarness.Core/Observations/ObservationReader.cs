using Parquet;
using Parquet.Schema;

namespace FdrHarness.Core.Observations;

/// <summary>
/// Reads the observation files of a run directory back, one row group at a time: memory holds one row group of one
/// file, however long the run. What the report reads, whichever target wrote the files.
/// </summary>
public sealed class ObservationReader(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>
    /// Every event in file order. With <paramref name="columns"/> (file column names, e.g. "event_type", "src_rse") only
    /// those are read and the other fields stay default: much faster for a report that needs a few of them.
    /// </summary>
    public IEnumerable<HermesEvent> Events(IReadOnlyCollection<string>? columns = null) =>
        Rows(ParquetObservationSink.EventsFile, ObservationSchemas.Events, EventBatch.Rows, columns);
    public IEnumerable<PodSample> Samples(IReadOnlyCollection<string>? columns = null) =>
        Rows(ParquetObservationSink.SamplesFile, ObservationSchemas.Samples, SampleBatch.Rows, columns);
    public IEnumerable<PodLifecycleEvent> Lifecycle() => Rows(ParquetObservationSink.LifecycleFile, ObservationSchemas.Lifecycle, LifecycleBatch.Rows, null);
    public IEnumerable<FaultRecord> Faults() => Rows(ParquetObservationSink.FaultsFile, ObservationSchemas.Faults, FaultBatch.Rows, null);
    public IEnumerable<InjectionRecord> Injections() => Rows(ParquetObservationSink.InjectionsFile, ObservationSchemas.Injections, InjectionBatch.Rows, null);

    /// <summary>Whether the run recorded its injections (runs written before injections.parquet existed did not).</summary>
    public bool HasInjections => File.Exists(Path.Combine(Directory, ParquetObservationSink.InjectionsFile));

    /// <summary>Events as one array per row group, for consumers that process blocks.</summary>
    public IEnumerable<HermesEvent[]> EventBatches(IReadOnlyCollection<string>? columns = null) =>
        Batches(ParquetObservationSink.EventsFile, ObservationSchemas.Events, EventBatch.Rows, columns);
    public IEnumerable<PodSample[]> SampleBatches(IReadOnlyCollection<string>? columns = null) =>
        Batches(ParquetObservationSink.SamplesFile, ObservationSchemas.Samples, SampleBatch.Rows, columns);

    /// <summary>Row groups in a file (0 for a file with no rows).</summary>
    public int RowGroupCount(string fileName) => Guard(Lazily(() => RowGroupCountUnguarded(fileName)), Path.Combine(Directory, fileName)).Single();

    private static IEnumerable<T> Lazily<T>(Func<T> value)
    {
        yield return value();
    }

    private int RowGroupCountUnguarded(string fileName)
    {
        var reader = Open(fileName);
        try
        {
            return reader.RowGroupCount;
        }
        finally
        {
            Close(reader);
        }
    }

    private IEnumerable<T> Rows<T>(string file, Func<ObservationColumn[]> schema, Func<Array[], int, T[]> rows, IReadOnlyCollection<string>? only)
    {
        foreach (var batch in Batches(file, schema, rows, only))
            foreach (var row in batch)
                yield return row;
    }

    private IEnumerable<T[]> Batches<T>(string file, Func<ObservationColumn[]> schema, Func<Array[], int, T[]> rows, IReadOnlyCollection<string>? only)
    {
        var columns = schema();
        // A column the caller names wrongly is its bug, told at once; what the file holds is guarded.
        if (only?.FirstOrDefault(n => !columns.Any(c => c.Field.Name == n)) is { } unknown)
            throw new ArgumentException($"{file} has no column {unknown}; its columns: {string.Join(", ", columns.Select(c => c.Field.Name))}", nameof(only));
        return Guard(Unguarded(file, columns, rows, only), Path.Combine(Directory, file));
    }

    private IEnumerable<T[]> Unguarded<T>(string file, ObservationColumn[] columns, Func<Array[], int, T[]> rows, IReadOnlyCollection<string>? only)
    {
        var wanted = columns.Select(c => only is null || only.Contains(c.Field.Name)).ToArray();
        var reader = Open(file);
        try
        {
            foreach (var batch in Batches(reader, file, columns, wanted, rows))
                yield return batch;
        }
        finally
        {
            Close(reader);
        }
    }

    private static void Close(ParquetReader reader) => reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private IEnumerable<T[]> Batches<T>(ParquetReader reader, string file, ObservationColumn[] columns, bool[] wanted, Func<Array[], int, T[]> rows)
    {
        var fields = reader.Schema.GetDataFields();
        // Match by name and type so a file with an unexpected schema fails with its column named, not later with garbage.
        var bound = new DataField[columns.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            var expected = columns[c].Field;
            var actual = fields.FirstOrDefault(f => f.Name == expected.Name)
                ?? throw new InvalidDataException($"{Path.Combine(Directory, file)} has no column {expected.Name}");
            if (actual.ClrType != expected.ClrType || actual.IsNullable != expected.IsNullable)
                throw new InvalidDataException(
                    $"{Path.Combine(Directory, file)}: column {expected.Name} is {Describe(actual)}, expected {Describe(expected)}");
            bound[c] = actual;
        }
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var count = RowsOf(group, Path.Combine(Directory, file));
            var arrays = new Array[columns.Length];
            for (var c = 0; c < columns.Length; c++)
                arrays[c] = wanted[c] ? ReadColumn(columns[c], bound[c], group, count) : columns[c].Unread(count);
            yield return rows(arrays, count);
        }
    }

    /// <summary>fdr writes row groups of 32 Ki rows; a count far above that is a damaged footer, refused before its buffers are allocated.</summary>
    public const long MaxRowGroupRows = 4 * 1024 * 1024;

    /// <summary>The rows of a row group, checked against <see cref="MaxRowGroupRows"/>.</summary>
    public static int RowsOf(ParquetRowGroupReader group, string path) =>
        group.RowCount is >= 0 and <= MaxRowGroupRows
            ? (int)group.RowCount
            : throw new InvalidDataException($"{path} is damaged: a row group claims {group.RowCount:N0} rows (fdr writes at most {MaxRowGroupRows:N0})");

    /// <summary>
    /// <paramref name="source"/> with whatever a damaged or foreign file makes the Parquet decoder throw (truncated pages,
    /// flipped bits, garbage lengths: the exception types vary) turned into one <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static IEnumerable<T> Guard<T>(IEnumerable<T> source, string path)
    {
        using var e = source.GetEnumerator();
        while (true)
        {
            T current;
            try
            {
                if (!e.MoveNext()) yield break;
                current = e.Current;
            }
            catch (Exception x) when (x is not (OperationCanceledException or InvalidDataException or FileNotFoundException))
            {
                throw new InvalidDataException($"{path} is damaged or is not an observation file fdr wrote ({x.GetType().Name}: {x.Message.ReplaceLineEndings(" ")})", x);
            }
            yield return current;
        }
    }

    private static string Describe(DataField f) => $"{f.ClrType.Name}{(f.IsNullable ? "?" : "")}";

    // The column reads the field of this file (same name and type as its own).
    private static Array ReadColumn(ObservationColumn column, DataField field, ParquetRowGroupReader group, int count) =>
        column.ReadAsync(group, count, field).AsTask().GetAwaiter().GetResult();

    private ParquetReader Open(string file)
    {
        var path = Path.Combine(Directory, file);
        if (!File.Exists(path))
        {
            var hint = File.Exists(path + ParquetObservationSink.TempSuffix)
                ? $" (only {file}{ParquetObservationSink.TempSuffix} exists: the run that wrote it died before finishing it)"
                : "";
            throw new FileNotFoundException($"{path} not found{hint}", path);
        }
        return ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
    }
}
