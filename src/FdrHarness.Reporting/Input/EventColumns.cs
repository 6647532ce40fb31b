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

    /// <summary>The value of <paramref name="id"/>, null for -1 (a null in the column).</summary>
    public string? Text(int id) => id < 0 ? null : _names[id];

    public int Id(ReadOnlySpan<char> value)
    {
        var lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(value, out var id)) return id;
        var s = new string(value);
        _ids[s] = id = _names.Count;
        _names.Add(s);
        return id;
    }

    public int Id(string value)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, value, out var exists);
        if (exists) return id;
        id = _names.Count;
        _names.Add(value);
        return id;
    }

    public void Clear()
    {
        _ids.Clear();
        _names.Clear();
    }
    public int Find(string value) => _ids.GetValueOrDefault(value, -1);
}

/// <summary>
/// The columns the report reads of one row group of events.parquet as the run's sink wrote it (its values, not decoded
/// from the file), copied off the sink's writer thread.
/// </summary>
internal sealed class WrittenEvents
{
    public int Count;
    public string?[] Type = [], Scope = [], Src = [], Dst = [], Rse = [], Rule = [], Protocol = [];
    public ulong[] NameHash = [];
    public DateTime[] Created = [];
    public long?[] Bytes = [];
    public int?[] Retry = [];

    public void CopyFrom(ObservationRowGroup rows)
    {
        var n = Count = rows.Rows;
        if (Type.Length < n)
        {
            Type = new string?[n]; Scope = new string?[n]; NameHash = new ulong[n]; Src = new string?[n]; Dst = new string?[n];
            Rse = new string?[n]; Rule = new string?[n]; Protocol = new string?[n]; Created = new DateTime[n]; Bytes = new long?[n];
            Retry = new int?[n];
        }
        rows.Column<string?>("event_type").CopyTo(Type);
        rows.Column<string?>("scope").CopyTo(Scope);
        // Hashed here: the sink reuses the names' bytes once this returns.
        var names = rows.Utf8("name");
        var plain = names.Plain;
        for (int i = 0, at = 0; i < n; i++)
        {
            if (names.Levels[i] == 0)
            {
                NameHash[i] = 0;
                continue;
            }
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(plain[at..]);
            NameHash[i] = EventColumnReader.NameHash(plain.Slice(at + 4, length));
            at += 4 + length;
        }
        rows.Column<string?>("src_rse").CopyTo(Src);
        rows.Column<string?>("dst_rse").CopyTo(Dst);
        rows.Column<string?>("rse").CopyTo(Rse);
        rows.Column<string?>("rule_id").CopyTo(Rule);
        rows.Column<string?>("protocol").CopyTo(Protocol);
        rows.Column<DateTime>("created_at").CopyTo(Created);
        rows.Column<long?>("bytes").CopyTo(Bytes);
        rows.Column<int?>("retry_count").CopyTo(Retry);
    }

    /// <summary>Lets the strings go once the rows are accumulated.</summary>
    public void Clear()
    {
        foreach (var column in (string?[][])[Type, Scope, Src, Dst, Rse, Rule, Protocol]) Array.Clear(column, 0, Count);
        Count = 0;
    }
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

    // While decoded: the ids are this block's own (first appearance in the block), turned into the reader's by Remap.
    internal readonly Symbols LocalTypes = new(), LocalScopes = new(), LocalRses = new(), LocalProtocols = new(), LocalRules = new();

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
/// 27-field struct and a string per cell, which alone takes most of the 10 s budget on a 1.5 M-event run. The row
/// groups are decoded on up to one thread per core (each with its own reader of the file) and handed out in file order,
/// their string ids numbered as one thread reading the file in order would (first appearance), so what the report
/// computes from them does not depend on the threads.
/// </summary>
internal sealed class EventColumnReader
{
    public Symbols Types { get; } = new();
    public Symbols Scopes { get; } = new();
    public Symbols Rses { get; } = new();      // src_rse, dst_rse and rse share one table
    public Symbols Protocols { get; } = new();
    public Symbols Rules { get; } = new();

