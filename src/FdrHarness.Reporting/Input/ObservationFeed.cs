using System.Collections.Concurrent;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using Parquet;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// The report's event pass fed by the run's own sink: each row group of events.parquet, as the sink's writer thread
/// wrote it, goes through the same accumulators as a row group decoded from the file, so the pass is done when the run
/// ends and the report does not decode events.parquet again. Give it to the sink
/// (<see cref="ParquetSinkOptions.Observer"/>), then to the report (<see cref="ReportOptions.Feed"/>) once the sink is
/// complete. The report takes the fed pass only when it saw exactly the row groups and rows the file holds; otherwise
/// (the run's files were not all written by this sink, a row group it could not take) the report reads the file.
/// </summary>
/// <remarks>
/// The writer thread only copies the columns the pass reads (a few MB per row group, well under a millisecond) and hands
/// them to the feed's own thread, which turns strings into ids and accumulates: the writer, which the run's producer
/// waits for, is not slowed by the pass. Two copies at most (one filled while the other is accumulated); the writer waits
/// for one only if the feed falls a row group behind.
/// </remarks>
public sealed class ObservationFeed : IObservationRowGroupObserver, IDisposable
{
    private EventPass? _events = new();
    private EventBlock _block = new();
    private readonly List<int> _groupRows = [];
    private readonly BlockingCollection<WrittenEvents> _ready = new();
    private readonly BlockingCollection<WrittenEvents> _free = new() { new WrittenEvents(), new WrittenEvents() };
    private readonly Thread _thread;
    private volatile string? _unusable;
    private bool _ended;

    public ObservationFeed()
    {
        // Its own thread, not the pool's (it blocks waiting for rows); a background one, so a run that fails before
        // ending the feed does not keep the process alive.
        _thread = new Thread(Accumulate) { IsBackground = true, Name = "fdr report feed" };
        _thread.Start();
    }

    /// <summary>Event rows accumulated (once the feed has ended: every row it was shown).</summary>
    public long EventRows { get; private set; }

    /// <summary>Whether a report took the fed pass (instead of reading events.parquet).</summary>
    public bool Fed { get; private set; }

    /// <summary>Why the report cannot take the fed pass (it then reads the file), or null.</summary>
    public string? Unusable => _unusable;

    /// <summary>The report will read the file (an interrupted or partial run, ...): the feed stops and lets its state go.</summary>
    public void Drop(string why)
    {
        _unusable ??= why;
        End();
        _events = null;
    }

    public void Dispose() => Drop("disposed");

    void IObservationRowGroupObserver.Written(ObservationRowGroup rows)
    {
        if (rows.File != ParquetObservationSink.EventsFile || _unusable is not null) return;
        try
        {
            var copy = _free.Take();
            copy.CopyFrom(rows);
            _ready.Add(copy);
        }
        catch (Exception e)
        {
            // Never the sink's failure: the report reads the file instead.
            _unusable ??= $"the fed event pass failed ({e.GetType().Name}: {e.Message})";
        }
    }

    private void Accumulate()
    {
        foreach (var rows in _ready.GetConsumingEnumerable())
        {
            try
            {
                if (_unusable is null && _events is { } events)
                {
                    if (events.Reader.FromWritten(rows, _block))
                    {
                        events.Add(_block);
                        _groupRows.Add(rows.Count);
                        EventRows += rows.Count;
                    }
                    else _unusable ??= "a string of the events would not read back from the file as it is";
                }
            }
            catch (Exception e)
            {
                _unusable ??= $"the fed event pass failed ({e.GetType().Name}: {e.Message})";
            }
            rows.Clear();
            _free.Add(rows);
        }
    }

    /// <summary>No more rows: waits for the feed's thread to accumulate what it was given.</summary>
    private void End()
    {
        if (_ended) return;
        _ended = true;
        _ready.CompleteAdding();
        _thread.Join();
        while (_free.TryTake(out _)) { }
        _ready.Dispose();
        _free.Dispose();
        _block = new EventBlock(); // its columns, and the copies with the collections, go
    }

    /// <summary>
    /// The fed pass, finished, when the run's events.parquet holds exactly the row groups (and rows in each) it was fed;
    /// null otherwise (the caller reads the file). Call once the sink is complete; the pass is handed over once.
    /// </summary>
    internal EventPass? Take(string runDir, ReportOptions options)
    {
        End();
        var events = _events;
        _events = null;
        if (_unusable is not null || events is null) return null;
        if (events.SeriesPerMinute && options.BinSeconds is { } bin && bin % 60 != 0)
        {
            _unusable = $"its series went per minute, and the report asks for bins of {bin} s";
            return null;
        }
        if (!Matches(EventColumnReader.PathIn(runDir)))
        {
            _unusable = "events.parquet does not hold the rows the sink was seen writing";
            return null;
        }
        events.Finish();
        Fed = true;
        return events;
    }

    private bool Matches(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var reader = ParquetInput.OpenReader(stream);
            try
            {
                if (reader.RowGroupCount != _groupRows.Count) return false;
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    using var group = reader.OpenRowGroupReader(g);
                    if (group.RowCount != _groupRows[g]) return false;
                }
                return true;
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception)
        {
            return false; // reading the file fails the same way, and says why
        }
    }
}
