using FdrHarness.Core.Observations;

namespace FdrHarness.Core.Tests.Observations;

/// <summary>A fresh folder under the temp directory, removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fdr-obs-tests", System.IO.Path.GetRandomFileName())).FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Leftovers in the temp directory are harmless.
        }
    }
}

/// <summary>Deterministic observations with every field exercised, nulls included.</summary>
internal static class ObservationFixtures
{
    public static readonly DateTime T0 = new(2020, 11, 18, 9, 30, 0, DateTimeKind.Utc);

    private static readonly string[] Types = ["transfer-queued", "transfer-submitted", "transfer-done", "transfer-failed", "deletion-done", "RULE_OK", "RULE_PROGRESS"];
    private static readonly string[] Rses = ["CERN-EOS", "DESY-DCACHE", "PIC-DCACHE", "INFN-NA-DPM", "SARA-DCACHE"];

    /// <summary>Event i; every nullable field is null for some i and set (with a varying value) for others.</summary>
    public static HermesEvent Event(long i, int salt = 0)
    {
        string? S(int period, string value) => i % period == 0 ? null : value;
        return new HermesEvent
        {
            EventType = Types[i % Types.Length],
            // Sub-microsecond ticks: the file keeps nanoseconds, so these must survive.
            CreatedAt = T0.AddTicks(i * 10_000_003L),
            Scope = S(5, "cta"),
            Name = S(7, $"cta.run{i:D6}.subrun{i % 300:D4}.h5{(salt == 0 ? "" : "#" + salt)}"),
            DatasetScope = S(6, "cta"),
            Dataset = S(8, $"cta.fdr.ds{i / 1000:D6}"),
            SrcRse = S(3, Rses[i % Rses.Length]),
            DstRse = S(4, Rses[(i + 2) % Rses.Length]),
            Rse = S(2, Rses[(i + 1) % Rses.Length]),
            RequestId = S(9, $"{i * 2654435761L:x16}"),
            PreviousRequestId = S(10, $"{(i - 1) * 2654435761L:x16}"),
            RuleId = S(11, $"rule{i / 50:x12}"),
            Activity = S(12, i % 2 == 0 ? "User Subscriptions" : "Data Rebalancing"),
            Bytes = i % 13 == 0 ? null : i * 1_000_003L,
            ChecksumAdler = S(14, $"{(uint)(i * 7919):x8}"),
            Protocol = S(15, "davs"),
            Duration = i % 16 == 0 ? null : i % 17 == 0 ? -1 : i * 0.25,
            Reason = S(2, "TRANSFER [110] TRANSFER Operation timed out ü"),
            RetryCount = i % 18 == 0 ? null : (int)(i % 4),
            TransferId = S(19, $"fts-{i:x8}"),
            ExternalHost = S(20, "https://fts3-pilot.cern.ch:8446"),
            Account = S(21, "root"),
            State = S(22, "DONE"),
            Progress = i % 23 == 0 ? i / 100.0 : null,
            SubmittedAt = i % 24 == 0 ? null : T0.AddSeconds(i),
            StartedAt = i % 25 == 0 ? null : T0.AddSeconds(i + 0.5),
            TransferredAt = i % 26 == 0 ? null : T0.AddTicks(i * 7 + 1),
        };
    }

    public static PodSample Sample(long i) => new()
    {
        Time = T0.AddMinutes(i),
        Daemon = i % 2 == 0 ? "judge-evaluator" : "abacus-collection-replica",
        Pod = $"rucio-daemons-judge-evaluator-{i % 3}",
        Node = i % 5 == 0 ? null : $"worker-{i % 4}",
        State = i % 7 == 0 ? "CrashLoopBackOff" : "Running",
        CpuCores = i * 0.01,
        MemoryBytes = 200L * 1024 * 1024 + i,
        CpuRequest = i % 3 == 0 ? null : 0.7,
        CpuLimit = i % 4 == 0 ? null : 2,
        MemoryRequest = i % 5 == 0 ? null : 100L << 20,
        MemoryLimit = i % 6 == 0 ? null : 200L << 20,
        Restarts = (int)(i / 10),
        Backlog = i * 1000,
    };

    public static PodLifecycleEvent Lifecycle(long i) => new()
    {
        Time = T0.AddSeconds(i * 17),
        Daemon = "undertaker",
        Pod = $"rucio-daemons-undertaker-{i % 2}",
        Node = i % 3 == 0 ? null : "worker-1",
        Event = i % 2 == 0 ? "oom-killed" : "restarted",
        Reason = i % 4 == 0 ? null : "memory 2.1Gi > limit 2000Mi",
        Restarts = (int)i,
    };

    public static FaultRecord Fault(long i) => new()
    {
        Start = T0.AddHours(i),
        End = i % 2 == 0 ? null : T0.AddHours(i).AddMinutes(5),
        Name = $"kill-evaluator-{i}",
        Kind = "pod_kill",
        Target = "judge-evaluator",
        Detail = i % 3 == 0 ? null : "mode: one",
    };

    public static InjectionRecord Injection(long i) => new()
    {
        Time = T0.AddMinutes(i),
        Scope = i % 2 == 0 ? "cta" : "ska",
        Name = $"dataset-{i / 3}",
        Rse = i % 5 == 0 ? "DESY-DCACHE" : "CNAF-STORM",
        Files = 1 + i % 7,
        Bytes = (1 + i % 7) * 9_270_000 + i,
    };
}
