using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Parquet.Meta;
using Encoding = Parquet.Meta.Encoding;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// Column chunks of events.parquet decoded straight from the file into the report's columns. Parquet.Net 6.1 makes, for
/// every page, a new zstd decoder (its tables zeroed), two copies of the page and an object per string value (a
/// dictionary column's values are copied out of the dictionary row by row); here one decoder and buffers serve every
/// page, and a dictionary column's rows are its dictionary's entries, each turned into an id or hash once. Takes only
/// what the sink writes (no repetition, at most one level of nullability, plain or dictionary pages, uncompressed or
/// zstd): <see cref="Supported"/> says so before a column is read, and Parquet.Net reads any other.
/// </summary>
internal sealed class ColumnChunks(string path) : IDisposable
{
    private readonly SafeFileHandle _file = File.OpenHandle(path);
    private readonly ZstdSharp.Decompressor _zstd = new();
    private byte[] _chunk = [], _page = [];
    private char[] _chars = [];
    private int[] _levels = [], _indexes = [], _entryIds = [];
    private ulong[] _entryHashes = [];
    private (int Start, int Length)[] _entries = [];
    private int _entryCount;

    public void Dispose()
    {
        _zstd.Dispose();
        _file.Dispose();
    }

    public static bool Supported(ColumnChunk? chunk, Parquet.Meta.Type type, int maxDefinitionLevel, int maxRepetitionLevel, bool dictionary)
    {
        if (chunk?.MetaData is not { } meta || meta.Type != type || maxRepetitionLevel != 0 || maxDefinitionLevel > 1) return false;
        if (meta.Codec is not (CompressionCodec.UNCOMPRESSED or CompressionCodec.ZSTD)) return false;
        foreach (var e in meta.Encodings)
            if (!(e is Encoding.PLAIN or Encoding.RLE or Encoding.BIT_PACKED || dictionary && e is Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY))
                return false;
        return true;
    }

    /// <summary>A string column as ids of <paramref name="symbols"/> (-1 = null), new strings numbered in row order.</summary>
    public void Ids(ColumnChunk chunk, int maxDefinitionLevel, int rows, Symbols symbols, int[] ids)
    {
        var pos = Load(chunk);
        for (var row = 0; row < rows;)
        {
            var page = Next(ref pos, chunk, maxDefinitionLevel, rows - row);
            if (page.Dictionary)
            {
                Entries(page);
                if (_entryIds.Length < _entryCount) _entryIds = new int[_entryCount];
                Array.Fill(_entryIds, -1, 0, _entryCount); // mapped on first use: ids in order of appearance
                continue;
            }
            var values = _page.AsSpan(page.Values, page.ValuesLength);
            if (page.Indexed)
            {
                for (int i = 0, v = 0; i < page.Count; i++)
                {
                    if (_levels[i] == 0) { ids[row + i] = -1; continue; }
                    var e = _indexes[v++];
                    if ((uint)e >= (uint)_entryCount) throw Damaged(chunk, "a dictionary index out of range");
                    ref var id = ref _entryIds[e];
                    if (id < 0) id = Id(symbols, Entry(e));
                    ids[row + i] = id;
                }
            }
            else
            {
                ReadOnlySpan<byte> last = default;
                var lastId = -1;
                var at = 0;
                for (var i = 0; i < page.Count; i++)
                {
                    if (_levels[i] == 0) { ids[row + i] = -1; continue; }
                    var value = Plain(chunk, values, ref at);
                    // Runs of the same value are common (a block of transfers to one RSE): skip the lookup for them.
                    if (lastId < 0 || !value.SequenceEqual(last))
                    {
                        last = value;
                        lastId = Id(symbols, value);
                    }
                    ids[row + i] = lastId;
                }
            }
            row += page.Count;
        }
    }

