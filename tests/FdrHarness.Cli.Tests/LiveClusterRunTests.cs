using FdrHarness.Core.Execution;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Kubernetes.Tests.Fake;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// `fdr run --target rucio` end to end with a cluster: the Rucio double takes the catalog calls while the in-test
/// Kubernetes API server has its pods killed and its limits squeezed; the run directory holds what a real one would.
/// </summary>
public sealed class LiveClusterRunTests : IDisposable
{
    private const string PasswordVariable = "FDR_E2E_RUCIO_PASSWORD";
    private const string KubeToken = "e2e-kube-token-never-written";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-live-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_live_run_kills_squeezes_observes_restores_and_reports()
    {
        await using var rucio = await RucioDouble.StartAsync();
        await using var kube = await FakeKubeApi.StartAsync();
        kube.AddDaemonDeployment("rucio", "judge-evaluator", 2, limits: new() { ["memory"] = "1Gi", ["cpu"] = "1" });
        // The squeeze is on another daemon: its rolling restart must not hold the kill back on a slow machine.
        kube.AddDaemonDeployment("rucio", "conveyor-submitter", 1, limits: new() { ["memory"] = "1Gi", ["cpu"] = "1" });
        foreach (var pod in kube.Pods("rucio")) kube.SetMetrics("rucio", (string)pod["metadata"]!["name"]!, "250m", "300Mi");
        var deployment = (string)kube.Deployment("rucio", "rucio-rucio-daemons-conveyor-submitter")["metadata"]!["name"]!;

        var kubeconfig = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(kubeconfig, $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "{{{kube.Url}}}"}}]
            users: [{name: u, user: {token: {{{KubeToken}}}}}]
            contexts: [{name: fake, context: {cluster: fake, user: u}}]
            current-context: fake
            """);
        var scenario = Path.Combine(_dir, "live.yaml");
        File.WriteAllText(scenario, $$$"""
            run: {name: live-cluster, seed: 7, duration: 6s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
              MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 1 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA: {files: 200, file_size: 1 MB, files_per_dataset: 100, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 200, interval: 1s, during: 1s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE}}
            daemons:
              judge-evaluator: {replicas: 2, limits: {cpu: 1, memory: 1Gi}}
              conveyor-submitter: {replicas: 1, limits: {cpu: 1, memory: 1Gi}}
            chaos:
              - pod_kill: {name: kill-evaluator, selector: {daemon: judge-evaluator}, mode: one, schedule: {at: 1s}}
              - limit_change: {name: squeeze, daemon: conveyor-submitter, at: 2s, limits: {cpu: 1, memory: 512Mi}}
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                auth: {method: userpass, username: ddmlab, password_env: {{{PasswordVariable}}}}
              kubernetes:
                kubeconfig: {{{kubeconfig}}}
                namespaces: [rucio]
            """);
        rucio.AddLake(Core.Scenarios.ScenarioLoader.Load(scenario).Scenario!); // the lake as the scenario declares it
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        var run = Path.Combine(_dir, "run");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await Task.Run(() => FdrApp.Run(["run", scenario, "--out", run], stdout, stderr));

        Assert.True(code == ExitCodes.Success, $"exit {code}\n{stdout}\n{stderr}");
        var output = stdout.ToString();
        Assert.Contains("Kubernetes ", output);
        Assert.True(output.Contains("cluster: 1 pods killed", StringComparison.Ordinal), output);
        Assert.True(output.Contains("1 limit changes, 1 restored", StringComparison.Ordinal), output);

        // The chaos happened on the cluster, and the squeezed limit is back as it was.
        Assert.Contains(kube.Changes, r => r.Method == "DELETE" && r.Path.StartsWith("/api/v1/namespaces/rucio/pods/", StringComparison.Ordinal));
        // The squeeze and its restore; a patch refused with 409 is sent again after a fresh read (audited as retried).
        var retried = File.ReadLines(Path.Combine(run, "audit.jsonl")).Count(l => l.Contains("\"action\":\"retried\"", StringComparison.Ordinal));
        Assert.Equal(2 + retried, kube.Changes.Count(r => r.Method == "PATCH" && r.Path.EndsWith("/deployments/" + deployment, StringComparison.Ordinal)));
        var limits = kube.Deployment("rucio", deployment)["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!;
        Assert.Equal("1Gi", (string)limits["memory"]!);

        // The run directory: audit, restore record, observations in the embedded lake's form, and the report.
        var audit = File.ReadAllText(Path.Combine(run, "audit.jsonl"));
        Assert.Contains("\"pod_kill\"", audit);
        Assert.Contains("\"restored\"", audit);
        var reader = new ObservationReader(run);
        var lifecycle = reader.Lifecycle().ToList();
        Assert.Contains(lifecycle, e => e.Event == "killed" && e.Daemon == "judge-evaluator");
        Assert.Contains(lifecycle, e => e.Event == "limits-changed" && e.Daemon == "conveyor-submitter");
        var samples = reader.Samples().Where(s => s.Daemon == "judge-evaluator").ToList();
        Assert.NotEmpty(samples);
        Assert.Contains(samples, s => s.MemoryBytes == 300L << 20 && Math.Abs(s.CpuCores - 0.25) < 1e-9);
        Assert.Equal(["kill-evaluator", "squeeze"], reader.Faults().Select(f => f.Name).Order().ToArray());
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(1, (double)info["summary"]![RunCounters.PodsKilled]!);
        Assert.Equal(1, (double)info["summary"]![RunCounters.LimitsRestored]!);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!;
        Assert.Contains("judge-evaluator", summary["resources"]!.ToJsonString());
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        foreach (var file in Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(KubeToken, text);
            Assert.DoesNotContain(rucio.Password, text);
        }
    }
}
