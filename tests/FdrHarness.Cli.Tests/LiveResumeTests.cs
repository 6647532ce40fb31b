using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio;
using FdrHarness.Rucio.ContainerTests;
using FdrHarness.Rucio.Double;
using Xunit.Abstractions;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// A live run killed with SIGKILL mid-injection — a real `fdr run` child process against the Rucio double in this
/// process — and continued with `fdr run --resume`: issue 12's shape (two experiments with containers, one rule per
/// dataset, a delete phase that removes the rules and gives the datasets a lifetime), in register mode and in upload mode
/// (the storage is nginx with WebDAV PUT, Rucio's identity lfn2pfn), also with a fifth of the calls failing. Nothing the
/// journal has as done is sent again, and run.json's counts (read back from Rucio) equal what the double holds.
/// CI runs 10,000 files without faults and 2,000 with them (75 and 105 s at 10,000 on the loaded 2-core machine);
/// FDR_RESUME_FILES=10000 runs them all at 10,000 (the README's command).
/// </summary>
[Collection(nameof(LiveResumeTests))]
public sealed class LiveResumeTests(ITestOutputHelper log) : IDisposable
{
    private const string PasswordVariable = "FDR_RESUME_PASSWORD";
    private const int Batch = 100;
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly FaultPlan FifthFailing = new()
    {
        Rate = 0.2, Seed = 20, Kinds = [Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply],
        Paths = ["/dids", "/replicas", "/rules", "/rses", "/scopes", "/accounts"], // the probe's ping passes
    };

    /// <summary>The files of a test: <paramref name="ci"/> in CI; FDR_RESUME_FILES sets every case (a multiple of 1,000).</summary>
    private static int Files(int ci) =>
        Environment.GetEnvironmentVariable("FDR_RESUME_FILES") is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : ci;

    /// <summary>
    /// Two experiments with containers (60 % and 40 % of the files), injected over <paramref name="seconds"/> s, one rule
    /// per dataset to QOS=SAFE once the injection has ended, then a delete phase: every rule removed, every dataset given
    /// a lifetime. <paramref name="storage"/>: MOCK's storage for upload mode (its only protocol; identity lfn2pfn), null
    /// for register mode.
    /// </summary>
    private string Scenario(RucioDouble rucio, string name, int files, int seconds, Uri? storage = null)
    {
        var path = Path.Combine(_dir, $"{name}-{rucio.Url.Port}.yaml"); // one file per double: its URL is in it
        var cta = files * 3 / 5;
        var mock = storage is null
            ? """{storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 10 TB, attributes: {QOS: FAST}}"""
            : "{storage: dcache, quota: 10 TB, attributes: {QOS: FAST, lfn2pfn_algorithm: identity}}";
        File.WriteAllText(path, $$$"""
            run: {name: {{{name}}}, seed: 11, duration: {{{seconds + 4}}}s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:  {{{mock}}}
              MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 10 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA:   {files: {{{cta}}}, file_size: 1 KB, files_per_dataset: 100, datasets_per_container: 5, qos: FAST}
              VIRGO: {files: {{{files - cta}}}, file_size: 1 KB, files_per_dataset: 50, datasets_per_container: 4, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: {{{files / seconds}}}, interval: 1s, during: {{{seconds}}}s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE}}
              - delete: {name: cleanup, after: to-safe, rules_of: [to-safe], did_lifetime: 1h}
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                injection: {{{(storage is null ? "register" : "upload")}}}
                batch_size: {{{Batch}}}
                concurrency: 4
                grace: 10m
                auth: {method: userpass, username: ddmlab, password_env: {{{PasswordVariable}}}}
            """);
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        var loaded = ScenarioLoader.Load(path);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        rucio.AddLake(loaded.Scenario!);
        if (storage is not null) rucio.AddProtocol("MOCK", new DoubleProtocol(storage.Scheme, storage.Host, storage.Port, storage.AbsolutePath));
        return path;
    }

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task Killed_mid_injection_and_resumed_every_file_rule_and_deletion_is_in_rucio_once_and_the_counts_are_rucios() =>
        KillAndResumeAsync(Files(10_000), faults: null, upload: false);

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task The_same_with_a_fifth_of_the_calls_failing() => KillAndResumeAsync(Files(2_000), FifthFailing, upload: false);

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task The_same_in_upload_mode_to_nginx() => KillAndResumeAsync(Files(10_000), faults: null, upload: true);

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task The_same_in_upload_mode_with_a_fifth_of_the_calls_failing() => KillAndResumeAsync(Files(2_000), FifthFailing, upload: true);

