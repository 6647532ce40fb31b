using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Observations;

namespace FdrHarness.Cli.Tests;

/// <summary>`fdr run`'s flags in kubectl's and k6's habits: -q, --no-color, --force, --kubeconfig, --context.</summary>
public sealed class RunFlagsTests : IDisposable
{
    private static readonly string Smoke = RepoPaths.Scenario("ci-smoke.yaml");
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-flags-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Stdout, string Stderr) Fdr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Quiet_says_the_folder_the_report_and_the_verdict_and_nothing_of_the_plan_or_the_progress()
    {
        var (code, stdout, stderr) = Fdr("run", Smoke, "--out", Path.Combine(_dir, "q"), "-q");

        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("Run directory: ", stdout);
        Assert.Contains("Report: ", stdout);
        Assert.Contains("all 2 thresholds hold", stdout);
        Assert.DoesNotContain("phase:", stdout);
        Assert.DoesNotContain("ETA", stdout);
        Assert.DoesNotContain("transfers active", stdout);
    }

    [Fact]
    public void Plain_progress_shows_virtual_and_wall_time_the_eta_and_the_kills_the_lifecycle_recorded()
    {
        var run = Path.Combine(_dir, "p");
        var (code, stdout, stderr) = Fdr("run", Smoke, "--out", run, "--no-color");

        Assert.True(code == ExitCodes.Success, stderr);
        var progress = stdout.Split('\n').Where(l => l.Contains("ETA", StringComparison.Ordinal)).ToList();
        Assert.True(progress.Count >= 2, stdout);
        Assert.All(progress, l => Assert.Matches(@"\(wall \d+\.\d s, ETA (-|\d+(\.\d)? s)\)", l));
        Assert.Contains("ETA 0 s", progress[^1]);
        Assert.Contains("Writing the report", stdout);
        // The last line's counts are those of lifecycle.parquet, the run's own record of its pods.
        var lifecycle = new ObservationReader(run).Lifecycle().ToList();
        long Count(string e) => lifecycle.Count(l => l.Event == e);
        Assert.Contains($"OOMKills {Count(LifecycleEvents.OomKilled)} kills {Count(LifecycleEvents.Killed)} ", progress[^1]);
        Assert.True(Count(LifecycleEvents.Killed) > 0, "ci-smoke has a pod_kill");
    }

    [Fact]
    public void Force_reuses_a_finished_runs_folder_and_refuses_any_other()
    {
        var run = Path.Combine(_dir, "f");
        Assert.Equal(ExitCodes.Success, Fdr("run", Smoke, "--out", run, "-q").Code);
        var first = (string)JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["started_utc"]!;
        File.WriteAllText(Path.Combine(run, "left-over.txt"), "from the first run");

        var refused = Fdr("run", Smoke, "--out", run, "-q");
        Assert.Equal(ExitCodes.InvalidInput, refused.Code);
        Assert.Contains("is not empty", refused.Stderr);

        var forced = Fdr("run", Smoke, "--out", run, "-q", "--seed", "7", "--force");
        Assert.True(forced.Code == ExitCodes.Success, forced.Stderr);
        Assert.False(File.Exists(Path.Combine(run, "left-over.txt")));
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(7, (long)info["seed"]!);
        Assert.Equal(0, (int)info["exit_status"]!);
        Assert.NotNull(first);

        // A folder that is no run's, and a run that never finished: refused, nothing touched.
        var mine = Directory.CreateDirectory(Path.Combine(_dir, "mine")).FullName;
        File.WriteAllText(Path.Combine(mine, "notes.txt"), "mine");
        var notARun = Fdr("run", Smoke, "--out", mine, "-q", "--force");
        Assert.Equal(ExitCodes.InvalidInput, notARun.Code);
        Assert.Contains("not a finished run's folder", notARun.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(mine, "notes.txt")));

        var killed = Directory.CreateDirectory(Path.Combine(_dir, "killed")).FullName;
        var runJson = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!.AsObject();
        runJson.Remove("exit_status");
        File.WriteAllText(Path.Combine(killed, RunDirectory.RunFile), runJson.ToJsonString());
        var unfinished = Fdr("run", Smoke, "--out", killed, "-q", "--force");
        Assert.Equal(ExitCodes.InvalidInput, unfinished.Code);
        Assert.Contains("never finished", unfinished.Stderr);
        Assert.True(File.Exists(Path.Combine(killed, RunDirectory.RunFile)));
    }

    [Fact]
    public void Kubeconfig_and_context_replace_the_scenarios_and_need_a_cluster_section()
    {
        var scenario = Path.Combine(_dir, "live.yaml");
        File.WriteAllText(scenario, $$$"""
            run: {name: kc, duration: 10m}
            rses: {A-DISK: {quota: 1 TB}}
            experiments: {X: {files: 1, file_size: 1 MB}}
            target:
              kind: rucio
              rucio: {url: "https://rucio.example.org", account: root, auth: {method: userpass, username: u, password_env: P}}
              kubernetes: {kubeconfig: "{{{Path.Combine(_dir, "from-scenario")}}}", namespaces: [rucio]}
            """);
        var flag = Path.Combine(_dir, "from-flag");

        var live = Fdr("run", scenario, "--kubeconfig", flag, "--context", "staging", "--out", Path.Combine(_dir, "r"));

        // The flag's file is the one looked for (and it does not exist): the cluster is unusable, exit 3, nothing run.
        Assert.Equal(ExitCodes.TargetUnreachable, live.Code);
        Assert.Contains($"kubeconfig {flag} does not exist", live.Stderr);
        Assert.DoesNotContain("from-scenario", live.Stderr);

        var embedded = Fdr("run", Smoke, "--context", "staging", "--out", Path.Combine(_dir, "e"));
        Assert.Equal(ExitCodes.InvalidInput, embedded.Code);
        Assert.Equal("fdr run: --context: the scenario has no target.kubernetes section, so no cluster to connect to", embedded.Stderr.Trim());
        Assert.False(Directory.Exists(Path.Combine(_dir, "e")));
    }
}
