using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// A live run killed with SIGKILL mid-injection — a real `fdr run` child process against the Rucio double in this
/// process — and continued with `fdr run --resume`: nothing the journal has as done is sent again, rules are found
/// again, and run.json's counts equal what the double holds, also with a fifth of the calls failing.
/// </summary>
[Collection(nameof(LiveResumeTests))]
public sealed class LiveResumeTests : IDisposable
{
    private const string PasswordVariable = "FDR_RESUME_PASSWORD";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two experiments with containers: 2,500 files over 10 s, one rule per dataset to QOS=SAFE.</summary>
    private string Scenario(RucioDouble rucio)
    {
        var path = Path.Combine(_dir, "resume.yaml");
        File.WriteAllText(path, $$$"""
            run: {name: resume, seed: 11, duration: 12s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 10 TB, attributes: {QOS: FAST}}
              MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 10 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA:   {files: 1500, file_size: 1 MB, files_per_dataset: 100, datasets_per_container: 5, qos: FAST}
              VIRGO: {files: 1000, file_size: 1 MB, files_per_dataset: 50, datasets_per_container: 4, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 250, interval: 1s, during: 10s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE, lifetime: 1h}}
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                batch_size: 50
                concurrency: 4
                auth: {method: userpass, username: ddmlab, password_env: {{{PasswordVariable}}}}
            """);
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        return path;
    }

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task Killed_mid_injection_and_resumed_every_file_and_rule_is_in_rucio_once_and_the_counts_are_rucios() => KillAndResumeAsync(null);

    [LinuxFact("SIGKILL is a POSIX signal")]
    public Task The_same_with_a_fifth_of_the_calls_failing() => KillAndResumeAsync(new FaultPlan
    {
        Rate = 0.2, Seed = 20, Kinds = [Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply], Paths = ["/dids", "/replicas", "/rules", "/rses", "/scopes", "/accounts"], // the probe's ping passes
    });

    private async Task KillAndResumeAsync(FaultPlan? faults)
    {
        await using var rucio = await RucioDouble.StartAsync();
        var scenarioPath = Scenario(rucio);
        var scenario = ScenarioLoader.Load(scenarioPath).Scenario!;
        rucio.AddLake(scenario);
        rucio.FaultPlan = faults;
        var plan = RunPlan.Create(scenario);
        Assert.Equal(2500, plan.Counts.Files);
        var run = Path.Combine(_dir, "run");

        // A real process, killed with SIGKILL once the double has taken 600 replicas: no chance to write anything more.
        var fdr = Path.Combine(AppContext.BaseDirectory, "fdr.dll");
        var info = new ProcessStartInfo("dotnet", [fdr, "run", scenarioPath, "--out", run])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir,
        };
        info.Environment[PasswordVariable] = rucio.Password;
        using var child = Process.Start(info)!;
        var childOut = child.StandardOutput.ReadToEndAsync();
        var childErr = child.StandardError.ReadToEndAsync();
        var reached = rucio.ReplicasReached(600);
        var first = await Task.WhenAny(reached, child.WaitForExitAsync());
        if (first != reached) Assert.Fail($"the run ended before 600 replicas: exit {child.ExitCode}\n{await childOut}\n{await childErr}");
        Assert.Equal(0, Kill(child.Id, 9));
        await child.WaitForExitAsync(); // (its exit code does not tell a SIGKILL here; run.json below does)

        // The premise: killed mid-injection, with work in the journal and no end in run.json.
        var killedAt = rucio.Snapshot();
        var replicasAtKill = killedAt.Replicas.Count(r => r.Rse == "MOCK");
        Assert.InRange(replicasAtKill, 600, 2499);
        Assert.Null((int?)JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!["exit_status"]);
        var before = RunJournal.Read(run);
        var doneBatches = before.Done.Where(e => e.Kind == "inject:register").Select(e => e.Work).ToHashSet();
        Assert.NotEmpty(doneBatches);
        var requestsAtKill = rucio.Requests.Count;

        // Resumed, in this process (the double stays the same Rucio, faults and all).
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Task.Run(() => FdrApp.Run(["run", "--resume", run], stdout, stderr));
        Assert.True(code == ExitCodes.Success, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"resumed: {before.Done.Count():N0} units of work done before were not done again", stdout.ToString());

        // Nothing the journal had as done was sent again: no file of a done batch in any POST /replicas after the kill.
        var doneFiles = DoneFiles(plan, doneBatches, batch: 50);
        var resent = rucio.Requests.Skip(requestsAtKill).Where(q => q.Method == "POST" && q.PathAndQuery == "/replicas")
            .SelectMany(q => JsonNode.Parse(q.Body)!["files"]!.AsArray().Select(f => $"{f!["scope"]}:{f["name"]}"))
            .Where(doneFiles.Contains).ToList();
        Assert.Empty(resent);

        // Rucio's truth: every planned file once on MOCK and in its dataset; one rule per dataset, none twice.
        var held = rucio.Snapshot();
        var files = plan.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).ToList();
        Assert.Equal(files.Select(f => ($"{f.File.Scope}:{f.File.Name}", "MOCK")).Order(), held.Replicas.Order());
        var attached = held.Contents.Where(c => held.Dids[c.Child] == Rucio.Double.DidKind.File).ToList();
        Assert.Equal(files.Select(f => ($"{f.File.Scope}:{f.File.Dataset}", $"{f.File.Scope}:{f.File.Name}")).Order(), attached.Order());
        Assert.Equal(plan.RuleCount, held.Rules.Count);
        Assert.Equal(held.Rules.Count, held.Rules.Select(r => r.Did).Distinct().Count());

        // run.json counts what the double holds, read back from it.
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!["summary"]!;
        Assert.Equal(attached.Count, (double)summary[RunCounters.FilesInjected]!);
        Assert.Equal(held.Rules.Count, (double)summary[RunCounters.RulesCreated]!);
        Assert.Equal(0, (double)summary[RunCounters.OperationsFailed]!);
        // Every unit of work is done in the journal, the kill's and the resume's together.
        var after = RunJournal.Read(run);
        Assert.Equal(files.Count, after.Done.Where(e => e.Kind == "inject:register").Sum(e => e.Registered ?? 0));
        Assert.Equal(plan.RuleCount, after.Done.Count(e => e.RuleId is not null));
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
        if (faults is not null) Assert.True(rucio.Injected.Values.Sum() > 50, "a fifth of the calls failed");
    }

    /// <summary>The files of the injection batches the journal names (operation position . batch number).</summary>
    private static HashSet<string> DoneFiles(RunPlan plan, HashSet<string> batches, int batch)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        long position = -1;
        foreach (var operation in plan.Operations())
        {
            position++;
            if (operation is not InjectFiles inject) continue;
            for (var part = 0; part * batch < inject.Files.Count; part++)
                if (batches.Contains($"{position}.{part}"))
                    foreach (var f in inject.Files.Skip(part * batch).Take(batch)) done.Add($"{f.File.Scope}:{f.File.Name}");
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
