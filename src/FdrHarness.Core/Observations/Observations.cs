using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FdrHarness.Core.Observations;

/// <summary>
/// A Rucio event in Hermes form: event_type plus the payload fields as columns (null where the type has none).
/// Field names follow Hermes payload keys (request-id → RequestId). Times are the target's clock: virtual on the embedded lake.
/// </summary>
public record struct HermesEvent
{
    public string EventType;          // transfer-queued, transfer-submitted, transfer-done, transfer-failed, deletion-done, RULE_OK, ...
    public DateTime CreatedAt;
    public string? Scope;
    public string? Name { readonly get => NameRef.Source is { } s ? s.Name(NameRef.Index) : _name; set => (_name, NameRef) = (value, default); }
    public string? DatasetScope;
    public string? Dataset;
    public string? SrcRse;
    public string? DstRse;
    public string? Rse;               // deletion-* events
    public string? RequestId { readonly get => RequestIdHex.Text ?? _requestId; set => (_requestId, RequestIdHex) = (value, default); }
    public string? PreviousRequestId { readonly get => PreviousRequestIdHex.Text ?? _previousRequestId; set => (_previousRequestId, PreviousRequestIdHex) = (value, default); } // set on a retry
    public string? RuleId;
    public string? Activity;
    public long? Bytes;
    public string? ChecksumAdler { readonly get => ChecksumAdlerHex.Text ?? _checksumAdler; set => (_checksumAdler, ChecksumAdlerHex) = (value, default); }
    public string? Protocol;          // scheme of the destination (transfers) or of the deleted URL
    public double? Duration;          // seconds; -1 when unknown
    public string? Reason;
    public int? RetryCount;
    public string? TransferId { readonly get => TransferIdHex.Text ?? _transferId; set => (_transferId, TransferIdHex) = (value, default); } // FTS job id
    public string? ExternalHost;      // FTS server
    public string? Account;
    public string? State;
    public double? Progress;          // RULE_PROGRESS
    public DateTime? SubmittedAt;
    public DateTime? StartedAt;
    public DateTime? TransferredAt;

    // The ids a target derives from numbers (the embedded lake's request ids, FTS job ids, checksums) may be given as
    // their numbers instead of text: events.parquet writes their digits straight into its batch, and a string is made
    // only for a reader of the property. The lake emits millions: their strings were most of what it allocated.
    public HexId RequestIdHex, PreviousRequestIdHex, ChecksumAdlerHex, TransferIdHex;
    /// <summary>The name as a reference to the target's names (the lake's files), for <see cref="Name"/>.</summary>
    public NameRef NameRef;
    private string? _name, _requestId, _previousRequestId, _checksumAdler, _transferId;

    /// <summary>The property's string as given (null when given as a <see cref="HexId"/>): what <see cref="EventBatch"/> encodes.</summary>
    internal readonly string? NameString => _name;
    internal readonly string? RequestIdString => _requestId;
    internal readonly string? PreviousRequestIdString => _previousRequestId;
    internal readonly string? ChecksumAdlerString => _checksumAdler;
    internal readonly string? TransferIdString => _transferId;
}

/// <summary>Names a target makes from an index (the embedded lake's file names, a pure function of the file).</summary>
public interface INameSource
{
    /// <summary>The longest name <see cref="TryWrite"/> writes.</summary>
    int MaxLength { get; }

    string Name(long index);

    /// <summary>Writes the name's ASCII bytes; false (nothing written) for a name it does not hold as ASCII.</summary>
    bool TryWrite(long index, Span<byte> destination, out int written);
}

/// <summary>A name given as its source and index: made a string only for a reader of <see cref="HermesEvent.Name"/>.</summary>
public readonly record struct NameRef(INameSource? Source, long Index);

/// <summary>How a <see cref="HexId"/> reads: none (no id), 8 or 32 lower-case hex digits, or a UUID (8-4-4-4-12).</summary>
public enum HexForm : byte { None, Hex8, Hex32, Uuid }

