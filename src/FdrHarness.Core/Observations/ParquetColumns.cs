using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Core.Observations;

/// <summary>
/// One Parquet column of an observation file: how its buffer (one array, filled row by row on the simulation thread)
/// is encoded into a row group, and how a row group's column is read back into an array of the same shape.
/// Instances carry scratch buffers, so each writer or reader owns its own.
/// </summary>
internal abstract class ObservationColumn(DataField field)
{
    public DataField Field { get; } = field;

    /// <summary>Dictionary-encoded: repetitive strings only.</summary>
    public virtual bool Dictionary => false;

    /// <summary>The write side's buffer of a batch (<see cref="ColumnBatch"/>).</summary>
    public abstract Array NewBuffer(int capacity);

    /// <summary>A column not read back: the array <see cref="ReadAsync"/> would give, all nulls or defaults.</summary>
    public virtual Array Unread(int rows) => NewBuffer(rows);
    public abstract Task WriteAsync(ParquetRowGroupWriter writer, Array buffer, int rows);
    public abstract ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field);
}

/// <summary>Nullable UTF-8 string; nulls become definition level 0.</summary>
/// <remarks>
/// <para><paramref name="dictionary"/>: few distinct values (event types, RSEs). The dictionary is built here, by string
/// (non-randomised hashing, a run of one instance costs a reference compare, the table kept across row groups), and handed
/// to Parquet.Net with the column (<see cref="PrebuiltDictionary"/>): its own builder hashed every value with Marvin into
/// a table of one entry per row, allocated per column and row group. Same dictionary order and fallback rule as
/// Parquet.Net's, so the same bytes.</para>
/// <para>Otherwise (names, ids: near-unique) the producer's batch holds the values as UTF-8 already (<see cref="Utf8Arena"/>:
/// the strings die young instead of outliving a GC or two in a pending row group), and they are handed over as bytes
/// through a binary field of the same name: Parquet.Net matches a written column to the file's schema by name only, so
/// the file still declares a UTF-8 string, while its string path (min/max statistics by char comparison, narrowing per
/// value) is skipped. Such columns carry no min/max statistics.</para>
/// </remarks>
internal sealed class StringColumn(string name, bool dictionary) : ObservationColumn(new DataField(name, typeof(string), isNullable: true))
{
    /// <summary>A dictionary column with more distinct values than this share of its values is stored plain.</summary>
    public const double DictionaryThreshold = 0.2;

    private ReadOnlyMemory<char>[] _values = [];
    private int[] _levels = [];

    // Dictionary write side: value -> index, the values in index order, an index per value.
    private readonly Dictionary<string, int>? _ids = dictionary ? new(StringComparer.Ordinal) : null;
    private readonly PrebuiltDictionary.Owner<ReadOnlyMemory<char>> _dictionary = new();
    private readonly PrebuiltDictionary.Owner<int> _indexes = new();

    // Plain write side: the binary alias (attached to a schema of its own for its levels) and the non-null values.
    private readonly DataField? _binary = dictionary ? null : BinaryAlias(name);
    private ReadOnlyMemory<byte>[] _bytes = [];

    // Read side: repeated values (event types, RSEs) share one string instead of one per row.
    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private const int MaxInterned = 1 << 16;
    private bool _intern = true;

    public override bool Dictionary => dictionary;

    /// <summary>Near-unique columns: UTF-8 slices of the batch's <see cref="Utf8Arena"/>, default for null.</summary>
    public override Array NewBuffer(int capacity) => _binary is null ? new string?[capacity] : new ReadOnlyMemory<byte>[capacity];

    public override Array Unread(int rows) => new string?[rows];

