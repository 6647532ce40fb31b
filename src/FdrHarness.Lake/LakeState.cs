using System.Buffers.Binary;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Accounting;
using FdrHarness.Core.Planning;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Cluster;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Deletion;
using FdrHarness.Lake.Rules;
using FdrHarness.Lake.Simulation;
using FdrHarness.Lake.Transfers;

namespace FdrHarness.Lake;

/// <summary>An experiment's place in the catalog: its id ranges and its name generator.</summary>
public sealed class ExperimentInfo
{
    public required int Index { get; init; }
    public required string Scope { get; init; }
    public required SyntheticFileGenerator? Generator { get; init; }
    public required int FileOffset { get; init; }
    public required int Files { get; init; }
    public required int DatasetOffset { get; init; }
    public required int Datasets { get; init; }
    public required int ContainerOffset { get; init; }
    public required int Containers { get; init; }
    public required int FilesPerDataset { get; init; }
    public required int DatasetsPerContainer { get; init; }
    public required byte[] WriteRses { get; init; }
    public string Account => Scope == "noise" ? "root" : Scope;
}

/// <summary>
/// Everything the embedded lake knows: the catalog, the RSEs and FTS, the pods and daemons, the clock and the
/// queue of timed actions, and the sink observations go to. Daemons change it only through their bulks.
/// </summary>
public sealed partial class LakeState
{
    internal LakeState(RunPlan plan, IObservationSink sink)
    {
        var scenario = plan.Scenario;
        Scenario = scenario;
        Sink = sink;
        Seed = scenario.Run.Seed;
        _idKey = StableHash.Of((ulong)Seed, "ids");
        _pickKey = StableHash.Of((ulong)Seed, "placement");

        if (scenario.Rses.Count is 0 or > 250) throw new ArgumentException("the embedded lake needs 1 to 250 RSEs");
        // RSEs read the clock (made below) only once the lake runs, to date availability changes.
        Rses = scenario.Rses.Select((r, i) => new RseState(r, (byte)i, () => Clock!.NowMs)).ToArray();
        for (var i = 0; i < Rses.Length; i++) _rseIndex[Rses[i].Name] = (byte)i;
        Fts = new Fts(this, scenario.Rses, scenario.Links);

        // The plan's experiments, then the noise files as a last pseudo-experiment: global id ranges fixed up front.
        long files = 0, datasets = 0, containers = 0;
        var list = new List<ExperimentInfo>();
        foreach (var e in plan.Experiments)
        {
            list.Add(new ExperimentInfo
            {
                Index = e.Index, Scope = e.Scope, Generator = e.Files, FileOffset = (int)files, Files = (int)e.FileCount,
                DatasetOffset = (int)datasets, Datasets = (int)e.DatasetCount, ContainerOffset = (int)containers, Containers = (int)e.ContainerCount,
                FilesPerDataset = e.FilesPerDataset, DatasetsPerContainer = e.DatasetsPerContainer,
                WriteRses = e.WriteRses.Select(RseId).ToArray(),
            });
            files += e.FileCount;
            datasets += e.DatasetCount;
            containers += e.ContainerCount;
        }
        if (files + plan.Noise.Files > int.MaxValue / 4) throw new ArgumentException("too many files for the embedded lake");
        NoiseFileOffset = (int)files;
        Noise = plan.Noise;
        list.Add(new ExperimentInfo
        {
            Index = list.Count, Scope = plan.Noise.Scopes.FirstOrDefault() ?? "noise", Generator = null, FileOffset = (int)files, Files = (int)plan.Noise.Files,
            DatasetOffset = (int)datasets, Datasets = 0, ContainerOffset = (int)containers, Containers = 0,
            FilesPerDataset = 1, DatasetsPerContainer = 0, WriteRses = [],
        });
        if (list.Count > 255) throw new ArgumentException("the embedded lake handles at most 254 experiments");
        Experiments = list.ToArray();
        Files = new FileTable(NoiseFileOffset + (int)plan.Noise.Files);
        for (var e = 0; e < Experiments.Length; e++)
            Array.Fill(Files.Experiment, (byte)e, Experiments[e].FileOffset, Experiments[e].Files);
        Datasets = new DatasetTable((int)datasets, Experiments);
        Containers = new ContainerTable((int)containers, Experiments);

        Clock = new VirtualClock();
        Cluster = new KubeCluster(this, scenario.Cluster);
        Server = new RucioServer(this, SpecOf("rucio-server"));
        Auth = new CountingDaemon(this, SpecOf("rucio-server-auth"));
        Ui = new CountingDaemon(this, SpecOf("rucio-ui"));
        Injector = new JudgeInjector(this, SpecOf("judge-injector"));
        Evaluator = new JudgeEvaluator(this, SpecOf("judge-evaluator"));
        Repairer = new JudgeRepairer(this, SpecOf("judge-repairer"));
        Cleaner = new JudgeCleaner(this, SpecOf("judge-cleaner"));
        Submitter = new ConveyorSubmitter(this, SpecOf("conveyor-submitter"));
        Poller = new ConveyorPoller(this, SpecOf("conveyor-poller"));
        Finisher = new ConveyorFinisher(this, SpecOf("conveyor-finisher"));
        Reaper = new Reaper(this, SpecOf("reaper"));
        Undertaker = new Undertaker(this, SpecOf("undertaker"));
        AbacusAccount = new Abacus(this, SpecOf("abacus-account"));
        AbacusRse = new Abacus(this, SpecOf("abacus-rse"));
        AbacusCollectionReplica = new Abacus(this, SpecOf("abacus-collection-replica"));
        Hermes = new CountingDaemon(this, SpecOf("hermes"));
        Transmogrifier = new CountingDaemon(this, SpecOf("transmogrifier"));
        // Fixed order: the servers first (the harness talks to them), then Rucio's daemons as the chart lists them.
        Daemons =
        [
            Server, Auth, Ui, Injector, Evaluator, Repairer, Cleaner, Submitter, Poller, Finisher, Reaper, Undertaker,
            AbacusAccount, AbacusRse, AbacusCollectionReplica, Hermes, Transmogrifier,
        ];
    }

