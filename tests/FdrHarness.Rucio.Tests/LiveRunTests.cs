using System.Diagnostics;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Rucio.Tests;

/// <summary>Live runs on wall-clock time: alone, after the parallel tests, so that CPU-heavy neighbours cannot starve their phases.</summary>
[CollectionDefinition(nameof(LiveRunTests), DisableParallelization = true)]
public sealed class LiveRunCollection;

[Collection(nameof(LiveRunTests))]
public sealed class LiveRunTests
{
    private static Scenario Load(string path)
    {
        var r = ScenarioLoader.Load(path);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        return r.Scenario!;
    }

    [Fact]
    public async Task Unreachable_server_ends_fast_with_exit_3_and_one_line()
    {
        var scenario = Load(RepoPaths.Scenario("ci-smoke.yaml"));
        var outDir = Path.Combine(Path.GetTempPath(), "fdr-unreachable-" + Guid.NewGuid().ToString("N"));
        var watch = Stopwatch.StartNew();
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions { RucioUrl = new Uri("http://127.0.0.1:9"), Env = _ => null }, outDir);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(ExitCodes.TargetUnreachable, run.Exit);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("http://127.0.0.1:9", line);
        Assert.Contains("refused", line, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists(outDir)); // nothing run, nothing written
    }

    [Fact]
    public async Task Wrong_password_is_refused_with_exit_3_and_no_secret_in_the_line()
    {
        await using var server = await DoubleWorld.StartAsync();
        var scenario = Load(RepoPaths.Scenario("ci-smoke.yaml"));
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "FDR_RUCIO_PASSWORD" ? "not-the-password" : null,
        });
        Assert.Equal(ExitCodes.TargetUnreachable, run.Exit);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("IdentityNotFound", line); // 401, as transcript 001 has it
        Assert.DoesNotContain("not-the-password", line);
    }

    private const string Yaml = """
        run: {name: live-double, seed: 7, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}, SAFE: {}}
        rses:
          MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
          MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 1 TB, attributes: {QOS: SAFE}}
        experiments:
          CTA: {files: 600, file_size: 1 MB, files_per_dataset: 100, datasets_per_container: 3, qos: FAST}
        workload:
          - inject: {name: inject, load: [{inject: {rate: 600, interval: 1s, during: 1s}}]}
          - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE, lifetime: 1h, notify: C}}
          - delete: {name: cleanup, after: to-safe}
        target:
          kind: rucio
          rucio:
            url: http://127.0.0.1:1
            account: root
            batch_size: 50
            concurrency: 4
            auth: {method: userpass, username: ddmlab, password_env: DOUBLE_PW}
        """;

    /// <summary>The double set up as the scenario declares its lake (RSEs, attributes, protocols, scopes, root's limits).</summary>
    private static async Task<(RucioDouble Rucio, Scenario Scenario)> LakeAsync(string yaml)
    {
        var r = ScenarioLoader.Parse(yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var rucio = await RucioDouble.StartAsync();
        rucio.AddLake(r.Scenario!);
        return (rucio, r.Scenario!);
    }

    /// <summary>The rule ids a DELETE /rules/{id} was sent for (a reset after the server applied it may send one twice).</summary>
    private static HashSet<string> Deleted(RucioDouble rucio) =>
        [.. rucio.Requests.Where(q => q.Method == "DELETE" && q.PathAndQuery.StartsWith("/rules/", StringComparison.Ordinal)).Select(q => q.PathAndQuery["/rules/".Length..])];

    [Fact]
    public async Task A_run_under_faults_completes_and_accounts_for_every_call()
    {
        var (server, scenario) = await LakeAsync(Yaml);
        await using var _ = server;
        // 15 % of the calls after authentication fail: 500, 503, 429, a reset before or after the server applied it, a hang.
        server.FaultPlan = new FaultPlan { Rate = 0.15, Seed = 7, Kinds = [Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply, Fault.Timeout] };
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "DOUBLE_PW" ? server.Password : null,
            WaitForDuration = false,
            TuneClient = o => o with { AttemptTimeout = TimeSpan.FromMilliseconds(400), RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 8 },
            OperationRetryDelay = TimeSpan.FromMilliseconds(10),
        });
        var outDir = run.Directory;
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + "\n" + run.Stderr);
        Assert.True(server.Injected.Values.Sum() > 0, "faults were injected");

        var snapshot = server.Snapshot();
        Assert.Equal(600, snapshot.Replicas.Count(r => r.Rse == "MOCK"));
        Assert.Equal(600, snapshot.Contents.Count(c => c.Parent.StartsWith("cta:", StringComparison.Ordinal) && snapshot.Dids[c.Child] == DidKind.File));
        Assert.Equal(0, run.Outcome!.Counters[Core.Execution.RunCounters.OperationsFailed]);
        Assert.Equal(600, run.Outcome.Counters[Core.Execution.RunCounters.FilesInjected]);
        Assert.Equal(6, run.Outcome.Counters[Core.Execution.RunCounters.RulesCreated]);
        Assert.Equal(6, snapshot.Rules.Count); // one per dataset, none twice however often a call was retried
        Assert.Equal(snapshot.Rules.Select(r => r.Id).Order(), Deleted(server).Order()); // cleanup removed every rule

        var csv = File.ReadAllLines(Path.Combine(outDir, "api-latency.csv"));
        Assert.Equal("operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes,failures", csv[0]);
        var rows = csv.Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0]);
        foreach (var (op, c) in rows) Assert.True(long.Parse(c[1]) == long.Parse(c[2]) + long.Parse(c[3]), op); // ok + failed = count
        Assert.True(rows.Values.Sum(c => long.Parse(c[4])) > 0, "faults were injected, so something was retried");
        Assert.Contains("\"exit_status\": 0", File.ReadAllText(Path.Combine(outDir, "run.json")));
        Assert.DoesNotContain(server.Password, File.ReadAllText(Path.Combine(outDir, "scenario.yaml")));
    }

    [Fact]
    public async Task Qos_transition_replaces_rules_and_noise_writes_a_file_and_rule_per_rse_pair_each_round()
    {
        var yaml = Yaml.Replace("duration: 10s", "duration: 5s", StringComparison.Ordinal).Replace(
            "  - delete: {name: cleanup, after: to-safe}\n",
            "  - qos_transition: {name: to-fast, from: to-safe, rule: {rse_expression: QOS=FAST}}\n" +
            "  - noise: {name: noise, every: 1s, during: 2s, file_size: 1 MB, lifetime: 1h}\n", StringComparison.Ordinal);
        Assert.Contains("qos_transition", yaml);
        var (server, scenario) = await LakeAsync(yaml);
        await using var _ = server;
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "DOUBLE_PW" ? server.Password : null,
            RulePoll = TimeSpan.FromMilliseconds(200),
            WaitForDuration = false, // the noise rounds are the plan's instants; old rules are retired at the end at the latest
        });
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + "\n" + run.Stderr);
        var output = run.Stdout;
        var snapshot = server.Snapshot();

        // qos_transition: one new rule per rule of to-safe (OK at once: the files are on MOCK, QOS=FAST); every old one
        // removed once the new one was OK — and only those.
        Assert.Equal(12, run.Outcome!.Counters[Core.Execution.RunCounters.RulesCreated]);
        Assert.True(6 == run.Outcome.Counters[Core.Execution.RunCounters.RulesRetired], output);
        var toSafe = snapshot.Rules.Where(r => r.RseExpression == "QOS=SAFE").Select(r => r.Id).Order().ToList();
        Assert.Equal(6, toSafe.Count);
        Assert.Equal(toSafe, Deleted(server).Order());
        Assert.All(snapshot.Rules.Where(r => r.RseExpression == "QOS=FAST"), r => Assert.Equal("OK", r.State));

        // noise: rounds at 0 s and 1 s of the 2 s it lasts, one file per ordered pair of the two RSEs, with a lifetime and a rule.
        var noise = snapshot.Dids.Keys.Where(k => k.StartsWith("noise:fdr-noise.", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(4, noise.Count);
        Assert.Contains(noise, n => n.StartsWith("noise:fdr-noise.MOCK.MOCK2.r000.", StringComparison.Ordinal));
        Assert.Contains(noise, n => n.StartsWith("noise:fdr-noise.MOCK2.MOCK.r001.", StringComparison.Ordinal));
        Assert.Equal(12 + 4, snapshot.Rules.Count); // 6 replicate + 6 transition + one per noise file
        Assert.Equal(noise, snapshot.Rules.Where(r => r.Did.StartsWith("noise:", StringComparison.Ordinal)).Select(r => r.Did).Order());
        Assert.Equal(4, server.Requests.Where(q => q.Method == "POST" && q.PathAndQuery.StartsWith("/dids/noise/fdr-noise.", StringComparison.Ordinal)
            && q.PathAndQuery.EndsWith("/meta/lifetime", StringComparison.Ordinal)).Select(q => q.PathAndQuery).Distinct().Count());
        Assert.Contains("\"activity\": \"Functional Test\"", string.Join("\n", server.Requests.Where(q => q.PathAndQuery == "/rules/").Select(q => q.Body)).Replace("\":\"", "\": \"", StringComparison.Ordinal));
        Assert.DoesNotContain("not driven", output);
    }

    [Fact]
    public async Task Work_alongside_writes_into_the_run_until_it_ends_and_its_exit_code_counts()
    {
        var (server, scenario) = await LakeAsync(Yaml);
        await using var _ = server;
        var outDir = Path.Combine(Path.GetTempPath(), "fdr-beside-" + Guid.NewGuid().ToString("N"));
        var stoppedWithTheRun = false;
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "DOUBLE_PW" ? server.Password : null,
            WaitForDuration = false,
            Alongside = async (run, ct) =>
            {
                Assert.Equal(Path.GetFullPath(outDir), Path.GetFullPath(run.RunPath));
                run.Sink.Sample(new Core.Observations.PodSample { Time = run.StartedUtc, Daemon = "judge-evaluator", Pod = "rucio-judge-evaluator-0", State = "Running", MemoryBytes = 1 << 20 });
                try { await new TaskCompletionSource().Task.WaitAsync(ct); } // until the run cancels it: a state, no timer
                catch (OperationCanceledException) { stoppedWithTheRun = true; }
                return ExitCodes.TargetUnreachable; // e.g. the cluster was lost meanwhile
            },
        }, outDir);

        Assert.True(stoppedWithTheRun);
        Assert.Equal(ExitCodes.TargetUnreachable, run.Exit);
        var sample = Assert.Single(new Core.Observations.ObservationReader(outDir).Samples());
        Assert.Equal("rucio-judge-evaluator-0", sample.Pod);
    }
}