    /// <summary>A string column as <see cref="EventColumnReader.NameHash"/>es of its UTF-8 bytes (0 = null).</summary>
    public void Hashes(ColumnChunk chunk, int maxDefinitionLevel, int rows, ulong[] hashes)
    {
        var pos = Load(chunk);
        for (var row = 0; row < rows;)
        {
            var page = Next(ref pos, chunk, maxDefinitionLevel, rows - row);
            if (page.Dictionary)
            {
                Entries(page);
                if (_entryHashes.Length < _entryCount) _entryHashes = new ulong[_entryCount];
                for (var e = 0; e < _entryCount; e++) _entryHashes[e] = EventColumnReader.NameHash(Entry(e));
                continue;
            }
            var values = _page.AsSpan(page.Values, page.ValuesLength);
            var at = 0;
            for (int i = 0, v = 0; i < page.Count; i++)
            {
                if (_levels[i] == 0) hashes[row + i] = 0;
                else if (!page.Indexed) hashes[row + i] = EventColumnReader.NameHash(Plain(chunk, values, ref at));
                else
                {
                    var e = _indexes[v++];
                    if ((uint)e >= (uint)_entryCount) throw Damaged(chunk, "a dictionary index out of range");
                    hashes[row + i] = _entryHashes[e];
                }
            }
            row += page.Count;
        }
    }

    /// <summary>
    /// An INT64, INT32 or DOUBLE column (plain pages) as longs (a double as its bits), <paramref name="ifNull"/> for a null
    /// (and <paramref name="nulls"/>[row] set, when given); with <paramref name="nanosToTicks"/> an INT64 timestamp in
    /// nanoseconds since 1970 as DateTime ticks (what Parquet.Net makes of it: 100 ns truncated toward zero).
    /// </summary>
    public void Numbers(ColumnChunk chunk, int maxDefinitionLevel, int rows, long ifNull, bool nanosToTicks, long[] into, bool[]? nulls = null)
    {
        var int32 = chunk.MetaData!.Type == Parquet.Meta.Type.INT32;
        var width = int32 ? 4 : 8;
        var pos = Load(chunk);
        for (var row = 0; row < rows;)
        {
            var page = Next(ref pos, chunk, maxDefinitionLevel, rows - row);
            if (page.Dictionary || page.Indexed) throw Damaged(chunk, "a dictionary in a numeric column");
            var values = _page.AsSpan(page.Values, page.ValuesLength);
            var at = 0;
            for (var i = 0; i < page.Count; i++)
            {
                if (nulls is not null) nulls[row + i] = _levels[i] == 0;
                if (_levels[i] == 0) { into[row + i] = ifNull; continue; }
                if (at + width > values.Length) throw Damaged(chunk, "fewer values than rows");
                var v = int32 ? BinaryPrimitives.ReadInt32LittleEndian(values[at..]) : BinaryPrimitives.ReadInt64LittleEndian(values[at..]);
                at += width;
                into[row + i] = nanosToTicks ? DateTime.UnixEpoch.Ticks + v / 100 : v;
            }
            row += page.Count;
        }
    }

    private int Id(Symbols symbols, ReadOnlySpan<byte> utf8)
    {
        // As Parquet.Net decodes a string (invalid UTF-8 becomes U+FFFD), so the same strings as its reader's.
        if (_chars.Length < utf8.Length) _chars = new char[Math.Max(utf8.Length, 256)];
        var n = System.Text.Encoding.UTF8.GetChars(utf8, _chars);
        return symbols.Id(_chars.AsSpan(0, n));
    }

    private static ReadOnlySpan<byte> Plain(ColumnChunk chunk, ReadOnlySpan<byte> values, scoped ref int at)
    {
        if (at + 4 > values.Length) throw Damaged(chunk, "fewer values than rows");
        var length = BinaryPrimitives.ReadInt32LittleEndian(values[at..]);
        if ((uint)length > (uint)(values.Length - at - 4)) throw Damaged(chunk, "a value past its page");
        var value = values.Slice(at + 4, length);
        at += 4 + length;
        return value;
    }

    private void Entries(Page page)
    {
        // The dictionary stays in its own copy: the data pages after it reuse the page buffer.
        var values = _page.AsSpan(page.Values, page.ValuesLength);
        if (_entries.Length < page.Count) _entries = new (int, int)[page.Count];
        var at = 0;
        for (var e = 0; e < page.Count; e++)
        {
            var value = Plain(page.Chunk, values, ref at);
            _entries[e] = (page.Values + at - value.Length, value.Length);
        }
        _entryCount = page.Count;
        (_page, _dictionary) = (_dictionary.Length >= _page.Length ? _dictionary : new byte[_page.Length], _page);
    }

