using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Core.Observations;

/// <summary>
/// One Parquet column of an observation file: how its buffer (one array, filled row by row on the simulation thread)
/// is encoded into a row group (<see cref="ParquetFileWriter"/>), and how a row group's column is read back into an
/// array of the same shape (Parquet.Net). Instances carry scratch buffers, so each writer or reader owns its own.
/// </summary>
internal abstract class ObservationColumn(DataField field, ParquetKind kind)
{
    public DataField Field { get; } = field;

    public ParquetKind Kind { get; } = kind;

    /// <summary>The write side's buffer of a batch (<see cref="ColumnBatch"/>).</summary>
    public abstract Array NewBuffer(int capacity);

    /// <summary>A column not read back: the array <see cref="ReadAsync"/> would give, all nulls or defaults.</summary>
    public abstract Array Unread(int rows);

    /// <summary>Writes the batch's column <paramref name="column"/> (this column) as the row group's next column chunk.</summary>
    public abstract void Write(ParquetFileWriter file, ColumnBatch batch, int column);
    public abstract ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field);

    public static ParquetKind KindOf(Type t) =>
        t == typeof(int) ? ParquetKind.Int32 : t == typeof(long) ? ParquetKind.Int64 : t == typeof(double) ? ParquetKind.Double
        : t == typeof(DateTime) ? ParquetKind.Timestamp : throw new ArgumentException($"no Parquet column for {t}");
}

/// <summary>Nullable UTF-8 string; nulls become definition level 0.</summary>
/// <remarks>
/// <para><paramref name="dictionary"/>: few distinct values (event types, RSEs). The dictionary is built here, by string
/// (non-randomised hashing, a run of one instance costs a reference compare, the table kept across row groups), in
/// order of first appearance and given up past <see cref="DictionaryThreshold"/>, as Parquet.Net's writer did.</para>
/// <para>Otherwise (names, ids: near-unique) the producer's batch holds the values as the file stores them already
/// (<see cref="Utf8Values"/>: the strings die young instead of outliving a GC or two in a pending row group), and its
/// buffer is a definition level per row.</para>
/// </remarks>
internal sealed class StringColumn(string name, bool dictionary, bool hexId = false) : ObservationColumn(new DataField(name, typeof(string), isNullable: true), ParquetKind.String)
{
    /// <summary>A dictionary column with more distinct values than this share of its values is stored plain.</summary>
    public const double DictionaryThreshold = 0.2;

    private ReadOnlyMemory<char>[] _values = [];
    private int[] _levels = [];

    // Dictionary write side: value -> index, the values in index order, an index per non-null value.
    private readonly Dictionary<string, int>? _ids = dictionary ? new(StringComparer.Ordinal) : null;
    private ReadOnlyMemory<char>[] _entries = [];
    private int[] _indexes = [];

    // Read side: repeated values (event types, RSEs) share one string instead of one per row.
    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private const int MaxInterned = 1 << 16;
    private bool _intern = true;

    /// <summary>Whether the batch holds the values as <see cref="Utf8Values"/> (near-unique) rather than strings.</summary>
    public bool Utf8 => !dictionary;

    /// <summary>Near-unique columns: a definition level per row (0: null), the values in the batch's <see cref="Utf8Values"/>.</summary>
    public override Array NewBuffer(int capacity) => dictionary ? new string?[capacity] : Columns.Buffer<int>(capacity);

    public override Array Unread(int rows) => new string?[rows];

