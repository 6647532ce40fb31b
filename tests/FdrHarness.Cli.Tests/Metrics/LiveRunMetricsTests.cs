using System.Text.Json.Nodes;
using FdrHarness.Cli.Metrics;
using FdrHarness.Cli.Commands;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Tests;

namespace FdrHarness.Cli.Tests.Metrics;

/// <summary>The live metrics on a live run against the in-test Rucio: files, operations and retries as the run's files count them.</summary>
public sealed class LiveRunMetricsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-live-metrics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Yaml = """
        run: {name: live-metrics, seed: 7, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}, SAFE: {}}
        rses:
          MOCK:   {storage: dcache, quota: 1 TB, attributes: {QOS: FAST}}
          SAFE-1: {storage: eos, quota: 1 TB, attributes: {QOS: SAFE}}
        experiments:
          CTA: {files: 600, file_size: 1 MB, files_per_dataset: 100, qos: FAST}
        workload:
          - inject: {name: inject, load: [{inject: {rate: 300, interval: 1s, during: 2s}}]}
          - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE, lifetime: 1h, notify: C}}
        target:
          kind: rucio
          rucio:
            url: http://127.0.0.1:1
            account: root
            batch_size: 50
            concurrency: 4
            auth: {method: userpass, username: ddmlab, password_env: FAKE_PW}
        """;

    [Fact]
    public async Task FilesOperationsAndRetriesEqualRunJsonAndTheApiLatencyTable()
    {
        await using var server = await DoubleWorld.StartAsync();
        // Two 429s on the first calls after authentication: retried, counted as retries.
        server.Faults.Enqueue(Fault.Status429);
        server.Faults.Enqueue(Fault.Status429);
        var scenario = ScenarioLoader.Parse(Yaml).Scenario!;
        var metrics = new RunMetrics(scenario);
        var outDir = Path.Combine(_dir, "run");
        LiveRunView? seen = null;

        var (target, connected) = await RucioTarget.ConnectAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url, Env = n => n == "FAKE_PW" ? server.Password : null, WaitForDuration = false,
            Started = v => { seen = v; metrics.Watch(v); },
        }, TextWriter.Null, TextWriter.Null, CancellationToken.None);
        Assert.Equal(ExitCodes.Success, connected);
        int exit;
        using (target)
            exit = await Rehearsal.RunAsync(RunPlan.Create(scenario), target!, new RehearsalOptions { OutDir = outDir, Metrics = metrics },
                TextWriter.Null, TextWriter.Null, CancellationToken.None);
        metrics.Finished(exit);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.NotNull(seen);

        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        var samples = RunMetricsTests.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));
        double Value(string name, params (string Label, string Value)[] labels) =>
            samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Label) == l.Value)).Sum(s => s.Value);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "run.json")))!["summary"]!;
        Assert.Equal(600, (double)summary[RunCounters.FilesInjected]!);
        Assert.Equal((double)summary[RunCounters.FilesInjected]!, Value("fdr_files_injected_total"));
        Assert.Equal((double)summary[RunCounters.ApiCalls]!, Value("fdr_operations_total") - LoadOperations(samples));
        Assert.Equal((double)summary[RunCounters.ApiFailed]!, Value("fdr_operations_total", ("result", "failed")) - LoadOperations(samples, "failed"));

        // Every row of api-latency.csv (Rucio calls, then the load engine's batches as load:NAME) in the metrics.
        var rows = File.ReadAllLines(Path.Combine(outDir, "api-latency.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Contains(rows, r => r[0] == "add_replicas");
        Assert.True(rows.Sum(r => long.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)) > 0, "two 429s were answered, so something was retried");
        foreach (var r in rows)
        {
            var op = r[0].StartsWith("load:", StringComparison.Ordinal) ? r[0]["load:".Length..] : r[0];
            Assert.Equal(double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture), Value("fdr_operations_total", ("operation", op), ("result", "ok")));
            Assert.Equal(double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture), Value("fdr_operations_total", ("operation", op), ("result", "failed")));
            Assert.Equal(double.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture), Value("fdr_operation_retries_total", ("operation", op)));
            Assert.Equal(double.Parse(r[5], System.Globalization.CultureInfo.InvariantCulture), Value("fdr_operations_late_total", ("operation", op)));
        }
        Assert.True(Value("fdr_run_elapsed_seconds") > 0);
        Assert.Equal(1, Value("fdr_run_finished"));
        Assert.Equal(1, Value("fdr_run_info", ("target", "rucio")));
    }

    /// <summary>The load engine's operations (inject:register and the like): counted by LoadStats, not among the API calls.</summary>
    private static double LoadOperations(List<(string Name, Dictionary<string, string> Labels, double Value)> samples, string? result = null) =>
        samples.Where(s => s.Name == "fdr_operations_total" && s.Labels["operation"].Contains(':', StringComparison.Ordinal)
            && (result is null || s.Labels["result"] == result)).Sum(s => s.Value);
}
