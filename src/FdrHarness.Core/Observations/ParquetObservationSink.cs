using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Core.Observations;

/// <summary>How observation files are encoded.</summary>
public sealed record ParquetSinkOptions
{
    /// <summary>Rows per row group: the unit of buffering, of writing and of reading back.</summary>
    /// <remarks>
    /// 16 Ki rows: most strings of the rows held for the writer die young. With 32 Ki they outlived gen0 and piled up as
    /// gen2 garbage through the lake: main job peak RSS 420-433 MiB at 32 Ki, 349-360 at 16 Ki (events.parquet 4 % larger),
    /// 300-305 at 8 Ki (8 % larger); README benchmarks.
    /// </remarks>
    public int RowGroupSize { get; init; } = 16 * 1024;

    /// <summary>Full row groups waiting for the writer thread before the producer blocks (backpressure).</summary>
    public int MaxPendingRowGroups { get; init; } = 2;

    /// <summary>Page compression. Zstd (fastest level): a third smaller than Snappy on transfer events for the same CPU.</summary>
    public ObservationCompression Compression { get; init; } = ObservationCompression.Zstd;

    /// <summary>Shown every row group once it is written, on the sink's writer thread; null: none.</summary>
    public IObservationRowGroupObserver? Observer { get; init; }
}

/// <summary>
/// Sees each row group of the observation files as the sink's writer thread wrote it (per file in file order, after the
/// row group is encoded): a reader of the files that does not decode them again. Called on the writer thread, so the
/// producer waits only if the observer is slower than the writer; it must not throw (the run's files would fail).
/// </summary>
public interface IObservationRowGroupObserver
{
    void Written(ObservationRowGroup rows);
}

/// <summary>
/// One row group as the sink holds it: the values of its columns as written (strings as the producer's string instances,
/// times as they were given), valid only during <see cref="IObservationRowGroupObserver.Written"/>.
/// </summary>
public readonly struct ObservationRowGroup
{
    private readonly ObservationColumn[] _columns;
    private readonly ColumnBatch _batch;

    internal ObservationRowGroup(string file, ObservationColumn[] columns, ColumnBatch batch) =>
        (File, _columns, _batch, Rows) = (file, columns, batch, batch.Count);

    /// <summary>The file the rows went to (<see cref="ParquetObservationSink.EventsFile"/>, ...).</summary>
    public string File { get; }
    public int Rows { get; }

    /// <summary>
    /// The column named <paramref name="name"/> as in the file (e.g. "event_type"): string?, DateTime, DateTime?, long?,
    /// int?, double?, or the value type of a required column. Not the near-unique string columns (name, request_id,
    /// previous_request_id, checksum_adler, transfer_id): <see cref="Utf8"/>.
    /// </summary>
    public ReadOnlySpan<T> Column<T>(string name)
    {
        var c = Index(name);
        return _columns[c] is not StringColumn { Utf8: true } && _batch.Arrays[c] is T[] values ? values.AsSpan(0, Rows)
            : throw new InvalidCastException($"{File}: column {name} does not hold {typeof(T)}");
    }

    /// <summary>A near-unique string column (name, request_id, previous_request_id, checksum_adler, transfer_id) as the file stores it.</summary>
    public Utf8Column Utf8(string name)
    {
        var c = Index(name);
        return _batch.Utf8[c] is { } values ? new Utf8Column(((int[])_batch.Arrays[c]).AsSpan(0, Rows), values.Plain)
            : throw new InvalidCastException($"{File}: column {name} is not held as UTF-8");
    }

    private int Index(string name)
    {
        for (var c = 0; c < _columns.Length; c++)
            if (_columns[c].Field.Name == name) return c;
        throw new ArgumentException($"{File} has no column {name}", nameof(name));
    }
}

/// <summary>
/// A string column of a row group as Parquet stores it: a definition level per row (0: null), and the non-null values in
/// row order, PLAIN-encoded (each a 4-byte little-endian length, then its UTF-8 bytes).
/// </summary>
public readonly ref struct Utf8Column(ReadOnlySpan<int> levels, ReadOnlySpan<byte> plain)
{
    public ReadOnlySpan<int> Levels { get; } = levels;
    public ReadOnlySpan<byte> Plain { get; } = plain;
}

public enum ObservationCompression { None, Snappy, Zstd }

/// <summary>Rows written so far, per file.</summary>
public readonly record struct ObservationCounts(long Events, long Samples, long Lifecycle, long Faults, long Injections = 0);

