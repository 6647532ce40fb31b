using FdrHarness.Cli.Commands;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Lake;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// `fdr run` builds its report from its events as the sink wrote them (not decoding events.parquet again): that report
/// must be, byte for byte, the one `fdr report` makes from the run's files; a run that did not finish reads its files.
/// </summary>
public sealed class RunReportFeedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-feed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Core.Scenarios.Model.Scenario Smoke() => ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml")).Scenario!;

    /// <summary>The run's inputs to a report (observations, scenario.yaml, run.json) copied to a new folder, reported there by `fdr report`.</summary>
    private string ReportOfACopy(string runDir, int? expectedExit)
    {
        var copy = Path.Combine(_dir, Path.GetFileName(runDir) + "-report");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(runDir).Where(f => f.EndsWith(".parquet", StringComparison.Ordinal)
            || Path.GetFileName(f) is RunDirectory.ScenarioFile or RunDirectory.RunFile))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var stderr = new StringWriter();
        var exit = FdrApp.Run(["report", copy], new StringWriter(), stderr);
        Assert.True(exit == (expectedExit ?? exit) && exit is ExitCodes.Success or ExitCodes.ThresholdsFailed, $"fdr report: exit {exit}: {stderr}");
        return copy;
    }

    /// <summary>Every file the report wrote (report.html, report.md, summary.json, the CSVs, plots/, thresholds.junit.xml) is the same in both folders.</summary>
    private static void SameReport(string run, string report)
    {
        static bool ReportFile(string relative) => !relative.EndsWith(".parquet", StringComparison.Ordinal)
            && relative is not RunDirectory.ScenarioFile and not RunDirectory.RunFile;
        var written = Directory.GetFiles(run, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(run, f)).Where(ReportFile).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(written, Directory.GetFiles(report, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(report, f)).Where(ReportFile).Order(StringComparer.Ordinal));
        foreach (var name in new[] { "summary.json", "report.md", "report.html", "transfer-matrix.csv", "thresholds.junit.xml" })
            Assert.Contains(name, written);
        foreach (var relative in written)
            Assert.True(File.ReadAllBytes(Path.Combine(run, relative)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(report, relative))), $"{relative} differs");
    }

    [Fact]
    public async Task TheRunsReportFromItsFedEventsIsTheReportOfItsFiles()
    {
        var feed = new ObservationFeed();
        var runDir = Path.Combine(_dir, "run");

        var exit = await Rehearsal.RunAsync(RunPlan.Create(Smoke()), new EmbeddedTarget(), new RehearsalOptions { OutDir = runDir, Quiet = true, ReportFeed = feed },
            TextWriter.Null, TextWriter.Null, CancellationToken.None);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.True(feed.Fed, feed.Unusable); // the report did not read events.parquet
        Assert.Equal(new ObservationReader(runDir).Events().LongCount(), feed.EventRows);
        SameReport(runDir, ReportOfACopy(runDir, ExitCodes.Success));
    }

    [Fact]
    public void TheRunsReportFromItsScenarioInMemoryIsTheReportOfItsScenarioYaml()
    {
        // fdr run hands its scenario to the report; fdr report reads scenario.yaml. Changed by --scale and --set here, with
        // numbers that a rounding writer would not give back exactly.
        var runDir = Path.Combine(_dir, "changed");
        var stderr = new StringWriter();

        var exit = FdrApp.Run(["run", RepoPaths.Scenario("ci-smoke.yaml"), "--scale", "0.37", "--seed", "11", "--set", "daemons.rucio-server.limits.memory=1.3Gi",
            "--set", "links.bandwidth_factor=0.77", "--out", runDir, "-q"], new StringWriter(), stderr);

        Assert.True(exit is ExitCodes.Success or ExitCodes.ThresholdsFailed, $"fdr run: exit {exit}: {stderr}");
        SameReport(runDir, ReportOfACopy(runDir, exit));
    }

    [Fact]
    public async Task AnInterruptedRunsReportIsReadFromItsFiles()
    {
        var feed = new ObservationFeed();
        var runDir = Path.Combine(_dir, "interrupted");
        using var interrupt = new CancellationTokenSource();

        var exit = await Rehearsal.RunAsync(RunPlan.Create(Smoke()), new StopsAfterEvents(new EmbeddedTarget(), 5_000, interrupt),
            new RehearsalOptions { OutDir = runDir, Quiet = true, ReportFeed = feed }, TextWriter.Null, TextWriter.Null, interrupt.Token);

        Assert.Equal(ExitCodes.Interrupted, exit);
        Assert.False(feed.Fed);
        Assert.Equal("the run did not finish", feed.Unusable);
        Assert.InRange(new ObservationReader(runDir).Events().LongCount(), 5_000, long.MaxValue);
        SameReport(runDir, ReportOfACopy(runDir, expectedExit: null)); // its verdict is in thresholds.junit.xml, compared too
    }

    /// <summary>The lake, interrupted (as by Ctrl-C) once it has written <paramref name="events"/> events.</summary>
    private sealed class StopsAfterEvents(IRehearsalTarget inner, int events, CancellationTokenSource interrupt) : IRehearsalTarget
    {
        public string Kind => inner.Kind;

        public Task<TargetOutcome> ExecuteAsync(RunPlan plan, RehearsalContext context, CancellationToken ct) =>
            inner.ExecuteAsync(plan, context with { Sink = new Counting(context.Sink, events, interrupt) }, ct);

        private sealed class Counting(IObservationSink sink, int limit, CancellationTokenSource interrupt) : IObservationSink
        {
            private int _events;

            public void Event(in HermesEvent e)
            {
                sink.Event(e);
                if (++_events == limit) interrupt.Cancel();
            }

            public void Sample(in PodSample s) => sink.Sample(s);
            public void Lifecycle(in PodLifecycleEvent e) => sink.Lifecycle(e);
            public void Fault(in FaultRecord f) => sink.Fault(f);
            public void Injection(in InjectionRecord r) => sink.Injection(r);
            public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) => sink.ApiLatency(rows);
        }
    }
}