    public override void Write(ParquetFileWriter file, ColumnBatch batch, int column)
    {
        var rows = batch.Count;
        if (!dictionary)
        {
            file.Plain(((int[])batch.Arrays[column]).AsSpan(0, rows), batch.Utf8[column]!.Plain, hexId);
            return;
        }
        Grow(ref _levels, rows);
        var levels = _levels.AsSpan(0, rows);
        var source = ((string?[])batch.Arrays[column]).AsSpan(0, rows);
        if (BuildDictionary(source, levels, out var entries, out var values))
        {
            file.Dictionary(levels, _entries.AsSpan(0, entries), _indexes.AsSpan(0, values));
            return;
        }
        Grow(ref _values, rows);
        var n = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var s = source[i];
            if (s is null) levels[i] = 0;
            else
            {
                levels[i] = 1;
                _values[n++] = s.AsMemory();
            }
        }
        file.Strings(levels, _values.AsSpan(0, n));
    }

    /// <summary>
    /// The definition levels, the dictionary and an index per value in one pass, by Parquet.Net's rule: no dictionary for
    /// no values, nor for more distinct values than the threshold's share of the values (given up as soon as they exceed
    /// that share of the rows, which bounds it).
    /// </summary>
    private bool BuildDictionary(ReadOnlySpan<string?> source, Span<int> levels, out int entries, out int values)
    {
        var ids = _ids!;
        ids.Clear();
        entries = values = 0;
        var most = (int)(source.Length * DictionaryThreshold);
        Grow(ref _indexes, source.Length);
        Grow(ref _entries, most);
        string? last = null;
        int lastId = 0, n = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var s = source[i];
            if (s is null)
            {
                levels[i] = 0;
                continue;
            }
            levels[i] = 1;
            if (!ReferenceEquals(s, last))
            {
                if (!ids.TryGetValue(s, out lastId))
                {
                    if (ids.Count >= most) return false;
                    lastId = ids.Count;
                    ids.Add(s, lastId);
                    _entries[lastId] = s.AsMemory();
                }
                last = s;
            }
            _indexes[n++] = lastId;
        }
        (entries, values) = (ids.Count, n);
        return n > 0 && entries <= (int)(n * DictionaryThreshold);
    }

    public override async ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field)
    {
        Grow(ref _values, rows);
        Grow(ref _levels, rows);
        await reader.ReadRawAsync(field, _values.AsMemory(0, rows), _levels.AsMemory(0, rows), null);
        var result = new string?[rows];
        var lookup = _interned.GetAlternateLookup<ReadOnlySpan<char>>();
        int values = 0, misses = 0;
        for (var i = 0; i < rows; i++)
        {
            if (_levels[i] == 0) continue;
            var span = _values[values++].Span;
            if (!_intern) result[i] = new string(span);
            else if (lookup.TryGetValue(span, out var s)) result[i] = s;
            else
            {
                // Bounded: names and request ids must not grow the table with the run.
                if (_interned.Count >= MaxInterned) _interned.Clear();
                result[i] = s = new string(span);
                _interned[s] = s;
                misses++;
            }
        }
        // Mostly distinct values (names, ids): interning only costs, stop for the rest of the file.
        if (_intern && values >= 1024 && misses > values / 2)
        {
            _intern = false;
            _interned.Clear();
        }
        Array.Clear(_values, 0, rows); // don't keep the file's pages alive
        return result;
    }

    internal static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length) array = new T[length];
    }
}

/// <summary>A required value column (never null): written straight from the buffer.</summary>
internal sealed class ValueColumn<T>(DataField field) : ObservationColumn(field, KindOf(typeof(T))) where T : unmanaged
{
    public override Array NewBuffer(int capacity) => Columns.Buffer<T>(capacity);

    public override Array Unread(int rows) => new T[rows];

    public override void Write(ParquetFileWriter file, ColumnBatch batch, int column)
    {
        var buffer = batch.Arrays[column];
        var values = ((T[])buffer).AsSpan(0, batch.Count);
        if (typeof(T) == typeof(DateTime))
        {
            var times = ((DateTime[])buffer).AsSpan(0, batch.Count);
            Columns.CheckTimes(Field.Name, times);
            file.Times(default, times, optional: false);
        }
        else file.Required<T>(values);
    }

    public override async ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field)
    {
        var result = new T[rows];
        await reader.ReadAsync(field, result.AsMemory());
        return result;
    }
}

/// <summary>An optional value column: nulls become definition level 0, the rest are packed.</summary>
internal sealed class NullableColumn<T>(DataField field) : ObservationColumn(field, KindOf(typeof(T))) where T : unmanaged
{
    private T[] _values = [];
    private int[] _levels = [];

    public override Array NewBuffer(int capacity) => Columns.Buffer<T?>(capacity);

