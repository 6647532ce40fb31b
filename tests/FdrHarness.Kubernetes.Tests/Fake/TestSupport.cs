using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using k8s;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Kubernetes.Tests.Fake;

/// <summary>Keeps what is written, for assertions; synchronized like the sink the CLI passes.</summary>
public sealed class RecordingSink : IObservationSink
{
    private readonly Lock _gate = new();
    private readonly List<PodSample> _samples = [];
    private readonly List<PodLifecycleEvent> _lifecycle = [];
    private readonly List<FaultRecord> _faults = [];

    public IReadOnlyList<PodSample> Samples { get { lock (_gate) return [.. _samples]; } }
    public IReadOnlyList<PodLifecycleEvent> Lifecycle { get { lock (_gate) return [.. _lifecycle]; } }
    public IReadOnlyList<FaultRecord> Faults { get { lock (_gate) return [.. _faults]; } }

    public void Event(in HermesEvent e) { }
    public void Sample(in PodSample s) { lock (_gate) _samples.Add(s); }
    void IObservationSink.Lifecycle(in PodLifecycleEvent e) { lock (_gate) _lifecycle.Add(e); }
    public void Fault(in FaultRecord f) { lock (_gate) _faults.Add(f); }
}

/// <summary>A temporary run directory, deleted afterwards.</summary>
public sealed class TempRunDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fdr-k8s-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>A fake API server, a client to it, a run directory and the context chaos actions need.</summary>
public sealed class Harness : IAsyncDisposable
{
    public required FakeKubeApi Api { get; init; }
    public required IKubernetes Client { get; init; }
    public required TempRunDirectory Run { get; init; }
    public required RecordingSink Sink { get; init; }
    public required AuditLog Audit { get; init; }
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero));

    public static async Task<Harness> StartAsync()
    {
        var api = await FakeKubeApi.StartAsync();
        var run = new TempRunDirectory();
        return new Harness
        {
            Api = api, Client = ClusterConnector.Create(api.Url), Run = run, Sink = new RecordingSink(), Audit = new AuditLog(run.Path),
        };
    }

    public ChaosContext Context(IReadOnlyList<string>? allow = null, double maxUnavailable = 0.5, long seed = 7, RolloutOptions? rollout = null) => new()
    {
        Client = Client,
        AllowList = allow ?? ["rucio"],
        MaxUnavailable = maxUnavailable,
        Seed = seed,
        Audit = Audit,
        Sink = Sink,
        Restore = RestoreFile.Open(Run.Path),
        Clock = Clock,
        Rollout = rollout ?? new RolloutOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromSeconds(1) },
    };

    public IReadOnlyList<AuditEntry> AuditEntries() => AuditLog.Read(Run.Path);

    public async ValueTask DisposeAsync()
    {
        Audit.Dispose();
        Client.Dispose();
        await Api.DisposeAsync();
        Run.Dispose();
    }
}

public static class Scenarios
{
    /// <summary>A valid scenario with the given chaos and target.kubernetes lines (YAML, indented under their keys).</summary>
    public static Scenario Parse(string chaos, string kubernetes = "{namespaces: [rucio]}", string duration = "1h")
    {
        var yaml = $$$"""
            run: {name: k8s-test, seed: 7, duration: {{{duration}}}, observation_interval: 30s}
            cluster: {nodes: [{name: worker, count: 2, cpu: 8, memory: 16Gi}]}
            rses:
              A-DISK: {storage: dcache, quota: 10 TB}
            experiments:
              CTA: {files: 10, file_size: 1 MB, write_to: A-DISK}
            daemons:
              judge-evaluator: {replicas: 4, requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 2, memory: 2Gi}}
              reaper: {replicas: 2}
            chaos:
            {{{chaos}}}
            target:
              kind: rucio
              rucio: {url: "https://rucio.example", account: root, auth: {method: userpass, username: root, password_env: RUCIO_PASSWORD}}
              kubernetes: {{{kubernetes}}}
            """;
        var result = ScenarioLoader.Parse(yaml, "test.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        return result.Scenario!;
    }

    public static Scenario Load(string name)
    {
        var result = ScenarioLoader.Load(RepoPaths.Scenario(name));
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        return result.Scenario!;
    }
}

public static class Eventually
{
    /// <summary>Waits for work on other threads (the watch) to show; fails with <paramref name="what"/> after 10 s.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (condition()) return;
            await Task.Delay(10);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    /// <summary>Advances the fake clock in steps until <paramref name="task"/> completes.</summary>
    public static async Task<T> Advancing<T>(Task<T> task, FakeTimeProvider clock, TimeSpan step, int maxSteps = 2000)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await Task.Delay(2);
            clock.Advance(step);
        }
        return await task;
    }
}
