using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// A live run's injections.parquet holds what Rucio confirmed, nothing more: its files per dataset and RSE are the
/// double's catalog (files attached to the run's datasets, by the RSE of their replica), under faults that lose answers
/// after the server applied the call, and when Rucio refuses a bulk for good.
/// </summary>
[Collection(nameof(LiveRunTests))]
public sealed class InjectionRecordTests
{
    private const string Yaml = """
        run: {name: live-injections, seed: 11, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}}
        rses:
          MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
          MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
        experiments:
          CTA: {files: 600, file_size: 1 MB, files_per_dataset: 50, qos: FAST}
        workload:
          - inject: {name: inject, load: [{inject: {rate: 300, interval: 1s, during: 2s}}]}
        target:
          kind: rucio
          rucio:
            url: http://127.0.0.1:1
            account: root
            batch_size: 40
            concurrency: 4
            auth: {method: userpass, username: ddmlab, password_env: DOUBLE_PW}
        """;

    private static async Task<(RucioDouble Rucio, Scenario Scenario)> LakeAsync()
    {
        var r = ScenarioLoader.Parse(Yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var rucio = await RucioDouble.StartAsync();
        rucio.AddLake(r.Scenario!);
        return (rucio, r.Scenario!);
    }

    private static Task<LiveHarness.Run> RunAsync(RucioDouble server, Scenario scenario, Action<LiveRunView>? started = null) =>
        LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "DOUBLE_PW" ? server.Password : null,
            WaitForDuration = false,
            TuneClient = o => o with { AttemptTimeout = TimeSpan.FromMilliseconds(400), RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 8 },
            OperationRetryDelay = TimeSpan.FromMilliseconds(10),
            Started = started,
        });

    /// <summary>Files attached to each dataset, by the RSE of their replica: what the double holds.</summary>
    private static SortedDictionary<string, long> Held(CatalogSnapshot s)
    {
        var held = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (parent, child) in s.Contents.Where(c => s.Dids[c.Child] == DidKind.File))
            foreach (var (_, rse) in s.Replicas.Where(r => r.Did == child))
                held[$"{parent} {rse}"] = held.GetValueOrDefault($"{parent} {rse}") + 1;
        return held;
    }

    private static SortedDictionary<string, long> Recorded(IEnumerable<InjectionRecord> rows)
    {
        var recorded = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in rows) recorded[$"{r.Scope}:{r.Name} {r.Rse}"] = recorded.GetValueOrDefault($"{r.Scope}:{r.Name} {r.Rse}") + r.Files;
        return recorded;
    }

    [Fact]
    public async Task Under_faults_that_lose_answers_every_file_Rucio_holds_is_recorded_once()
    {
        var (server, scenario) = await LakeAsync();
        await using var _ = server;
        server.FaultPlan = new FaultPlan { Rate = 0.15, Seed = 3, Kinds = [Fault.Status500, Fault.Status503, Fault.Reset, Fault.ResetAfterApply, Fault.Timeout] };
        var run = await RunAsync(server, scenario);
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + "\n" + run.Stderr);
        Assert.True(server.Injected.GetValueOrDefault(Fault.ResetAfterApply) + server.Injected.GetValueOrDefault(Fault.Timeout) > 0, "answers were lost after the server applied a call");

        var rows = new ObservationReader(run.Directory).Injections().ToList();
        var held = Held(server.Snapshot());
        Assert.Equal(600, held.Values.Sum());
        Assert.Equal(held, Recorded(rows));
        // Recorded as Rucio answered: the end's read-back had nothing to cut.
        Assert.DoesNotContain("left out of injections.parquet", run.Stdout, StringComparison.Ordinal);
        Assert.All(rows, r => Assert.Equal(r.Files * 1_000_000, r.Bytes));
        Assert.Equal(run.Outcome!.Counters[RunCounters.FilesInjected], rows.Sum(r => r.Files));
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.Time <= p.Second.Time), "rows in time order");
    }

    [Fact]
    public async Task A_bulk_Rucio_refuses_for_good_is_not_recorded()
    {
        var (server, scenario) = await LakeAsync();
        await using var _ = server;
        // After the preflight: replicas on MOCK2 are refused for good (UnsupportedOperation: a volatile RSE).
        var run = await RunAsync(server, scenario, _ => server.UpdateRse("MOCK2", new JsonObject { ["volatile"] = true }));
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + "\n" + run.Stderr);

        var snapshot = server.Snapshot();
        var rows = new ObservationReader(run.Directory).Injections().ToList();
        var held = Held(snapshot);
        Assert.DoesNotContain(snapshot.Replicas, r => r.Rse == "MOCK2");
        Assert.True(run.Outcome!.Counters[RunCounters.OperationsFailed] > 0, "some files were planned on MOCK2 and refused");
        Assert.InRange(held.Values.Sum(), 1, 599);
        Assert.Equal(held, Recorded(rows));
        Assert.False(rows.Any(r => r.Rse == "MOCK2"), run.Stdout);
        // The refused files were never recorded: the end's read-back (which would cut a dataset holding fewer) had nothing to cut.
        Assert.DoesNotContain("left out of injections.parquet", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(run.Outcome.Counters[RunCounters.FilesInjected], rows.Sum(r => r.Files));
    }
}