    private byte[] _dictionary = [];

    private ReadOnlySpan<byte> Entry(int e) => _dictionary.AsSpan(_entries[e].Start, _entries[e].Length);

    /// <summary>The whole chunk in one read; returns where its first page starts in <see cref="_chunk"/>.</summary>
    private int Load(ColumnChunk chunk)
    {
        var meta = chunk.MetaData!;
        var start = meta.DataPageOffset;
        if (meta.DictionaryPageOffset is > 0 and var d && d < start) start = d;
        var length = checked((int)meta.TotalCompressedSize);
        if (_chunk.Length < length) _chunk = new byte[Math.Max(length, _chunk.Length * 3 / 2)];
        for (var read = 0; read < length;)
        {
            var n = RandomAccess.Read(_file, _chunk.AsSpan(read, length - read), start + read);
            if (n == 0) throw Damaged(chunk, "the file ends inside the column");
            read += n;
        }
        _chunkLength = length;
        _entryCount = 0;
        return 0;
    }

    private int _chunkLength;

    private readonly record struct Page(ColumnChunk Chunk, bool Dictionary, bool Indexed, int Count, int Values, int ValuesLength);

    /// <summary>
    /// The next page at <paramref name="pos"/>: its values in <see cref="_page"/>, its rows' definition levels in
    /// <see cref="_levels"/> (1 where required), its dictionary indexes in <see cref="_indexes"/>.
    /// </summary>
    private Page Next(ref int pos, ColumnChunk chunk, int maxDefinitionLevel, int rowsLeft)
    {
        if (pos >= _chunkLength) throw Damaged(chunk, "fewer rows than its row group");
        var header = new PageHeaderReader(_chunk.AsSpan(pos, _chunkLength - pos));
        header.Read();
        pos += header.Position;
        var compressed = header.CompressedSize;
        if ((uint)compressed > (uint)(_chunkLength - pos) || header.UncompressedSize < 0) throw Damaged(chunk, "a page past its column");
        var body = _chunk.AsSpan(pos, compressed);
        pos += compressed;
        var zstd = chunk.MetaData!.Codec == CompressionCodec.ZSTD;
        switch (header.Type)
        {
            case PageType.DICTIONARY_PAGE:
            {
                var length = Decompress(chunk, body, zstd, header.UncompressedSize, 0);
                return new Page(chunk, true, false, header.Count, 0, length);
            }
            case PageType.DATA_PAGE:
            {
                var length = Decompress(chunk, body, zstd, header.UncompressedSize, 0);
                var levels = 0;
                if (maxDefinitionLevel > 0)
                {
                    if (header.LevelEncoding != Encoding.RLE || length < 4) throw Damaged(chunk, "definition levels not RLE");
                    levels = BinaryPrimitives.ReadInt32LittleEndian(_page);
                    if ((uint)levels > (uint)(length - 4)) throw Damaged(chunk, "definition levels past their page");
                    Levels(chunk, _page.AsSpan(4, levels), header.Count);
                    levels += 4;
                }
                return Data(chunk, header, maxDefinitionLevel, rowsLeft, levels, length - levels);
            }
            case PageType.DATA_PAGE_V2:
            {
                if (header.RepetitionLength != 0 || (uint)header.DefinitionLength > (uint)compressed) throw Damaged(chunk, "levels past their page");
                var levels = header.DefinitionLength;
                if (maxDefinitionLevel > 0) Levels(chunk, body[..levels], header.Count);
                var length = header.V2Compressed
                    ? Decompress(chunk, body[levels..], zstd, header.UncompressedSize - levels, 0)
                    : Decompress(chunk, body[levels..], false, compressed - levels, 0);
                return Data(chunk, header, maxDefinitionLevel, rowsLeft, 0, length);
            }
            default:
                throw Damaged(chunk, $"a page of type {header.Type}");
        }
    }

