using System.Buffers;
using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Catalog;

/// <summary>
/// DIDs, as Rucio's core/did.py: the experiments' files, datasets and containers (id ranges fixed up front from the
/// plan, noise files last), their names (regenerated from the seed when an event needs them, never stored), their
/// lifetimes (the undertaker's queue) and the new DIDs the transmogrifier reads.
/// </summary>
public sealed class Dids : INameSource
{
    private readonly LakeContext _context;

    internal Dids(RunPlan plan, Rses rses, LakeContext context, PlanShard? shard)
    {
        _context = context;
        Shard = shard;
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
                WriteRses = e.WriteRses.Select(rses.Id).ToArray(),
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
        Columns.Prefault([_nameBytes], 0, _nameBytes.Length);
    }

    public ExperimentInfo[] Experiments { get; }
    public NoisePlan Noise { get; }
    /// <summary>Global id of noise file 0: noise files follow the experiments' files.</summary>
    public int NoiseFileOffset { get; }
    public FileTable Files { get; }
    public DatasetTable Datasets { get; }
    public ContainerTable Containers { get; }

    /// <summary>DIDs with a lifetime, by when it runs out: datasets as their id, files (noise) as -(id + 1).</summary>
    internal TimedHeap<int> Expiries { get; } = new();

    /// <summary>New datasets, containers and noise files, which the transmogrifier matches against subscriptions.</summary>
    public RowQueue NewDids { get; } = new();

    public void ExpireAt(int encodedDid, long at) => Expiries.Enqueue(at, encodedDid, encodedDid);

    public static int EncodeFile(int file) => -(file + 1);

    /// <summary>
    /// The part of the plan this process answers for (<c>--shard</c>); null for the whole plan. The lake is simulated
    /// whole whatever the shard — its daemons, queues, links and quotas are shared by every shard's operations, as a
    /// real Rucio's are — and <see cref="LakeContext.Part"/> counts what the shard's own files and rules did.
    /// </summary>
    public PlanShard? Shard { get; }

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

