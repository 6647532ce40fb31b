using System.Buffers;
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
    public virtual Array Unread(int rows) => NewBuffer(rows);
    public abstract void Write(ParquetFileWriter file, Array buffer, int rows);
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
/// <para>Otherwise (names, ids: near-unique) the producer's batch holds the values as UTF-8 already (<see cref="Utf8Arena"/>:
/// the strings die young instead of outliving a GC or two in a pending row group), written as they are.</para>
/// </remarks>
internal sealed class StringColumn(string name, bool dictionary) : ObservationColumn(new DataField(name, typeof(string), isNullable: true), ParquetKind.String)
{
    /// <summary>A dictionary column with more distinct values than this share of its values is stored plain.</summary>
    public const double DictionaryThreshold = 0.2;

    private ReadOnlyMemory<char>[] _values = [];
    private int[] _levels = [];

    // Dictionary write side: value -> index, the values in index order, an index per non-null value.
    private readonly Dictionary<string, int>? _ids = dictionary ? new(StringComparer.Ordinal) : null;
    private ReadOnlyMemory<char>[] _entries = [];
    private int[] _indexes = [];

    // Near-unique write side: the non-null values.
    private ReadOnlyMemory<byte>[] _bytes = [];

    // Read side: repeated values (event types, RSEs) share one string instead of one per row.
    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private const int MaxInterned = 1 << 16;
    private bool _intern = true;

    /// <summary>Near-unique columns: UTF-8 slices of the batch's <see cref="Utf8Arena"/>, default for null.</summary>
    public override Array NewBuffer(int capacity) => dictionary ? new string?[capacity] : new ReadOnlyMemory<byte>[capacity];

    public override Array Unread(int rows) => new string?[rows];

    public override void Write(ParquetFileWriter file, Array buffer, int rows)
    {
        Grow(ref _levels, rows);
        var levels = _levels.AsSpan(0, rows);
        if (!dictionary)
        {
            var utf8 = ((ReadOnlyMemory<byte>[])buffer).AsSpan(0, rows);
            Grow(ref _bytes, rows);
            var m = 0;
            for (var i = 0; i < utf8.Length; i++)
            {
                if (Utf8Arena.IsNull(utf8[i])) levels[i] = 0;
                else
                {
                    levels[i] = 1;
                    _bytes[m++] = utf8[i];
                }
            }
            file.Bytes(levels, _bytes.AsSpan(0, m));
            return;
        }
        var source = ((string?[])buffer).AsSpan(0, rows);
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
        if (BuildDictionary(source, n, out var entries)) file.Dictionary(levels, _entries.AsSpan(0, entries), _indexes.AsSpan(0, n));
        else file.Strings(levels, _values.AsSpan(0, n));
    }