    private Page Data(ColumnChunk chunk, in PageHeaderReader header, int maxDefinitionLevel, int rowsLeft, int values, int length)
    {
        var count = header.Count;
        if (count > rowsLeft || count <= 0) throw Damaged(chunk, "more rows than its row group");
        if (maxDefinitionLevel == 0)
        {
            if (_levels.Length < count) _levels = new int[Math.Max(count, 1024)];
            Array.Fill(_levels, 1, 0, count);
        }
        var present = 0;
        for (var i = 0; i < count; i++) present += _levels[i];
        var indexed = header.Encoding is Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY;
        if (indexed)
        {
            if (_entryCount == 0 && present > 0) throw Damaged(chunk, "dictionary indexes without a dictionary");
            if (length < 1) throw Damaged(chunk, "an empty page");
            var width = _page[values];
            if (_indexes.Length < present) _indexes = new int[Math.Max(present, 1024)];
            Hybrid(chunk, _page.AsSpan(values + 1, length - 1), width, _indexes.AsSpan(0, present));
        }
        else if (header.Encoding != Encoding.PLAIN) throw Damaged(chunk, $"values encoded {header.Encoding}");
        return new Page(chunk, false, indexed, count, values, length);
    }

    private void Levels(ColumnChunk chunk, ReadOnlySpan<byte> encoded, int count)
    {
        if (_levels.Length < count) _levels = new int[Math.Max(count, 1024)];
        Hybrid(chunk, encoded, 1, _levels.AsSpan(0, count));
    }

    /// <summary>Decompresses (or copies) a page's values into <see cref="_page"/> from <paramref name="at"/>; returns their length.</summary>
    private int Decompress(ColumnChunk chunk, ReadOnlySpan<byte> body, bool zstd, int size, int at)
    {
        if (size < 0) throw Damaged(chunk, "a negative page size");
        if (_page.Length < at + size) Array.Resize(ref _page, Math.Max(at + size, _page.Length * 3 / 2));
        if (!zstd)
        {
            if (body.Length != size) throw Damaged(chunk, "an uncompressed page of the wrong size");
            body.CopyTo(_page.AsSpan(at));
            return size;
        }
        var written = _zstd.Unwrap(body, _page.AsSpan(at, size));
        if (written != size) throw Damaged(chunk, "a page that decompresses to another size than its header says");
        return written;
    }

    /// <summary>Parquet's RLE / bit-packed hybrid: exactly <c>into.Length</c> values of <paramref name="width"/> bits.</summary>
    private static void Hybrid(ColumnChunk chunk, ReadOnlySpan<byte> s, int width, Span<int> into)
    {
        if (width > 32) throw Damaged(chunk, "a bit width over 32");
        var bytes = (width + 7) / 8;
        var mask = width == 32 ? uint.MaxValue : (1u << width) - 1;
        var at = 0;
        for (var n = 0; n < into.Length;)
        {
            var header = Varint(chunk, s, ref at);
            if ((header & 1) == 0)
            {
                var run = (int)Math.Min(header >> 1, (ulong)(into.Length - n));
                if (at + bytes > s.Length) throw Damaged(chunk, "a run past its page");
                var value = 0;
                for (var b = 0; b < bytes; b++) value |= s[at + b] << (8 * b);
                at += bytes;
                into.Slice(n, run).Fill(value);
                n += run;
            }
            else
            {
                var groupBytes = checked((int)(header >> 1) * width);
                if (at + groupBytes > s.Length) throw Damaged(chunk, "bit-packed values past their page");
                var values = (int)Math.Min((ulong)(header >> 1) * 8, (ulong)(into.Length - n));
                ulong buffer = 0;
                var bits = 0;
                var p = at;
                for (var i = 0; i < values; i++)
                {
                    while (bits < width) { buffer |= (ulong)s[p++] << bits; bits += 8; }
                    into[n + i] = (int)(buffer & mask);
                    buffer >>= width;
                    bits -= width;
                }
                at += groupBytes;
                n += values;
            }
        }
    }

    private static ulong Varint(ColumnChunk chunk, ReadOnlySpan<byte> s, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= s.Length) throw Damaged(chunk, "a number past its page");
            var b = s[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw Damaged(chunk, "a number too long");
    }

    private static InvalidDataException Damaged(ColumnChunk chunk, string what) =>
        new($"events.parquet: column {string.Join('.', chunk.MetaData?.PathInSchema ?? [])} has {what}");