    /// <summary>Files of a DID, as a range of global file ids per dataset (noise files are their own DID).</summary>
    public (int First, int Count)[] FileRanges(DidKind kind, int did)
    {
        switch (kind)
        {
            case DidKind.File:
                return [(did, 1)];
            case DidKind.Dataset:
                return [Datasets.FileRange(did, Experiments)];
            case DidKind.Container:
                var (first, count) = Containers.DatasetRange(did, Experiments);
                var ranges = new (int First, int Count)[count];
                for (var d = 0; d < count; d++) ranges[d] = Datasets.FileRange(first + d, Experiments);
                return ranges;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    // Without an array: the judges ask it for every rule they take.
    public long FileCountOf(DidKind kind, int did)
    {
        switch (kind)
        {
            case DidKind.File:
                return 1;
            case DidKind.Dataset:
                return Datasets.FileRange(did, Experiments).Count;
            case DidKind.Container:
                var (first, count) = Containers.DatasetRange(did, Experiments);
                long n = 0;
                for (var d = first; d < first + count; d++) n += Datasets.FileRange(d, Experiments).Count;
                return n;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    public ExperimentInfo ExperimentOfFile(int file) => Experiments[Files.Experiment[file]];

    public int DatasetOfFile(int file)
    {
        var e = ExperimentOfFile(file);
        return e.Generator is null ? -1 : e.DatasetOffset + (file - e.FileOffset) / e.FilesPerDataset;
    }

    /// <summary>A new dataset (and the container it opens): CREATE_DTS / CREATE_CNT, and rows for the transmogrifier.</summary>
    public void CreateDataset(int dataset)
    {
        var e = Experiments[Datasets.Experiment[dataset]];
        NewDids.Add(1);
        _context.Emit(new HermesEvent { EventType = "CREATE_DTS", CreatedAt = _context.UtcNow, Scope = e.Scope, Name = DatasetName(dataset), Account = e.Account });
        if (e.DatasetsPerContainer > 0 && (dataset - e.DatasetOffset) % e.DatasetsPerContainer == 0)
        {
            var container = e.ContainerOffset + (dataset - e.DatasetOffset) / e.DatasetsPerContainer;
            NewDids.Add(1);
            _context.Emit(new HermesEvent { EventType = "CREATE_CNT", CreatedAt = _context.UtcNow, Scope = e.Scope, Name = ContainerName(container), Account = e.Account });
        }
    }

    /// <summary>ERASE of a DID the undertaker removed.</summary>
    public void EmitErase(DidKind kind, int did) =>
        _context.Emit(new HermesEvent
        {
            EventType = "ERASE",
            CreatedAt = _context.UtcNow,
            Scope = DidScope(kind, did),
            Name = DidName(kind, did),
            State = kind == DidKind.Dataset ? "DATASET" : "FILE",
            Account = "root",
        });

    // --- names, materialised only for events ---

    // A file's events come close together (queued, submitted, done): a small direct-mapped cache of names saves
    // regenerating them; the cache is bounded, so memory does not grow with the number of files. It holds the names'
    // bytes, not strings: a cached string lived long enough to be promoted to gen2 (most of what the gen0 and gen1
    // collections copied, and the gen2 pages they faulted in), where a string made per event dies in gen0.
    private const int NameCacheSize = 1 << 16;
    private const int NameStride = 128;
    private readonly int[] _nameCacheFile = CreateEmptyCache();
    private readonly byte[] _nameLength = new byte[NameCacheSize];
    private readonly byte[] _nameBytes = Columns.New<byte>(NameCacheSize * NameStride);
    private string?[] _datasetNames = [];

    private static int[] CreateEmptyCache()
    {
        var a = new int[NameCacheSize];
        Array.Fill(a, -1);
        return a;
    }

    public string FileName(int file)
    {
        var slot = NameSlot(file);
        if (slot >= 0) return Encoding.Latin1.GetString(_nameBytes, slot * NameStride, _nameLength[slot]);
        var e = ExperimentOfFile(file);
        return e.Generator is { } g ? g.FileName(file - e.FileOffset) : Noise.File(file - e.FileOffset).Name;
    }

    /// <summary>The cache slot holding the file's name, made if need be; -1 for a name longer than a slot or not ASCII.</summary>
    private int NameSlot(int file)
    {
        var slot = file & (NameCacheSize - 1);
        if (_nameCacheFile[slot] == file) return slot;
        var e = ExperimentOfFile(file);
        var name = e.Generator is { } g ? g.FileNameChars(file - e.FileOffset) : Noise.File(file - e.FileOffset).Name;
        if (name.Length <= NameStride && Ascii.FromUtf16(name, _nameBytes.AsSpan(slot * NameStride, NameStride), out _) == OperationStatus.Done)
        {
            _nameCacheFile[slot] = file;
            _nameLength[slot] = (byte)name.Length;
            return slot;
        }
        _nameCacheFile[slot] = -1;
        return -1;
    }

    /// <summary>A file's name for an event: written into events.parquet from the cache, a string only if read.</summary>
    public NameRef FileNameRef(int file) => new(this, file);

    int INameSource.MaxLength => NameStride;

    string INameSource.Name(long index) => FileName((int)index);

    bool INameSource.TryWrite(long index, Span<byte> destination, out int written)
    {
        var slot = NameSlot((int)index);
        if (slot < 0)
        {
            written = 0;
            return false;
        }
        written = _nameLength[slot];
        _nameBytes.AsSpan(slot * NameStride, written).CopyTo(destination);
        return true;
    }

    public string? DatasetNameOfFile(int file)
    {
        var d = DatasetOfFile(file);
        return d < 0 ? null : DatasetName(d);
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

    /// <summary>
    /// A file's Adler-32: made from its experiment's content on first use (the plan leaves it out, <see cref="FileDetail.Lean"/>)
    /// and kept; a noise file's is the plan's.
    /// </summary>
    public uint Adler(int file)
    {
        if (Files.AdlerKnown[file]) return Files.Adler[file];
        var e = ExperimentOfFile(file);
        var adler = e.Generator!.Adler32Of(file - e.FileOffset, Files.Bytes[file]);
        Files.Adler[file] = adler;
        Files.AdlerKnown[file] = true;
        return adler;
    }

    /// <summary>
    /// Makes the Adler-32 of the present files of a range of one dataset that have none yet, several at a time (the
    /// content's batch waits for memory once per batch, not per file). A rule's evaluation asks for its files' first:
    /// it queues a transfer, with the checksum in its event, for every such file.
    /// </summary>
    public void PrepareAdlers(int first, int count)
    {
        if (count <= 0 || ExperimentOfFile(first).Generator is not { } generator) return;
        const int Batch = 16;
        var offset = ExperimentOfFile(first).FileOffset;
        Span<int> files = stackalloc int[Batch];
        Span<long> indexes = stackalloc long[Batch];
        Span<long> bytes = stackalloc long[Batch];
        Span<uint> adlers = stackalloc uint[Batch];
        var n = 0;
        for (var f = first; ; f++)
        {
            var end = f == first + count;
            if (!end && Files.State[f] == FileState.Present && !Files.AdlerKnown[f])
            {
                files[n] = f;
                indexes[n] = f - offset;
                bytes[n++] = Files.Bytes[f];
            }
            if (n == Batch || (end && n > 0))
            {
                generator.Adler32Of(indexes[..n], bytes[..n], adlers);
                for (var i = 0; i < n; i++)
                {
                    Files.Adler[files[i]] = adlers[i];
                    Files.AdlerKnown[files[i]] = true;
                }
                n = 0;
            }
            if (end) return;
        }
    }

    /// <summary>A file's Adler-32 as Rucio writes it: 8 lower-case hex digits.</summary>
    public string AdlerHex(int file) => AdlerId(file).Text!;

    /// <summary><see cref="AdlerHex"/> as its number.</summary>
    public HexId AdlerId(int file) => HexId.Hex8(Adler(file));
}
