using FdrHarness.Core.Observations;

namespace FdrHarness.Core.Tests.Observations;

public class InjectionTallyTests
{
    private static readonly DateTime T0 = new(2020, 11, 17, 0, 0, 0, DateTimeKind.Utc);

    private sealed class Rows : IObservationSink
    {
        public readonly List<InjectionRecord> Written = [];
        public void Event(in HermesEvent e) { }
        public void Sample(in PodSample s) { }
        public void Lifecycle(in PodLifecycleEvent e) { }
        public void Fault(in FaultRecord f) { }
        public void Injection(in InjectionRecord r) => Written.Add(r);
        public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }
    }

    private static readonly (int Second, string Scope, string Name, string Rse, long Bytes)[] Files =
    [
        (5, "ska", "ds-2", "CNAF", 30), (1, "cta", "ds-1", "DESY", 10), (59, "cta", "ds-1", "DESY", 11), (61, "cta", "ds-1", "DESY", 12),
        (3, "cta", "ds-1", "CNAF", 13), (130, "noise", "noise-7", "EULAKE", 100), (62, "ska", "ds-2", "CNAF", 31),
    ];

    [Fact]
    public void Files_are_summed_per_interval_DID_and_RSE_in_one_order_whatever_order_they_came_in()
    {
        var forward = new InjectionTally(TimeSpan.FromMinutes(1));
        var backward = new InjectionTally(TimeSpan.FromMinutes(1));
        foreach (var f in Files) forward.Add(T0.AddSeconds(f.Second), f.Scope, f.Name, f.Rse, 1, f.Bytes);
        foreach (var f in Files.Reverse()) backward.Add(T0.AddSeconds(f.Second), f.Scope, f.Name, f.Rse, 1, f.Bytes);

        var rows = forward.Take();
        Assert.Equal(rows, backward.Take());
        Assert.Equal(
        [
            new InjectionRecord { Time = T0, Scope = "cta", Name = "ds-1", Rse = "CNAF", Files = 1, Bytes = 13 },
            new InjectionRecord { Time = T0, Scope = "cta", Name = "ds-1", Rse = "DESY", Files = 2, Bytes = 21 },
            new InjectionRecord { Time = T0, Scope = "ska", Name = "ds-2", Rse = "CNAF", Files = 1, Bytes = 30 },
            new InjectionRecord { Time = T0.AddMinutes(1), Scope = "cta", Name = "ds-1", Rse = "DESY", Files = 1, Bytes = 12 },
            new InjectionRecord { Time = T0.AddMinutes(1), Scope = "ska", Name = "ds-2", Rse = "CNAF", Files = 1, Bytes = 31 },
            new InjectionRecord { Time = T0.AddMinutes(2), Scope = "noise", Name = "noise-7", Rse = "EULAKE", Files = 1, Bytes = 100 },
        ], rows);
        Assert.Empty(forward.Take()); // taken once
    }

    [Fact]
    public void A_forward_producer_streams_each_interval_once_the_next_begins()
    {
        var sink = new Rows();
        var tally = new InjectionTally(TimeSpan.FromMinutes(1), sink);
        foreach (var f in Files.OrderBy(f => f.Second)) 
        {
            tally.Add(T0.AddSeconds(f.Second), f.Scope, f.Name, f.Rse, 1, f.Bytes);
            // Nothing of the interval the producer is in is written yet.
            Assert.All(sink.Written, r => Assert.True(r.Time < T0.AddSeconds(f.Second - f.Second % 60)));
        }
        Assert.Equal(5, sink.Written.Count);
        tally.Flush();
        Assert.Equal(6, sink.Written.Count);
        Assert.Equal(Files.Length, sink.Written.Sum(r => r.Files));
        Assert.Equal(Files.Sum(f => f.Bytes), sink.Written.Sum(r => r.Bytes));
        Assert.True(sink.Written.Zip(sink.Written.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void A_DID_the_catalog_does_not_hold_can_be_left_out()
    {
        var tally = new InjectionTally(TimeSpan.FromMinutes(1));
        foreach (var f in Files) tally.Add(T0.AddSeconds(f.Second), f.Scope, f.Name, f.Rse, 1, f.Bytes);
        Assert.Equal(4, tally.FilesByDid()[("cta", "ds-1")]);
        Assert.Equal(4, tally.Remove("cta", "ds-1"));
        Assert.Equal(0, tally.Remove("cta", "ds-1"));
        Assert.DoesNotContain(tally.Take(), r => r.Name == "ds-1");
        Assert.Throws<InvalidOperationException>(() => tally.Flush());
    }
}
