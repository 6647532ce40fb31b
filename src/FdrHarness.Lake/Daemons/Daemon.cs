using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Cluster;

namespace FdrHarness.Lake.Daemons;

/// <summary>A thread's bulk in flight: the ids it took, the CPU it still needs, the memory it holds.</summary>
public sealed class Worker
{
    public readonly List<int> Items = [];
    /// <summary>What the cost and memory are counted in (locks, rows, files...), often Items.Count.</summary>
    public long Units;
    public double CpuLeft;
    /// <summary>The bulk's whole CPU, to tell a meter which share of it a tick spent.</summary>
    public double CpuTotal;
    /// <summary>Seconds the thread still waits on a remote service (FTS, storage, the broker), using no CPU.</summary>
    public double WaitLeft;
    public long Memory;
    public bool Busy;
    /// <summary>A <see cref="QueueDaemon"/>'s bulk in flight, kept here rather than looked up per bulk.</summary>
    internal List<int>? Bulk;
}

/// <summary>
/// A Rucio daemon as a Deployment of pods × threads working its own queue in bulks. On every tick each running pod
/// gets CPU up to its limit (or its node), shared by its threads; a thread takes a bulk, holds its memory while it
/// spends the bulk's CPU, then applies it. Taking a bulk that pushes the pod over its memory limit is an OOMKill: the
/// work of every thread of the pod goes back to the queue.
/// </summary>
public abstract class Daemon
{
    protected Daemon(DaemonSpec spec, LakeContext context)
    {
        Context = context;
        Spec = spec;
        Name = spec.Name;
        Model = DaemonModel.For(spec);
    }

    protected LakeContext Context { get; }
    /// <summary>The cluster the daemon's Deployment runs on (<see cref="KubeCluster.Deploy"/>).</summary>
    internal KubeCluster Cluster { get; set; } = null!;
    public string Name { get; }
    public DaemonSpec Spec { get; internal set; }
    public DaemonModel Model { get; }
    public List<Pod> Pods { get; } = [];
    public int Generation;
    public long OomKills;
    public long Restarts;
    public long ItemsDone;
    /// <summary>Highest memory of any of its pods when taking work, and the longest queue seen at a tick.</summary>
    public long PeakMemory;
    public long PeakBacklog;
    // Threads holding a bulk, over every pod: with none and nothing queued a tick only idles (IdleTick).
    private int _busy;

    /// <summary>Items waiting in the daemon's queue (not counting the ones in flight).</summary>
    public abstract long Backlog { get; }

    /// <summary>Fills the worker with a bulk of at most <paramref name="bulk"/> items (0: no limit); false when there is nothing to do.</summary>
    protected abstract bool Take(Worker w, int bulk);

    /// <summary>Applies a finished bulk to the catalog.</summary>
    protected abstract void Complete(Worker w);

    /// <summary>Puts an unfinished bulk back on the queue (the pod died).</summary>
    protected abstract void Return(Worker w);

    public int RunningPods
    {
        get
        {
            var n = 0;
            foreach (var p in Pods) if (p.Phase == PodPhase.Running) n++;
            return n;
        }
    }

    internal void ReturnWork(Pod pod)
    {
        foreach (var w in pod.Workers)
        {
            if (!w.Busy) continue;
            Return(w);
            w.Items.Clear();
            w.Busy = false;
            pod.BulkMemory -= w.Memory;
            _busy--;
            w.Units = 0;
        }
    }

    /// <summary>Called before the pods work at each tick.</summary>
    protected virtual void BeginTick() { }

