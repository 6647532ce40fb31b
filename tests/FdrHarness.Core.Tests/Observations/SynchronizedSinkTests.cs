using FdrHarness.Core.Observations;

namespace FdrHarness.Core.Tests.Observations;

public class SynchronizedSinkTests
{
    [Fact]
    public async Task Producers_on_several_threads_lose_nothing_in_the_parquet_files()
    {
        using var tmp = new TempFolder();
        var seen = 0;
        await using (var parquet = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = 500 }))
        {
            var sink = new SynchronizedSink(new ObservedSink(parquet, _ => seen++)); // the hook runs under the lock: a plain ++ is safe
            await Task.WhenAll(
                Task.Run(() => { for (var i = 0; i < 20_000; i++) sink.Event(ObservationFixtures.Event(i)); }),
                Task.Run(() => { for (var i = 0; i < 20_000; i++) sink.Event(ObservationFixtures.Event(i, salt: 1)); }),
                Task.Run(() => { for (var i = 0; i < 5_000; i++) sink.Sample(ObservationFixtures.Sample(i)); }),
                Task.Run(() => { for (var i = 0; i < 1_000; i++) sink.Lifecycle(ObservationFixtures.Lifecycle(i)); }));
        }
        var reader = new ObservationReader(tmp.Path);
        var events = reader.Events().ToList();
        Assert.Equal(40_000, events.Count);
        Assert.Equal(40_000, seen);
        // Same rows as the producers wrote (as multisets: the fixture repeats some rows, and the interleaving is free).
        var written = Enumerable.Range(0, 20_000).SelectMany(i => new[] { ObservationFixtures.Event(i), ObservationFixtures.Event(i, salt: 1) });
        Assert.Equal(Count(written), Count(events));
        Assert.Equal(5_000, reader.Samples().Count());
        Assert.Equal(1_000, reader.Lifecycle().Count());
    }

    private static Dictionary<HermesEvent, int> Count(IEnumerable<HermesEvent> events) =>
        events.GroupBy(e => e).ToDictionary(g => g.Key, g => g.Count());
}