    /// <summary>The fields of a Thrift compact PageHeader the reader needs; the others skipped.</summary>
    private ref struct PageHeaderReader(ReadOnlySpan<byte> s)
    {
        private readonly ReadOnlySpan<byte> _s = s;
        public int Position;
        public PageType Type;
        public int UncompressedSize, CompressedSize, Count, DefinitionLength, RepetitionLength;
        public Encoding Encoding, LevelEncoding;
        public bool V2Compressed;

        public void Read()
        {
            V2Compressed = true;
            Struct(static (ref PageHeaderReader r, int id, int type) =>
            {
                switch (id)
                {
                    case 1: r.Type = (PageType)r.Int(type); break;
                    case 2: r.UncompressedSize = r.Int(type); break;
                    case 3: r.CompressedSize = r.Int(type); break;
                    case 5: r.Struct(static (ref PageHeaderReader r, int id, int type) => // DataPageHeader
                    {
                        switch (id)
                        {
                            case 1: r.Count = r.Int(type); break;
                            case 2: r.Encoding = (Encoding)r.Int(type); break;
                            case 3: r.LevelEncoding = (Encoding)r.Int(type); break;
                            default: r.Skip(type); break;
                        }
                    }); break;
                    case 7: r.Struct(static (ref PageHeaderReader r, int id, int type) => // DictionaryPageHeader
                    {
                        if (id == 1) r.Count = r.Int(type);
                        else r.Skip(type);
                    }); break;
                    case 8: r.Struct(static (ref PageHeaderReader r, int id, int type) => // DataPageHeaderV2
                    {
                        switch (id)
                        {
                            case 1: r.Count = r.Int(type); break;
                            case 4: r.Encoding = (Encoding)r.Int(type); break;
                            case 5: r.DefinitionLength = r.Int(type); break;
                            case 6: r.RepetitionLength = r.Int(type); break;
                            case 7: r.V2Compressed = type == 1; break;
                            default: r.Skip(type); break;
                        }
                    }); break;
                    default: r.Skip(type); break;
                }
            });
        }

        private delegate void Field(ref PageHeaderReader r, int id, int type);

        private void Struct(Field field)
        {
            var last = 0;
            while (true)
            {
                var b = Byte();
                if (b == 0) return;
                var type = b & 0x0f;
                var id = b >> 4 is var delta and > 0 ? last + delta : (short)ZigZag(Varint());
                last = id;
                field(ref this, id, type);
            }
        }

        private int Int(int type) => type is 5 or 4 or 6 ? (int)ZigZag(Varint()) : throw new InvalidDataException("events.parquet: a page header field of an unexpected type");

        private void Skip(int type)
        {
            switch (type)
            {
                case 1 or 2: break; // booleans: the value is the type
                case 3: Byte(); break;
                case 4 or 5 or 6: Varint(); break;
                case 7: Advance(8); break;
                case 8: Advance(checked((int)Varint())); break;
                case 9 or 10:
                {
                    var b = Byte();
                    var size = b >> 4 == 15 ? checked((int)Varint()) : b >> 4;
                    var element = b & 0x0f;
                    for (var i = 0; i < size; i++)
                        if (element is 1 or 2) Byte(); // a boolean element takes a byte
                        else Skip(element);
                    break;
                }
                case 11:
                {
                    var size = checked((int)Varint());
                    if (size == 0) break;
                    var types = Byte();
                    for (var i = 0; i < size; i++) { SkipElement(types >> 4); SkipElement(types & 0x0f); }
                    break;
                }
                case 12: Struct(static (ref PageHeaderReader r, int _, int type) => r.Skip(type)); break;
                default: throw new InvalidDataException("events.parquet: a page header that is not Thrift compact");
            }
        }

        private void SkipElement(int type)
        {
            if (type is 1 or 2) Byte();
            else Skip(type);
        }

        private byte Byte() => Position < _s.Length ? _s[Position++] : throw new InvalidDataException("events.parquet: a page header past its column");

        private void Advance(int n)
        {
            if ((uint)n > (uint)(_s.Length - Position)) throw new InvalidDataException("events.parquet: a page header past its column");
            Position += n;
        }

        private ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte();
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
            throw new InvalidDataException("events.parquet: a page header number too long");
        }

        private static long ZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);
    }
}