/// <summary>
/// Streams observations into a run directory as five Parquet files: events.parquet (one column per
/// <see cref="HermesEvent"/> field, Hermes payload keys in snake_case), samples.parquet, lifecycle.parquet,
/// faults.parquet and injections.parquet (all read back by <see cref="ObservationReader"/>).
/// </summary>
/// <remarks>
/// <para>The calling thread only copies fields into per-column arrays. Every <see cref="ParquetSinkOptions.RowGroupSize"/>
/// rows the arrays are handed through a bounded channel to one background task that encodes them as a row group
/// (repetitive strings dictionary-encoded, Zstd pages, timestamps as UTC nanoseconds) — so memory holds at most a few row groups per file,
/// and a producer faster than the disk waits.</para>
/// <para>Deterministic: same rows in the same order ⇒ byte-identical files (row-group boundaries depend on counts
/// only; the metadata holds no time, host or id). Not thread-safe: one producer thread.</para>
/// <para>Files are written as NAME.tmp and renamed to NAME once complete (footer written, closed); this happens in
/// <see cref="CompleteAsync"/>, which disposal calls too, so an interrupted run still leaves readable files of
/// everything observed until then. If writing fails the .tmp files are deleted and the error is rethrown; a .tmp
/// left behind means the process died while writing.</para>
/// <para>Cost (bench verb sink, 3 M transfer events, load 10): 150-300 ns per event on the producer thread (the names and
/// ids encoded to UTF-8 there), 0.5-0.6 µs of CPU per event in all, 34 bytes per event on disk; GC paused 0.04 s per run
/// (0.34 s while Parquet.Net wrote the files: ParquetFileWriter).</para>
/// </remarks>
public sealed class ParquetObservationSink : IObservationSink, IAsyncDisposable, IDisposable
{
    public const string EventsFile = "events.parquet";
    public const string SamplesFile = "samples.parquet";
    public const string LifecycleFile = "lifecycle.parquet";
    public const string FaultsFile = "faults.parquet";
    public const string InjectionsFile = "injections.parquet";
    public const string TempSuffix = ".tmp";

    private const int InitialCapacity = 1024;

    private readonly int _rowGroupSize;
    private readonly FileWriter<EventBatch> _events;
    private readonly FileWriter<SampleBatch> _samples;
    private readonly FileWriter<LifecycleBatch> _lifecycle;
    private readonly FileWriter<FaultBatch> _faults;
    private readonly FileWriter<InjectionBatch> _injections;
    private readonly IFileWriter[] _files;
    private readonly Channel<Work> _pending;
    private readonly Task _writer;
    private Task? _completion;
    private TimeSpan _waited;

    public string Directory { get; }

