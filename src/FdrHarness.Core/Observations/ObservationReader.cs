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

    public IEnumerable<HermesEvent> Events() => Rows(ParquetObservationSink.EventsFile, ObservationSchemas.Events, EventBatch.Rows);
    public IEnumerable<PodSample> Samples() => Rows(ParquetObservationSink.SamplesFile, ObservationSchemas.Samples, SampleBatch.Rows);
    public IEnumerable<PodLifecycleEvent> Lifecycle() => Rows(ParquetObservationSink.LifecycleFile, ObservationSchemas.Lifecycle, LifecycleBatch.Rows);
    public IEnumerable<FaultRecord> Faults() => Rows(ParquetObservationSink.FaultsFile, ObservationSchemas.Faults, FaultBatch.Rows);

    /// <summary>Events as one array per row group, for consumers that process blocks.</summary>
    public IEnumerable<HermesEvent[]> EventBatches() => Batches(ParquetObservationSink.EventsFile, ObservationSchemas.Events, EventBatch.Rows);
    public IEnumerable<PodSample[]> SampleBatches() => Batches(ParquetObservationSink.SamplesFile, ObservationSchemas.Samples, SampleBatch.Rows);

    /// <summary>Row groups in a file (0 for a file with no rows).</summary>
    public int RowGroupCount(string fileName)
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

    private IEnumerable<T> Rows<T>(string file, Func<ObservationColumn[]> schema, Func<Array[], int, T[]> rows)
    {
        foreach (var batch in Batches(file, schema, rows))
            foreach (var row in batch)
                yield return row;
    }

    private IEnumerable<T[]> Batches<T>(string file, Func<ObservationColumn[]> schema, Func<Array[], int, T[]> rows)
    {
        var columns = schema();
        var reader = Open(file);
        try
        {
            foreach (var batch in Batches(reader, file, columns, rows))
                yield return batch;
        }
        finally
        {
            Close(reader);
        }
    }

    private static void Close(ParquetReader reader) => reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private IEnumerable<T[]> Batches<T>(ParquetReader reader, string file, ObservationColumn[] columns, Func<Array[], int, T[]> rows)
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
            var count = checked((int)group.RowCount);
            var arrays = new Array[columns.Length];
            for (var c = 0; c < columns.Length; c++)
                arrays[c] = ReadColumn(columns[c], bound[c], group, count);
            yield return rows(arrays, count);
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