    /// <summary>Parquet.Net's rule: none for no values, or once distinct values would reach the threshold's share.</summary>
    private bool BuildDictionary(ReadOnlySpan<string?> source, int values, out int entries)
    {
        var ids = _ids!;
        ids.Clear();
        entries = 0;
        if (values == 0) return false;
        var maxDistinct = (int)(values * DictionaryThreshold);
        Grow(ref _indexes, values);
        Grow(ref _entries, values);
        string? last = null;
        int lastId = 0, n = 0;
        foreach (var s in source)
        {
            if (s is null) continue;
            if (!ReferenceEquals(s, last))
            {
                if (!ids.TryGetValue(s, out lastId))
                {
                    if (ids.Count >= maxDistinct) return false;
                    lastId = ids.Count;
                    ids.Add(s, lastId);
                    _entries[lastId] = s.AsMemory();
                }
                last = s;
            }
            _indexes[n++] = lastId;
        }
        entries = ids.Count;
        return true;
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
    public override Array NewBuffer(int capacity) => new T[capacity];

    public override void Write(ParquetFileWriter file, Array buffer, int rows)
    {
        var values = ((T[])buffer).AsSpan(0, rows);
        if (typeof(T) == typeof(DateTime))
        {
            var times = ((DateTime[])buffer).AsSpan(0, rows);
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

    public override Array NewBuffer(int capacity) => new T?[capacity];

    public override void Write(ParquetFileWriter file, Array buffer, int rows)
    {
        var source = ((T?[])buffer).AsSpan(0, rows);
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
    public static StringColumn String(string name) => new(name, dictionary: true);

    /// <summary>A string column of mostly distinct values (names, ids): stored plain.</summary>
    public static StringColumn UniqueString(string name) => new(name, dictionary: false);
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
/// The UTF-8 bytes of a batch's near-unique strings (names, ids), in chunks kept from row group to row group: a value is
/// encoded when the row is added, so the producer's string dies young, and the chunks are reused, not garbage.
/// </summary>
internal sealed class Utf8Arena
{
    private const int ChunkSize = 1 << 20;
    private readonly List<byte[]> _chunks = [];
    private byte[] _current = [];
    private int _next, _used;

    /// <summary>The value's bytes, valid until <see cref="Clear"/>; default for null (an empty string is not default).</summary>
    public ReadOnlyMemory<byte> Add(string? s)
    {
        if (s is null) return default;
        var most = s.Length * 3; // UTF-8 bytes per UTF-16 unit, at most
        if (_current.Length - _used < most) Next(most);
        var room = _current.AsSpan(_used);
        // Names and ids are ASCII: narrowing skips UTF-8's validation and per-call set-up.
        if (Ascii.FromUtf16(s, room, out var n) != OperationStatus.Done) n = Encoding.UTF8.GetBytes(s, room);
        var value = new ReadOnlyMemory<byte>(_current, _used, n);
        _used += n;
        return value;
    }

    /// <summary>An id given as its number (its digits written here, no string made), else its string.</summary>
    public ReadOnlyMemory<byte> Add(in HexId id, string? text)
    {
        if (id.Form == HexForm.None) return Add(text);
        var n = id.Length;
        if (_current.Length - _used < n) Next(n);
        id.Write(_current.AsSpan(_used, n));
        var value = new ReadOnlyMemory<byte>(_current, _used, n);
        _used += n;
        return value;
    }

    /// <summary>A name given by reference, written by its source here (no string made), else its string.</summary>
    public ReadOnlyMemory<byte> Add(in NameRef name, string? text)
    {
        if (name.Source is not { } source) return Add(text);
        var most = source.MaxLength;
        if (_current.Length - _used < most) Next(most);
        if (!source.TryWrite(name.Index, _current.AsSpan(_used, most), out var n)) return Add(source.Name(name.Index));
        var value = new ReadOnlyMemory<byte>(_current, _used, n);
        _used += n;
        return value;
    }

    public static bool IsNull(in ReadOnlyMemory<byte> value) => value.Equals(default);

    public void Clear()
    {
        _current = [];
        _next = _used = 0;
    }

    private void Next(int size)
    {
        if (_next == _chunks.Count || _chunks[_next].Length < size) _chunks.Insert(_next, new byte[Math.Max(ChunkSize, size)]);
        _current = _chunks[_next++];
        _used = 0;
    }
}

/// <summary>
/// A row group being filled: one array per column (<see cref="Arrays"/> in schema order), grown by doubling up to the
/// row-group size so rarely used kinds (faults) stay small.
/// </summary>
internal abstract class ColumnBatch
{
    public int Count;
    public Array[] Arrays = [];

    /// <summary>The UTF-8 bytes of the near-unique string columns' values.</summary>
    public readonly Utf8Arena Text = new();
    public int Capacity => Arrays.Length == 0 ? 0 : Arrays[0].Length;

    /// <summary>Re-reads the typed fields from <see cref="Arrays"/> after they were replaced.</summary>
    protected abstract void Bind();

    public void Allocate(ObservationColumn[] columns, int capacity)
    {
        var arrays = new Array[columns.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            arrays[c] = columns[c].NewBuffer(capacity);
            if (Count > 0) Array.Copy(Arrays[c], arrays[c], Count);
        }
        Arrays = arrays;
        Bind();
    }

    /// <summary>Drops references to the strings of the written rows so they can be collected.</summary>
    public void Reset()
    {
        foreach (var a in Arrays)
            if (!a.GetType().GetElementType()!.IsValueType) Array.Clear(a, 0, Count);
        Text.Clear();
        Count = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static T[] As<T>(Array a) => (T[])a;
}
