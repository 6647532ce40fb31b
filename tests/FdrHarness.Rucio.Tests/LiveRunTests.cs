using System.Diagnostics;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

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
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var watch = Stopwatch.StartNew();
        var exit = await LiveRun.ExecuteAsync(scenario, new LiveRunOptions { RucioUrl = new Uri("http://127.0.0.1:9"), OutDir = outDir, Env = _ => null },
            stdout, stderr, CancellationToken.None);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(ExitCodes.TargetUnreachable, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("http://127.0.0.1:9", line);
        Assert.Contains("refused", line, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", stdout.ToString());
        Assert.False(Directory.Exists(outDir)); // nothing run, nothing written
    }

    [Fact]
    public async Task Wrong_password_is_refused_with_exit_3_and_no_secret_in_the_line()
    {
        await using var server = await FakeRucio.StartAsync();
        var scenario = Load(RepoPaths.Scenario("ci-smoke.yaml"));
        var stderr = new StringWriter();
        var exit = await LiveRun.ExecuteAsync(scenario, new LiveRunOptions
        {
            RucioUrl = server.Url,
            Env = n => n == "FDR_RUCIO_PASSWORD" ? "not-the-password" : null,
            OutDir = Path.Combine(Path.GetTempPath(), "fdr-refused-" + Guid.NewGuid().ToString("N")),
        }, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(ExitCodes.TargetUnreachable, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("IdentityNotFound", line);
        Assert.DoesNotContain("not-the-password", line);
    }

    private const string Yaml = """
        run: {name: live-fake, seed: 7, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}, SAFE: {}}
        rses:
          MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
          MOCK2: {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: SAFE}}
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
            auth: {method: userpass, username: ddmlab, password_env: FAKE_PW}
        """;

    [Fact]
    public async Task A_run_under_faults_completes_and_accounts_for_every_call()
    {
        await using var server = await FakeRucio.StartAsync();
        server.RandomFaultRate = 0.15;
        server.TimeoutDelay = TimeSpan.FromSeconds(3);
        var r = ScenarioLoader.Parse(Yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var outDir = Path.Combine(Path.GetTempPath(), "fdr-live-" + Guid.NewGuid().ToString("N"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string? reportedFrom = null;
        var exit = await LiveRun.ExecuteAsync(r.Scenario!, new LiveRunOptions
        {
            RucioUrl = server.Url,
            OutDir = outDir,
            Env = n => n == "FAKE_PW" ? FakeRucio.Password : null,
            WaitForDuration = false,
            Conclude = dir => { reportedFrom = dir; return ExitCodes.Success; },
            TuneClient = o => o with { AttemptTimeout = TimeSpan.FromMilliseconds(400), RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 8 },
        }, stdout, stderr, CancellationToken.None);
        Assert.True(exit == ExitCodes.Success, stdout + "\n" + stderr);

        Assert.Equal(600, server.Replicas.Count);
        Assert.Contains("inject: 600/600 files", stdout.ToString());
        Assert.Contains("to-safe: 6 rules on 6 datasets, 0 refused", stdout.ToString());
        Assert.All(server.Rules.Values, v => Assert.Equal("deleted", v)); // cleanup removed every rule
        Assert.Equal(6, server.Rules.Count);

        var csv = File.ReadAllLines(Path.Combine(outDir, "api-latency.csv"));
        Assert.Equal("operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes", csv[0]);
        var rows = csv.Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0]);
        foreach (var (op, c) in rows) Assert.True(long.Parse(c[1]) == long.Parse(c[2]) + long.Parse(c[3]), op); // ok + failed = count
        Assert.Equal("24", rows["add_replicas"][1]); // 12 batches of 50, each split over the 2 RSEs of QOS=FAST
        Assert.Equal("0", rows["add_replicas"][3]);
        Assert.True(rows.Values.Sum(c => long.Parse(c[4])) > 0, "faults were injected, so something was retried");
        Assert.Contains("\"exit_status\": 0", File.ReadAllText(Path.Combine(outDir, "run.json")));
        Assert.DoesNotContain(FakeRucio.Password, File.ReadAllText(Path.Combine(outDir, "scenario.yaml")));
        // The report is built once the observations are whole: events.parquet and api-latency.csv are final by then.
        Assert.Equal(Path.GetFullPath(outDir), Path.GetFullPath(reportedFrom!));
    }

    [Fact]
    public async Task Abort_on_fail_stops_the_run_with_exit_99_and_keeps_what_was_observed()
    {
        await using var server = await FakeRucio.StartAsync();
        var r = ScenarioLoader.Parse(Yaml.Replace("duration: 10s", "duration: 1h", StringComparison.Ordinal));
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var outDir = Path.Combine(Path.GetTempPath(), "fdr-abort-" + Guid.NewGuid().ToString("N"));
        var stderr = new StringWriter();
        DateTime? startedAt = null;
        var checks = 0;
        var concluded = false;
        var watch = Stopwatch.StartNew();
        var exit = await LiveRun.ExecuteAsync(r.Scenario!, new LiveRunOptions
        {
            RucioUrl = server.Url,
            OutDir = outDir,
            Env = n => n == "FAKE_PW" ? FakeRucio.Password : null,
            AbortOnFail = start =>
            {
                startedAt = start;
                // The third check fails, as a threshold on the events so far would.
                return new LiveAbortCheck(_ => { }, _ => ++checks >= 3 ? "transfers.efficiency >= 90% failed: 0.5" : null, TimeSpan.FromMilliseconds(50));
            },
            Conclude = _ => { concluded = true; return ExitCodes.Success; },
        }, new StringWriter(), stderr, CancellationToken.None);

        Assert.Equal(ExitCodes.ThresholdsFailed, exit);
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "the hour-long run stopped at the failed check");
        Assert.Equal(3, checks);
        Assert.NotNull(startedAt);
        Assert.Contains("aborted: transfers.efficiency >= 90% failed", stderr.ToString());
        Assert.True(concluded, "the report is still built from what was observed");
        Assert.True(File.Exists(Path.Combine(outDir, "events.parquet")));
        Assert.Contains("\"exit_status\": 99", File.ReadAllText(Path.Combine(outDir, "run.json")));
    }

    [Fact]
    public async Task A_failed_verdict_replaces_a_successful_exit()
    {
        await using var server = await FakeRucio.StartAsync();
        var r = ScenarioLoader.Parse(Yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var exit = await LiveRun.ExecuteAsync(r.Scenario!, new LiveRunOptions
        {
            RucioUrl = server.Url,
            OutDir = Path.Combine(Path.GetTempPath(), "fdr-verdict-" + Guid.NewGuid().ToString("N")),
            Env = n => n == "FAKE_PW" ? FakeRucio.Password : null,
            WaitForDuration = false,
            Conclude = _ => ExitCodes.ThresholdsFailed,
        }, new StringWriter(), new StringWriter(), CancellationToken.None);
        Assert.Equal(ExitCodes.ThresholdsFailed, exit);
    }

    [Fact]
    public async Task Qos_transition_replaces_rules_and_noise_writes_a_file_and_rule_per_rse_pair_each_round()
    {
        await using var server = await FakeRucio.StartAsync();
        var yaml = Yaml.Replace("duration: 10s", "duration: 5s", StringComparison.Ordinal).Replace(
            "  - delete: {name: cleanup, after: to-safe}\n",
            "  - qos_transition: {name: to-fast, from: to-safe, rule: {rse_expression: QOS=FAST}}\n" +
            "  - noise: {name: noise, every: 1s, during: 2s, file_size: 1 MB, lifetime: 1h}\n", StringComparison.Ordinal);
        Assert.Contains("qos_transition", yaml);
        var r = ScenarioLoader.Parse(yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await LiveRun.ExecuteAsync(r.Scenario!, new LiveRunOptions
        {
            RucioUrl = server.Url,
            OutDir = Path.Combine(Path.GetTempPath(), "fdr-qos-" + Guid.NewGuid().ToString("N")),
            Env = n => n == "FAKE_PW" ? FakeRucio.Password : null,
            RulePoll = TimeSpan.FromMilliseconds(200),
        }, stdout, stderr, CancellationToken.None);
        Assert.True(exit == ExitCodes.Success, stdout + "\n" + stderr);
        var output = stdout.ToString();

        // qos_transition: one new rule per rule of to-safe; every old one removed once the new one was OK.
        Assert.True(output.Contains("to-fast: 6 rules replacing 6 of to-safe, 0 refused", StringComparison.Ordinal), output);
        Assert.Contains("to-fast: 6 replaced rules removed, 0 waiting", output);
        Assert.Equal(6, server.Rules.Values.Count(v => v == "deleted"));
        Assert.Equal(12 + 4, server.Rules.Count); // 6 replicate + 6 transition + noise rules of two rounds

        // noise: rounds at 0 s and 1 s of the 2 s it lasts, one file per ordered pair of the two RSEs, with a lifetime.
        var noise = server.Replicas.Keys.Where(k => k.StartsWith("fdr-noise.", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(4, noise.Count);
        Assert.Contains(noise, n => n.StartsWith("fdr-noise.MOCK.MOCK2.", StringComparison.Ordinal) && n.EndsWith(".r000", StringComparison.Ordinal));
        Assert.Contains(noise, n => n.StartsWith("fdr-noise.MOCK2.MOCK.", StringComparison.Ordinal) && n.EndsWith(".r001", StringComparison.Ordinal));
        Assert.Equal(4, server.Requests.Count(q => q.Method == "POST" && q.PathAndQuery.StartsWith("/dids/noise/fdr-noise.", StringComparison.Ordinal) && q.PathAndQuery.EndsWith("/meta/lifetime", StringComparison.Ordinal)));
        Assert.Contains("\"activity\": \"Functional Test\"", string.Join("\n", server.Requests.Where(q => q.PathAndQuery == "/rules/").Select(q => q.Body)).Replace("\":\"", "\": \"", StringComparison.Ordinal));
        Assert.DoesNotContain("not driven", output);
        // Without a broker, progress comes from the rules' states and their locks (the files' transfers).
        Assert.Contains("rules (12 of 12): OK 12; files 24 ok, 0 replicating, 0 stuck", output);
    }

    [Fact]
    public async Task Work_alongside_writes_into_the_run_until_it_ends_and_its_exit_code_counts()
    {
        await using var server = await FakeRucio.StartAsync();
        var r = ScenarioLoader.Parse(Yaml);
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var outDir = Path.Combine(Path.GetTempPath(), "fdr-beside-" + Guid.NewGuid().ToString("N"));
        var stoppedWithTheRun = false;
        var exit = await LiveRun.ExecuteAsync(r.Scenario!, new LiveRunOptions
        {
            RucioUrl = server.Url,
            OutDir = outDir,
            Env = n => n == "FAKE_PW" ? FakeRucio.Password : null,
            WaitForDuration = false,
            Alongside = async (run, ct) =>
            {
                Assert.Equal(Path.GetFullPath(outDir), Path.GetFullPath(run.RunPath));
                run.Sink.Sample(new Core.Observations.PodSample { Time = run.StartedUtc, Daemon = "judge-evaluator", Pod = "rucio-judge-evaluator-0", State = "Running", MemoryBytes = 1 << 20 });
                try { await Task.Delay(Timeout.Infinite, ct); }
                catch (OperationCanceledException) { stoppedWithTheRun = true; }
                return ExitCodes.TargetUnreachable; // e.g. the cluster was lost meanwhile
            },
        }, new StringWriter(), new StringWriter(), CancellationToken.None);

        Assert.True(stoppedWithTheRun);
        Assert.Equal(ExitCodes.TargetUnreachable, exit);
        var sample = Assert.Single(new Core.Observations.ObservationReader(outDir).Samples());
        Assert.Equal("rucio-judge-evaluator-0", sample.Pod);
    }
}