/// <summary>
/// An id written as lower-case hex digits: the 64-bit <see cref="High"/> then <see cref="Low"/> (Hex32, Uuid), or the
/// low 32 bits of <see cref="Low"/> (Hex8). Formatted on demand, as UTF-16 (<see cref="Text"/>) or ASCII (<see cref="Write"/>).
/// </summary>
public readonly record struct HexId(ulong High, ulong Low, HexForm Form)
{
    public static HexId Hex8(uint value) => new(0, value, HexForm.Hex8);

    public static HexId Hex32(ulong high, ulong low) => new(high, low, HexForm.Hex32);

    public static HexId Uuid(ulong high, ulong low) => new(high, low, HexForm.Uuid);

    public int Length => Form switch { HexForm.Hex8 => 8, HexForm.Hex32 => 32, HexForm.Uuid => 36, _ => 0 };

    /// <summary>The id's text; null for <see cref="HexForm.None"/>.</summary>
    public string? Text => Form == HexForm.None ? null : string.Create(Length, this, static (span, id) =>
    {
        Span<byte> ascii = stackalloc byte[36];
        id.Write(ascii);
        for (var i = 0; i < span.Length; i++) span[i] = (char)ascii[i];
    });

    /// <summary>Writes the id's <see cref="Length"/> ASCII digits (and dashes) to <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        ref var d = ref MemoryMarshal.GetReference(destination[..Length]);
        switch (Form)
        {
            case HexForm.Hex8:
                Unsafe.WriteUnaligned(ref d, Digits(Low << 32).AsUInt64().ToScalar());
                break;
            case HexForm.Hex32:
                Digits(High).StoreUnsafe(ref d);
                Digits(Low).StoreUnsafe(ref d, 16);
                break;
            case HexForm.Uuid:
                var high = Digits(High);
                var low = Digits(Low);
                Unsafe.WriteUnaligned(ref d, high.AsUInt64().ToScalar());
                Unsafe.Add(ref d, 8) = (byte)'-';
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 9), high.AsUInt32().GetElement(2));
                Unsafe.Add(ref d, 13) = (byte)'-';
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 14), high.AsUInt32().GetElement(3));
                Unsafe.Add(ref d, 18) = (byte)'-';
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 19), low.AsUInt32().ToScalar());
                Unsafe.Add(ref d, 23) = (byte)'-';
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 24), low.AsUInt32().GetElement(1));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 28), low.AsUInt64().GetElement(1));
                break;
        }
    }

    /// <summary>
    /// The 16 lower-case hex digits of <paramref name="value"/>, most significant first, computed 16 at a time (the lake
    /// writes three ids per event: a table lookup per byte was 40 ns an id).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Digits(ulong value)
    {
        // Each byte, most significant first, widened to 16 bits: its high nibble in the first byte, its low in the second.
        var bytes = Vector128.WidenLower(Vector128.CreateScalarUnsafe(BinaryPrimitives.ReverseEndianness(value)).AsByte());
        var nibbles = (Vector128.ShiftRightLogical(bytes, 4) | Vector128.ShiftLeft(bytes & Vector128.Create((ushort)0x0F), 8)).AsByte();
        var letters = Vector128.GreaterThan(nibbles.AsSByte(), Vector128.Create((sbyte)9)).AsByte() & Vector128.Create((byte)('a' - '0' - 10));
        return nibbles + Vector128.Create((byte)'0') + letters;
    }
}

/// <summary>One pod's resources at one observation instant.</summary>
public record struct PodSample
{
    public DateTime Time;
    public string Daemon;
    public string Pod;
    public string? Node;
    public string State;              // Running, Pending, CrashLoopBackOff, Terminated
    public double CpuCores;           // usage over the last interval
    public long MemoryBytes;          // working set
    public double? CpuRequest;
    public double? CpuLimit;
    public long? MemoryRequest;
    public long? MemoryLimit;
    public int Restarts;
    public long Backlog;              // the daemon's queue length (same for all its pods)
}

/// <summary>A change in a pod's life: scheduled, started, killed, OOMKilled, restarted, pending, CrashLoopBackOff, limits changed.</summary>
public record struct PodLifecycleEvent
{
    public DateTime Time;
    public string Daemon;
    public string Pod;
    public string? Node;
    public string Event;              // scheduled | started | killed | oom-killed | restarted | pending | crash-loop-back-off | limits-changed | deleted
    public string? Reason;            // e.g. "chaos:kill-evaluator", "memory 2.1Gi > limit 2000Mi"
    public int Restarts;
}

/// <summary>A chaos action as it happened, for marking plots and measuring recovery.</summary>
public record struct FaultRecord
{
    public DateTime Start;
    public DateTime? End;
    public string Name;
    public string Kind;               // pod_kill, limit_change, rse_outage, link_degradation
    public string Target;             // daemon, RSE or "SRC->DST"
    public string? Detail;
}

/// <summary>
/// Files injected: registered (or uploaded and registered) and confirmed by the catalog, summed per observation interval,
/// scope, DID and RSE. Rucio sends no Hermes message for a registered replica, so this is the run's only record of what
/// went in. <see cref="Name"/> is the dataset the files were attached to, or for a file registered alone (noise) the file.
/// Files refused (a full RSE, a bulk Rucio rejected) are not here: run.json counts them.
/// </summary>
public record struct InjectionRecord
{
    public DateTime Time;             // start of the interval the files were registered in
    public string Scope;
    public string Name;
    public string Rse;
    public long Files;
    public long Bytes;
}

/// <summary>Where a target writes what it observes. Implementations stream to disk; nothing is kept in memory.</summary>
public interface IObservationSink
{
    void Event(in HermesEvent e);
    void Sample(in PodSample s);
    void Lifecycle(in PodLifecycleEvent e);
    void Fault(in FaultRecord f);
    void Injection(in InjectionRecord r);

    /// <summary>A live run's call statistics, once at its end (api-latency.csv); targets without an API send none.</summary>
    void ApiLatency(IReadOnlyList<ApiLatencyRow> rows);
}
