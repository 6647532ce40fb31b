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
            Reader = reader = OpenReader(_stream);
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
    public bool Decodable(params (DataField Field, Parquet.Meta.Type Type)[] columns)
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

    /// <summary>Parquet.Net's reader of <paramref name="file"/>, its reads done on this thread (<see cref="SynchronousReads"/>).</summary>
    public static ParquetReader OpenReader(FileStream file) => ParquetReader.CreateAsync(new SynchronousReads(file)).GetAwaiter().GetResult();

    public void Dispose()
    {
        try { Reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        finally
        {
            Chunks.Dispose();
            _stream.Dispose();
        }
    }

    /// <summary>
    /// A file whose asynchronous reads are done synchronously, for Parquet.Net's reader: a FileStream opened for
    /// synchronous I/O runs each ReadAsync on the thread pool (on Unix), so each of the reader's reads of the footer (and
    /// of a column Parquet.Net decodes) was a hop to a pool thread, which then spun waiting for more, while the caller
    /// blocked on the result anyway. Does not own the file.
    /// </summary>
    private sealed class SynchronousReads(FileStream file) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => file.Length;

        public override long Position
        {
            get => file.Position;
            set => file.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => file.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => file.Read(buffer);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(file.Read(buffer, offset, count));
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(file.Read(buffer.Span));
        }

        public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
