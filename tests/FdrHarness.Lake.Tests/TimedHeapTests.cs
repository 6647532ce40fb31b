using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Tests;

public class TimedHeapTests
{
    [Fact]
    public void Items_leave_in_instant_then_tie_order_whatever_the_order_they_came_in()
    {
        var rng = new Random(18);
        var heap = new TimedHeap<int>();
        var expected = new List<(long At, long Tie)>();
        var popped = new List<(long At, long Tie)>();
        long tie = 0;
        // Interleaved pushes and pops, many equal instants (ticks on a grid), as the lake's queues see them.
        for (var round = 0; round < 20_000; round++)
        {
            var at = rng.Next(0, 500) * 1000L;
            heap.Enqueue(at, tie, (int)tie);
            expected.Add((at, tie));
            tie++;
            if (rng.Next(3) == 0 && heap.TryPeek(out var first, out var item))
            {
                heap.RemoveFirst();
                popped.Add((first, item));
            }
        }
        while (heap.TryPeek(out var at, out var item))
        {
            heap.RemoveFirst();
            popped.Add((at, item));
        }
        Assert.Equal(0, heap.Count);
        Assert.Equal(expected.Count, popped.Count);
        Assert.Equal(expected.OrderBy(e => e.Tie), popped.OrderBy(p => p.Tie)); // every item once, with its instant
        // What a queue gives between pushes: never an item earlier than one it already gave, unless pushed after it.
        var reference = new PriorityQueue<int, (long, long)>();
        var heap2 = new TimedHeap<int>();
        rng = new Random(2020);
        for (var i = 0; i < 50_000; i++)
        {
            var at = rng.Next(0, 100) * 1000L;
            reference.Enqueue(i, (at, i));
            heap2.Enqueue(at, i, i);
            if (rng.Next(2) == 0)
            {
                reference.TryDequeue(out var a, out _);
                heap2.TryPeek(out _, out var b);
                heap2.RemoveFirst();
                Assert.Equal(a, b);
            }
        }
        while (reference.TryDequeue(out var a, out _))
        {
            Assert.True(heap2.TryPeek(out _, out var b));
            heap2.RemoveFirst();
            Assert.Equal(a, b);
        }
        Assert.False(heap2.TryPeek(out _, out _));
    }

    [Fact]
    public void Event_queue_runs_same_instant_actions_in_scheduling_order()
    {
        var queue = new EventQueue();
        var clock = new VirtualClock();
        var ran = new List<string>();
        queue.Schedule(2000, () => ran.Add("b1"));
        queue.Schedule(1000, () => ran.Add("a1"));
        queue.Schedule(2000, () => ran.Add("b2"));
        queue.Schedule(1000, () =>
        {
            ran.Add("a2");
            queue.Schedule(1000, () => ran.Add("a3")); // scheduled for now: runs after what was already due
        });
        queue.Schedule(5000, () => ran.Add("late"));
        queue.RunUntil(clock, 3000, CancellationToken.None);
        Assert.Equal(["a1", "a2", "a3", "b1", "b2"], ran);
        Assert.Equal(3000, clock.NowMs);
        Assert.Equal(1, queue.Count);
        Assert.True(queue.TryPeekTime(out var next));
        Assert.Equal(5000, next);
    }
}
