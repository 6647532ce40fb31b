using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Lake.Cluster;

public enum PodPhase { Pending, Starting, Running, CrashLoopBackOff, Terminated }

public sealed class Node(string name, long cpuMilli, long memory)
{
    public string Name { get; } = name;
    public long CpuMilli { get; } = cpuMilli;
    public long Memory { get; } = memory;
    public long CpuRequested;
    public long MemoryRequested;
}

/// <summary>One pod of a daemon's Deployment: its limits, its threads' work, its memory and its restarts.</summary>
public sealed class Pod
{
    public required Daemon Daemon { get; init; }
    public required string Name { get; init; }
    public required Resources Requests { get; init; }
    public required Resources Limits
    {
        get => _limits;
        init
        {
            _limits = value;
            MemoryLimit = value.Memory?.Bytes;
            _cpuLimit = value.Cpu?.Cores;
        }
    }

    private readonly double? _cpuLimit;

    private readonly Resources _limits = null!;
    public Node? Node;
    public PodPhase Phase = PodPhase.Pending;
    public int Restarts;
    public long RunningSince;
    public long Backoff;
    /// <summary>Memory kept after work (caches, fragmentation); reset when the container restarts.</summary>
    public long Cache;
    /// <summary>Highest working set since the last sample (capped at the limit: the kernel kills at the limit).</summary>
    public long MemoryPeak;
    public Worker[] Workers = [];
    public long OomKills;

    // CPU as a rate: each tick sets the cores the pod uses until the next one; samples integrate it over their interval.
    private double _cpuRate, _cpuSettled, _cpuAtSample;
    private long _cpuRateSince;

    /// <summary>The pod uses <paramref name="cores"/> from <paramref name="now"/> on.</summary>
    public void UseCpu(double cores, long now)
    {
        _cpuSettled += _cpuRate * (now - _cpuRateSince);
        _cpuRate = cores;
        _cpuRateSince = now;
    }

    /// <summary>Mean cores since the previous call (one sampling interval).</summary>
    public double CpuSince(long now, long intervalMs)
    {
        var total = _cpuSettled + _cpuRate * (now - _cpuRateSince);
        var mean = (total - _cpuAtSample) / intervalMs;
        _cpuAtSample = total;
        return mean;
    }

    /// <summary>Records the working set the pod reached (at most its limit, where the OOM killer stops it).</summary>
    public void SawMemory(long bytes)
    {
        var seen = MemoryLimit is { } limit && bytes > limit ? limit : bytes;
        if (seen > MemoryPeak) MemoryPeak = seen;
    }

    public long CpuRequestMilli => Requests.Cpu?.Millicores ?? 0;
    public long MemoryRequest => Requests.Memory?.Bytes ?? 0;
    /// <summary>Limits' memory and CPU, read at every tick of the pod: kept rather than read through the record.</summary>
    public long? MemoryLimit { get; private init; }

    /// <summary>Cores the pod can use: its limit, else what its node has (at most one core per thread, Python threads).</summary>
    public double Cores => Math.Min(_cpuLimit ?? (Node?.CpuMilli ?? 1000) / 1000.0, Math.Max(1, Workers.Length));

    /// <summary>The memory of the bulks its threads hold: added as a thread takes one, taken off as it lets it go.</summary>
    internal long BulkMemory;

    public long Memory => Daemon.Model.BaseMemory + Cache + BulkMemory;
}

/// <summary>
/// The Kubernetes side: nodes, pods scheduled by their requests (Pending when nothing fits), OOMKilled above the
/// memory limit, container restarts with CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min running),
/// Deployments replacing deleted pods, rolling restarts when limits change.
/// </summary>
public sealed class KubeCluster
{
    private static readonly long BackoffStart = 10_000, BackoffMax = 300_000, BackoffReset = 600_000;
    private const string PodAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private readonly LakeContext _context;
    private readonly List<Node> _nodes = [];
    private readonly List<Pod> _pending = [];
    private ulong _podNames;

    internal KubeCluster(LakeContext context, Scenario scenario)
    {
        _context = context;
        var spec = scenario.Cluster;
        foreach (var pool in spec.Nodes.Count > 0 ? spec.Nodes : DefaultNodes(scenario))
            for (var i = 0; i < pool.Count; i++)
                _nodes.Add(new Node($"{pool.Name}-{i + 1}", pool.Cpu.Millicores, pool.Memory.Bytes));
        _podNames = StableHash.Of((ulong)context.Seed, "pod-names");
    }

