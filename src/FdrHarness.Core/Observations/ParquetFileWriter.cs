using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace FdrHarness.Core.Observations;

/// <summary>The Parquet physical and logical type of an observation column.</summary>
internal enum ParquetKind { String, Int32, Int64, Double, Timestamp }

/// <summary>
/// Writes an observation file as Parquet: flat columns (required or optional, never repeated), one data page (v1) per
/// column chunk, PLAIN values or a PLAIN dictionary with bit-packed indexes, bit-packed definition levels, pages
/// compressed with zstd (level 1; hex ids at -3), Snappy or not at all, the footer in Thrift's compact protocol. Parquet.Net, which
/// reads every file back, wrote them before: per string value it allocated a length array and made two stream writes,
/// per page a new compressor, a compressed array and a copy (sink bench: 2.3-2.4 against 1.5-1.8 CPU-s per 3 M events,
/// GC paused 0.34 against 0.04 s; the main job allocated 1,120 MiB against 580). Not thread-safe.
/// </summary>
internal sealed class ParquetFileWriter : IDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Stream _stream;
    private readonly (string Name, ParquetKind Kind, bool Optional)[] _columns;
    private readonly ObservationCompression _compression;
    private readonly ZstdSharp.Compressor? _zstd;
    private ZstdSharp.Compressor? _zstdDigits;
    private readonly List<RowGroup> _rowGroups = [];
    private readonly Thrift _header = new(), _footer = new();
    private byte[] _page = new byte[1 << 16], _packed = [];
    private int _length;
    private long _position;
    private RowGroup? _current;
    private bool _disposed;

    public ParquetFileWriter(Stream stream, (string Name, ParquetKind Kind, bool Optional)[] columns, ObservationCompression compression)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Parquet values are little-endian; this writer copies them as they are in memory");
        (_stream, _columns, _compression) = (stream, columns, compression);
        if (compression == ObservationCompression.Zstd) _zstd = new ZstdSharp.Compressor(1);
        Append(Magic);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _zstd?.Dispose();
        _zstdDigits?.Dispose();
    }

    public void BeginRowGroup(int rows)
    {
        if (_current is not null) throw new InvalidOperationException("the row group before is not finished");
        _current = new RowGroup(rows);
    }

    public void EndRowGroup()
    {
        var rg = _current ?? throw new InvalidOperationException("no row group begun");
        if (rg.Chunks.Count != _columns.Length) throw new InvalidOperationException($"{rg.Chunks.Count} of {_columns.Length} columns written");
        _rowGroups.Add(rg);
        _current = null;
    }

    /// <summary>A required column of fixed-size values (int, long, double).</summary>
    public void Required<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        Start(values.Length, optional: false);
        Put(MemoryMarshal.AsBytes(values));
        EndChunk(values.Length, dictionary: null);
    }

    /// <summary>An optional column of fixed-size values: <paramref name="values"/> holds the non-null ones in row order.</summary>
    public void Optional<T>(ReadOnlySpan<int> levels, ReadOnlySpan<T> values) where T : unmanaged
    {
        Start(levels.Length, optional: true);
        Levels(levels);
        Put(MemoryMarshal.AsBytes(values));
        EndChunk(levels.Length, dictionary: null);
    }

    /// <summary>A timestamp column (UTC nanoseconds since 1970; a local time converted, an unspecified one taken as UTC).</summary>
    public void Times(ReadOnlySpan<int> levels, ReadOnlySpan<DateTime> values, bool optional)
    {
        Start(optional ? levels.Length : values.Length, optional);
        if (optional) Levels(levels);
        var bytes = Room(values.Length * 8);
        for (var i = 0; i < values.Length; i++)
        {
            var t = values[i];
            if (t.Kind == DateTimeKind.Local) t = t.ToUniversalTime();
            BinaryPrimitives.WriteInt64LittleEndian(bytes[(i * 8)..], (t.Ticks - DateTime.UnixEpoch.Ticks) * TimeSpan.NanosecondsPerTick);
        }
        _length += values.Length * 8;
        EndChunk(optional ? levels.Length : values.Length, dictionary: null);
    }

    /// <summary>An optional string column given PLAIN-encoded already (each value a 4-byte length then its UTF-8 bytes).</summary>
    public void Plain(ReadOnlySpan<int> levels, ReadOnlySpan<byte> values, bool hexDigits = false)
    {
        Start(levels.Length, optional: true);
        Levels(levels);
        Put(values);
        EndChunk(levels.Length, dictionary: null, hexDigits);
    }

    /// <summary>An optional string column, PLAIN.</summary>
    public void Strings(ReadOnlySpan<int> levels, ReadOnlySpan<ReadOnlyMemory<char>> values)
    {
        Start(levels.Length, optional: true);
        Levels(levels);
        PlainStrings(values);
        EndChunk(levels.Length, dictionary: null);
    }

    /// <summary>An optional string column as a dictionary page and the non-null rows' indexes into it.</summary>
    public void Dictionary(ReadOnlySpan<int> levels, ReadOnlySpan<ReadOnlyMemory<char>> dictionary, ReadOnlySpan<int> indexes)
    {
        Start(levels.Length, optional: true);
        PlainStrings(dictionary);
        var dictionaryPage = Page(PageType.Dictionary, dictionary.Length, Encoding.PlainDictionary);
        _length = 0;
        Levels(levels);
        // Parquet.Net's width: that of the entry count, one more bit than the largest index needs at powers of two.
        var width = 32 - int.LeadingZeroCount(dictionary.Length);
        Put([(byte)width]);
        BitPacked(indexes, width);
        EndChunk(levels.Length, dictionaryPage);
    }

    /// <summary>Writes the footer (the schema, every row group's column chunks, <paramref name="metadata"/>) and the magic.</summary>
    public void Close(IReadOnlyDictionary<string, string> metadata)
    {
        if (_current is not null) throw new InvalidOperationException("a row group is not finished");
        var t = _footer;
        t.Clear();
        t.Begin();
        t.I32(1, 1); // version
        t.List(2, Thrift.Struct, _columns.Length + 1);
        t.Begin();
        t.Binary(4, "root");
        t.I32(5, _columns.Length);
        t.End();
        foreach (var (name, kind, optional) in _columns) SchemaElement(t, name, kind, optional);
        t.I64(3, _rowGroups.Sum(g => (long)g.Rows));
        t.List(4, Thrift.Struct, _rowGroups.Count);
        foreach (var rg in _rowGroups)
        {
            t.Begin();
            t.List(1, Thrift.Struct, rg.Chunks.Count);
            for (var c = 0; c < rg.Chunks.Count; c++) ColumnChunk(t, rg.Chunks[c], _columns[c]);
            t.I64(2, rg.Chunks.Sum(k => k.Uncompressed));
            t.I64(3, rg.Rows);
            t.End();
        }
        t.List(5, Thrift.Struct, metadata.Count);
        foreach (var (key, value) in metadata)
        {
            t.Begin();
            t.Binary(1, key);
            t.Binary(2, value);
            t.End();
        }
        t.Binary(6, "fdr (FdrHarness observation files)");
        t.End();
        Append(t.Written);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, t.Written.Length);
        Append(length);
        Append(Magic);
    }

    private static void SchemaElement(Thrift t, string name, ParquetKind kind, bool optional)
    {
        t.Begin();
        t.I32(1, PhysicalType(kind));
        t.I32(3, optional ? 1 : 0);
        t.Binary(4, name);
        if (kind is ParquetKind.String or ParquetKind.Int32 or ParquetKind.Int64) t.I32(6, kind switch { ParquetKind.String => 0, ParquetKind.Int32 => 17, _ => 18 }); // converted type UTF8, INT_32, INT_64
        if (kind != ParquetKind.Double)
        {
            t.Field(10, Thrift.Struct); // logical type, a union
            t.Begin();
            if (kind == ParquetKind.String) t.EmptyStruct(1);
            else if (kind is ParquetKind.Int32 or ParquetKind.Int64)
            {
                t.Field(10, Thrift.Struct); // INTEGER
                t.Begin();
                t.Byte(1, kind == ParquetKind.Int32 ? (byte)32 : (byte)64);
                t.Bool(2, true);
                t.End();
            }
            else
            {
                t.Field(8, Thrift.Struct); // TIMESTAMP
                t.Begin();
                t.Bool(1, true); // adjusted to UTC
                t.Field(2, Thrift.Struct); // unit
                t.Begin();
                t.EmptyStruct(3); // NANOS
                t.End();
                t.End();
            }
            t.End();
        }
        t.End();
    }

    private static void ColumnChunk(Thrift t, Chunk k, (string Name, ParquetKind Kind, bool Optional) column)
    {
        t.Begin();
        t.I64(2, k.Offset);
        t.Field(3, Thrift.Struct);
        t.Begin();
        t.I32(1, PhysicalType(column.Kind));
        Encoding[] encodings = k.DictionaryPageOffset >= 0 ? [Encoding.PlainDictionary, Encoding.Rle] : [Encoding.Plain, Encoding.Rle];
        t.List(2, Thrift.I32Type, encodings.Length);
        foreach (var e in encodings) t.Varint((int)e);
        t.List(3, Thrift.BinaryType, 1);
        t.String(column.Name);
        t.I32(4, (int)CodecOf(k.Codec));
        t.I64(5, k.Values);
        t.I64(6, k.Uncompressed);
        t.I64(7, k.Compressed);
        t.I64(9, k.DataPageOffset);
        if (k.DictionaryPageOffset >= 0) t.I64(11, k.DictionaryPageOffset);
        t.End();
        t.End();
    }

    /// <summary>INT32, INT64, DOUBLE or BYTE_ARRAY.</summary>
    private static int PhysicalType(ParquetKind kind) =>
        kind switch { ParquetKind.Int32 => 1, ParquetKind.Int64 or ParquetKind.Timestamp => 2, ParquetKind.Double => 5, _ => 6 };

    private static int CodecOf(ObservationCompression c) => c switch { ObservationCompression.Zstd => 6, ObservationCompression.Snappy => 1, _ => 0 };

    private void Start(int rows, bool optional)
    {
        var rg = _current ?? throw new InvalidOperationException("no row group begun");
        var c = rg.Chunks.Count;
        if (c >= _columns.Length) throw new InvalidOperationException("every column of the row group is written");
        if (_columns[c].Optional != optional) throw new InvalidOperationException($"column {_columns[c].Name} is {(optional ? "required" : "optional")}");
        if (rows != rg.Rows) throw new InvalidOperationException($"column {_columns[c].Name} has {rows} rows, its row group {rg.Rows}");
        _length = 0;
    }

    /// <summary>The data page in the buffer, after the dictionary page if any: one column chunk of the row group.</summary>
    private void EndChunk(int rows, PageWritten? dictionary, bool hexDigits = false)
    {
        var data = Page(PageType.Data, rows, dictionary is null ? Encoding.Plain : Encoding.PlainDictionary, hexDigits);
        var first = dictionary ?? data;
        _current!.Chunks.Add(new Chunk(first.Offset, data.Offset, dictionary?.Offset ?? -1, rows,
            first.Compressed + (dictionary is null ? 0 : data.Compressed), first.Uncompressed + (dictionary is null ? 0 : data.Uncompressed), _compression));
    }

    /// <summary>Compresses the buffer and writes it with its header.</summary>
    private PageWritten Page(PageType type, int values, Encoding encoding, bool hexDigits = false)
    {
        var source = _page.AsSpan(0, _length);
        int compressed;
        switch (_compression)
        {
            case ObservationCompression.Zstd:
                StringColumn.Grow(ref _packed, ZstdSharp.Compressor.GetCompressBound(source.Length));
                compressed = (hexDigits ? _zstdDigits ??= DigitsCompressor() : _zstd!).Wrap(source, _packed);
                break;
            case ObservationCompression.Snappy:
                StringColumn.Grow(ref _packed, Snappier.Snappy.GetMaxCompressedLength(source.Length));
                compressed = Snappier.Snappy.Compress(source, _packed);
                break;
            default:
                StringColumn.Grow(ref _packed, source.Length);
                source.CopyTo(_packed);
                compressed = source.Length;
                break;
        }
        var h = _header;
        h.Clear();
        h.Begin();
        h.I32(1, (int)type);
        h.I32(2, source.Length);
        h.I32(3, compressed);
        h.Field(type == PageType.Data ? (short)5 : (short)7, Thrift.Struct);
        h.Begin();
        h.I32(1, values);
        h.I32(2, (int)encoding);
        if (type == PageType.Data)
        {
            h.I32(3, (int)Encoding.Rle);
            h.I32(4, (int)Encoding.Rle);
        }
        h.End();
        h.End();
        var offset = _position;
        Append(h.Written);
        Append(_packed.AsSpan(0, compressed));
        return new PageWritten(offset, h.Written.Length + compressed, h.Written.Length + source.Length);
    }

    /// <summary>
    /// For near-unique hex ids: few repeats for the match finder to find, the gain is in coding the digits' 4 bits each.
    /// A faster level (its match finder skips ahead) with the literals still entropy-coded, which a negative level alone
    /// turns off: 21 % less CPU on the main job's ids for an events.parquet 2 % larger.
    /// </summary>
    private static ZstdSharp.Compressor DigitsCompressor()
    {
        var c = new ZstdSharp.Compressor(-3);
        c.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_experimentalParam5, (int)ZstdSharp.Unsafe.ZSTD_paramSwitch_e.ZSTD_ps_enable); // literal compression
        return c;
    }

    private void PlainStrings(ReadOnlySpan<ReadOnlyMemory<char>> values)
    {
        foreach (var v in values)
        {
            var room = Room(4 + v.Length * 3);
            var n = System.Text.Encoding.UTF8.GetBytes(v.Span, room[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(room, n);
            _length += 4 + n;
        }
    }

    /// <summary>Definition levels (0 or 1) as the RLE/bit-packed hybrid behind their 4-byte length.</summary>
    private void Levels(ReadOnlySpan<int> levels)
    {
        var at = _length;
        _length += 4;
        BitPacked(levels, 1);
        BinaryPrimitives.WriteInt32LittleEndian(_page.AsSpan(at), _length - at - 4);
    }

    /// <summary>One bit-packed run of the hybrid encoding: groups of 8 values, least significant bit first.</summary>
    private void BitPacked(ReadOnlySpan<int> values, int width)
    {
        var groups = (values.Length + 7) / 8;
        Varint((uint)groups << 1 | 1);
        if (width > 8)
        {
            BitPackedWide(values, width, groups);
            return;
        }
        // A group of 8 values of up to 8 bits is one 64-bit word, stored whole: 8 bytes of slack after the run.
        var bytes = Room(groups * width + 8);
        var full = values.Length / 8;
        var at = 0;
        if (width == 1 && Vector256.IsHardwareAccelerated)
        {
            // Definition levels: a group's bits are its values' low bits, one compare-free mask per 8 values.
            for (var g = 0; g < full; g++)
                bytes[at++] = (byte)Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(Vector256.Create(values.Slice(g * 8, 8)), 31));
        }
        else
        {
            for (var g = 0; g < full; g++)
            {
                var group = values.Slice(g * 8, 8);
                ulong word = 0;
                for (var j = 0; j < 8; j++) word |= (ulong)(uint)group[j] << (j * width);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[at..], word);
                at += width;
            }
        }
        if (full < groups)
        {
            ulong word = 0;
            for (var j = full * 8; j < values.Length; j++) word |= (ulong)(uint)values[j] << ((j - full * 8) * width);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[at..], word);
            at += width;
        }
        _length += at;
    }

    private void BitPackedWide(ReadOnlySpan<int> values, int width, int groups)
    {
        var bytes = Room(groups * width);
        int at = 0, bits = 0;
        ulong acc = 0;
        for (var i = 0; i < groups * 8; i++)
        {
            acc |= (ulong)(uint)(i < values.Length ? values[i] : 0) << bits;
            bits += width;
            while (bits >= 8)
            {
                bytes[at++] = (byte)acc;
                acc >>= 8;
                bits -= 8;
            }
        }
        _length += at;
    }

    private void Varint(uint v)
    {
        var room = Room(5);
        var n = 0;
        while (v >= 0x80)
        {
            room[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        room[n++] = (byte)v;
        _length += n;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Room(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>At least <paramref name="bytes"/> of the page buffer after what it holds.</summary>
    private Span<byte> Room(int bytes)
    {
        if (_page.Length - _length < bytes) Array.Resize(ref _page, Math.Max(_page.Length * 2, _length + bytes));
        return _page.AsSpan(_length);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        _position += bytes.Length;
    }

    private enum PageType { Data = 0, Dictionary = 2 }

    private enum Encoding { Plain = 0, PlainDictionary = 2, Rle = 3 }

    private readonly record struct PageWritten(long Offset, int Compressed, int Uncompressed);

    private readonly record struct Chunk(long Offset, long DataPageOffset, long DictionaryPageOffset, long Values, long Compressed, long Uncompressed,
        ObservationCompression Codec);

    private sealed class RowGroup(int rows)
    {
        public readonly int Rows = rows;
        public readonly List<Chunk> Chunks = [];
    }

    /// <summary>Thrift's compact protocol, the few types the footer and page headers use.</summary>
    private sealed class Thrift
    {
        public const byte BinaryType = 8, I32Type = 5, Struct = 12;
        private const byte True = 1, False = 2, ByteType = 3, I64Type = 6, ListType = 9;
        private readonly Stack<short> _last = new();
        private byte[] _bytes = new byte[256];
        private int _length;
        private short _field;

        public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, _length);

        public void Clear()
        {
            _length = 0;
            _field = 0;
            _last.Clear();
        }

        /// <summary>A struct's fields follow (its field header, if any, is written already).</summary>
        public void Begin()
        {
            _last.Push(_field);
            _field = 0;
        }

        public void End()
        {
            Byte(0);
            _field = _last.Pop();
        }

        public void Field(short id, byte type)
        {
            var delta = id - _field;
            if (delta is > 0 and <= 15) Byte((byte)(delta << 4 | type));
            else
            {
                Byte(type);
                Varint(ZigZag(id));
            }
            _field = id;
        }

        public void I32(short id, int value)
        {
            Field(id, I32Type);
            Varint(ZigZag(value));
        }

        public void I64(short id, long value)
        {
            Field(id, I64Type);
            Varint(ZigZag(value));
        }

        public void Bool(short id, bool value) => Field(id, value ? True : False);

        public void Byte(short id, byte value)
        {
            Field(id, ByteType);
            Byte(value);
        }

        public void Binary(short id, string value)
        {
            Field(id, BinaryType);
            String(value);
        }

        public void EmptyStruct(short id)
        {
            Field(id, Struct);
            Begin();
            End();
        }

        public void List(short id, byte elementType, int count)
        {
            Field(id, ListType);
            if (count < 15) Byte((byte)(count << 4 | elementType));
            else
            {
                Byte((byte)(0xF0 | elementType));
                Varint((ulong)count);
            }
        }

        /// <summary>A list element or field value: length and UTF-8 bytes.</summary>
        public void String(string value)
        {
            var n = System.Text.Encoding.UTF8.GetByteCount(value);
            Varint((ulong)n);
            Grow(n);
            System.Text.Encoding.UTF8.GetBytes(value, _bytes.AsSpan(_length));
            _length += n;
        }

        /// <summary>A list element of type i32.</summary>
        public void Varint(int value) => Varint(ZigZag(value));

        private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

        private void Varint(ulong v)
        {
            Grow(10);
            while (v >= 0x80)
            {
                _bytes[_length++] = (byte)(v | 0x80);
                v >>= 7;
            }
            _bytes[_length++] = (byte)v;
        }

        private void Byte(byte b)
        {
            Grow(1);
            _bytes[_length++] = b;
        }

        private void Grow(int n)
        {
            if (_bytes.Length - _length < n) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + n));
        }
    }
}