    public override Array Unread(int rows) => new T?[rows];

    public override void Write(ParquetFileWriter file, ColumnBatch batch, int column)
    {
        var rows = batch.Count;
        var source = ((T?[])batch.Arrays[column]).AsSpan(0, rows);
        StringColumn.Grow(ref _values, rows);
        StringColumn.Grow(ref _levels, rows);
        var n = 0;
        for (var i = 0; i < source.Length; i++)
        {
            ref readonly var x = ref source[i];
            if (x.HasValue)
            {
                _levels[i] = 1;
                _values[n++] = x.GetValueOrDefault();
            }
            else _levels[i] = 0;
        }
        var levels = _levels.AsSpan(0, rows);
        if (typeof(T) == typeof(DateTime))
        {
            var times = ((DateTime[])(object)_values).AsSpan(0, n);
            Columns.CheckTimes(Field.Name, times);
            file.Times(levels, times, optional: true);
        }
        else file.Optional<T>(levels, _values.AsSpan(0, n));
    }

    public override async ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field)
    {
        var result = new T?[rows];
        await reader.ReadAsync(field, result.AsMemory());
        return result;
    }
}

/// <summary>Column constructors with the file conventions: UTC timestamps in nanoseconds (exact for .NET ticks).</summary>
internal static class Columns
{
    /// <summary>
    /// A batch's buffer of values: not cleared (a row is written before it is read) and pinned, so the GC never copies it
    /// when it outlives a collection, as a batch, reused from row group to row group, does.
    /// </summary>
    public static T[] Buffer<T>(int capacity) => GC.AllocateUninitializedArray<T>(capacity, pinned: true);

    public static StringColumn String(string name) => new(name, dictionary: true);

    /// <summary>A string column of mostly distinct values (names, ids): stored plain.</summary>
    public static StringColumn UniqueString(string name) => new(name, dictionary: false);
    /// <summary>Near-unique ids in hex digits (request, transfer, checksum): compressed by their digits, not by repeats.</summary>
    public static StringColumn HexIdString(string name) => new(name, dictionary: false, hexId: true);
    public static ValueColumn<T> Value<T>(string name) where T : unmanaged => new(new DataField(name, typeof(T), isNullable: false));
    public static NullableColumn<T> Nullable<T>(string name) where T : unmanaged => new(new DataField(name, typeof(T), isNullable: true));
    public static ValueColumn<DateTime> Time(string name) => new(TimeField(name, nullable: false));
    public static NullableColumn<DateTime> NullableTime(string name) => new(TimeField(name, nullable: true));

    // Nanoseconds since 1970 in an Int64 reach 1677-09-21 to 2262-04-11; outside, Parquet.Net wraps silently.
    private static readonly DateTime MinTime = DateTime.UnixEpoch.AddTicks(long.MinValue / 100 + 1);
    private static readonly DateTime MaxTime = DateTime.UnixEpoch.AddTicks(long.MaxValue / 100);

    /// <summary>Fails loudly on a time the file cannot hold, typically a field left at default(DateTime).</summary>
    public static void CheckTimes(string column, ReadOnlySpan<DateTime> times)
    {
        foreach (var t in times)
        {
            var utc = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t;
            if (utc < MinTime || utc > MaxTime)
                throw new ArgumentOutOfRangeException(column,
                    $"{column} = {t:O} is outside what a nanosecond timestamp holds (1677-09-21 to 2262-04-11); was it left unset?");
        }
    }

    private static DateTimeDataField TimeField(string name, bool nullable) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Nanos, isNullable: nullable);
}

/// <summary>
/// A near-unique string column of a batch (names, ids) as the file stores it: the non-null values' PLAIN encoding, each
/// a 4-byte little-endian length then its UTF-8 bytes, appended as the rows are added. The producer's string dies young,
/// the writer copies the column in one piece, and no reference per row is stored (nor scanned by the GC). The buffer is
/// kept from row group to row group.
/// </summary>
internal sealed class Utf8Values
{
    private byte[] _bytes = [];
    private int _length;