    public override Task WriteAsync(ParquetRowGroupWriter writer, Array buffer, int rows)
    {
        Grow(ref _levels, rows);
        if (_binary is not null) return WriteBytesAsync(writer, ((ReadOnlyMemory<byte>[])buffer).AsSpan(0, rows), rows);
        var source = ((string?[])buffer).AsSpan(0, rows);
        Grow(ref _values, rows);
        var n = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var s = source[i];
            if (s is null) _levels[i] = 0;
            else
            {
                _levels[i] = 1;
                _values[n++] = s.AsMemory();
            }
        }
        var values = _values.AsMemory(0, n);
        var levels = _levels.AsMemory(0, rows);
        return PrebuiltDictionary.Available && BuildDictionary(source, n)
            ? PrebuiltDictionary.WriteAsync(writer, Field, values, levels, _dictionary, _indexes)
            : writer.WriteAllPartsAsync<ReadOnlyMemory<char>>(Field, values, levels, null, CancellationToken.None);
    }

    /// <summary>Parquet.Net's rule: none for no values, or once distinct values would reach the threshold's share.</summary>
    private bool BuildDictionary(ReadOnlySpan<string?> source, int values)
    {
        var ids = _ids!;
        ids.Clear();
        if (values == 0) return false;
        var maxDistinct = (int)(values * DictionaryThreshold);
        var indexes = _indexes.Rent(values);
        var dictionary = _dictionary.Rent(values);
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
                    dictionary[lastId] = s.AsMemory();
                }
                last = s;
            }
            indexes[n++] = lastId;
        }
        _dictionary.Length = ids.Count;
        _indexes.Length = n;
        return true;
    }

    private Task WriteBytesAsync(ParquetRowGroupWriter writer, ReadOnlySpan<ReadOnlyMemory<byte>> source, int rows)
    {
        Grow(ref _bytes, rows);
        var n = 0;
        for (var i = 0; i < source.Length; i++)
        {
            if (Utf8Arena.IsNull(source[i])) _levels[i] = 0;
            else
            {
                _levels[i] = 1;
                _bytes[n++] = source[i];
            }
        }
        return writer.WriteAllPartsAsync<ReadOnlyMemory<byte>>(_binary!, _bytes.AsMemory(0, n), _levels.AsMemory(0, rows), null, CancellationToken.None);
    }

    private static DataField BinaryAlias(string name)
    {
        var field = new DataField(name, typeof(byte[]), isNullable: true);
        _ = new ParquetSchema(field);
        return field;
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
internal sealed class ValueColumn<T>(DataField field) : ObservationColumn(field) where T : struct
{
    public override Array NewBuffer(int capacity) => new T[capacity];

    public override Task WriteAsync(ParquetRowGroupWriter writer, Array buffer, int rows)
    {
        if (typeof(T) == typeof(DateTime)) Columns.CheckTimes(Field.Name, ((DateTime[])buffer).AsSpan(0, rows));
        return writer.WriteAsync(Field, new ReadOnlyMemory<T>((T[])buffer, 0, rows));
    }

    public override async ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field)
    {
        var result = new T[rows];
        await reader.ReadAsync(field, result.AsMemory());
        return result;
    }
}

/// <summary>An optional value column: nulls become definition level 0, the rest are packed.</summary>
internal sealed class NullableColumn<T>(DataField field) : ObservationColumn(field) where T : struct
{
    private T[] _values = [];
    private int[] _levels = [];

    public override Array NewBuffer(int capacity) => new T?[capacity];

    public override Task WriteAsync(ParquetRowGroupWriter writer, Array buffer, int rows)
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
        if (typeof(T) == typeof(DateTime)) Columns.CheckTimes(Field.Name, ((DateTime[])(object)_values).AsSpan(0, n));
        return writer.WriteAllPartsAsync<T>(Field, _values.AsMemory(0, n), _levels.AsMemory(0, rows), null, CancellationToken.None);
    }

    public override async ValueTask<Array> ReadAsync(ParquetRowGroupReader reader, int rows, DataField field)
    {
        var result = new T?[rows];
        await reader.ReadAsync(field, result.AsMemory());
        return result;
    }
}