    /// <summary>One tick of <paramref name="seconds"/> of virtual time for every running pod.</summary>
    internal void Tick(double seconds)
    {
        BeginTick();
        var backlog = Backlog;
        if (backlog > PeakBacklog) PeakBacklog = backlog;
        var now = Context.Now;
        if (backlog == 0 && _busy == 0)
        {
            IdleTick(seconds, now);
            return;
        }
        // Rucio partitions a daemon's queue over all its threads (hash of the id modulo the thread count): each
        // thread takes its share of the backlog, at most a bulk, so the work spreads over every pod.
        var threadsRunning = 0;
        foreach (var p in Pods)
            if (p.Phase == PodPhase.Running) threadsRunning += p.Workers.Length;
        var share = (int)Math.Min(int.MaxValue, Math.Max(1, (backlog + threadsRunning - 1) / Math.Max(1, threadsRunning)));
        var bulk = Model.Bulk <= 0 ? share : Math.Min(Model.Bulk, share);
        // Pods in a fixed order (creation).
        for (var i = 0; i < Pods.Count; i++)
        {
            var pod = Pods[i];
            if (pod.Phase != PodPhase.Running) continue;
            if (KilledIdle(pod)) continue;
            var threads = pod.Workers.Length;
            var capacity = Capacity(pod, seconds);
            var idle = IdleCpu(capacity, seconds);
            var left = capacity - idle;
            var used = idle;
            double meteredUnits = 0, meteredBulks = 0;
            for (var t = 0; t < threads; t++)
            {
                // A thread uses at most a core (Python); what idle threads leave, busy ones may use, up to the limit.
                // Its tick is wall time: waiting on a remote service takes time but no CPU.
                var w = pod.Workers[t];
                var rate = Math.Min(seconds, left / (threads - t)) / seconds;
                var wall = seconds;
                var cpu = 0.0;
                for (var guard = 0; wall > 1e-9 && guard < 100_000; guard++)
                {
                    if (!w.Busy)
                    {
                        w.Items.Clear();
                        w.Units = 0;
                        if (!Take(w, bulk)) break;
                        w.Busy = true;
                        _busy++;
                        w.CpuLeft = w.CpuTotal = Model.CostPerBulk + w.Units * Model.CostPerItem;
                        w.WaitLeft = Model.WaitPerBulk + w.Units * Model.WaitPerItem;
                        w.Memory = w.Units * Model.MemoryPerItem;
                        pod.BulkMemory += w.Memory;
                        var memory = pod.Memory;
                        if (memory > PeakMemory) PeakMemory = memory;
                        pod.SawMemory(memory);
                        Context.Meter?.Took(pod, w.Units);
                        if (pod.MemoryLimit is { } limit && memory > limit)
                        {
                            Cluster.OomKill(pod, memory);
                            goto nextPod;
                        }
                    }
                    if (w.WaitLeft > 1e-9)
                    {
                        var dt = Math.Min(wall, w.WaitLeft);
                        w.WaitLeft -= dt;
                        wall -= dt;
                    }
                    else if (w.CpuLeft > 1e-9)
                    {
                        if (rate <= 1e-12) break;
                        var spend = Math.Min(w.CpuLeft, wall * rate);
                        w.CpuLeft -= spend;
                        wall -= spend / rate;
                        cpu += spend;
                        if (Context.Meter is not null && w.CpuTotal > 0)
                        {
                            meteredUnits += spend / w.CpuTotal * w.Units;
                            meteredBulks += spend / w.CpuTotal;
                        }
                    }
                    if (w.CpuLeft <= 1e-9 && w.WaitLeft <= 1e-9)
                    {
                        Complete(w);
                        ItemsDone += w.Units;
                        Context.Meter?.Finished(pod, w.Units);
                        pod.Cache = Math.Min(Model.CacheMax, pod.Cache + w.Units * Model.CachePerItem);
                        w.Busy = false;
                        pod.BulkMemory -= w.Memory;
                        _busy--;
                        w.Items.Clear();
                        w.Units = 0;
                    }
                }
                used += cpu;
                left -= cpu;
            }
            // This tick's CPU is spread over the period until the next one.
            pod.UseCpu(used / seconds, now);
            Context.Meter?.Ticked(pod, now, seconds, meteredUnits, meteredBulks);
        nextPod:;
        }
    }

    /// <summary>
    /// <see cref="Tick"/> when nothing is queued and no thread holds a bulk: every thread would find nothing to take,
    /// so each running pod spends only its idle CPU (the same figures as the full tick, without asking each thread).
    /// </summary>
    private void IdleTick(double seconds, long now)
    {
        for (var i = 0; i < Pods.Count; i++)
        {
            var pod = Pods[i];
            if (pod.Phase != PodPhase.Running || KilledIdle(pod)) continue;
            pod.UseCpu(IdleCpu(Capacity(pod, seconds), seconds) / seconds, now);
            Context.Meter?.Ticked(pod, now, seconds, 0, 0);
        }
    }

