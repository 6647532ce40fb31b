using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using k8s;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Kubernetes.Tests.Fake;

/// <summary>
/// A fake clock that counts the timers created on it (Task.Delay on a TimeProvider creates one), so a test can
/// advance it once the code under test waits on it, instead of stepping it on wall-clock time.
/// </summary>
public sealed class WaitingClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _timers;

    public Conditions Changes { get; } = new();

    /// <summary>Timers created so far.</summary>
    public int Timers => Volatile.Read(ref _timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _timers);
        Changes.Changed();
        return timer;
    }

    /// <summary>
    /// Advances by <paramref name="step"/> each time a new timer waits, until <paramref name="task"/> completes: for
    /// code that polls on this clock alone (a rollout wait).
    /// </summary>
    public async Task<T> AdvancingUntil<T>(Task<T> task, TimeSpan step)
    {
        var seen = 0;
        while (!task.IsCompleted)
        {
            var next = seen + 1;
            await Task.WhenAny(task, Changes.Until(() => Timers >= next)).WaitAsync(Conditions.FailAfter);
            if (task.IsCompleted) break;
            seen = next;
            Advance(step);
        }
        return await task;
    }
}

/// <summary>Keeps what is written, for assertions; synchronized like the sink the CLI passes.</summary>
public sealed class RecordingSink(Conditions? changes = null) : IObservationSink
{
    public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

    private readonly Lock _gate = new();
    private readonly List<PodSample> _samples = [];
    private readonly List<PodLifecycleEvent> _lifecycle = [];
    private readonly List<FaultRecord> _faults = [];

    public IReadOnlyList<PodSample> Samples { get { lock (_gate) return [.. _samples]; } }
    public IReadOnlyList<PodLifecycleEvent> Lifecycle { get { lock (_gate) return [.. _lifecycle]; } }
    public IReadOnlyList<FaultRecord> Faults { get { lock (_gate) return [.. _faults]; } }

    public void Event(in HermesEvent e) { }

    public void Sample(in PodSample s)
    {
        lock (_gate) _samples.Add(s);
        changes?.Changed();
    }

    void IObservationSink.Lifecycle(in PodLifecycleEvent e)
    {
        lock (_gate) _lifecycle.Add(e);
        changes?.Changed();
    }

    public void Fault(in FaultRecord f)
    {
        lock (_gate) _faults.Add(f);
        changes?.Changed();
    }

    public void Injection(in InjectionRecord r) { }
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
    public WaitingClock Clock { get; } = new(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero));

    public static async Task<Harness> StartAsync()
    {
        var api = await FakeKubeApi.StartAsync();
        var run = new TempRunDirectory();
        return new Harness
        {
            Api = api, Client = ClusterConnector.Create(api.Url), Run = run, Sink = new RecordingSink(api.Changed), Audit = new AuditLog(run.Path),
        };
    }

    /// <summary>Waits until <paramref name="holds"/> is true, re-checked whenever the API server or the sink changes.</summary>
    public Task When(Func<bool> holds, string what) => Api.Changed.When(holds, what);

    public ChaosContext Context(IReadOnlyList<string>? allow = null, double maxUnavailable = 0.5, long seed = 7, RolloutOptions? rollout = null,
        IReadOnlyList<string>? ownerKinds = null) => new()
    {
        Client = Client,
        AllowList = allow ?? ["rucio"],
        MaxUnavailable = maxUnavailable,
        OwnerKinds = ownerKinds ?? ["Deployment"],
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

