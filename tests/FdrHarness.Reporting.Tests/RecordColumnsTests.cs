using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Reporting.Tests;

/// <summary>lifecycle, faults and injections decoded column by column give the row reader's records (the columns the report reads).</summary>
public sealed class RecordColumnsTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    [Fact]
    public void TheSmokeRunsRecordsAreTheRowReaders()
    {
        var reader = new ObservationReader(run.Dir);
        var lifecycle = reader.Lifecycle().Select(Read).ToList();
        var faults = reader.Faults().ToList();
        var injections = reader.Injections().Select(Read).ToList();
        Assert.NotEmpty(lifecycle);
        Assert.NotEmpty(faults);
        Assert.NotEmpty(injections);
        AssertSame(lifecycle, RecordColumns.Lifecycle(Path.Combine(run.Dir, ParquetObservationSink.LifecycleFile))!, e => e.Time);
        AssertSame(faults, RecordColumns.Faults(Path.Combine(run.Dir, ParquetObservationSink.FaultsFile))!, f => f.Start);
        AssertSame(injections, RecordColumns.Injections(Path.Combine(run.Dir, ParquetObservationSink.InjectionsFile))!, i => i.Time);
    }

    [Fact]
    public void NullsAndManyRowGroupsReadAsTheRowReaderReadsThem()
    {
        var dir = Repo.TempDir("records");
        try
        {
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            using (var sink = new ParquetObservationSink(dir, new ParquetSinkOptions { RowGroupSize = 7 }))
                for (var i = 0; i < 100; i++)
                {
                    var time = t0.AddTicks(TimeSpan.TicksPerSecond * i + i * 37);
                    sink.Lifecycle(new PodLifecycleEvent
                    {
                        Time = time, Daemon = "daemon-" + i % 3, Pod = $"pod-{i % 5}-é", Node = i % 4 == 0 ? null : "node", Event = i % 2 == 0 ? "killed" : "restarted",
                        Reason = i % 3 == 0 ? null : "chaos:" + i % 4, Restarts = i,
                    });
                    sink.Fault(new FaultRecord
                    {
                        Start = time, End = i % 3 == 0 ? null : time.AddSeconds(i), Name = "fault-" + i % 6, Kind = "pod_kill", Target = i % 2 == 0 ? "reaper" : "A->B",
                        Detail = i % 5 == 0 ? null : "detail " + i,
                    });
                    sink.Injection(new InjectionRecord { Time = time, Scope = "scope" + i % 4, Name = "file" + i, Rse = "RSE" + i % 3, Files = i, Bytes = (long)i << 33 });
                }
            var reader = new ObservationReader(dir);
            Assert.Equal(100, reader.Faults().Count());
            AssertSame(reader.Lifecycle().Select(Read).ToList(), RecordColumns.Lifecycle(Path.Combine(dir, ParquetObservationSink.LifecycleFile))!, e => e.Time);
            AssertSame(reader.Faults().ToList(), RecordColumns.Faults(Path.Combine(dir, ParquetObservationSink.FaultsFile))!, f => f.Start);
            AssertSame(reader.Injections().Select(Read).ToList(), RecordColumns.Injections(Path.Combine(dir, ParquetObservationSink.InjectionsFile))!, i => i.Time);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Equal records, and their times of the same kind (DateTime's equality does not compare kinds; the JSON shows them).</summary>
    private static void AssertSame<T>(List<T> expected, T[] actual, Func<T, DateTime> time)
    {
        Assert.Equal(expected, actual);
        Assert.Equal(expected.Select(e => time(e).Kind), actual.Select(a => time(a).Kind));
    }

    // What the decoder leaves out: the columns the report does not read.
    private static PodLifecycleEvent Read(PodLifecycleEvent e) => e with { Node = null, Restarts = 0 };
    private static InjectionRecord Read(InjectionRecord i) => i with { Name = null! };
}
