using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// One observation file opened for a column decoder: Parquet.Net's reader for the footer and row groups' metadata,
/// <see cref="ColumnChunks"/> for the pages. Shared by the decoders of events.parquet and samples.parquet.
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