    /// <summary>
    /// The cluster of a scenario that describes none: one that fits every pod, so the rehearsal measures Rucio and
    /// not an empty cluster (where every pod would stay Pending and nothing would happen). Nodes of 8 CPU / 16 GiB
    /// (the seed's workers), larger if one pod needs more, as many as the pods' requests need, plus one for rolling
    /// restarts — what a cluster autoscaler would give. A scenario that rehearses scheduling lists its nodes.
    /// </summary>
    public static IReadOnlyList<NodePool> DefaultNodes(Scenario scenario)
    {
        long cpu = 0, memory = 0, podCpu = 8000, podMemory = 16L << 30;
        foreach (var d in scenario.Daemons)
        {
            // The largest requests the daemon's pods ever have: its own, or those a limit change gives them.
            var requests = ResourcePatch.EffectiveRequests(d.Requests, d.Limits);
            long c = requests.Cpu?.Millicores ?? 0, m = requests.Memory?.Bytes ?? 0;
            foreach (var change in scenario.Chaos.OfType<LimitChange>().Where(x => x.Daemon == d.Name))
            {
                var r = ResourcePatch.EffectiveRequests(change.Requests ?? d.Requests, change.Limits ?? d.Limits);
                c = Math.Max(c, r.Cpu?.Millicores ?? 0);
                m = Math.Max(m, r.Memory?.Bytes ?? 0);
            }
            cpu += c * d.Replicas;
            memory += m * d.Replicas;
            podCpu = Math.Max(podCpu, c);
            podMemory = Math.Max(podMemory, m);
        }
        var count = (int)Math.Max(Math.Ceiling((double)cpu / podCpu), Math.Ceiling((double)memory / podMemory)) + 1;
        return [new NodePool { Name = "default", Count = count, Cpu = new CpuQuantity(podCpu), Memory = new ByteSize(podMemory) }];
    }

    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>The daemon's Deployment: its replicas' pods, created and scheduled; the daemon's OOMKills go to this cluster.</summary>
    public void Deploy(Daemon daemon)
    {
        daemon.Cluster = this;
        for (var i = 0; i < daemon.Spec.Replicas; i++) CreatePod(daemon, "deployment " + daemon.Name);
    }

    /// <summary>Creates a pod for the daemon's Deployment and schedules it.</summary>
    public Pod CreatePod(Daemon daemon, string reason)
    {
        var spec = daemon.Spec;
        var pod = new Pod
        {
            Daemon = daemon,
            Name = PodName(daemon),
            Requests = ResourcePatch.EffectiveRequests(spec.Requests, spec.Limits),
            Limits = spec.Limits,
        };
        // Servers run several WSGI processes: at least 4 workers, so a server pod can use the cores of its limit.
        var workers = Core.Rucio.RucioDaemons.Servers.Contains(daemon.Name) ? Math.Max(spec.Threads, 4) : Math.Max(1, spec.Threads);
        pod.Workers = new Worker[workers];
        for (var i = 0; i < pod.Workers.Length; i++) pod.Workers[i] = new Worker();
        daemon.Pods.Add(pod);
        TrySchedule(pod, reason);
        return pod;
    }

    private string PodName(Daemon daemon)
    {
        // <deployment>-<replicaset hash>-<suffix>, like Kubernetes, from the seed: the replicaset hash changes with the spec.
        var rs = StableHash.Combine(StableHash.Of((ulong)_context.Seed, daemon.Name), (ulong)daemon.Generation);
        var suffix = StableHash.Combine(_podNames, ++_podNamesCounter);
        return $"{daemon.Name}-{Encode(rs, 10)}-{Encode(suffix, 5)}";
    }

    private ulong _podNamesCounter;

    private static string Encode(ulong v, int n)
    {
        Span<char> s = stackalloc char[n];
        for (var i = 0; i < n; i++)
        {
            s[i] = PodAlphabet[(int)(v % (ulong)PodAlphabet.Length)];
            v /= (ulong)PodAlphabet.Length;
        }
        return new string(s);
    }

