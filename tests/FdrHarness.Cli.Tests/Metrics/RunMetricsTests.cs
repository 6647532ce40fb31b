using FdrHarness.Lake;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Execution;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using FdrHarness.Cli.Commands;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Cli.Tests.Metrics;

/// <summary>The live metrics of `fdr run --metrics-port`: what is served over HTTP against what the run's files say.</summary>
public sealed class RunMetricsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-metrics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Core.Scenarios.Model.Scenario Smoke() => ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml")).Scenario!;

    /// <summary>Prometheus' text format: "name{labels} value" lines, comments skipped.</summary>
    internal static List<(string Name, Dictionary<string, string> Labels, double Value)> Parse(string text)
    {
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var name = brace >= 0 ? line[..brace] : line[..space];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
                foreach (var pair in line[(brace + 1)..line.LastIndexOf('}')].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..eq]] = pair[(eq + 2)..].TrimEnd('"');
                }
            samples.Add((name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    private static double Sum(IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> samples, string name, string? label = null, string? value = null) =>
        samples.Where(s => s.Name == name && (label is null || s.Labels.GetValueOrDefault(label) == value)).Sum(s => s.Value);

    [Fact]
    public async Task TheListedNamesAreExactlyTheExportedOnes()
    {
        var metrics = new RunMetrics(Smoke());
        metrics.Event(new HermesEvent { EventType = "transfer-done", SrcRse = "A", DstRse = "B", Bytes = 10 });
        metrics.Event(new HermesEvent { EventType = "deletion-done", Rse = "A", Bytes = 10 });
        metrics.Sample(new PodSample { Daemon = "reaper", Pod = "reaper-0", State = "Running" });
        metrics.Lifecycle(new PodLifecycleEvent { Daemon = "reaper", Pod = "reaper-0", Event = "killed" });
        metrics.Fault(new FaultRecord { Name = "kill", Kind = "pod_kill", Target = "reaper" });
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);

        var exported = System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n')
            .Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).Order(StringComparer.Ordinal);
        Assert.Equal(RunMetrics.Names.Order(StringComparer.Ordinal), exported);
    }

    [Fact]
    public async Task AScrapeAfterAnEmbeddedRunCountsWhatRunJsonAndTheEventFileSay()
    {
        var scenario = Smoke();
        var metrics = new RunMetrics(scenario);
        using var endpoint = MetricsEndpoint.Start(metrics, 0);
        var runDir = Path.Combine(_dir, "run");
        var exit = await Rehearsal.RunAsync(RunPlan.Create(scenario), new EmbeddedTarget(), new RehearsalOptions { OutDir = runDir, Metrics = metrics },
            TextWriter.Null, TextWriter.Null, CancellationToken.None);
        metrics.Finished(exit);

        using var http = new HttpClient();
        var samples = Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{endpoint.Port}/metrics")));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")))!["summary"]!;

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal((double)summary[RunCounters.FilesInjected]!, Sum(samples, "fdr_files_injected_total"));
        Assert.Equal((double)summary[RunCounters.Events]!, Sum(samples, "fdr_events_total"));
        Assert.Equal((double)summary[RunCounters.TransfersSubmitted]!, Sum(samples, "fdr_transfers_total", "state", "submitted"));
        Assert.Equal((double)summary[RunCounters.TransfersDone]!, Sum(samples, "fdr_transfers_total", "state", "done"));
        Assert.Equal((double)summary[RunCounters.TransfersFailed]!, Sum(samples, "fdr_transfers_total", "state", "failed"));
        Assert.True(Sum(samples, "fdr_transfers_total", "state", "done") > 0);

        // Per link and per RSE, recomputed from events.parquet and faults.parquet.
        var reader = new ObservationReader(runDir);
        var events = reader.Events().ToList();
        foreach (var link in events.Where(e => e.EventType == "transfer-done").GroupBy(e => (e.SrcRse, e.DstRse)))
        {
            var served = samples.Where(s => s.Name == "fdr_transfers_total" && s.Labels["state"] == "done"
                && s.Labels["src_rse"] == link.Key.SrcRse && s.Labels["dst_rse"] == link.Key.DstRse).Sum(s => s.Value);
            Assert.Equal(link.Count(), served);
            var bytes = samples.Single(s => s.Name == "fdr_transferred_bytes_total" && s.Labels["src_rse"] == link.Key.SrcRse && s.Labels["dst_rse"] == link.Key.DstRse);
            Assert.Equal(link.Sum(e => e.Bytes ?? 0), bytes.Value);
        }
        foreach (var rse in events.Where(e => e.EventType == "deletion-done").GroupBy(e => e.Rse!))
            Assert.Equal(rse.Count(), samples.Single(s => s.Name == "fdr_deletions_total" && s.Labels["rse"] == rse.Key).Value);
        var faults = reader.Faults().ToList();
        Assert.NotEmpty(faults);
        Assert.Equal(faults.Count, Sum(samples, "fdr_chaos_actions_total"));
        Assert.Equal(reader.Lifecycle().Count(), Sum(samples, "fdr_pod_events_total"));

        // The end: progress complete, exit code, both thresholds of ci-smoke met.
        Assert.Equal(1, Sum(samples, "fdr_run_progress_ratio"));
        Assert.Equal(1, Sum(samples, "fdr_run_finished"));
        Assert.Equal(0, Sum(samples, "fdr_run_exit_code"));
        var thresholds = samples.Where(s => s.Name == "fdr_threshold_state").ToList();
        Assert.Equal(scenario.Thresholds.Count, thresholds.Count);
        Assert.All(thresholds, t => Assert.Equal(1, t.Value));
        // The planned injection reaches the inject phase's total (2,500 files); noise files come on top of it.
        Assert.Equal(2500, Sum(samples, "fdr_injection_planned_files"));
    }

    [Fact]
    public async Task WaitingForScrapesFollowsTheScrapesServed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var endpoint = MetricsEndpoint.Start(new RunMetrics(Smoke()), 0, time);
        using var http = new HttpClient();
        var url = new Uri($"http://127.0.0.1:{endpoint.Port}/metrics");

        var two = endpoint.WaitForScrapesAsync(2, TimeSpan.FromMinutes(1), CancellationToken.None);
        await http.GetStringAsync(url);
        Assert.Equal(1, endpoint.Scrapes);
        Assert.False(two.IsCompleted);
        await http.GetStringAsync(url);
        Assert.True(await two);

        // Nobody scrapes: the wait ends when its time is up, on the provider's clock.
        var three = endpoint.WaitForScrapesAsync(3, TimeSpan.FromMinutes(1), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(three.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await three);
    }

    [Fact]
    public void APortInUseIsExit2WithOneLine()
    {
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var out1 = Path.Combine(_dir, "not-written");

        var code = FdrApp.Run(["run", RepoPaths.Scenario("ci-smoke.yaml"), "--out", out1, "--metrics-port", port.ToString(CultureInfo.InvariantCulture)], stdout, stderr);

        Assert.Equal(ExitCodes.InvalidInput, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"fdr run: --metrics-port {port}: cannot listen", line);
        Assert.False(Directory.Exists(out1));
    }

    [Theory]
    [InlineData("--metrics-port", "70000", "expected a TCP port")]
    [InlineData("--metrics-port", "http", "expected a TCP port")]
    [InlineData("--metrics-wait", "soon", "expected a duration")]
    public void BadMetricsOptionsAreExit2(string option, string value, string message)
    {
        var stderr = new StringWriter();
        var code = FdrApp.Run(["run", RepoPaths.Scenario("ci-smoke.yaml"), "--out", Path.Combine(_dir, "x"), option, value], TextWriter.Null, stderr);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains(message, stderr.ToString());
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public async Task WhateverABrokerSendsTheSeriesStayBounded()
    {
        var metrics = new RunMetrics(Smoke());
        for (var i = 0; i < 2000; i++)
        {
            metrics.Event(new HermesEvent { EventType = "made-up-" + i, Rse = "R" + i });
            metrics.Event(new HermesEvent { EventType = "transfer-done", SrcRse = "S" + i, DstRse = "D" + i, Bytes = 1 });
            metrics.Event(new HermesEvent { EventType = "deletion-done", Rse = "X" + i, Bytes = 1 });
        }
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        var samples = Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));

        Assert.InRange(samples.Count(s => s.Name == "fdr_events_total"), 2, 501);
        Assert.InRange(samples.Count(s => s.Name == "fdr_transfers_total"), 1, 501);
        Assert.InRange(samples.Count(s => s.Name == "fdr_deletions_total"), 1, 501);
        // Nothing is lost: what has no series of its own is counted under "other".
        Assert.Equal(6000, Sum(samples, "fdr_events_total"));
        Assert.Equal(2000, Sum(samples, "fdr_transfers_total"));
        Assert.Equal(2000, Sum(samples, "fdr_transferred_bytes_total"));
        Assert.True(Sum(samples, "fdr_events_total", "event_type", "other") > 0);
    }
}
