using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FdrHarness.Core;

namespace FdrHarness.Cli.Tests;

/// <summary>`fdr run --target rucio` with a Kubernetes section: the dry-run plan, the refusals and the unreachable API server.</summary>
public sealed class ClusterSideTests : IDisposable
{
    private const string Token = "kube-token-that-must-not-leak";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>ci-smoke with a live target: Rucio and the API server at <paramref name="server"/>, chaos in <paramref name="killNamespaces"/>.</summary>
    private string Scenario(string server, string namespaces = "[rucio]", string? killNamespaces = null)
    {
        var kubeconfig = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(kubeconfig, $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "{{{server}}}"}}]
            users: [{name: u, user: {token: {{{Token}}}}}]
            contexts: [{name: x, context: {cluster: c, user: u, namespace: rucio}}]
            current-context: x
            """);
        var yaml = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));
        if (killNamespaces is not null)
            yaml = yaml.Replace("selector: {daemon: judge-evaluator}", $"selector: {{daemon: judge-evaluator, namespaces: {killNamespaces}}}", StringComparison.Ordinal);
        yaml += $$"""

            target:
              kind: rucio
              rucio:
                url: {{server}}
                account: root
                auth: {method: userpass, username: fdr, password_env: FDR_TEST_PASSWORD}
              kubernetes:
                kubeconfig: {{kubeconfig}}
                namespaces: {{namespaces}}
            """;
        var path = Path.Combine(_dir, "live.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void The_escape_dry_run_lists_every_chaos_action_with_its_targets_and_touches_nothing()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = FdrApp.Run(["run", RepoPaths.Scenario("escape-fdr-2020.yaml"), "--target", "rucio", "--dry-run"], stdout, stderr);

        Assert.True(code == ExitCodes.Success, stderr.ToString());
        var text = stdout.ToString();
        Assert.Contains("Chaos plan (dry run, nothing is touched): 3 action(s)", text);
        Assert.Contains("[0] pod_kill 'manual-server-restart' at 2h30m", text);
        Assert.Contains("target: pods app=rucio-server in rucio, mode all", text);
        Assert.Contains("limit_change 'server-limits' at 3h", text);
        Assert.Contains("limits cpu=4 memory=2500Mi; restored at the end", text);
        Assert.Contains("blast radius: at most 50%", text);
        Assert.Contains("Dry run: nothing was started.", text);
    }

    [Fact]
    public void An_unreachable_api_server_exits_3_within_30_s_with_one_line_and_no_token()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var watch = Stopwatch.StartNew();

        var code = FdrApp.Run(["run", Scenario("http://127.0.0.1:9"), "--out", Path.Combine(_dir, "run")], stdout, stderr);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(ExitCodes.TargetUnreachable, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Kubernetes API", line);
        Assert.Contains("127.0.0.1:9", line);
        Assert.DoesNotContain(Token, stdout + line);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
    }

    [Theory]
    [InlineData("[rucio]", "[other]", "namespace 'other' is not in target.kubernetes.namespaces")]
    [InlineData("[rucio]", "[kube-system]", "never touches kube-system")]
    [InlineData("[rucio, kube-system]", null, "kube-system is never touched")]
    public void A_namespace_outside_the_allow_list_or_kube_system_is_refused_before_anything_is_contacted(string allowed, string? killIn, string expected)
    {
        // A listener that would see any connection: the refusal must come before the first one.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var stderr = new StringWriter();

        foreach (var extra in new[] { new[] { "--dry-run" }, [] })
        {
            var code = FdrApp.Run(["run", Scenario(server, allowed, killIn), "--out", Path.Combine(_dir, "refused"), .. extra], new StringWriter(), stderr);
            Assert.Equal(ExitCodes.InvalidInput, code);
        }

        Assert.Contains(expected, stderr.ToString());
        Assert.Contains("live.yaml:", stderr.ToString()); // told where, in the scenario
        Assert.False(listener.Pending(), "nothing may be contacted");
        Assert.False(Directory.Exists(Path.Combine(_dir, "refused")));
    }

    [Fact]
    public void The_kubeconfig_is_found_as_kubectl_finds_it()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var given = Kubernetes.Connection.ClusterConnector.KubeconfigOf(new Core.Scenarios.Model.KubernetesConnection { Kubeconfig = "~/.kube/staging" });
        Assert.Equal(Path.Combine(home, ".kube", "staging"), given);
        var absolute = Kubernetes.Connection.ClusterConnector.KubeconfigOf(new Core.Scenarios.Model.KubernetesConnection { Kubeconfig = "/etc/fdr/kubeconfig" });
        Assert.Equal("/etc/fdr/kubeconfig", absolute);
    }
}
