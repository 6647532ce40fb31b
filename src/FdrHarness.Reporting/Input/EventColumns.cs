using System.Runtime.InteropServices;
using FdrHarness.Core.Observations;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// The strings of one column as small integers: the report compares RSEs, types and scopes millions of times, and an
/// id per distinct value costs neither an allocation per row nor a string comparison.
/// </summary>
internal sealed class Symbols
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    public int Count => _names.Count;
    public string this[int id] => _names[id];

    public int Id(ReadOnlySpan<char> value)
    {
        var lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(value, out var id)) return id;
        var s = new string(value);
        _ids[s] = id = _names.Count;
        _names.Add(s);
        return id;
    }

    public int Id(string value) => Id(value.AsSpan());
    public int Find(string value) => _ids.GetValueOrDefault(value, -1);
}

/// <summary>One row group of events.parquet, only the columns the report needs, strings as <see cref="Symbols"/> ids (-1 = null).</summary>
internal sealed class EventBlock
{
    public int Rows;
    public int[] Type = [], Scope = [], Src = [], Dst = [], Rse = [], Protocol = [], Rule = [];
    public long[] Ticks = [];
    public long[] Bytes = [];          // -1 = null
    public int[] RetryCount = [];      // -1 = null
    public ulong[] NameHash = [];      // 0 = null

    public void Resize(int rows)
    {
        Rows = rows;
        if (Type.Length >= rows) return;
        Type = new int[rows]; Scope = new int[rows]; Src = new int[rows]; Dst = new int[rows]; Rse = new int[rows];
        Protocol = new int[rows]; Rule = new int[rows]; Ticks = new long[rows]; Bytes = new long[rows];
        RetryCount = new int[rows]; NameHash = new ulong[rows];
    }
}

/// <summary>
/// Reads events.parquet column by column straight into <see cref="EventBlock"/>s: the generic row reader builds a
/// 27-field struct and a string per cell, which alone takes most of the 10 s budget on a 1.5 M-event run.
/// </summary>
internal sealed class EventColumnReader
{
    public Symbols Types { get; } = new();
    public Symbols Scopes { get; } = new();
    public Symbols Rses { get; } = new();      // src_rse, dst_rse and rse share one table
    public Symbols Protocols { get; } = new();
    public Symbols Rules { get; } = new();

    private ReadOnlyMemory<char>[] _values = [];
    private int[] _levels = [];
    private long?[] _longs = [];
    private int?[] _ints = [];
    private DateTime[] _times = [];

    /// <summary>Every row group in file order, the same block instance refilled each time.</summary>
    public IEnumerable<EventBlock> Blocks(string path) => ObservationReader.Guard(Unguarded(path), path);

    private IEnumerable<EventBlock> Unguarded(string path)
    {
        using var stream = File.OpenRead(path);
        var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        try
        {
            foreach (var block in Blocks(reader, path))
                yield return block;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private IEnumerable<EventBlock> Blocks(ParquetReader reader, string path)
    {
        var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
        DataField F(string name) => fields.TryGetValue(name, out var f) ? f : throw new InvalidDataException($"{path} has no column {name}");
        var (type, created, scope, name, src, dst, rse, rule, bytes, protocol, retry) = (F("event_type"), F("created_at"), F("scope"),
            F("name"), F("src_rse"), F("dst_rse"), F("rse"), F("rule_id"), F("bytes"), F("protocol"), F("retry_count"));
        var block = new EventBlock();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var rows = ObservationReader.RowsOf(group, path);
            block.Resize(rows);
            Grow(rows);
            Strings(group, type, rows, Types, block.Type);
            Strings(group, scope, rows, Scopes, block.Scope);
            Strings(group, src, rows, Rses, block.Src);
            Strings(group, dst, rows, Rses, block.Dst);
            Strings(group, rse, rows, Rses, block.Rse);
            Strings(group, rule, rows, Rules, block.Rule);
            Strings(group, protocol, rows, Protocols, block.Protocol);
            Hashes(group, name, rows, block.NameHash);
            group.ReadAsync(created, _times.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
            for (var i = 0; i < rows; i++) block.Ticks[i] = _times[i].Ticks;
            group.ReadAsync(bytes, _longs.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
            for (var i = 0; i < rows; i++) block.Bytes[i] = _longs[i] ?? -1;
            group.ReadAsync(retry, _ints.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
            for (var i = 0; i < rows; i++) block.RetryCount[i] = _ints[i] ?? -1;
            yield return block;
        }
    }

    public static string PathIn(string runDir) => Path.Combine(runDir, ParquetObservationSink.EventsFile);

    private void Grow(int rows)
    {
        if (_values.Length >= rows) return;
        _values = new ReadOnlyMemory<char>[rows]; _levels = new int[rows]; _longs = new long?[rows]; _ints = new int?[rows];
        _times = new DateTime[rows];
    }

    private void Strings(ParquetRowGroupReader group, DataField field, int rows, Symbols symbols, int[] ids)
    {
        group.ReadRawAsync(field, _values.AsMemory(0, rows), _levels.AsMemory(0, rows), null).AsTask().GetAwaiter().GetResult();
        // Runs of the same value are common (a block of transfers to one RSE): skip the lookup for them.
        ReadOnlySpan<char> last = default;
        var lastId = -2;
        for (int i = 0, v = 0; i < rows; i++)
        {
            if (_levels[i] == 0) { ids[i] = -1; continue; }
            var span = _values[v++].Span;
            if (lastId >= 0 && span.SequenceEqual(last)) { ids[i] = lastId; continue; }
            ids[i] = lastId = symbols.Id(span);
            last = span;
        }
        Array.Clear(_values, 0, rows);
    }

    private void Hashes(ParquetRowGroupReader group, DataField field, int rows, ulong[] hashes)
    {
        group.ReadRawAsync(field, _values.AsMemory(0, rows), _levels.AsMemory(0, rows), null).AsTask().GetAwaiter().GetResult();
        for (int i = 0, v = 0; i < rows; i++)
            hashes[i] = _levels[i] == 0 ? 0 : NameHash(_values[v++].Span);
        Array.Clear(_values, 0, rows);
    }

    /// <summary>
    /// A 64-bit hash of a name, 8 bytes a step (MurmurHash3's x64 mixing on one lane, its finaliser at the end): stable
    /// across processes (string.GetHashCode is not), collisions negligible at a few million names, never 0 (0 = null).
    /// </summary>
    public static ulong NameHash(ReadOnlySpan<char> s)
    {
        const ulong c1 = 0x87c37b91114253d5UL, c2 = 0x4cf5ad432745937fUL;
        var bytes = MemoryMarshal.AsBytes(s);
        var h = 0x9e3779b97f4a7c15UL ^ (ulong)bytes.Length;
        var i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
        {
            var k = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]);
            k *= c1; k = ulong.RotateLeft(k, 31); k *= c2;
            h ^= k;
            h = ulong.RotateLeft(h, 27) * 5 + 0x52dce729UL;
        }
        if (i < bytes.Length)
        {
            ulong k = 0;
            for (var j = bytes.Length - 1; j >= i; j--) k = k << 8 | bytes[j];
            k *= c1; k = ulong.RotateLeft(k, 31); k *= c2;
            h ^= k;
        }
        h ^= h >> 33; h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h == 0 ? 1 : h;
    }
}
