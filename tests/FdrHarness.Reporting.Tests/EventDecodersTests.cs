using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// The event pass decodes events.parquet's row groups on several threads: the summary must be the one a single reader
/// makes, whatever the number of decoders (string ids numbered in file order, blocks handed out in file order).
/// </summary>
public sealed class EventDecodersTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    [Fact]
    public void TheSummaryDoesNotDependOnTheNumberOfDecoders()
    {
        // The smoke run's events rewritten in row groups of 97 rows, so that every decoder has many groups to read.
        var dir = Repo.TempDir("decoders");
        var scratch = Repo.TempDir("decoders-sink");
        try
        {
            foreach (var file in Directory.GetFiles(run.Dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            var events = new ObservationReader(run.Dir).Events().ToList();
            using (var sink = new ParquetObservationSink(scratch, new ParquetSinkOptions { RowGroupSize = 97 }))
                foreach (var e in events)
                    sink.Event(e);
            File.Copy(Path.Combine(scratch, ParquetObservationSink.EventsFile), Path.Combine(dir, ParquetObservationSink.EventsFile), overwrite: true);
            Assert.True(events.Count > 97 * 8, $"the smoke run has {events.Count} events: too few row groups to spread over decoders");

            var before = EventColumnReader.MaxDecoders;
            var json = new Dictionary<int, string>();
            try
            {
                foreach (var decoders in new[] { 1, 2, 3 })
                {
                    EventColumnReader.MaxDecoders = decoders;
                    json[decoders] = JsonExporter.ToJson(SummaryBuilder.Build(dir));
                }
            }
            finally
            {
                EventColumnReader.MaxDecoders = before;
            }
            Assert.Equal(json[1], json[2]);
            Assert.Equal(json[1], json[3]);
            // And the same as the file written in the sink's own row groups.
            Assert.Equal(JsonExporter.ToJson(SummaryBuilder.Build(run.Dir)), json[1]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(scratch, recursive: true);
        }
    }
}
