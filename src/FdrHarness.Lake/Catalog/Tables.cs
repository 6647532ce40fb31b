using System.Runtime.InteropServices;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Lake.Catalog;

// The catalog is kept as struct-of-arrays indexed by int ids (a million files are a million array slots, not a
// million objects). Names are never stored: they are regenerated from (seed, scope, index) when an event needs them.

public enum FileState : byte { NotInjected, Present, Deleted, Refused }

public enum ReplicaState : byte { Copying, Available, Deleted }

public enum LockState : byte { Replicating, Ok, Stuck, Removed }

/// <summary>Request states as Rucio names them; Done/Failed are set when the poller learns FTS's verdict.</summary>
public enum RequestState : byte { Queued, Submitted, Done, Failed, Cancelled }

/// <summary>Why FTS failed a transfer, fixed when it failed (not when the poller reads it).</summary>
public enum TransferFailure : byte { None, Link, DestinationUnavailable, SourceUnavailable }

public enum RuleState : byte { Inject, Replicating, Ok, Stuck, Removed }


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
/// Rows that a daemon folds without looking at them one by one (Rucio's messages, updated_*_counter rows, new DIDs, API
/// calls on the auth server): only their number is kept.
/// </summary>
public sealed class RowQueue
{
    public long Count { get; private set; }

    public void Add(long rows) => Count += rows;

    /// <summary>Takes up to <paramref name="most"/> rows (0: all of them); how many it took.</summary>
    public long Take(long most)
    {
        var n = most <= 0 ? Count : Math.Min(most, Count);
        Count -= n;
        return n;
    }
}

/// <summary>
/// The tables' columns, on the pinned-object heap: they live as long as the run, and below the process's large-object
/// threshold (16 MiB) they were allocated in gen0 and copied by the gen0 and gen1 collections on their way to gen2
/// (ESCAPE: most of the bytes those collections promoted). The growing tables' columns are not zeroed, since Add
/// writes every column of a row before anything reads it: zeroing them faulted in pages the run might never use.
/// </summary>
internal static class Columns
{
    public static T[] New<T>(int size) => HugePages(GC.AllocateUninitializedArray<T>(Math.Max(16, size), pinned: true));

    public static T[] Zeroed<T>(int size) => HugePages(GC.AllocateArray<T>(size, pinned: true));

    public static void Grow<T>(ref T[] a, int size)
    {
        var grown = HugePages(GC.AllocateUninitializedArray<T>(size, pinned: true));
        a.CopyTo(grown, 0);
        a = grown;
    }

    // The columns' pages are first touched as rows are added, and a page fault is dear on a VM: 2 MiB pages fault 512
    // times less often (ESCAPE: 33 k → 24 k faults a run). Advice only (transparent huge pages in madvise mode); a
    // column holds at most one 2 MiB page more than it uses.
    private const int HugePage = 2 << 20;

    private static T[] HugePages<T>(T[] a)
    {
        var bytes = (long)a.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes < HugePage || !OperatingSystem.IsLinux()) return a;
        // The whole huge pages within the array: the memory around it is the GC's.
        var start = (long)Marshal.UnsafeAddrOfPinnedArrayElement(a, 0);
        var first = (start + HugePage - 1) & ~(long)(HugePage - 1);
        var end = (start + bytes) & ~(long)(HugePage - 1);
        if (end <= first) return a;
        try { _ = madvise((nint)first, (nuint)(end - first), MadvHugePage); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return a;
    }

    private const int MadvHugePage = 14;

    /// <summary>Rows a growing table has the pages of faulted in ahead of its adds (<see cref="Prefault"/>), per step.</summary>
    public const int PrefaultRows = 1 << 16;

    /// <summary>
    /// Has a pool thread fault in the pages of rows [from, to) of the columns: the lake's thread took about one page
    /// fault per 4 KiB row page it first wrote (ESCAPE: ~15 % of its time in the main job, a fault being dear on a VM).
    /// MADV_POPULATE_WRITE maps the pages writable without writing them, so it may run while the lake writes its rows.
    /// Advice only: an old kernel's refusal leaves the faults to the lake's thread.
    /// </summary>
    public static void Prefault(Array[] columns, int from, int to)
    {
        if (!OperatingSystem.IsLinux() || from >= to) return;
        ThreadPool.UnsafeQueueUserWorkItem(static w => w.Run(), new PrefaultWork(columns, from, to), preferLocal: false);
    }

    private sealed class PrefaultWork(Array[] columns, int from, int to)
    {
        public void Run()
        {
            foreach (var column in columns) Populate(column, from, to);
            GC.KeepAlive(columns);
        }
    }