    private readonly ulong _idKey;
    private readonly ulong _pickKey;
    private readonly Dictionary<string, byte> _rseIndex = new(StringComparer.Ordinal);

    public Scenario Scenario { get; }
    public IObservationSink Sink { get; }
    /// <summary>Calibration's view of the daemons' work; null in an ordinary run.</summary>
    public IWorkMeter? Meter { get; init; }
    public long Seed { get; }
    public VirtualClock Clock { get; }
    public EventQueue Queue { get; } = new();
    public long Now => Clock.NowMs;
    public DateTime UtcNow => Clock.UtcNow;

    public RseState[] Rses { get; }
    public Fts Fts { get; }
    public ExperimentInfo[] Experiments { get; }
    public NoisePlan Noise { get; }
    /// <summary>Global id of noise file 0: noise files follow the experiments' files.</summary>
    public int NoiseFileOffset { get; }
    public FileTable Files { get; }
    public DatasetTable Datasets { get; }
    public ContainerTable Containers { get; }
    public ReplicaTable Replicas { get; } = new();
    public LockTable Locks { get; } = new();
    public RequestTable Requests { get; } = new();
    public List<Rule> Rules { get; } = [];
    /// <summary>Rules by DID (kind, id) in creation order: the undertaker removes them with their DID.</summary>
    public Dictionary<(DidKind, int), List<Rule>> RulesOfDid { get; } = [];
    /// <summary>Extra locks waiting on a replica another rule is already copying there.</summary>
    public Dictionary<int, List<int>> WaitingLocks { get; } = [];

