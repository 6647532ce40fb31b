using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Reporting.Tests;

/// <summary>samples.parquet decoded column by column gives the samples the generic row reader gives.</summary>
public sealed class SampleColumnsTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    [Fact]
    public void TheSmokeRunsSamplesAreTheRowReaders()
    {
        var path = Path.Combine(run.Dir, ParquetObservationSink.SamplesFile);
        var expected = new ObservationReader(run.Dir).Samples().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, SampleColumns.Batches(path)!.SelectMany(b => b).ToList());
    }

    [Fact]
    public void NullsNaNAndManyRowGroupsReadAsTheRowReaderReadsThem()
    {
        var dir = Repo.TempDir("samples");
        try
        {
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var random = new Random(7);
            var samples = Enumerable.Range(0, 500).Select(i => new PodSample
            {
                Time = t0.AddTicks(15 * TimeSpan.TicksPerSecond * (i / 5) + random.Next(0, 10_000)), Daemon = "daemon-" + i % 3, Pod = $"pod-{i % 5}-é",
                Node = i % 4 == 0 ? null : "node-" + i % 2, State = i % 7 == 0 ? "Pending" : "Running",
                CpuCores = i % 11 == 0 ? double.NaN : random.NextDouble() * 4, MemoryBytes = random.NextInt64(0, 1L << 40),
                CpuRequest = i % 3 == 0 ? null : 0.5, CpuLimit = i % 5 == 0 ? null : random.NextDouble(), MemoryRequest = i % 2 == 0 ? null : 1L << 30,
                MemoryLimit = i % 6 == 0 ? null : random.NextInt64(1, 1L << 34), Restarts = i % 4, Backlog = random.NextInt64(0, 10_000),
            }).ToList();
            using (var sink = new ParquetObservationSink(dir, new ParquetSinkOptions { RowGroupSize = 37 }))
                foreach (var s in samples)
                    sink.Sample(s);
            var path = Path.Combine(dir, ParquetObservationSink.SamplesFile);
            var rows = new ObservationReader(dir).Samples().ToList();
            Assert.Equal(samples.Count, rows.Count);
            Assert.Equal(rows, SampleColumns.Batches(path)!.SelectMany(b => b).ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