    /// <summary>Decoding threads at most (each holds a few row groups' columns).</summary>
    public static int MaxDecoders { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    private int[] _map = [];

    /// <summary>Every row group in file order; a block is valid until the next one is asked for.</summary>
    public IEnumerable<EventBlock> Blocks(string path) => ObservationReader.Guard(Unguarded(path), path);

    private IEnumerable<EventBlock> Unguarded(string path)
    {
        // The reader that counts the row groups decodes them too (worker 0's): each reader parses the file's footer.
        var first = new Decoder(path);
        var groups = first.RowGroupCount;
        var workers = Math.Clamp(Math.Min(MaxDecoders, groups), 1, 64);
        if (workers == 1)
        {
            using var decoder = first;
            var block = new EventBlock();
            for (var g = 0; g < groups; g++)
            {
                decoder.Decode(g, block);
                Remap(block);
                yield return block;
            }
            yield break;
        }

        // Worker w decodes row groups w, w + workers, …; two decoded blocks wait at most per worker, then it blocks.
        var ready = new System.Collections.Concurrent.BlockingCollection<EventBlock>[workers];
        var free = new System.Collections.Concurrent.ConcurrentQueue<EventBlock>[workers];
        var tasks = new Task[workers];
        using var stop = new CancellationTokenSource();
        for (var w = 0; w < workers; w++)
        {
            var (mine, queue, spare, own) = (w, ready[w] = new(boundedCapacity: 2), free[w] = new(), w == 0 ? first : null);
            // Own threads, not the pool's: the caller blocks a pool thread waiting for them, and on 2 cores the pool would
            // add a thread for the second worker only after its starvation delay.
            tasks[w] = Task.Factory.StartNew(() =>
            {
                try
                {
                    using var decoder = own ?? new Decoder(path);
                    for (var g = mine; g < groups; g += workers)
                    {
                        var block = spare.TryDequeue(out var b) ? b : new EventBlock();
                        decoder.Decode(g, block);
                        queue.Add(block, stop.Token);
                    }
                }
                finally
                {
                    queue.CompleteAdding();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            for (var g = 0; g < groups; g++)
            {
                var w = g % workers;
                if (!ready[w].TryTake(out var block, Timeout.Infinite))
                {
                    tasks[w].GetAwaiter().GetResult(); // the worker's failure, as it was thrown
                    throw new InvalidDataException($"{path}: row group {g} was not read");
                }
                Remap(block);
                yield return block;
                free[w].Enqueue(block);
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var q in ready) while (q.TryTake(out _)) { } // unblock a worker waiting to add
            try { Task.WaitAll(tasks); }
            catch (AggregateException) { } // failures after the last block asked for (or cancellations) are not the caller's
            foreach (var q in ready) q.Dispose();
        }
    }

    /// <summary>The block's own string ids turned into this reader's, new strings numbered in the block's order of appearance.</summary>
    private void Remap(EventBlock b)
    {
        Remap(b.LocalTypes, Types, b.Rows, b.Type);
        Remap(b.LocalScopes, Scopes, b.Rows, b.Scope);
        Remap(b.LocalRses, Rses, b.Rows, b.Src, b.Dst, b.Rse);
        Remap(b.LocalRules, Rules, b.Rows, b.Rule);
        Remap(b.LocalProtocols, Protocols, b.Rows, b.Protocol);
    }

    private void Remap(Symbols local, Symbols global, int rows, params ReadOnlySpan<int[]> columns)
    {
        if (_map.Length < local.Count) _map = new int[Math.Max(local.Count, _map.Length * 2)];
        var identity = true;
        for (var l = 0; l < local.Count; l++)
        {
            _map[l] = global.Id(local[l]);
            identity &= _map[l] == l;
        }
        if (identity) return;
        foreach (var ids in columns)
            for (var i = 0; i < rows; i++)
                if (ids[i] >= 0) ids[i] = _map[ids[i]];
    }

    public static string PathIn(string runDir) => Path.Combine(runDir, ParquetObservationSink.EventsFile);

    /// <summary>
    /// A row group of events.parquet as the run's sink wrote it, into <paramref name="block"/> with this reader's ids, as
    /// <see cref="Blocks"/> would give it once the file is read back (to be given in file order, like the file's). False
    /// when some string would not read back the same (a lone UTF-16 surrogate: UTF-8 cannot hold it); the block is
    /// then not to be used.
    /// </summary>
    public bool FromWritten(WrittenEvents rows, EventBlock block)
    {
        var n = rows.Count;
        block.Resize(n);
        var faithful = Ids(rows.Type.AsSpan(0, n), Types, block.Type)
            & Ids(rows.Scope.AsSpan(0, n), Scopes, block.Scope)
            & Ids(rows.Src.AsSpan(0, n), Rses, block.Src)
            & Ids(rows.Dst.AsSpan(0, n), Rses, block.Dst)
            & Ids(rows.Rse.AsSpan(0, n), Rses, block.Rse)
            & Ids(rows.Rule.AsSpan(0, n), Rules, block.Rule)
            & Ids(rows.Protocol.AsSpan(0, n), Protocols, block.Protocol);
        rows.NameHash.AsSpan(0, n).CopyTo(block.NameHash);
        var times = rows.Created;
        // As the file holds it: UTC (a local time is converted when written).
        for (var i = 0; i < n; i++) block.Ticks[i] = times[i].Kind == DateTimeKind.Local ? times[i].ToUniversalTime().Ticks : times[i].Ticks;
        var bytes = rows.Bytes;
        for (var i = 0; i < n; i++) block.Bytes[i] = bytes[i] ?? -1;
        var retries = rows.Retry;
        for (var i = 0; i < n; i++) block.RetryCount[i] = retries[i] ?? -1;
        return faithful;
    }

    /// <summary>Ids of a string column, new strings numbered in order of appearance (as <see cref="Remap"/> numbers them).</summary>
    private static bool Ids(ReadOnlySpan<string?> values, Symbols symbols, int[] ids)
    {
        var faithful = true;
        string? last = null;
        var lastId = -1;
        for (var i = 0; i < values.Length; i++)
        {
            var s = values[i];
            if (s is null) { ids[i] = -1; continue; }
            // Runs of the same value are common, and mostly the same string instance.
            if (last is not null && (ReferenceEquals(s, last) || s == last)) { ids[i] = lastId; continue; }
            var before = symbols.Count;
            ids[i] = lastId = symbols.Id(s);
            last = s;
            if (symbols.Count != before) faithful &= !HasSurrogate(s);
        }
        return faithful;
    }

    private static bool HasSurrogate(string s) => s.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF');

    /// <summary>One reader of the file and its scratch buffers: one per decoding thread.</summary>
    private sealed class Decoder : IDisposable
    {
        private readonly ParquetInput _file;
        private readonly bool _nanos; // created_at holds INT64 nanoseconds since 1970
        private readonly DataField _type, _created, _scope, _name, _src, _dst, _rse, _rule, _size, _protocol, _retry;
        private ReadOnlyMemory<char>[] _values = [];
        private ReadOnlyMemory<byte>[] _bytes = [];
        private int[] _levels = [];
        private long?[] _longs = [];
        private int?[] _ints = [];
        private DateTime[] _times = [];
        private long[] _numbers = [];

        public Decoder(string path)
        {
            _file = new ParquetInput(path);
            try
            {
                _nanos = _file.IsNanos("created_at");
                DataField F(string name) => _file.Field(name);
                (_type, _created, _scope, _name, _src, _dst, _rse, _rule, _size, _protocol, _retry) = (F("event_type"), F("created_at"), F("scope"),
                    Binary(F("name")), F("src_rse"), F("dst_rse"), F("rse"), F("rule_id"), F("bytes"), F("protocol"), F("retry_count"));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int RowGroupCount => _file.Reader.RowGroupCount;

        public void Dispose() => _file.Dispose();

        public void Decode(int g, EventBlock block)
        {
            using var group = _file.Reader.OpenRowGroupReader(g);
            var rows = ObservationReader.RowsOf(group, _file.Path);
            block.Resize(rows);
            Grow(rows);
            block.LocalTypes.Clear(); block.LocalScopes.Clear(); block.LocalRses.Clear(); block.LocalProtocols.Clear(); block.LocalRules.Clear();
            Strings(group, _type, rows, block.LocalTypes, block.Type);
            Strings(group, _scope, rows, block.LocalScopes, block.Scope);
            Strings(group, _src, rows, block.LocalRses, block.Src);
            Strings(group, _dst, rows, block.LocalRses, block.Dst);
            Strings(group, _rse, rows, block.LocalRses, block.Rse);
            Strings(group, _rule, rows, block.LocalRules, block.Rule);
            Strings(group, _protocol, rows, block.LocalProtocols, block.Protocol);
            Hashes(group, _name, rows, block.NameHash);
            if (_nanos && Chunk(group, _created, Parquet.Meta.Type.INT64) is { } created)
                _file.Chunks.Numbers(created, _created.MaxDefinitionLevel, rows, -1, nanosToTicks: true, block.Ticks);
            else
            {
                group.ReadAsync(_created, _times.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
                for (var i = 0; i < rows; i++) block.Ticks[i] = _times[i].Ticks;
            }
            if (Chunk(group, _size, Parquet.Meta.Type.INT64) is { } size)
                _file.Chunks.Numbers(size, _size.MaxDefinitionLevel, rows, -1, nanosToTicks: false, block.Bytes);
            else
            {
                group.ReadAsync(_size, _longs.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
                for (var i = 0; i < rows; i++) block.Bytes[i] = _longs[i] ?? -1;
            }
            if (Chunk(group, _retry, Parquet.Meta.Type.INT32) is { } retry)
            {
                _file.Chunks.Numbers(retry, _retry.MaxDefinitionLevel, rows, -1, nanosToTicks: false, _numbers);
                for (var i = 0; i < rows; i++) block.RetryCount[i] = (int)_numbers[i];
            }
            else
            {
                group.ReadAsync(_retry, _ints.AsMemory(0, rows)).AsTask().GetAwaiter().GetResult();
                for (var i = 0; i < rows; i++) block.RetryCount[i] = _ints[i] ?? -1;
            }
        }

        /// <summary>The column's chunk in this row group when <see cref="ColumnChunks"/> can decode it, else null (Parquet.Net reads it).</summary>
        private static Parquet.Meta.ColumnChunk? Chunk(ParquetRowGroupReader group, DataField field, Parquet.Meta.Type type, bool dictionary = false)
        {
            var chunk = group.GetMetadata(field);
            return ColumnChunks.Supported(chunk, type, field.MaxDefinitionLevel, field.MaxRepetitionLevel, dictionary) ? chunk : null;
        }

        private void Grow(int rows)
        {
            if (_values.Length >= rows) return;
            _values = new ReadOnlyMemory<char>[rows]; _bytes = new ReadOnlyMemory<byte>[rows]; _levels = new int[rows]; _longs = new long?[rows]; _ints = new int?[rows];
            _times = new DateTime[rows]; _numbers = new long[rows];
        }

        private void Strings(ParquetRowGroupReader group, DataField field, int rows, Symbols symbols, int[] ids)
        {
            if (Chunk(group, field, Parquet.Meta.Type.BYTE_ARRAY, dictionary: true) is { } chunk)
            {
                _file.Chunks.Ids(chunk, field.MaxDefinitionLevel, rows, symbols, ids);
                return;
            }
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
            if (Chunk(group, field, Parquet.Meta.Type.BYTE_ARRAY, dictionary: true) is { } chunk)
            {
                _file.Chunks.Hashes(chunk, field.MaxDefinitionLevel, rows, hashes);
                return;
            }
            group.ReadRawAsync(field, _bytes.AsMemory(0, rows), _levels.AsMemory(0, rows), null).AsTask().GetAwaiter().GetResult();
            for (int i = 0, v = 0; i < rows; i++)
                hashes[i] = _levels[i] == 0 ? 0 : NameHash(_bytes[v++].Span);
            Array.Clear(_bytes, 0, rows);
        }

        /// <summary>
        /// A string column read as its UTF-8 bytes: Parquet.Net finds a column by name, and a binary field of the same
        /// name skips the decoding to UTF-16 (the names are only hashed).
        /// </summary>
        private static DataField Binary(DataField field)
        {
            var binary = new DataField(field.Name, typeof(byte[]), field.IsNullable);
            _ = new ParquetSchema(binary);
            return binary;
        }
    }

    /// <summary>
    /// A 64-bit hash of a name's UTF-8 bytes (as the file holds them, and as the sink hands them to the feed), 8 bytes a
    /// step (MurmurHash3's x64 mixing on one lane, its finaliser at the end): stable across processes (string.GetHashCode
    /// is not), collisions negligible at a few million names, never 0 (0 = null).
    /// </summary>
    public static ulong NameHash(ReadOnlySpan<byte> bytes)
    {
        const ulong c1 = 0x87c37b91114253d5UL, c2 = 0x4cf5ad432745937fUL;
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
