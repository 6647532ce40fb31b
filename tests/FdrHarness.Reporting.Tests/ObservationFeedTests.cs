using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// The report's event pass fed by the run's sink as it writes events.parquet: the summary must be the one read from the
/// file, and whenever the feed did not see what the file holds, the report reads the file.
/// </summary>
public sealed class ObservationFeedTests(SmokeRun run) : IClassFixture<SmokeRun>, IDisposable
{
    private readonly List<string> _dirs = [];

    public void Dispose()
    {
        foreach (var dir in _dirs)
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// A copy of the smoke run whose events.parquet is written anew from <paramref name="events"/> by a sink that shows
    /// its row groups (97 rows each: many) to <paramref name="feed"/>.
    /// </summary>
    private string Rewritten(string name, IEnumerable<HermesEvent> events, ObservationFeed feed)
    {
        var dir = Repo.TempDir(name);
        _dirs.Add(dir);
        foreach (var file in Directory.GetFiles(run.Dir).Where(f => !f.EndsWith(ParquetObservationSink.EventsFile, StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        var scratch = Path.Combine(dir, "sink");
        using (var sink = new ParquetObservationSink(scratch, new ParquetSinkOptions { RowGroupSize = 97, Observer = feed }))
            foreach (var e in events)
                sink.Event(e);
        File.Move(Path.Combine(scratch, ParquetObservationSink.EventsFile), Path.Combine(dir, ParquetObservationSink.EventsFile));
        Directory.Delete(scratch, recursive: true);
        return dir;
    }

    private List<HermesEvent> Events() => new ObservationReader(run.Dir).Events().ToList();

    private static string Json(string dir, ReportOptions? options = null) => JsonExporter.ToJson(SummaryBuilder.Build(dir, options));

    [Fact]
    public void TheFedPassGivesTheSummaryReadFromTheFile()
    {
        using var feed = new ObservationFeed();
        var events = Events();
        var dir = Rewritten("feed", events, feed);

        var fed = Json(dir, new ReportOptions { Feed = feed });

        Assert.True(feed.Fed, feed.Unusable);
        Assert.Equal(events.Count, feed.EventRows);
        Assert.Equal(Json(dir), fed);
        Assert.Equal(Json(run.Dir), fed); // and the sink's own row groups give it too
    }

    [Fact]
    public void AFeedThatSawOtherRowsThanTheFileHoldsIsNotTaken()
    {
        // The feed saw half of the events; the folder's file holds them all (as if another writer's file were there).
        using var feed = new ObservationFeed();
        var events = Events();
        var dir = Rewritten("feed-half", events.Take(events.Count / 2), feed);

        File.Copy(Path.Combine(run.Dir, ParquetObservationSink.EventsFile), Path.Combine(dir, ParquetObservationSink.EventsFile), overwrite: true);

        var summary = Json(dir, new ReportOptions { Feed = feed });

        Assert.False(feed.Fed);
        Assert.Contains("events.parquet does not hold the rows", feed.Unusable);
        Assert.Equal(Json(run.Dir), summary);
    }

    [Fact]
    public void AStringTheFileCannotHoldAsItIsMakesTheReportReadTheFile()
    {
        // A lone surrogate is written to the file as UTF-8's replacement character: the file's scope is not the
        // producer's string, and the report is the file's.
        using var feed = new ObservationFeed();
        var events = Events();
        var index = events.FindIndex(e => e.Scope is not null);
        events[index] = events[index] with { Scope = events[index].Scope + "\uD800" };
        var dir = Rewritten("feed-surrogate", events, feed);

        var summary = Json(dir, new ReportOptions { Feed = feed });

        Assert.False(feed.Fed);
        Assert.Contains("would not read back", feed.Unusable);
        Assert.Equal(Json(dir), summary);
        Assert.Contains(new ObservationReader(dir).Events().Select(e => e.Scope), s => s is not null && s.EndsWith('\uFFFD'));
    }

    [Fact]
    public void ANameIsFedAsTheFileHoldsIt()
    {
        // Names reach the feed as the UTF-8 bytes the sink writes: a lone surrogate is the file's replacement
        // character on both paths, so the fed pass is taken and counts the name as the file does.
        using var feed = new ObservationFeed();
        var events = Events();
        var index = events.FindIndex(e => e.Name is not null);
        events[index] = events[index] with { Name = events[index].Name + "\uD800" };
        var dir = Rewritten("feed-name-surrogate", events, feed);

        var summary = Json(dir, new ReportOptions { Feed = feed });

        Assert.True(feed.Fed, feed.Unusable);
        Assert.Equal(Json(dir), summary);
        Assert.Contains(new ObservationReader(dir).Events().Select(e => e.Name), s => s is not null && s.EndsWith('\uFFFD'));
    }

    [Fact]
    public void AReportAskingForBinsOfSecondsReadsTheFileWhenTheFedSeriesWentPerMinute()
    {
        // The smoke run is 2 h long: the fed series go per minute, which bins of 45 s cannot be made from.
        using var feed = new ObservationFeed();
        var dir = Rewritten("feed-bins", Events(), feed);

        var options = new ReportOptions { BinSeconds = 45 };
        var summary = Json(dir, options with { Feed = feed });

        Assert.False(feed.Fed);
        Assert.Contains("bins of 45 s", feed.Unusable);
        Assert.Equal(Json(dir, options), summary);
        Assert.Equal(45, (double)System.Text.Json.Nodes.JsonNode.Parse(summary)!["over_time"]!["bin_seconds"]!);
    }

    [Fact]
    public void ADroppedFeedIsNotTaken()
    {
        using var feed = new ObservationFeed();
        var dir = Rewritten("feed-dropped", Events(), feed);

        feed.Drop("the run did not finish");

        Assert.Equal(Json(dir), Json(dir, new ReportOptions { Feed = feed }));
        Assert.False(feed.Fed);
        Assert.Equal("the run did not finish", feed.Unusable);
    }
}

/// <summary>Series kept per minute sum into whole-minute bins as the same series kept per second do.</summary>
public sealed class PerSecondTests
{
    [Fact]
    public void SeriesFoldedIntoMinutesBinAsPerSecond()
    {
        var random = new Random(18);
        var perSecond = new PerSecond();
        var folded = new PerSecond();
        const long origin = 63_699_999_960; // seconds since year 1: late 2019, a whole minute
        var adds = Enumerable.Range(0, 20_000).Select(_ => (Second: origin + random.NextInt64(-300, 3 * 86_400), Value: random.NextInt64(0, 5_000_000_000))).ToList();
        for (var i = 0; i < adds.Count; i++)
        {
            if (i == adds.Count / 3) folded.ToMinutes(); // the rest is added per minute
            perSecond.Add(adds[i].Second, adds[i].Value);
            folded.Add(adds[i].Second, adds[i].Value);
        }
        Assert.True(folded.Minutes);
        Assert.False(perSecond.Minutes);

        foreach (var (start, bin) in new[] { (origin - 600, 60.0), (origin - 300, 600.0), (origin - 3_600, 3_600.0), (origin, 86_400.0), (origin + 7_200, 120.0) })
        {
            var bins = (int)(4 * 86_400 / bin);
            Assert.Equal(perSecond.Bin(start, bin, bins), folded.Bin(start, bin, bins));
        }
        Assert.Throws<InvalidOperationException>(() => folded.Bin(origin, 45, 10));
        Assert.Throws<InvalidOperationException>(() => folded.Bin(origin + 30, 60, 10));
    }
}