    public KubeCluster Cluster { get; }
    public Daemon[] Daemons { get; }
    public RucioServer Server { get; }
    public CountingDaemon Auth { get; }
    public CountingDaemon Ui { get; }
    public JudgeInjector Injector { get; }
    public JudgeEvaluator Evaluator { get; }
    public JudgeRepairer Repairer { get; }
    public JudgeCleaner Cleaner { get; }
    public ConveyorSubmitter Submitter { get; }
    public ConveyorPoller Poller { get; }
    public ConveyorFinisher Finisher { get; }
    public Reaper Reaper { get; }
    public Undertaker Undertaker { get; }
    public CountingDaemon AbacusAccount { get; }
    public CountingDaemon AbacusRse { get; }
    public CountingDaemon AbacusCollectionReplica { get; }
    public CountingDaemon Hermes { get; }
    public CountingDaemon Transmogrifier { get; }

    public LakeCounters Counters { get; } = new();

    /// <summary>
    /// The part of the plan this process answers for (<c>--shard</c>); null for the whole plan. The lake is simulated
    /// whole whatever the shard — its daemons, queues, links and quotas are shared by every shard's operations, as a
    /// real Rucio's are — and <see cref="Part"/> counts what the shard's own files and rules did.
    /// </summary>
    public PlanShard? Shard { get; init; }

    /// <summary>Counters of the shard's part (files injected and refused, transfers); the whole run's without a shard.</summary>
    public LakeCounters Part { get; } = new();

    /// <summary>Whether a file (of an experiment, or a noise file) is in the shard's part.</summary>
    public bool InPart(int file)
    {
        if (Shard is not { } shard) return true;
        var e = ExperimentOfFile(file);
        return e.Generator is null ? shard.OwnsNoiseFile(file - e.FileOffset) : shard.OwnsDataset(e.Index, (file - e.FileOffset) / e.FilesPerDataset);
    }

    /// <summary>Whether a DID the lake holds (a rule's) is in the shard's part.</summary>
    public bool InPart(DidKind kind, int did) => Shard is not { } shard || kind switch
    {
        DidKind.Dataset => shard.OwnsDataset(Datasets.Experiment[did], did - Experiments[Datasets.Experiment[did]].DatasetOffset),
        DidKind.Container => InPart(DidKind.Dataset, Containers.DatasetRange(did, Experiments).First),
        _ => InPart(did),
    };

    /// <summary>A daemon the scenario does not list still runs: one pod, no requests or limits.</summary>
    private DaemonSpec SpecOf(string name) =>
        Scenario.Daemons.FirstOrDefault(d => d.Name == name) ?? new DaemonSpec { Name = name, Replicas = 1 };

    public byte RseId(string name) => _rseIndex[name];

    public byte[] Select(RseExpression expression)
    {
        var names = expression.Evaluate(Scenario.Rses);
        return Rses.Where(r => names.Contains(r.Name)).Select(r => r.Id).ToArray();
    }

    private byte[] AllRses() => Rses.Select(r => r.Id).ToArray();

    /// <summary>A deterministic number for a choice identified by (what, a, b).</summary>
    public ulong Pick(ulong what, long a, long b = 0) => StableHash.Combine(StableHash.Combine(_pickKey ^ what, (ulong)a), (ulong)b);

    public static ulong Key(string what) => StableHash.Of(0, what);

    /// <summary>32 lower-case hex digits, derived from the seed, a kind of id and a number (request and rule ids).</summary>
    public string Hex32(string kind, long id)
    {
        var k = StableHash.Combine(StableHash.Of(_idKey, kind), (ulong)id);
        return string.Create(32, (k, StableHash.Combine(k, 1)), static (span, v) =>
        {
            WriteHex(v.k, span);
            WriteHex(v.Item2, span[16..]);
        });
    }

