using System.Collections;
using System.Runtime.InteropServices;

namespace FdrHarness.Rucio.Catalog;

/// <summary>
/// Consecutive items of a list, read in place (no copy). The items are read from the list given: it must not change while
/// the window, or results holding it, are in use.
/// </summary>
internal sealed class Window<T> : IReadOnlyList<T>
{
    private readonly IReadOnlyList<T> _source;
    private readonly int _offset;

    public Window(IReadOnlyList<T> source, int offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + count, source.Count);
        // A window of a window reads the list underneath directly.
        if (source is Window<T> w) (_source, _offset) = (w._source, w._offset + offset);
        else (_source, _offset) = (source, offset);
        Count = count;
    }

    public static Window<T> Of(IReadOnlyList<T> source) => source as Window<T> ?? new Window<T>(source, 0, source.Count);

    public int Count { get; }

    public T this[int index] => (uint)index < (uint)Count ? _source[_offset + index] : throw new ArgumentOutOfRangeException(nameof(index));

    public Window<T> Slice(int start, int count) => new(this, start, count);

    /// <summary>The items as one span when the list underneath is an array or a List (read in place).</summary>
    public bool TryGetSpan(out ReadOnlySpan<T> span)
    {
        switch (_source)
        {
            case T[] a:
                span = a.AsSpan(_offset, Count);
                return true;
            case List<T> l:
                span = CollectionsMarshal.AsSpan(l).Slice(_offset, Count);
                return true;
            default:
                span = default;
                return false;
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return _source[_offset + i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// What became of the items of a bulk operation, kept as runs: consecutive items that share one outcome (a whole chunk
/// that Rucio took is one run). Reading it gives one <see cref="ItemResult{T}"/> per item, in the order of the runs; no
/// object per item is made until it is read.
/// </summary>
public sealed class ItemResults<T> : IReadOnlyList<ItemResult<T>>
{
    /// <summary>Items that share one outcome.</summary>
    internal readonly record struct Run(Window<T> Items, Outcome Outcome, string? Reason = null, bool Transient = false)
    {
        public bool Retry => Outcome == Outcome.Failed && Transient;
    }

    private readonly Run[] _runs;
    private readonly int[] _ends; // _ends[k]: the index after run k's last item

    internal ItemResults(IEnumerable<Run> runs)
    {
        _runs = [.. runs.Where(r => r.Items.Count > 0)];
        _ends = new int[_runs.Length];
        var end = 0;
        for (var k = 0; k < _runs.Length; k++) _ends[k] = end += _runs[k].Items.Count;
        Count = end;
    }

    internal static readonly ItemResults<T> Empty = new([]);

    public int Count { get; }

    internal IReadOnlyList<Run> Runs => _runs;

    public ItemResult<T> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var k = Array.BinarySearch(_ends, index);
            k = k < 0 ? ~k : k + 1; // the first run ending after index
            var r = _runs[k];
            return new ItemResult<T>(r.Items[index - (k == 0 ? 0 : _ends[k - 1])], r.Outcome, r.Reason, r.Transient);
        }
    }

    /// <summary>Whether every item is Done or AlreadyDone.</summary>
    public bool AllOk => _runs.All(r => r.Outcome != Outcome.Failed);

    /// <summary>The items that failed, with their reasons (nothing is read for the items that did not).</summary>
    public IEnumerable<ItemResult<T>> Failures =>
        _runs.Where(r => r.Outcome == Outcome.Failed).SelectMany(r => r.Items.Select(i => new ItemResult<T>(i, r.Outcome, r.Reason, r.Transient)));

    /// <summary>Whether some items failed for a passing reason (worth another round).</summary>
    internal bool AnyToRetry => _runs.Any(r => r.Retry);

    /// <summary>The items that failed for a passing reason, in one list.</summary>
    internal T[] ToRetry()
    {
        var items = new T[_runs.Where(r => r.Retry).Sum(r => r.Items.Count)];
        var n = 0;
        foreach (var r in _runs.Where(r => r.Retry))
            for (var i = 0; i < r.Items.Count; i++) items[n++] = r.Items[i];
        return items;
    }

    /// <summary>These results with the items that failed for a passing reason replaced by what became of them when tried again.</summary>
    internal ItemResults<T> Retried(ItemResults<T> again) => new([.. _runs.Where(r => !r.Retry), .. again._runs]);

    public IEnumerator<ItemResult<T>> GetEnumerator()
    {
        foreach (var r in _runs)
            for (var i = 0; i < r.Items.Count; i++) yield return new ItemResult<T>(r.Items[i], r.Outcome, r.Reason, r.Transient);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