    public ReadOnlySpan<byte> Plain => _bytes.AsSpan(0, _length);

    /// <summary>Appends the value; its definition level (0 for null: nothing appended, 1 otherwise).</summary>
    public int Add(string? s)
    {
        if (s is null) return 0;
        var room = Room(4 + s.Length * 3); // UTF-8 bytes per UTF-16 unit, at most
        // Names and ids are ASCII: narrowing skips UTF-8's validation and per-call set-up.
        if (Ascii.FromUtf16(s, room[4..], out var n) != OperationStatus.Done) n = Encoding.UTF8.GetBytes(s, room[4..]);
        return Appended(room, n);
    }

    /// <summary>An id given as its number (its digits written here, no string made), else its string.</summary>
    public int Add(in HexId id, string? text)
    {
        if (id.Form == HexForm.None) return Add(text);
        var n = id.Length;
        var room = Room(4 + n);
        id.Write(room[4..]);
        return Appended(room, n);
    }

    /// <summary>A name given by reference, written by its source here (no string made), else its string.</summary>
    public int Add(in NameRef name, string? text)
    {
        if (name.Source is not { } source) return Add(text);
        var room = Room(4 + source.MaxLength);
        return source.TryWrite(name.Index, room[4..], out var n) ? Appended(room, n) : Add(source.Name(name.Index));
    }

    public void Clear() => _length = 0;

    /// <summary>At least as much room as <paramref name="other"/> has: a new batch's buffer grows (and copies) no more than the one before it did.</summary>
    public void ReserveLike(Utf8Values other)
    {
        if (_bytes.Length < other._bytes.Length) Resize(other._bytes.Length);
    }

    private Span<byte> Room(int most)
    {
        if (_bytes.Length - _length < most) Resize(Math.Max(64 << 10, Math.Max(_bytes.Length * 2, _length + most)));
        return _bytes.AsSpan(_length);
    }

    private void Resize(int bytes)
    {
        // Not cleared (every byte is written before it is read), and pinned: the GC never copies it.
        var bigger = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        Plain.CopyTo(bigger);
        _bytes = bigger;
    }

    private int Appended(Span<byte> room, int n)
    {
        BinaryPrimitives.WriteInt32LittleEndian(room, n);
        _length += 4 + n;
        return 1;
    }
}

/// <summary>
/// A row group being filled: one array per column (<see cref="Arrays"/> in schema order), small at first so rarely used
/// kinds (faults) stay small, then of the row-group size.
/// </summary>
internal abstract class ColumnBatch
{
    public int Count;
    public Array[] Arrays = [];

    /// <summary>Per column, the values of a near-unique string column (<see cref="StringColumn.Utf8"/>), else null.</summary>
    public Utf8Values?[] Utf8 = [];
    public int Capacity => Arrays.Length == 0 ? 0 : Arrays[0].Length;

    /// <summary>Re-reads the typed fields from <see cref="Arrays"/> after they were replaced.</summary>
    protected abstract void Bind();

    public void Allocate(ObservationColumn[] columns, int capacity)
    {
        if (Utf8.Length == 0) Utf8 = [.. columns.Select(c => c is StringColumn { Utf8: true } ? new Utf8Values() : null)];
        var arrays = new Array[columns.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            arrays[c] = columns[c].NewBuffer(capacity);
            if (Count > 0) Array.Copy(Arrays[c], arrays[c], Count);
        }
        Arrays = arrays;
        Bind();
    }

    /// <summary>Gives the near-unique columns' buffers the room <paramref name="other"/>'s (of the same file) have.</summary>
    public void ReserveLike(ColumnBatch other)
    {
        for (var c = 0; c < Utf8.Length; c++) Utf8[c]?.ReserveLike(other.Utf8[c]!);
    }

    /// <summary>Drops references to the strings of the written rows so they can be collected.</summary>
    public void Reset()
    {
        foreach (var a in Arrays)
            if (!a.GetType().GetElementType()!.IsValueType) Array.Clear(a, 0, Count);
        foreach (var values in Utf8) values?.Clear();
        Count = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static T[] As<T>(Array a) => (T[])a;
}