    private bool TrySchedule(Pod pod, string reason)
    {
        Node? best = null;
        foreach (var n in _nodes)
        {
            if (n.CpuRequested + pod.CpuRequestMilli > n.CpuMilli || n.MemoryRequested + pod.MemoryRequest > n.Memory) continue;
            // Least allocated first, as the default scheduler scores; ties by node order.
            if (best is null || n.CpuRequested * best.CpuMilli < best.CpuRequested * n.CpuMilli) best = n;
        }
        if (best is null)
        {
            if (!_pending.Contains(pod))
            {
                _pending.Add(pod);
                Lifecycle(pod, LifecycleEvents.Pending, "no node has the requested CPU and memory");
            }
            return false;
        }
        _pending.Remove(pod);
        pod.Node = best;
        best.CpuRequested += pod.CpuRequestMilli;
        best.MemoryRequested += pod.MemoryRequest;
        pod.Phase = PodPhase.Starting;
        Lifecycle(pod, LifecycleEvents.Scheduled, reason);
        _context.Queue.Schedule(_context.Now + (long)pod.Daemon.Model.Startup.TotalMilliseconds, () => Start(pod));
        return true;
    }

    private void Start(Pod pod)
    {
        if (pod.Phase != PodPhase.Starting) return;
        pod.Phase = PodPhase.Running;
        pod.RunningSince = _context.Now;
        Lifecycle(pod, LifecycleEvents.Started, null);
    }

    /// <summary>The pod went over its memory limit: the container is killed, its work goes back to the queue.</summary>
    public void OomKill(Pod pod, long memory)
    {
        var limit = pod.MemoryLimit ?? 0;
        pod.SawMemory(memory);
        pod.UseCpu(0, _context.Now);
        pod.Daemon.ReturnWork(pod);
        pod.OomKills++;
        pod.Daemon.OomKills++;
        pod.Restarts++;
        // Rounded up: a working set a fraction of a MiB over the limit reads as over it.
        Lifecycle(pod, LifecycleEvents.OomKilled, $"memory {Mi(memory + (1 << 20) - 1)} > limit {Mi(limit)}");
        CrashLoop(pod);
    }

    private void CrashLoop(Pod pod)
    {
        // Kubernetes' back-off: 10 s doubling up to 5 min, back to 10 s after a container ran 10 min.
        pod.Backoff = pod.Backoff == 0 || _context.Now - pod.RunningSince >= BackoffReset ? BackoffStart : Math.Min(pod.Backoff * 2, BackoffMax);
        pod.Phase = PodPhase.CrashLoopBackOff;
        pod.Cache = 0;
        Lifecycle(pod, LifecycleEvents.CrashLoopBackOff, $"back-off {pod.Backoff / 1000}s restarting failed container");
        _context.Queue.Schedule(_context.Now + pod.Backoff, () =>
        {
            if (pod.Phase != PodPhase.CrashLoopBackOff) return;
            pod.Phase = PodPhase.Running;
            pod.RunningSince = _context.Now;
            pod.Daemon.Restarts++;
            Lifecycle(pod, LifecycleEvents.Restarted, null);
        });
    }

    /// <summary>Deletes a pod (chaos or rolling restart); the Deployment creates its replacement.</summary>
    public void DeletePod(Pod pod, string reason, bool replace = true)
    {
        if (pod.Phase == PodPhase.Terminated) return;
        pod.UseCpu(0, _context.Now);
        pod.Daemon.ReturnWork(pod);
        Lifecycle(pod, LifecycleEvents.Killed, reason);
        pod.Phase = PodPhase.Terminated;
        _pending.Remove(pod);
        if (pod.Node is { } n)
        {
            n.CpuRequested -= pod.CpuRequestMilli;
            n.MemoryRequested -= pod.MemoryRequest;
        }
        pod.Daemon.Pods.Remove(pod);
        Lifecycle(pod, LifecycleEvents.Deleted, reason);
        if (replace) CreatePod(pod.Daemon, "replaces " + pod.Name);
        // Freed requests may let a pending pod in.
        foreach (var p in _pending.ToArray()) TrySchedule(p, "capacity freed");
    }

    private void Lifecycle(Pod pod, string what, string? reason) =>
        _context.Sink.Lifecycle(new PodLifecycleEvent
        {
            Time = _context.UtcNow,
            Daemon = pod.Daemon.Name,
            Pod = pod.Name,
            Node = pod.Node?.Name,
            Event = what,
            Reason = reason,
            Restarts = pod.Restarts,
        });

    internal static string Mi(long bytes) => (bytes >> 20) + "Mi";
}
