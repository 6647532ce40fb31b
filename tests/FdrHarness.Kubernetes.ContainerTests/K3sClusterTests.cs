using System.Text;
using FdrHarness.Core.Chaos;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;
using Testcontainers.K3s;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>
/// The cluster side against a real Kubernetes (K3s in a container): list a namespace's pods, kill one of a Deployment
/// and see it replaced, squeeze its memory limit and put it back — with the harness's own PodKiller and LimitEnforcer.
/// Skipped here (see <see cref="K3sFactAttribute"/>); the tests share one cluster and run in order of need, each
/// waiting for the Deployment to be whole before it acts.
/// </summary>
public sealed class K3sClusterTests(K3sClusterTests.Cluster cluster) : IClassFixture<K3sClusterTests.Cluster>
{
    private const string Namespace = "rucio";
    private const string Release = "fdr";
    private const string Daemon = "judge-evaluator";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [K3sFact]
    public async Task ListsThePodsOfANamespaceWithTheirDaemon()
    {
        var pods = await cluster.ReadyPodsAsync(2, Patience);
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Equal(Daemon, ChartLabels.DaemonOf(p.Metadata.Labels, p.Metadata.Name)));
        Assert.All(pods, p => Assert.StartsWith(ChartLabels.DeploymentName(Release, Daemon) + "-", p.Metadata.Name));
    }

    [K3sFact]
    public async Task AKilledPodOfADeploymentIsReplaced()
    {
        var before = await cluster.ReadyPodsAsync(2, Patience);
        var kill = new PodKill { Selector = new PodSelector { Daemon = Daemon }, Mode = SelectionMode.One };
        var target = PodMatcher.For(kill.Selector, [Namespace]);

        var outcome = await new PodKiller(cluster.Context()).KillAsync(kill, target, "kill-evaluator", 1, CancellationToken.None);

        Assert.Null(outcome.Failure);
        var killed = Assert.Single(outcome.Killed);
        Assert.Contains(before, p => p.Metadata.Name == killed.Name);
        var after = await cluster.ReadyPodsAsync(2, Patience, p => p.Metadata.Name != killed.Name);
        Assert.DoesNotContain(after, p => p.Metadata.Name == killed.Name);
        Assert.Contains(cluster.Sink.Faults, f => f.Kind == "pod_kill" && f.Target == Daemon);
    }

    [K3sFact]
    public async Task AMemoryLimitIsPatchedThenRestored()
    {
        await cluster.ReadyPodsAsync(2, Patience);
        var context = cluster.Context();
        var enforcer = new LimitEnforcer(context);
        var change = new LimitChange { Daemon = Daemon, Limits = new Resources { Memory = ByteSize.Parse("96Mi") } };
        var target = new DeploymentTarget([Namespace], Daemon, ChartLabels.DeploymentAppLabel(Daemon),
            ChartLabels.DeploymentName(Release, Daemon), ChartLabels.ContainerName(Daemon));

        Assert.True(await enforcer.ApplyAsync(change, target, "squeeze-evaluator", CancellationToken.None),
            string.Join("\n", AuditLog.Read(cluster.RunDirectory).Select(e => $"{e.Action} {e.Kind} {e.Detail}")));
        Assert.Equal("96Mi", await cluster.MemoryLimitAsync());
        Assert.All(await cluster.ReadyPodsAsync(2, Patience), p => Assert.Equal("96Mi", p.Spec.Containers[0].Resources.Limits["memory"].ToString()));

        Assert.Equal(1, await enforcer.RestoreAllAsync(CancellationToken.None));
        Assert.Equal("64Mi", await cluster.MemoryLimitAsync());
        Assert.All(context.Restore.Entries, e => Assert.NotNull(e.RestoredAt));
    }

    /// <summary>One K3s for the class, with a Deployment shaped as the rucio-daemons chart makes it.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private K3sContainer? _k3s;
        public IKubernetes Client { get; private set; } = null!;
        public string RunDirectory { get; } = Directory.CreateTempSubdirectory("fdr-k3s-").FullName;
        public RecordingSink Sink { get; } = new();
        private AuditLog? _audit;

        /// <summary>The pods' image must come from a registry the cluster reaches; pause is the smallest that stays running.</summary>
        private static string PodImage => Environment.GetEnvironmentVariable("FDR_K3S_POD_IMAGE") ?? "registry.k8s.io/pause:3.9";

        public async Task InitializeAsync()
        {
            if (K3sFactAttribute.SkipReason is not null) return;   // xunit 2 builds class fixtures even when every test is skipped
            _k3s = new K3sBuilder(Engine.K3sImage).Build();
            await _k3s.StartAsync();
            var kubeconfig = await _k3s.GetKubeconfigAsync();
            Client = ClusterConnector.Create(KubernetesClientConfiguration.BuildConfigFromConfigFile(new MemoryStream(Encoding.UTF8.GetBytes(kubeconfig))));
            _audit = new AuditLog(RunDirectory);
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            await Client.AppsV1.CreateNamespacedDeploymentAsync(ChartShapedDeployment(), Namespace);
        }

        public async Task DisposeAsync()
        {
            _audit?.Dispose();
            if (_k3s is not null) await _k3s.DisposeAsync();
            Directory.Delete(RunDirectory, recursive: true);
        }

        public ChaosContext Context() => new()
        {
            Client = Client,
            AllowList = [Namespace],
            Release = Release,
            Audit = _audit!,
            Sink = Sink,
            Restore = RestoreFile.Open(RunDirectory),
            Rollout = new RolloutOptions { Timeout = Patience, PollInterval = TimeSpan.FromSeconds(1) },
        };

        /// <summary>
        /// Waits until exactly <paramref name="count"/> pods of the daemon are ready (and match), none terminating: the pods
        /// listed, then watched from that list's version, the condition checked at each change (no polling). Fails after
        /// <paramref name="patience"/> with what it had.
        /// </summary>
        public async Task<IReadOnlyList<V1Pod>> ReadyPodsAsync(int count, TimeSpan patience, Func<V1Pod, bool>? also = null)
        {
            var selector = ChartLabels.Selector(ChartLabels.DaemonSelector(Daemon));
            var pods = new Dictionary<string, V1Pod>(StringComparer.Ordinal);
            bool Ready() => pods.Count == count && pods.Values.All(p => p.Metadata.DeletionTimestamp is null && PodFacts.IsReady(p) && (also?.Invoke(p) ?? true));
            using var giveUp = new CancellationTokenSource(patience);
            try
            {
                var list = await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: giveUp.Token);
                foreach (var p in list.Items) pods[p.Metadata.Name] = p;
                var version = list.Metadata.ResourceVersion;
                while (!Ready())
                {
                    // A watch the server ends (its own timeout) is resumed from the last version seen.
                    await foreach (var (type, pod) in Client.CoreV1.WatchListNamespacedPodAsync(Namespace, labelSelector: selector, resourceVersion: version,
                        cancellationToken: giveUp.Token))
                    {
                        version = pod.Metadata.ResourceVersion ?? version;
                        if (type == WatchEventType.Deleted) pods.Remove(pod.Metadata.Name);
                        else if (type is WatchEventType.Added or WatchEventType.Modified) pods[pod.Metadata.Name] = pod;
                        if (Ready()) break;
                    }
                }
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                Assert.Fail($"not {count} ready pods of {Daemon} after {patience.TotalSeconds:0} s; have {string.Join(", ", pods.Values.Select(p => $"{p.Metadata.Name} {p.Status?.Phase}"))}");
            }
            return [.. pods.Values];
        }

        public async Task<string> MemoryLimitAsync()
        {
            var d = await Client.AppsV1.ReadNamespacedDeploymentAsync(ChartLabels.DeploymentName(Release, Daemon), Namespace);
            return d.Spec.Template.Spec.Containers.Single(c => c.Name == ChartLabels.ContainerName(Daemon)).Resources.Limits["memory"].ToString();
        }

        private static V1Deployment ChartShapedDeployment()
        {
            var deploymentLabels = new Dictionary<string, string>
            {
                [ChartLabels.App] = ChartLabels.DeploymentAppLabel(Daemon), [ChartLabels.Release] = Release,
            };
            var podLabels = new Dictionary<string, string>(ChartLabels.DaemonSelector(Daemon)) { [ChartLabels.App] = ChartLabels.DeploymentAppLabel(Daemon), [ChartLabels.Release] = Release };
            return new V1Deployment
            {
                Metadata = new V1ObjectMeta { Name = ChartLabels.DeploymentName(Release, Daemon), Labels = deploymentLabels },
                Spec = new V1DeploymentSpec
                {
                    Replicas = 2,
                    Selector = new V1LabelSelector { MatchLabels = deploymentLabels },
                    Template = new V1PodTemplateSpec
                    {
                        Metadata = new V1ObjectMeta { Labels = podLabels },
                        Spec = new V1PodSpec
                        {
                            TerminationGracePeriodSeconds = 0,
                            Containers =
                            [
                                new V1Container
                                {
                                    Name = ChartLabels.ContainerName(Daemon),
                                    Image = PodImage,
                                    Resources = new V1ResourceRequirements
                                    {
                                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("16Mi") },
                                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("64Mi") },
                                    },
                                },
                            ],
                        },
                    },
                },
            };
        }
    }

    /// <summary>What the chaos actions record, kept for the assertions.</summary>
    public sealed class RecordingSink : IObservationSink
    {
        public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

        private readonly Lock _lock = new();
        private readonly List<FaultRecord> _faults = [];

        public IReadOnlyList<FaultRecord> Faults
        {
            get { lock (_lock) return [.. _faults]; }
        }

        public void Event(in HermesEvent e) { }
        public void Sample(in PodSample s) { }
        public void Lifecycle(in PodLifecycleEvent e) { }
        public void Fault(in FaultRecord f)
        {
            lock (_lock) _faults.Add(f);
        }
        public void Injection(in InjectionRecord r) { }
    }
}