/// <summary>
/// Hands Parquet.Net 6.1.0 a string column whose dictionary is already built, through its internals (no public API takes
/// one): the column object it makes from values and levels gets the dictionary and indexes set, and goes to the row
/// group's private writer, which then writes a dictionary page and the indexes as its own builder's result. The members
/// are looked up once; with a Parquet.Net that lacks them <see cref="Available"/> is false and the sink takes the public
/// path (same bytes, Parquet.Net's own dictionary builder), so a version bump costs speed, never a run
/// (ParquetObservationSinkTests pins that 6.1.0 has them).
/// </summary>
internal static class PrebuiltDictionary
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
    private static readonly (MethodInfo NewColumn, FieldInfo Dictionary, FieldInfo Indexes, MethodInfo Write)? Members = Find();

    public static bool Available => Members is not null;

    public static async Task WriteAsync(ParquetRowGroupWriter writer, DataField field, ReadOnlyMemory<ReadOnlyMemory<char>> values,
        ReadOnlyMemory<int> levels, Owner<ReadOnlyMemory<char>> dictionary, Owner<int> indexes)
    {
        var m = Members ?? throw new InvalidOperationException("check PrebuiltDictionary.Available first");
        var column = (IDisposable)m.NewColumn.Invoke(null, [field, values, (ReadOnlyMemory<int>?)levels, null])!;
        using (column)
        {
            m.Dictionary.SetValue(column, dictionary);
            m.Indexes.SetValue(column, indexes);
            await ((Task)m.Write.Invoke(writer, [field, column, null, CancellationToken.None])!).ConfigureAwait(false);
        }
    }

    private static (MethodInfo, FieldInfo, FieldInfo, MethodInfo)? Find()
    {
        var column = typeof(ParquetRowGroupWriter).Assembly.GetType("Parquet.WritingColumn`1")?.MakeGenericType(typeof(ReadOnlyMemory<char>));
        var newColumn = column?.GetMethod("NewWritingColumn", BindingFlags.Public | BindingFlags.Static,
            [typeof(DataField), typeof(ReadOnlyMemory<ReadOnlyMemory<char>>), typeof(ReadOnlyMemory<int>?), typeof(ReadOnlyMemory<int>?)]);
        var dictionary = column?.GetField("_dictionary", Private);
        var indexes = column?.GetField("_dictionaryIndexes", Private);
        var write = typeof(ParquetRowGroupWriter).GetMethod("WriteAsyncInternal", Private);
        if (column is null || newColumn is null || dictionary is null || indexes is null || write is not { IsGenericMethodDefinition: true })
            return null;
        return (newColumn, dictionary, indexes, write.MakeGenericMethod(typeof(ReadOnlyMemory<char>)));
    }

    /// <summary>A reused array handed out as memory; the column's disposal must not release it.</summary>
    public sealed class Owner<T> : IMemoryOwner<T>
    {
        private T[] _array = [];
        public int Length;

        public Memory<T> Memory => _array.AsMemory(0, Length);

        public T[] Rent(int capacity)
        {
            StringColumn.Grow(ref _array, capacity);
            return _array;
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Column constructors with the file conventions: UTC timestamps in nanoseconds (exact for .NET ticks).</summary>
internal static class Columns
{
    public static StringColumn String(string name) => new(name, dictionary: true);

    /// <summary>A string column of mostly distinct values (names, ids): stored plain.</summary>
    public static StringColumn UniqueString(string name) => new(name, dictionary: false);
    public static ValueColumn<T> Value<T>(string name) where T : struct => new(new DataField(name, typeof(T), isNullable: false));
    public static NullableColumn<T> Nullable<T>(string name) where T : struct => new(new DataField(name, typeof(T), isNullable: true));
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
        var n = Encoding.UTF8.GetBytes(s, _current.AsSpan(_used));
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