    public ParquetObservationSink(string directory, ParquetSinkOptions? options = null)
    {
        options ??= new ParquetSinkOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RowGroupSize, 1, nameof(options.RowGroupSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingRowGroups, 1, nameof(options.MaxPendingRowGroups));
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        _rowGroupSize = options.RowGroupSize;
        var compression = options.Compression;
        var opened = new List<IFileWriter>();
        try
        {
            var observer = options.Observer;
            opened.Add(_events = new FileWriter<EventBatch>(directory, EventsFile, ObservationSchemas.Events(), compression, observer));
            opened.Add(_samples = new FileWriter<SampleBatch>(directory, SamplesFile, ObservationSchemas.Samples(), compression, observer));
            opened.Add(_lifecycle = new FileWriter<LifecycleBatch>(directory, LifecycleFile, ObservationSchemas.Lifecycle(), compression, observer));
            opened.Add(_faults = new FileWriter<FaultBatch>(directory, FaultsFile, ObservationSchemas.Faults(), compression, observer));
            opened.Add(_injections = new FileWriter<InjectionBatch>(directory, InjectionsFile, ObservationSchemas.Injections(), compression, observer));
        }
        catch
        {
            foreach (var f in opened) f.Abandon();
            throw;
        }
        _files = [.. opened];
        _pending = Channel.CreateBounded<Work>(new BoundedChannelOptions(options.MaxPendingRowGroups)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    public ObservationCounts Counts =>
        new(_events.Rows + _events.Current.Count, _samples.Rows + _samples.Current.Count,
            _lifecycle.Rows + _lifecycle.Current.Count, _faults.Rows + _faults.Current.Count, _injections.Rows + _injections.Current.Count);

    /// <summary>Row groups handed to the writer so far, per file (events, samples, lifecycle, faults).</summary>
    public (int Events, int Samples, int Lifecycle, int Faults) RowGroups =>
        (_events.RowGroups, _samples.RowGroups, _lifecycle.RowGroups, _faults.RowGroups);

    /// <summary>How long the producer has waited for the writer (backpressure): zero while the disk keeps up.</summary>
    public TimeSpan ProducerWaitTime => _waited;

    public void Event(in HermesEvent e)
    {
        var b = Room(_events);
        b.Add(e);
        if (b.Count == _rowGroupSize) HandOff(_events);
    }

    public void Sample(in PodSample s)
    {
        var b = Room(_samples);
        b.Add(s);
        if (b.Count == _rowGroupSize) HandOff(_samples);
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        var b = Room(_lifecycle);
        b.Add(e);
        if (b.Count == _rowGroupSize) HandOff(_lifecycle);
    }

    public void Fault(in FaultRecord f)
    {
        var b = Room(_faults);
        b.Add(f);
        if (b.Count == _rowGroupSize) HandOff(_faults);
    }

    public void Injection(in InjectionRecord r)
    {
        var b = Room(_injections);
        b.Add(r);
        if (b.Count == _rowGroupSize) HandOff(_injections);
    }

    private TBatch Room<TBatch>(FileWriter<TBatch> file) where TBatch : ColumnBatch, new()
    {
        var b = file.Current;
        if (b.Count == b.Capacity)
        {
            ThrowIfCompleted();
            // Small first, so a file with five rows doesn't cost a full row group of arrays; then whole, not by doubling:
            // each step's arrays were fresh pages to fault in and copy (the events' first row group touched twice its size).
            b.Allocate(file.Columns, b.Capacity == 0 ? Math.Min(_rowGroupSize, InitialCapacity) : _rowGroupSize);
        }
        return b;
    }

    private void HandOff<TBatch>(FileWriter<TBatch> file) where TBatch : ColumnBatch, new()
    {
        var full = file.Current;
        file.RowGroups++;
        file.Rows += full.Count;
        Enqueue(new Work(file, full));
        if (!file.Free.TryDequeue(out var next))
        {
            next = new TBatch();
            next.Allocate(file.Columns, _rowGroupSize);
            next.ReserveLike(full);
        }
        file.Current = next;
    }

    private void Enqueue(Work work)
    {
        if (_pending.Writer.TryWrite(work)) return;
        var start = Stopwatch.GetTimestamp();
        try
        {
            // Backpressure: the simulation waits for the writer rather than buffering the run.
            _pending.Writer.WriteAsync(work).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException e)
        {
            throw Failed(e.InnerException ?? e);
        }
        finally
        {
            _waited += Stopwatch.GetElapsedTime(start);
        }
    }

    private IOException Failed(Exception inner) =>
        new($"writing observations to {Directory} failed: {inner.Message}", inner);

    private void ThrowIfCompleted()
    {
        if (_completion is not null) throw new InvalidOperationException("the observation sink is already complete");
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var work in _pending.Reader.ReadAllAsync().ConfigureAwait(false))
                work.File.WriteRowGroup(work.Batch);
        }
        catch (Exception e)
        {
            _pending.Writer.TryComplete(e); // wakes a blocked producer with the cause
            throw;
        }
    }

    /// <summary>Writes the remaining rows and the footers, then renames each NAME.tmp to NAME. Idempotent.</summary>
    public Task CompleteAsync() => _completion ??= CompleteCoreAsync();

    private async Task CompleteCoreAsync()
    {
        try
        {
            foreach (var f in _files)
            {
                // Detached even when empty, so a late row fails loudly instead of vanishing.
                var last = f.DetachCurrent();
                if (last.Count > 0) await _pending.Writer.WriteAsync(new Work(f, last)).ConfigureAwait(false);
            }
            _pending.Writer.TryComplete();
            await _writer.ConfigureAwait(false);
            foreach (var f in _files) await f.CloseAsync().ConfigureAwait(false);
            foreach (var f in _files) f.Publish();
        }
        catch (Exception e)
        {
            _pending.Writer.TryComplete();
            foreach (var f in _files) f.Abandon();
            if (e is ChannelClosedException { InnerException: { } inner }) e = inner;
            throw Failed(e);
        }
    }