    /// <summary>An FTS job id in UUID form (8-4-4-4-12 of a <see cref="Hex32"/>), derived from the seed and the request.</summary>
    public string FtsJobId(int request)
    {
        var k = StableHash.Combine(StableHash.Of(_idKey, "fts-job"), (ulong)request);
        return string.Create(36, (k, StableHash.Combine(k, 1)), static (span, v) =>
        {
            Span<char> hex = stackalloc char[32];
            WriteHex(v.k, hex);
            WriteHex(v.Item2, hex[16..]);
            hex[..8].CopyTo(span);
            span[8] = '-';
            hex[8..12].CopyTo(span[9..]);
            span[13] = '-';
            hex[12..16].CopyTo(span[14..]);
            span[18] = '-';
            hex[16..20].CopyTo(span[19..]);
            span[23] = '-';
            hex[20..].CopyTo(span[24..]);
        });
    }

    /// <summary>A file's Adler-32 as Rucio writes it: 8 lower-case hex digits.</summary>
    public string AdlerHex(int file) => string.Create(8, Files.Adler[file], static (span, a) =>
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, a);
        Convert.TryToHexStringLower(bytes, span, out _);
    });

    // ulong.ToString("x16") without parsing a format per call: events format millions of ids.
    private static void WriteHex(ulong value, Span<char> destination)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        Convert.TryToHexStringLower(bytes, destination[..16], out _);
    }

    // --- names, materialised only for events ---

    public ExperimentInfo ExperimentOfFile(int file) => Experiments[Files.Experiment[file]];

    // A file's events come close together (queued, submitted, done): a small direct-mapped cache of names saves
    // regenerating them; the cache is bounded, so memory does not grow with the number of files.
    private const int NameCacheSize = 1 << 16;
    private readonly int[] _nameCacheFile = CreateEmptyCache();
    private readonly string?[] _nameCache = new string?[NameCacheSize];
    private string?[] _datasetNames = [];

    private static int[] CreateEmptyCache()
    {
        var a = new int[NameCacheSize];
        Array.Fill(a, -1);
        return a;
    }

    public string FileName(int file)
    {
        var slot = file & (NameCacheSize - 1);
        if (_nameCacheFile[slot] == file) return _nameCache[slot]!;
        var e = ExperimentOfFile(file);
        var name = e.Generator is { } g ? g.FileName(file - e.FileOffset) : Noise.File(file - e.FileOffset).Name;
        _nameCacheFile[slot] = file;
        _nameCache[slot] = name;
        return name;
    }

    public string? DatasetNameOfFile(int file)
    {
        var d = DatasetOfFile(file);
        return d < 0 ? null : DatasetName(d);
    }

    public int DatasetOfFile(int file)
    {
        var e = ExperimentOfFile(file);
        return e.Generator is null ? -1 : e.DatasetOffset + (file - e.FileOffset) / e.FilesPerDataset;
    }

    public string DatasetName(int dataset)
    {
        // Datasets are few (thousands): their names are kept once made.
        if (_datasetNames.Length == 0) _datasetNames = new string?[Datasets.Experiment.Length];
        if (_datasetNames[dataset] is { } name) return name;
        var e = Experiments[Datasets.Experiment[dataset]];
        return _datasetNames[dataset] = e.Generator!.DatasetName(dataset - e.DatasetOffset);
    }

    public string ContainerName(int container)
    {
        var e = Experiments[Containers.Experiment[container]];
        return e.Generator!.ContainerNameOfDataset((long)(container - e.ContainerOffset) * e.DatasetsPerContainer)!;
    }

    public string DidName(DidKind kind, int did) => kind switch
    {
        DidKind.Dataset => DatasetName(did),
        DidKind.Container => ContainerName(did),
        _ => FileName(did),
    };

    public string DidScope(DidKind kind, int did) => kind switch
    {
        DidKind.Dataset => Experiments[Datasets.Experiment[did]].Scope,
        DidKind.Container => Experiments[Containers.Experiment[did]].Scope,
        _ => ExperimentOfFile(did).Scope,
    };

    // --- events ---

    public void Emit(in HermesEvent e)
    {
        Sink.Event(e);
        Counters.Events++;
        Hermes.Add(1);
    }

    /// <summary>Files of a DID, as a range of global file ids per dataset (noise files are their own DID).</summary>
    public IEnumerable<(int First, int Count)> FileRanges(DidKind kind, int did)
    {
        switch (kind)
        {
            case DidKind.File:
                yield return (did, 1);
                break;
            case DidKind.Dataset:
                yield return Datasets.FileRange(did, Experiments);
                break;
            case DidKind.Container:
                var (first, count) = Containers.DatasetRange(did, Experiments);
                for (var d = first; d < first + count; d++) yield return Datasets.FileRange(d, Experiments);
                break;
        }
    }

    public long FileCountOf(DidKind kind, int did)
    {
        long n = 0;
        foreach (var (_, c) in FileRanges(kind, did)) n += c;
        return n;
    }

    /// <summary>Adds a replica's bytes to its RSE and tells the abacus daemons.</summary>
    public void ReplicaArrived(int replica)
    {
        var rse = Rses[Replicas.Rse[replica]];
        rse.Used += Files.Bytes[Replicas.File[replica]];
        rse.Arrived += Files.Bytes[Replicas.File[replica]];
        if (rse.Used > rse.MaxUsed) rse.MaxUsed = rse.Used;
        if (rse.Used > rse.Quota) Counters.QuotaExceededUnnoticed++;
        var file = Replicas.File[replica];
        CountersChanged(file);
        // An upload attaches the file to its dataset: Rucio queues the dataset for the judge-evaluator (updated_dids).
        if (Replicas.Primary[replica] && DatasetOfFile(file) is var dataset && dataset >= 0) Evaluator.Attached(dataset);
    }

    public void CountersChanged(int file)
    {
        AbacusAccount.Add(1);
        AbacusRse.Add(1);
        if (DatasetOfFile(file) >= 0) AbacusCollectionReplica.Add(1);
    }
}

