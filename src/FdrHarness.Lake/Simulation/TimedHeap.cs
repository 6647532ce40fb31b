namespace FdrHarness.Lake.Simulation;

/// <summary>
/// A min-heap of items keyed by (instant, tie-breaker), the pair unique per item, so the order items leave in is fixed
/// by the keys alone (the same as any other priority queue's). A 4-ary heap in one struct array: no tuple comparer, no
/// separate node array; FTS's running transfers are popped hundreds of thousands of times.
/// </summary>
internal sealed class TimedHeap<T>
{
    private struct Entry
    {
        public long At;
        public long Tie;
        public T Item;
    }

    private Entry[] _heap = new Entry[64];
    private int _count;

    public int Count => _count;

    public void Enqueue(long at, long tie, T item)
    {
        if (_count == _heap.Length)
        {
            // Array.Copy, not Array.Resize: Resize over Entry is compiled at run time (not in the ReadyToRun image).
            var grown = new Entry[_count * 2];
            Array.Copy(_heap, grown, _count);
            _heap = grown;
        }
        var heap = _heap;
        // Sift up: parents move down until the new entry's place is found.
        var i = _count++;
        while (i > 0)
        {
            var parent = (i - 1) >> 2;
            ref var p = ref heap[parent];
            if (p.At < at || (p.At == at && p.Tie < tie)) break;
            heap[i] = p;
            i = parent;
        }
        heap[i] = new Entry { At = at, Tie = tie, Item = item };
    }

    /// <summary>The earliest entry's instant and item, if any.</summary>
    public bool TryPeek(out long at, out T item)
    {
        if (_count > 0)
        {
            at = _heap[0].At;
            item = _heap[0].Item;
            return true;
        }
        at = 0;
        item = default!;
        return false;
    }

    /// <summary>Removes the earliest entry (the one <see cref="TryPeek"/> gave).</summary>
    public void RemoveFirst()
    {
        var heap = _heap;
        var last = --_count;
        var moving = heap[last];
        heap[last] = default; // no reference kept to an item that left
        if (last == 0) return;
        // Sift the last entry down from the root.
        var i = 0;
        while (true)
        {
            var first = (i << 2) + 1;
            if (first >= last) break;
            var best = first;
            var end = Math.Min(first + 4, last);
            for (var c = first + 1; c < end; c++)
            {
                ref var e = ref heap[c];
                ref var b = ref heap[best];
                if (e.At < b.At || (e.At == b.At && e.Tie < b.Tie)) best = c;
            }
            ref var m = ref heap[best];
            if (moving.At < m.At || (moving.At == m.At && moving.Tie < m.Tie)) break;
            heap[i] = m;
            i = best;
        }
        heap[i] = moving;
    }
}