    /// <summary>Written at once, whole (write-then-rename): it comes at the end of a run.</summary>
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) =>
        RunDirectory.WriteAtomically(Path.Combine(Directory, ApiLatencyFile.FileName), ApiLatencyFile.ToCsv(rows));

    public ValueTask DisposeAsync() => new(CompleteAsync());

    public void Dispose() => CompleteAsync().GetAwaiter().GetResult();

    private readonly record struct Work(IFileWriter File, ColumnBatch Batch);

    private const uint SyncFileRangeWrite = 2;

    [DllImport("libc")]
    private static extern int sync_file_range(int fd, long offset, long nbytes, uint flags);

    private interface IFileWriter
    {
        ColumnBatch DetachCurrent();
        void WriteRowGroup(ColumnBatch batch);
        Task CloseAsync();
        void Publish();
        void Abandon();
    }

    /// <summary>One Parquet file: its writer (used by the background task only) and its batches.</summary>
    private sealed class FileWriter<TBatch> : IFileWriter where TBatch : ColumnBatch, new()
    {
        public readonly ObservationColumn[] Columns;
        public readonly ConcurrentQueue<TBatch> Free = new();
        public TBatch Current = new();
        public long Rows;
        public int RowGroups;
        private readonly string _name;
        private readonly string _final;
        private readonly string _temp;
        private readonly IObservationRowGroupObserver? _observer;
        private readonly FileStream _stream;
        private readonly ParquetFileWriter _writer;
        private bool _closed;

        public FileWriter(string directory, string name, ObservationColumn[] columns, ObservationCompression compression, IObservationRowGroupObserver? observer)
        {
            Columns = columns;
            _name = name;
            _observer = observer;
            _final = Path.Combine(directory, name);
            _temp = _final + TempSuffix;
            if (File.Exists(_final)) throw new IOException($"{_final} already exists; observations are never appended to an earlier run");
            _stream = new FileStream(_temp, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
            try
            {
                _writer = new ParquetFileWriter(_stream, [.. columns.Select(c => (c.Field.Name, c.Kind, c.Field.IsNullable))], compression);
            }
            catch
            {
                _stream.Dispose();
                File.Delete(_temp);
                throw;
            }
        }

        /// <summary>Takes the batch being filled (counted as a row group if it has rows) and leaves an empty one of no capacity.</summary>
        public ColumnBatch DetachCurrent()
        {
            var b = Current;
            if (b.Count > 0)
            {
                RowGroups++;
                Rows += b.Count;
            }
            Current = new TBatch();
            return b;
        }

        public void WriteRowGroup(ColumnBatch batch)
        {
            _writer.BeginRowGroup(batch.Count);
            for (var c = 0; c < Columns.Length; c++) Columns[c].Write(_writer, batch, c);
            _writer.EndRowGroup();
            _observer?.Written(new ObservationRowGroup(_name, Columns, batch));
            batch.Reset();
            Free.Enqueue((TBatch)batch);
            StartWriteback();
        }

        // The file's bytes go to disk while the run goes on, not all in the fsync at its end: that fsync is on the way to
        // the report (events.parquet of the main job, 62 MB: its fsync took 55-67 ms, now 32-42 ms; strace). Linux only; advice, so a failure changes nothing.
        private const long WritebackStep = 8 << 20;
        private long _writtenBack;

        private void StartWriteback()
        {
            if (!OperatingSystem.IsLinux() || _stream.Position - _writtenBack < WritebackStep) return;
            _stream.Flush();
            try
            {
                _ = sync_file_range((int)_stream.SafeFileHandle.DangerousGetHandle(), _writtenBack, 0, SyncFileRangeWrite);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
            _writtenBack = _stream.Position;
        }

        public async Task CloseAsync()
        {
            _writer.Close(new Dictionary<string, string> { ["fdr.format"] = ObservationSchemas.FormatVersion, ["fdr.file"] = _name });
            _writer.Dispose();
            await _stream.FlushAsync().ConfigureAwait(false);
            _stream.Flush(flushToDisk: true);
            await _stream.DisposeAsync().ConfigureAwait(false);
            _closed = true;
        }

        public void Publish() => File.Move(_temp, _final, overwrite: false);

        public void Abandon()
        {
            _writer.Dispose(); // its compressor's native memory
            try
            {
                if (!_closed) _stream.Dispose();
            }
            catch (IOException)
            {
                // The disk failed already; deleting the temp file below is all that is left to do.
            }
            try
            {
                File.Delete(_temp);
            }
            catch (IOException)
            {
            }
        }
    }
}