    /// <summary>A pod whose base and caches alone exceed the limit dies even when it has no work.</summary>
    private bool KilledIdle(Pod pod)
    {
        if (pod.MemoryLimit is not { } limit || pod.Memory <= limit) return false;
        if (pod.Memory > PeakMemory) PeakMemory = pod.Memory;
        Cluster.OomKill(pod, pod.Memory);
        return true;
    }

    /// <summary>CPU-seconds the pod may use in a tick: its cores, at most one per thread.</summary>
    private static double Capacity(Pod pod, double seconds) => Math.Min(pod.Cores, pod.Workers.Length) * seconds;

    // The CFS quota covers everything the container does: its idle loop (polling, heartbeats) comes out of the same
    // budget as its work, so the pod never uses more than its limit.
    private double IdleCpu(double capacity, double seconds) => Math.Min(Model.IdleCpu * seconds, capacity);
}

/// <summary>A daemon whose queue is a count of identical rows (messages, counter updates, logins): it folds them, nothing more.</summary>
public sealed class CountingDaemon(DaemonSpec spec, LakeContext context, RowQueue rows) : Daemon(spec, context)
{
    public override long Backlog => rows.Count;

    protected override bool Take(Worker w, int bulk)
    {
        if (rows.Count == 0) return false;
        w.Units = rows.Take(bulk);
        return true;
    }

    protected override void Complete(Worker w) { }

    protected override void Return(Worker w) => rows.Add(w.Units);
}

/// <summary>
/// A daemon whose queue is a FIFO of work items kept by the catalog module it works on (as a Rucio daemon selects its
/// rows from a table), each an id; one entry is one item unless <see cref="UnitsOf"/> says otherwise. Not generic: the
/// daemons' ticks run it from the start of a run, and ReadyToRun compiles no instantiation of it over int ahead.
/// </summary>
public abstract class QueueDaemon(DaemonSpec spec, LakeContext context, Queue<int> queue) : Daemon(spec, context)
{
    protected readonly Queue<int> Queue = queue;

    // Items found not ready wait here until the next tick, so one tick looks at each of them once, not once per thread.
    private readonly List<int> _deferred = [];

    public override long Backlog
    {
        get
        {
            Refill();
            return Queue.Count + _deferred.Count;
        }
    }

    protected override void BeginTick()
    {
        foreach (var item in _deferred) Queue.Enqueue(item);
        _deferred.Clear();
    }

    protected virtual long UnitsOf(int item) => 1;

    /// <summary>False when the item cannot be worked on now (e.g. its RSE is unavailable); it stays queued.</summary>
    protected virtual bool Ready(int item) => true;

    /// <summary>Moves work that became due (expired rules, DIDs) into the queue before a bulk is taken.</summary>
    protected virtual void Refill() { }

    /// <summary>The thread's bulk (<see cref="Worker.Bulk"/>); parallel to <see cref="Worker.Items"/>, which holds indexes into it.</summary>
    private static List<int> InFlight(Worker w) => w.Bulk ??= [];

    protected override bool Take(Worker w, int bulk)
    {
        Refill();
        var items = InFlight(w);
        items.Clear();
        var n = Queue.Count;
        for (var i = 0; i < n && (bulk <= 0 || items.Count < bulk); i++)
        {
            var item = Queue.Dequeue();
            if (!Ready(item))
            {
                _deferred.Add(item);
                continue;
            }
            items.Add(item);
            w.Items.Add(items.Count - 1);
            w.Units += UnitsOf(item);
        }
        return items.Count > 0;
    }

    protected override void Complete(Worker w)
    {
        var items = InFlight(w);
        foreach (var item in items) Apply(item);
        items.Clear();
    }

    protected abstract void Apply(int item);

    protected override void Return(Worker w)
    {
        var items = InFlight(w);
        foreach (var item in items) Queue.Enqueue(item);
        items.Clear();
    }
}
