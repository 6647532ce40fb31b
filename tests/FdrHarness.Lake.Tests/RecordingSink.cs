using FdrHarness.Core.Observations;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Lake.Tests;

/// <summary>Counts and hashes everything the lake observes; keeps lifecycle events (few) for the OOM invariant.</summary>
internal sealed class RecordingSink : IObservationSink
{
    public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

    private ulong _hash = 0x9E3779B97F4A7C15UL;
    public long Events, Samples, Faults, Injections, InjectedFiles;
    public readonly Dictionary<string, long> ByType = new(StringComparer.Ordinal);
    public long DeletionDoneBytes;
    public long RetriesWithoutPrevious, BadRequestIds;
    public readonly List<PodLifecycleEvent> Lifecycles = [];

    public ulong Hash => _hash;

    public void Event(in HermesEvent e)
    {
        Events++;
        ByType[e.EventType] = ByType.GetValueOrDefault(e.EventType) + 1;
        if (e.EventType == "deletion-done") DeletionDoneBytes += e.Bytes ?? 0;
        if (e.RetryCount > 0 && e.PreviousRequestId is null) RetriesWithoutPrevious++;
        if (e.RequestId is { } id && (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))) BadRequestIds++;
        Mix(e.EventType); Mix(e.CreatedAt); Mix(e.Scope); Mix(e.Name); Mix(e.DatasetScope); Mix(e.Dataset);
        Mix(e.SrcRse); Mix(e.DstRse); Mix(e.Rse); Mix(e.RequestId); Mix(e.PreviousRequestId); Mix(e.RuleId);
        Mix(e.Activity); Mix(e.Bytes); Mix(e.ChecksumAdler); Mix(e.Protocol); Mix(e.Duration); Mix(e.Reason);
        Mix(e.RetryCount); Mix(e.TransferId); Mix(e.ExternalHost); Mix(e.Account); Mix(e.State); Mix(e.Progress);
        Mix(e.SubmittedAt); Mix(e.StartedAt); Mix(e.TransferredAt);
    }

    public void Sample(in PodSample s)
    {
        Samples++;
        Mix(s.Time); Mix(s.Daemon); Mix(s.Pod); Mix(s.Node); Mix(s.State); Mix(s.CpuCores); Mix(s.MemoryBytes);
        Mix(s.CpuLimit); Mix(s.MemoryLimit); Mix(s.Restarts); Mix(s.Backlog);
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        Lifecycles.Add(e);
        Mix(e.Time); Mix(e.Daemon); Mix(e.Pod); Mix(e.Node); Mix(e.Event); Mix(e.Reason); Mix(e.Restarts);
    }

    public void Fault(in FaultRecord f)
    {
        Faults++;
        Mix(f.Start); Mix(f.End); Mix(f.Name); Mix(f.Kind); Mix(f.Target); Mix(f.Detail);
    }

    public void Injection(in InjectionRecord r)
    {
        Injections++;
        InjectedFiles += r.Files;
        Mix(r.Time); Mix(r.Scope); Mix(r.Name); Mix(r.Rse); Mix(r.Files); Mix(r.Bytes);
    }

    public long Count(string type) => ByType.GetValueOrDefault(type);

    private void Mix(string? s) => _hash = s is null ? StableHash.Combine(_hash, 1) : StableHash.Of(_hash, s);
    private void Mix(long? v) => _hash = StableHash.Combine(_hash, v is { } x ? (ulong)x ^ 0x5555 : 2);
    private void Mix(double? v) => Mix(v is { } x ? BitConverter.DoubleToInt64Bits(x) : null);
    private void Mix(DateTime? v) => Mix(v?.Ticks);
}