/// <summary>End-of-run counters kept while running.</summary>
public sealed class LakeCounters
{
    /// <summary>Limit changes the API server would refuse (a request above its limit after the merge), with why.</summary>
    public readonly List<string> LimitChangesRefused = [];
    public long FilesInjected, FilesRefused, Events;
    public long TransfersQueued, TransfersSubmitted, TransfersDone, TransfersFailed, TransfersCancelled, BytesTransferred;
    public long Deletions, BytesDeleted;
    public long QuotaRefusals, QuotaExceededUnnoticed, RulesOkWithLockNotOk;
    public long RulesCreated;
}

/// <summary>Datasets by global id: the files registered so far, whether erased.</summary>
public sealed class DatasetTable
{
    public readonly byte[] Experiment;
    public readonly int[] FilesRegistered;
    public readonly bool[] Erased;

    internal DatasetTable(int count, ExperimentInfo[] experiments)
    {
        Experiment = new byte[count];
        FilesRegistered = new int[count];
        Erased = new bool[count];
        foreach (var e in experiments) Array.Fill(Experiment, (byte)e.Index, e.DatasetOffset, e.Datasets);
    }

    public (int First, int Count) FileRange(int dataset, ExperimentInfo[] experiments)
    {
        var e = experiments[Experiment[dataset]];
        var d = dataset - e.DatasetOffset;
        var first = d * e.FilesPerDataset;
        return (e.FileOffset + first, Math.Min(e.FilesPerDataset, e.Files - first));
    }
}

public sealed class ContainerTable
{
    public readonly byte[] Experiment;

    internal ContainerTable(int count, ExperimentInfo[] experiments)
    {
        Experiment = new byte[count];
        foreach (var e in experiments) Array.Fill(Experiment, (byte)e.Index, e.ContainerOffset, e.Containers);
    }

    public (int First, int Count) DatasetRange(int container, ExperimentInfo[] experiments)
    {
        var e = experiments[Experiment[container]];
        var c = container - e.ContainerOffset;
        var first = c * e.DatasetsPerContainer;
        return (e.DatasetOffset + first, Math.Min(e.DatasetsPerContainer, e.Datasets - first));
    }
}