    /// <summary>Faults in the pages of rows [from, to) of a column now, in one call rather than a fault per page (advice only).</summary>
    public static void Populate(Array column, int from, int to)
    {
        var end = Math.Min(to, column.Length);
        if (!OperatingSystem.IsLinux() || from >= end) return;
        var size = Buffer.ByteLength(column) / column.Length;
        // Whole pages around the rows: the first and last may hold the GC's other objects, which are only mapped.
        var start = (long)Marshal.UnsafeAddrOfPinnedArrayElement(column, from) & ~(long)(Page - 1);
        var stop = ((long)Marshal.UnsafeAddrOfPinnedArrayElement(column, end - 1) + size + Page - 1) & ~(long)(Page - 1);
        try { _ = madvise((nint)start, (nuint)(stop - start), MadvPopulateWrite); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    private const int Page = 4096;
    private const int MadvPopulateWrite = 23;

    [DllImport("libc")]
    private static extern int madvise(nint addr, nuint length, int advice);
}

/// <summary>Files by global id: experiment e owns ids [FileOffset(e), FileOffset(e) + Count(e)); noise files come last.</summary>
public sealed class FileTable
{
    public FileTable(int count)
    {
        Experiment = Columns.Zeroed<byte>(count);
        Bytes = Columns.Zeroed<long>(count);
        Adler = Columns.Zeroed<uint>(count);
        AdlerKnown = Columns.Zeroed<bool>(count);
        State = Columns.Zeroed<FileState>(count);
        FirstReplica = CreateFilled(count);
        // Every file is registered in a run that goes to its end.
        Columns.Prefault([Bytes, Adler, AdlerKnown, State], 0, count);
    }

    public readonly byte[] Experiment;
    public readonly long[] Bytes;
    /// <summary>A file's Adler-32 once <see cref="AdlerKnown"/> (made on first use: <see cref="Dids.Adler"/>).</summary>
    public readonly uint[] Adler;
    public readonly bool[] AdlerKnown;
    public readonly FileState[] State;
    public readonly int[] FirstReplica;
    public int Count => Bytes.Length;

    private static int[] CreateFilled(int n)
    {
        var a = Columns.Zeroed<int>(n);
        Columns.Populate(a, 0, n); // the fill writes every page at once
        Array.Fill(a, -1);
        return a;
    }
}

// The growing tables start at the scenario's file count (Catalog's constructors): a run has at least a replica per file
// and, on the scenarios measured, about as many locks and requests, so the columns are not copied a dozen times on the
// way (a third of the lake's allocated bytes, and the gen-2 collections the large-object heap's growth set off). Slots
// not yet used are memory the process has not touched (Columns does not zero them).

/// <summary>Replicas: a linked list per file (FirstReplica → Next), at most one live replica per (file, RSE).</summary>
public sealed class ReplicaTable(int capacity = 1024)
{
    public int[] File = Columns.New<int>(capacity);
    public byte[] Rse = Columns.New<byte>(capacity);
    public ReplicaState[] State = Columns.New<ReplicaState>(capacity);
    public int[] Locks = Columns.New<int>(capacity);
    /// <summary>Given a tombstone: the reaper may delete it (a tombstone is always the moment it was set, never later).</summary>
    public bool[] Tombstone = Columns.New<bool>(capacity);
    public int[] Next = Columns.New<int>(capacity);
    /// <summary>Written by the harness (an upload), not by a transfer: only the undertaker gives it a tombstone.</summary>
    public bool[] Primary = Columns.New<bool>(capacity);
    /// <summary>The lock whose request is copying the replica (the first lock made for it), or -1.</summary>
    public int[] Owner = Columns.New<int>(capacity);
    public int Count;

    public int Add(FileTable files, int file, byte rse, ReplicaState state, bool primary = false)
    {
        if (Count == File.Length)
        {
            var n = Count * 2;
            Columns.Grow(ref File, n); Columns.Grow(ref Rse, n); Columns.Grow(ref State, n);
            Columns.Grow(ref Locks, n); Columns.Grow(ref Tombstone, n); Columns.Grow(ref Next, n); Columns.Grow(ref Primary, n);
            Columns.Grow(ref Owner, n);
        }
        var id = Count++;
        if ((id & (Columns.PrefaultRows - 1)) == 0)
            Columns.Prefault([File, Rse, State, Locks, Tombstone, Next, Primary, Owner], id, id + 2 * Columns.PrefaultRows);
        File[id] = file;
        Rse[id] = rse;
        State[id] = state;
        Locks[id] = 0;
        Tombstone[id] = false;
        Primary[id] = primary;
        Owner[id] = -1;
        Next[id] = files.FirstReplica[file];
        files.FirstReplica[file] = id;
        return id;
    }

    /// <summary>The live replica of a file on an RSE, or -1.</summary>
    public int Find(FileTable files, int file, byte rse)
    {
        for (var r = files.FirstReplica[file]; r >= 0; r = Next[r])
            if (Rse[r] == rse && State[r] != ReplicaState.Deleted) return r;
        return -1;
    }
}

/// <summary>Replica locks: one per (rule, file, RSE). A rule's locks are one contiguous id range.</summary>
public sealed class LockTable(int capacity = 1024)
{
    public int[] Rule = Columns.New<int>(capacity);
    public int[] File = Columns.New<int>(capacity);
    public byte[] Rse = Columns.New<byte>(capacity);
    public LockState[] State = Columns.New<LockState>(capacity);
    public int[] Replica = Columns.New<int>(capacity);
    public int[] Request = Columns.New<int>(capacity);
    public int Count;

    public int Add(int rule, int file, byte rse, int replica)
    {
        if (Count == Rule.Length)
        {
            var n = Count * 2;
            Columns.Grow(ref Rule, n); Columns.Grow(ref File, n); Columns.Grow(ref Rse, n);
            Columns.Grow(ref State, n); Columns.Grow(ref Replica, n); Columns.Grow(ref Request, n);
        }
        var id = Count++;
        if ((id & (Columns.PrefaultRows - 1)) == 0) Columns.Prefault([Rule, File, Rse, State, Replica, Request], id, id + 2 * Columns.PrefaultRows);
        Rule[id] = rule;
        File[id] = file;
        Rse[id] = rse;
        State[id] = LockState.Replicating;
        Replica[id] = replica;
        Request[id] = -1;
        return id;
    }
}

/// <summary>Transfer requests, one per attempt: a retry is a new request whose Previous is the failed one.</summary>
public sealed class RequestTable(int capacity = 1024)
{
    public int[] Lock = Columns.New<int>(capacity);
    public byte[] Source = Columns.New<byte>(capacity);
    public RequestState[] State = Columns.New<RequestState>(capacity);
    public byte[] Retry = Columns.New<byte>(capacity);
    public int[] Previous = Columns.New<int>(capacity);
    public long[] SubmittedAt = Columns.New<long>(capacity);
    public long[] StartedAt = Columns.New<long>(capacity);
    public long[] TransferredAt = Columns.New<long>(capacity);
    /// <summary>FTS's verdict once the transfer ended: None when it succeeded, else why it failed.</summary>
    public TransferFailure[] Failure = Columns.New<TransferFailure>(capacity);
    public int Count;

    public int Add(int lockId, byte retry, int previous)
    {
        if (Count == Lock.Length)
        {
            var n = Count * 2;
            Columns.Grow(ref Lock, n); Columns.Grow(ref Source, n); Columns.Grow(ref State, n); Columns.Grow(ref Retry, n);
            Columns.Grow(ref Previous, n); Columns.Grow(ref SubmittedAt, n);
            Columns.Grow(ref StartedAt, n); Columns.Grow(ref TransferredAt, n); Columns.Grow(ref Failure, n);
        }
        var id = Count++;
        if ((id & (Columns.PrefaultRows - 1)) == 0)
            Columns.Prefault([Lock, Source, State, Retry, Previous, SubmittedAt, StartedAt, TransferredAt, Failure], id, id + 2 * Columns.PrefaultRows);
        Lock[id] = lockId;
        Source[id] = 0;
        State[id] = RequestState.Queued;
        Retry[id] = retry;
        Previous[id] = previous;
        SubmittedAt[id] = StartedAt[id] = TransferredAt[id] = -1;
        Failure[id] = TransferFailure.None;
        return id;
    }
}

/// <summary>A replication rule. Few enough (thousands) to be objects.</summary>
public sealed class Rule
{
    public required int Id { get; init; }
    public required string IdHex { get; init; }
    public required DidKind Kind { get; init; }
    /// <summary>Global dataset id, container id or file id, by <see cref="Kind"/>.</summary>
    public required int Did { get; init; }
    public required int Copies { get; init; }
    public required byte[] Candidates { get; init; }
    public required byte[]? Sources { get; init; }
    public required string Activity { get; init; }
    public required Core.Scenarios.Model.NotifyMode Notify { get; init; }
    public required Core.Scenarios.Model.RuleGrouping Grouping { get; init; }
    public required int Phase { get; init; }
    public RuleState State;
    public long ExpiresAt = long.MaxValue;
    public long CreatedAt;
    public long StuckSince = -1;
    public int LockStart, LockCount, LocksOk, LocksStuck;
    /// <summary>Locks not yet OK per dataset of the rule (container rules), for DATASETLOCK_OK.</summary>
    public int[]? PendingPerDataset;
    public int FirstDataset;
    public int ProgressReported;
    /// <summary>Copies that found no RSE with room (quota): the rule stays STUCK, noticed.</summary>
    public int Missing;
    /// <summary>Fewer RSEs of its expression available for write than copies when evaluated: STUCK without locks.</summary>
    public bool Unplaced;
    /// <summary>A rule of a qos_transition replacing this one; this rule is removed once that one is OK.</summary>
    public Rule? Replaces;
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