    private async Task KillAndResumeAsync(int files, FaultPlan? faults, bool upload)
    {
        var clock = Stopwatch.StartNew();
        await using var nginx = upload ? Engine.Nginx() : null;
        if (nginx is not null)
        {
            Engine.Require();
            await nginx.StartAsync();
        }
        await using var rucio = await RucioDouble.StartAsync();
        var storage = nginx is null ? null : new Uri($"http://127.0.0.1:{nginx.GetMappedPublicPort(80)}/data");
        var scenarioPath = Scenario(rucio, "resume", files, seconds: 10, storage);
        rucio.FaultPlan = faults;
        var plan = RunPlan.Create(ScenarioLoader.Load(scenarioPath).Scenario!);
        Assert.Equal(files, plan.Counts.Files);
        Assert.True(plan.Counts.RuleLifetimes == plan.RuleCount && plan.Counts.DidLifetimes == plan.Counts.Datasets, "every rule removed, every dataset given a lifetime");
        var run = Path.Combine(_dir, "run");

        // A real process, killed with SIGKILL once the double has taken half the replicas: no chance to write anything more.
        var killed = await KillMidInjectionAsync(rucio, ["run", scenarioPath, "--out", run], run, files / 2, files);
        var doneBatches = killed.Before.Done.Where(e => e.Kind.StartsWith("inject:", StringComparison.Ordinal)).Select(e => e.Work).ToHashSet();

        // Resumed, in this process (the double stays the same Rucio, faults and all).
        var stdout = await ResumeAsync(run);
        Assert.Contains($"resumed: {killed.Before.Done.Count():N0} units of work done before were not done again", stdout);

        // Nothing the journal had as done was sent again: no file of a done batch in any POST /replicas after the kill.
        var doneFiles = DoneFiles(PlanShard.Whole(plan), doneBatches);
        var resent = RegisteredAfter(rucio, killed.RequestsAtKill).Where(doneFiles.Contains).ToList();
        Assert.Empty(resent);

        AssertExact(rucio.Snapshot(), plan, run);
        if (faults is not null)
            foreach (var kind in faults.Kinds) Assert.True(rucio.Injected.GetValueOrDefault(kind) > 0, $"no {kind} was injected");
        if (nginx is not null)
        {
            // The storage holds every planned file once, with its size, where Rucio's identity lfn2pfn puts it.
            var listing = await nginx.ExecAsync(["python3", "-c",
                "import os\nfor r,_,fs in os.walk('/srv/rse/data'):\n for f in fs:\n  p=os.path.join(r,f)\n  print(os.path.relpath(p,'/srv/rse/data'), os.path.getsize(p))"]);
            Assert.Equal(0, listing.ExitCode);
            var stored = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
            var planned = plan.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).ToDictionary(f => $"{f.File.Scope}/{f.File.Name}", f => f.File.Bytes);
            Assert.Equal(planned.OrderBy(kv => kv.Key, StringComparer.Ordinal), stored.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        log.WriteLine($"{files:N0} files, {(upload ? "upload" : "register")}, faults {(faults is null ? "none" : $"{faults.Rate:P0}")}: " +
                      $"killed at {killed.ReplicasAtKill:N0} replicas, {killed.Before.Done.Count():N0} units done; {rucio.Requests.Count:N0} requests; {clock.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>
    /// A killed shard: shard 1 of 2 as a real process killed mid-injection and resumed, shard 0 run whole, against one
    /// double; `fdr merge` of the two counts what one process counts against another double, and both doubles hold the
    /// same catalog.
    /// </summary>
    [LinuxFact("SIGKILL is a POSIX signal")]
    public async Task A_killed_shard_resumed_and_merged_counts_what_one_process_does()
    {
        const int files = 3_000;
        await using var alone = await RucioDouble.StartAsync();
        var onePath = Scenario(alone, "sharded", files, seconds: 4);
        var plan = RunPlan.Create(ScenarioLoader.Load(onePath).Scenario!);
        var one = Path.Combine(_dir, "one");
        var clock = Stopwatch.StartNew();
        var alongside = RunAsync(["run", onePath, "--out", one]); // the one process, meanwhile, against its own double

        await using var shared = await RucioDouble.StartAsync();
        shared.FaultPlan = FifthFailing;
        var shardPath = Scenario(shared, "sharded", files, seconds: 4); // the same scenario, this double's URL
        // The shard with more files is killed mid-injection and resumed; the other runs whole (both have work).
        var parts = Enumerable.Range(0, 2).Select(i => new PlanShard(plan, new ShardSpec(i, 2))).ToList();
        Assert.All(parts, p => Assert.True(p.Counts.Files > 0, $"shard {p.Spec} has no files"));
        var part = parts.MaxBy(p => p.Counts.Files)!;
        var other = parts.Single(p => p != part);
        var (killedDir, otherDir) = (Path.Combine(_dir, "shard-" + part.Spec.Index), Path.Combine(_dir, "shard-" + other.Spec.Index));
        var killed = await KillMidInjectionAsync(shared, ["run", shardPath, "--shard", $"{part.Spec.Index}/2", "--out", killedDir], killedDir,
            part.Counts.Files / 2, part.Counts.Files);
        var doneBatches = killed.Before.Done.Where(e => e.Kind.StartsWith("inject:", StringComparison.Ordinal)).Select(e => e.Work).ToHashSet();
        var requestsAtKill = killed.RequestsAtKill;
        // The resume and the other shard at once, as an Indexed Job's pods (the killed one restarted).
        var resumed = ResumeAsync(killedDir);
        await RunAsync(["run", shardPath, "--shard", $"{other.Spec.Index}/2", "--out", otherDir]);
        Assert.Contains($"Shard {part.Spec.Index}/2", await resumed);
        await alongside;
        var resent = RegisteredAfter(shared, requestsAtKill).Where(DoneFiles(part, doneBatches).Contains).ToList();
        Assert.Empty(resent);
        var merged = Path.Combine(_dir, "merged");
        await RunAsync(["merge", killedDir, otherDir, "--out", merged]);

        // Both Rucios hold the same catalog, and it is the plan's.
        var (a, b) = (alone.Snapshot(), shared.Snapshot());
        AssertExact(a, plan, one);
        AssertExact(b, plan, merged);
        Assert.Equal(a.Replicas.Order(), b.Replicas.Order());
        Assert.Equal(a.Contents.Order(), b.Contents.Order());
        Assert.Equal(a.Rules.Select(r => (r.Did, r.RseExpression, r.ExpiresAt is null)).Order(), b.Rules.Select(r => (r.Did, r.RseExpression, r.ExpiresAt is null)).Order());
        // The merged run counts what the one process counts: every count of the catalog.
        var (x, y) = (Summary(one), Summary(merged));
        foreach (var name in CatalogCounters) Assert.True(x[name] == y[name], $"{name}: one process {x[name]}, merged shards {y[name]}");
        Assert.True(shared.Injected.Values.Sum() > 20, "a fifth of the shards' calls failed");
        log.WriteLine($"{files:N0} files, shards of {part.Counts.Files:N0} (killed at {killed.ReplicasAtKill:N0} replicas) and {other.Counts.Files:N0}: {clock.Elapsed.TotalSeconds:0} s");
    }

    private static readonly string[] CatalogCounters =
    [
        RunCounters.FilesPlanned, RunCounters.FilesInjected, RunCounters.FilesReplicas, RunCounters.RulesPlanned, RunCounters.RulesCreated,
        RunCounters.DeletionsPlanned, RunCounters.DeletionsRules, RunCounters.DeletionsDids, RunCounters.OperationsFailed,
    ];

    /// <summary>
    /// What the double holds is the plan exactly — every planned file once on MOCK and in its dataset, every dataset in
    /// its container, one rule per dataset (removed: expiring), every dataset with its lifetime — and run.json's counts
    /// of <paramref name="run"/> are what it holds.
    /// </summary>
    private static void AssertExact(CatalogSnapshot held, RunPlan plan, string run)
    {
        var files = plan.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).ToList();
        Assert.Equal(files.Select(f => ($"{f.File.Scope}:{f.File.Name}", "MOCK")).Order(), held.Replicas.Order());
        var attached = held.Contents.Where(c => held.Dids[c.Child] == Rucio.Double.DidKind.File).ToList();
        Assert.Equal(files.Select(f => ($"{f.File.Scope}:{f.File.Dataset}", $"{f.File.Scope}:{f.File.Name}")).Order(), attached.Order());
        var inContainers = held.Contents.Where(c => held.Dids[c.Child] == Rucio.Double.DidKind.Dataset).ToList();
        Assert.Equal(files.Select(f => ($"{f.File.Scope}:{f.File.Container}", $"{f.File.Scope}:{f.File.Dataset}")).Distinct().Order(), inContainers.Order());
        Assert.Equal(plan.RuleCount, held.Rules.Count);
        Assert.Equal(held.Rules.Count, held.Rules.Select(r => r.Did).Distinct().Count());
        var expiringRules = held.Rules.Count(r => r.ExpiresAt is not null);
        var expiringDatasets = held.ExpiredAt.Count(d => held.Dids[d.Key] == Rucio.Double.DidKind.Dataset && d.Value is not null);
        Assert.Equal(plan.Counts.RuleLifetimes, expiringRules);
        Assert.Equal(plan.Counts.DidLifetimes, expiringDatasets);

        // run.json counts what the double holds, read back from it.
        var summary = Summary(run);
        Assert.Equal(attached.Count, summary[RunCounters.FilesInjected]);
        Assert.Equal(held.Replicas.Count, summary[RunCounters.FilesReplicas]);
        Assert.Equal(held.Rules.Count, summary[RunCounters.RulesCreated]);
        Assert.Equal(expiringRules, summary[RunCounters.DeletionsRules]);
        Assert.Equal(expiringDatasets, summary[RunCounters.DeletionsDids]);
        Assert.Equal(plan.Counts.RuleLifetimes + plan.Counts.DidLifetimes, summary[RunCounters.DeletionsPlanned]);
        Assert.Equal(0, summary[RunCounters.OperationsFailed]);
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
    }

    private static Dictionary<string, double> Summary(string run) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!["summary"]!.AsObject().ToDictionary(kv => kv.Key, kv => (double)kv.Value!);

    private sealed record Killed(RunJournal.Contents Before, int RequestsAtKill, long ReplicasAtKill);

    /// <summary>
    /// `fdr <paramref name="args"/>` as a child process, killed with SIGKILL once the double holds <paramref name="killAt"/>
    /// replicas; the premise checked: work in the journal, not all of it, no end in run.json.
    /// </summary>
    private static async Task<Killed> KillMidInjectionAsync(RucioDouble rucio, string[] args, string run, long killAt, long planned)
    {
        var fdr = Path.Combine(AppContext.BaseDirectory, "fdr.dll");
        var info = new ProcessStartInfo("dotnet", [fdr, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment[PasswordVariable] = rucio.Password;
        using var child = Process.Start(info)!;
        var childOut = child.StandardOutput.ReadToEndAsync();
        var childErr = child.StandardError.ReadToEndAsync();
        var reached = rucio.ReplicasReached(killAt);
        var first = await Task.WhenAny(reached, child.WaitForExitAsync());
        if (first != reached) Assert.Fail($"the run ended before {killAt} replicas: exit {child.ExitCode}\n{await childOut}\n{await childErr}");
        Assert.Equal(0, Kill(child.Id, 9));
        await child.WaitForExitAsync(); // (its exit code does not tell a SIGKILL here; run.json below does)

        var replicas = rucio.Snapshot().Replicas.Count;
        Assert.InRange(replicas, killAt, planned - 1);
        Assert.Null((int?)JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!["exit_status"]);
        var before = RunJournal.Read(run);
        Assert.Contains(before.Done, e => e.Kind.StartsWith("inject:", StringComparison.Ordinal));
        return new Killed(before, rucio.Requests.Count, replicas);
    }

    /// <summary>`fdr run --resume RUN` in this process: exit 0; its stdout.</summary>
    private static async Task<string> ResumeAsync(string run) => await RunAsync(["run", "--resume", run]);

    private static async Task<string> RunAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Task.Run(() => FdrApp.Run(args, stdout, stderr));
        Assert.True(code == ExitCodes.Success, $"fdr {string.Join(' ', args)}: exit {code}\n{stdout}\n{stderr}");
        return stdout.ToString();
    }

    /// <summary>Every file in a POST /replicas the double got after request number <paramref name="after"/>.</summary>
    private static IEnumerable<string> RegisteredAfter(RucioDouble rucio, int after) =>
        rucio.Requests.Skip(after).Where(q => q.Method == "POST" && q.PathAndQuery == "/replicas")
            .SelectMany(q => JsonNode.Parse(q.Body)!["files"]!.AsArray().Select(f => $"{f!["scope"]}:{f["name"]}"));

    /// <summary>The files of the injection batches the journal names (the operation's position in the shard . batch number).</summary>
    private static HashSet<string> DoneFiles(PlanShard shard, HashSet<string> batches)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        long position = -1;
        foreach (var operation in shard.Operations())
        {
            position++;
            if (operation is not InjectFiles inject) continue;
            for (var part = 0; part * Batch < inject.Files.Count; part++)
                if (batches.Contains($"{position}.{part}"))
                    foreach (var f in inject.Files.Skip(part * Batch).Take(Batch)) done.Add($"{f.File.Scope}:{f.File.Name}");
        }
        return done;
    }

    [Fact]
    public async Task Resume_refuses_what_it_cannot_continue_in_one_line_exit_2()
    {
        var embedded = Path.Combine(_dir, "embedded");
        var ran = FdrApp.Run(["run", RepoPaths.Scenario("ci-smoke.yaml"), "--out", embedded], new StringWriter(), new StringWriter());
        Assert.True(ran is ExitCodes.Success or ExitCodes.ThresholdsFailed, $"exit {ran}");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["run", "--resume", Path.Combine(_dir, "nope")], "not a run folder"),
            (["run", "--resume", embedded], "only a live run (--target rucio) is resumed"),
            (["run", "--resume", embedded, "--seed", "3"], "--seed cannot go with it"),
            (["run", "--resume", embedded, "--set", "workload.rate_factor=0.8"], "--set cannot go with it"),
            (["run"], "a SCENARIO file, or --resume RUN_DIR"),
        })
        {
            var stderr = new StringWriter();
            var code = await Task.Run(() => FdrApp.Run(args, new StringWriter(), stderr));
            Assert.Equal(ExitCodes.InvalidInput, code);
            var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

[CollectionDefinition(nameof(LiveResumeTests), DisableParallelization = true)]
public sealed class LiveResumeCollection;
