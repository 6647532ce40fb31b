using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// One observation file opened for a column decoder: Parquet.Net's reader for the footer and row groups' metadata,
/// <see cref="ColumnChunks"/> for the pages. Shared by the decoders of every observation file.
/// </summary>
internal sealed class ParquetInput : IDisposable
{
    private readonly FileStream _stream;
    private readonly Dictionary<string, DataField> _fields;

    public ParquetReader Reader { get; }
    public ColumnChunks Chunks { get; }

    public ParquetInput(string path)
    {
        Path = path;
        _stream = File.OpenRead(path);
        ParquetReader? reader = null;
        try
        {
            Reader = reader = ParquetReader.CreateAsync(_stream).GetAwaiter().GetResult();
            Chunks = new ColumnChunks(path);
            _fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
        }
        catch
        {
            Chunks?.Dispose();
            reader?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _stream.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public DataField Field(string name) =>
        _fields.TryGetValue(name, out var f) ? f : throw new InvalidDataException($"{Path} has no column {name}");

    /// <summary>Whether <paramref name="column"/> holds INT64 nanoseconds since 1970 (as the sink writes times).</summary>
    public bool IsNanos(string column)
    {
        foreach (var e in Reader.Metadata?.Schema ?? [])
            if (e.Name == column) return e is { Type: Parquet.Meta.Type.INT64, LogicalType.TIMESTAMP.Unit.NANOS: not null };
        return false;
    }

    /// <summary>
    /// Whether every row group's chunk of each column is one <see cref="ColumnChunks"/> decodes (a string column's may
    /// be dictionary-encoded); otherwise the row reader reads the file.
    /// </summary>
    public bool Decodable(params ReadOnlySpan<(DataField Field, Parquet.Meta.Type Type)> columns)
    {
        for (var g = 0; g < Reader.RowGroupCount; g++)
        {
            using var group = Reader.OpenRowGroupReader(g);
            foreach (var (field, type) in columns)
                if (!ColumnChunks.Supported(group.GetMetadata(field), type, field.MaxDefinitionLevel, field.MaxRepetitionLevel, type == Parquet.Meta.Type.BYTE_ARRAY))
                    return false;
        }
        return true;
    }

    /// <summary>A string column of the row group as ids of <paramref name="symbols"/> (-1 = null).</summary>
    public void Strings(ParquetRowGroupReader group, DataField field, int rows, Symbols symbols, int[] ids) =>
        Chunks.Ids(group.GetMetadata(field)!, field.MaxDefinitionLevel, rows, symbols, ids);

    /// <summary>A number or time column of the row group as longs (see <see cref="ColumnChunks.Numbers"/>).</summary>
    public void Numbers(ParquetRowGroupReader group, DataField field, int rows, long[] into, bool[]? nulls = null, bool nanosToTicks = false) =>
        Chunks.Numbers(group.GetMetadata(field)!, field.MaxDefinitionLevel, rows, 0, nanosToTicks, into, nulls);

    public void Dispose()
    {
        try { Reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        finally
        {
            Chunks.Dispose();
            _stream.Dispose();
        }
    }
}
