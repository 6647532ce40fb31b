using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Tests;

/// <summary>Known answers from observations written by hand: every figure below is worked out in the comments.</summary>
public sealed class HandMadeTests : IDisposable
{
    private static readonly DateTime T0 = new(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);
    private const long MiB = 1024 * 1024;
    private readonly string _dir = Repo.TempDir("hand");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static HermesEvent Transfer(string type, int minute, string src, string dst, string name, int retry = 0, long bytes = 1_000_000) => new()
    {
        EventType = type, CreatedAt = T0.AddMinutes(minute), Scope = "cta", Name = name, SrcRse = src, DstRse = dst,
        Bytes = bytes, RetryCount = retry, RuleId = "rule-1", Protocol = "davs", RequestId = $"{name}-{retry}",
    };

    private void Write()
    {
        using var sink = new ParquetObservationSink(_dir);
        // A -> B: f1 done; f2 failed, retried (retry 1) and done; f3 failed for good.
        // submitted 4, done 2, failed 2: done/submitted 50 %, efficiency 50 %.
        sink.Event(new HermesEvent { EventType = "CREATE_DTS", CreatedAt = T0, Scope = "cta", Name = "ds1" });
        sink.Event(Transfer("transfer-queued", 1, "", "B", "f1") with { SrcRse = null });
        foreach (var (name, retry) in new[] { ("f1", 0), ("f2", 0), ("f2", 1), ("f3", 0) })
            sink.Event(Transfer("transfer-submitted", 2, "A", "B", name, retry));
        sink.Event(Transfer("transfer-done", 3, "A", "B", "f1"));
        sink.Event(Transfer("transfer-failed", 3, "A", "B", "f2"));
        sink.Event(Transfer("transfer-done", 4, "A", "B", "f2", retry: 1));
        sink.Event(Transfer("transfer-failed", 4, "A", "B", "f3"));
        // A -> C: two submissions, three done (one submitted before the observed window): 150 %, efficiency 100 %.
        sink.Event(Transfer("transfer-submitted", 5, "A", "C", "g1", bytes: 2_000_000));
        sink.Event(Transfer("transfer-submitted", 5, "A", "C", "g2", bytes: 2_000_000));
        foreach (var g in new[] { "g0", "g1", "g2" }) sink.Event(Transfer("transfer-done", 6, "A", "C", g, bytes: 2_000_000));
        // B -> A and every other pair: nothing submitted -> NO DATA.
        sink.Event(new HermesEvent { EventType = "RULE_OK", CreatedAt = T0.AddMinutes(31), Scope = "cta", Name = "ds1", RuleId = "rule-1" });
        sink.Event(new HermesEvent { EventType = "deletion-done", CreatedAt = T0.AddMinutes(40), Scope = "cta", Name = "f1", Rse = "B", Bytes = 1_000_000, Protocol = "davs" });

        // undertaker: one pod, 0.1/0.2/0.3 cores and 100/150/200 MiB under a 200 MiB limit, then OOMKilled.
        for (var i = 0; i < 3; i++)
            sink.Sample(new PodSample
            {
                Time = T0.AddMinutes(i + 1), Daemon = "undertaker", Pod = "undertaker-1", State = "Running", CpuCores = 0.1 * (i + 1),
                MemoryBytes = (100 + 50 * i) * MiB, CpuRequest = 0.7, CpuLimit = 0.7, MemoryRequest = 200 * MiB, MemoryLimit = 200 * MiB, Backlog = 10 * i,
            });
        sink.Sample(new PodSample
        {
            Time = T0.AddMinutes(4), Daemon = "undertaker", Pod = "undertaker-1", State = "CrashLoopBackOff", CpuCores = 0, MemoryBytes = 0,
            CpuRequest = 0.7, CpuLimit = 0.7, MemoryRequest = 200 * MiB, MemoryLimit = 200 * MiB, Restarts = 1, Backlog = 30,
        });
        // hermes: quiet, never near its 700 MiB limit.
        for (var i = 0; i < 3; i++)
            sink.Sample(new PodSample
            {
                Time = T0.AddMinutes(i + 1), Daemon = "hermes", Pod = "hermes-1", State = "Running", CpuCores = 0.01, MemoryBytes = 100 * MiB,
                CpuRequest = 0.7, CpuLimit = 0.7, MemoryRequest = 700 * MiB, MemoryLimit = 700 * MiB,
            });
        sink.Lifecycle(new PodLifecycleEvent { Time = T0.AddMinutes(3.5), Daemon = "undertaker", Pod = "undertaker-1", Event = "oom-killed", Reason = "memory 223Mi > limit 200Mi", Restarts = 0 });
        sink.Lifecycle(new PodLifecycleEvent { Time = T0.AddMinutes(3.6), Daemon = "undertaker", Pod = "undertaker-1", Event = "restarted", Restarts = 1 });
        sink.Lifecycle(new PodLifecycleEvent { Time = T0.AddMinutes(2.5), Daemon = "hermes", Pod = "hermes-1", Event = "killed", Reason = "chaos:kill-hermes" });
        sink.Fault(new FaultRecord { Start = T0.AddMinutes(2.5), End = T0.AddMinutes(2.5), Name = "kill-hermes", Kind = "pod_kill", Target = "hermes" });
    }

    [Fact]
    public void TransferMatrixCellsRatiosAndVerdicts()
    {
        Write();
        var s = ReportBuilder.Build(_dir, new ReportOptions { LinkTarget = 0.9, Plots = false }).Summary;
        var m = s.TransferMatrix;
        Assert.Equal(["A", "B", "C"], m.Sources);
        LinkCell Cell(string src, string dst) => m.Links.Single(c => c.Src == src && c.Dst == dst);

        var ab = Cell("A", "B");
        Assert.Equal((4L, 2L, 2L), (ab.Submitted, ab.Done, ab.Failed));
        Assert.Equal(0.5, ab.DoneOverSubmitted);
        Assert.Equal(0.5, ab.Efficiency);
        Assert.Equal("below-target", ab.Verdict);

        var ac = Cell("A", "C");
        Assert.Equal(1.5, ac.DoneOverSubmitted); // retries across the window's edge: more than 100 %
        Assert.Equal(1.0, ac.Efficiency);
        Assert.Equal(6_000_000, ac.BytesDone);
        Assert.Equal("ok", ac.Verdict);

        var ba = Cell("B", "A");
        Assert.Equal(0, ba.Submitted);
        Assert.Null(ba.DoneOverSubmitted);
        Assert.Equal("no-data", ba.Verdict);
        Assert.Equal(9, m.Links.Count);
        Assert.Equal(2, m.LinksWithData);
        Assert.Equal(1, m.LinksBelowTarget);

        Assert.Equal((6L, 5L, 2L, 1L), (s.Transfers.Submitted, s.Transfers.Done, s.Transfers.Failed, s.Transfers.Retries));
        Assert.Equal(Math.Round(5 / 7.0, 6), s.Transfers.Efficiency);

        var csv = File.ReadAllLines(Path.Combine(_dir, "transfer-matrix.csv"));
        Assert.Equal("src,dst,submitted,done,failed,bytes_done,done_over_submitted,efficiency,verdict", csv[0]);
        Assert.Contains("A,C,2,3,0,6000000,1.5,1,ok", csv);
        Assert.Contains("B,A,0,0,0,0,,,no-data", csv);
        Assert.Contains("| A | B | 50% |", File.ReadAllText(Path.Combine(_dir, "report.md")));
    }

    [Fact]
    public void EventsExperimentsRsesAndRules()
    {
        Write();
        var s = ReportBuilder.Build(_dir, new ReportOptions { Plots = false }).Summary;
        Assert.Equal(17, s.Events.Total);
        Assert.Equal(6, s.Events.ByType.Single(c => c.Key == "transfer-submitted").Count);
        var cta = s.Experiments.Single(e => e.Scope == "cta");
        // f1 f2 f3 g0 g1 g2: six distinct files, 3 × 1 MB + 3 × 2 MB (each counted once, from its first event).
        Assert.Equal((6L, 9_000_000L, 1L), (cta.Files, cta.Bytes, cta.Datasets));
        Assert.Equal(1_500_000, cta.AverageFileSize);
        var b = s.Rses.Single(r => r.Rse == "B");
        Assert.Equal((2_000_000L, 1_000_000L, 1_000_000L), (b.BytesIn, b.BytesDeleted, b.NetBytes));
        Assert.Equal(6_000_000, s.Rses.Single(r => r.Rse == "C").BytesIn);
        // rule-1: first request at minute 1, RULE_OK at minute 31.
        Assert.Equal(1, s.Rules.Measured);
        Assert.Equal(1800, s.Rules.CompletionSeconds!.P50);
        Assert.Equal(1, s.Rules.Histogram.Single(h => h.UpToSeconds == 1800).Count);
    }

    [Fact]
    public void UsagePeaksRestartsAndOomAwareRecommendation()
    {
        Write();
        var s = ReportBuilder.Build(_dir, new ReportOptions { Plots = false }).Summary;
        var u = s.Resources.Single(r => r.Daemon == "undertaker");
        Assert.Equal(0.3, u.CpuPeak);
        Assert.Equal(200 * MiB, u.MemoryPeak);
        Assert.Equal(150 * MiB, u.MemoryP50);
        Assert.Equal((1, 1, 0), (u.OomKilled, u.Restarts, u.KilledByChaos));
        Assert.Equal(60, u.CrashLoopSeconds); // one CrashLoopBackOff sample at a 1-minute interval
        Assert.Equal(200 * MiB, u.MemoryAtOom);
        Assert.Equal("Restarted", u.Status);

        var r = s.Takeaway.Daemons.Single(d => d.Daemon == "undertaker");
        // VPA: p90 of 0.1/0.2/0.3 = 0.28 cores, +15 % = 0.322; memory p90 190 MiB × 1.15 = 218.5 MiB, but after the OOM
        // at 200 MiB: max(200 + 100, 200 × 1.2) = 300 MiB.
        Assert.Equal(0.322, r.VpaCpu);
        Assert.Equal(300 * MiB, r.VpaMemory);
        Assert.True(r.VpaOomBump);
        // KRR simple: CPU p95 = 0.29; memory peak 200 MiB × 1.15 = 230 MiB.
        Assert.Equal(0.29, r.KrrCpuRequest);
        Assert.Equal(230 * MiB, r.KrrMemory);
        Assert.Equal("raise", r.MemoryAdvice);

        var hermes = s.Resources.Single(x => x.Daemon == "hermes");
        Assert.Equal((1, 0), (hermes.KilledByChaos, hermes.OomKilled));
        var hr = s.Takeaway.Daemons.Single(d => d.Daemon == "hermes");
        Assert.Equal(Recommendations.VpaMinMemory, hr.VpaMemory); // 115 MiB is below VPA's 250 MiB floor
        Assert.Equal(0.025, hr.VpaCpu);                          // 0.0115 is below the 25 mCPU floor
        Assert.Equal("lower", hr.MemoryAdvice);

        var usage = File.ReadAllText(Path.Combine(_dir, "report.md"));
        // Numbers right-aligned in their own columns; what happened to the pods is a finding above the table.
        Assert.Contains("| undertaker | 1 | 0.70 | 0.20 | 0.30 | 200 MiB | 150 MiB | 200 MiB | 1 | 1 |", usage);
        Assert.Contains("| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", usage);
        Assert.Contains("- undertaker: OOMKilled 1 (memory 223Mi > limit 200Mi), 1 restarts, CrashLoopBackOff 1m00s.", usage);
        Assert.Contains("killed by chaos 1", usage);

        var fault = s.Faults.Single();
        Assert.Equal(("hermes", 0L), (fault.BacklogOf, fault.BacklogBefore));
        // hermes' backlog never rose above its level before the kill: nothing to recover from, 0 s (not the 30 s to the next sample).
        Assert.Equal(0, fault.TimeToRecoverSeconds);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        Assert.Equal(1, json.RootElement.GetProperty("schema_version").GetInt32());
        Assert.Equal(300 * MiB, json.RootElement.GetProperty("takeaway").GetProperty("daemons").EnumerateArray()
            .Single(d => d.GetProperty("daemon").GetString() == "undertaker").GetProperty("vpa_memory").GetInt64());
    }

    [Fact]
    public void MissingDirectoryOrEventsFileIsAnInputError()
    {
        Assert.Throws<ReportInputException>(() => ReportBuilder.Build(Path.Combine(_dir, "nope")));
        var e = Assert.Throws<ReportInputException>(() => ReportBuilder.Build(_dir));
        Assert.Contains("no events.parquet", e.Message);
    }

    [Fact]
    public void ALiveRunsApiLatencyIsReportedAndAnEmbeddedRunHasNone()
    {
        Write();
        Assert.Empty(ReportBuilder.Build(_dir, new ReportOptions { Plots = false }).Summary.ApiLatency);
        Assert.DoesNotContain("API latency", File.ReadAllText(Path.Combine(_dir, "report.md")));

        // As the live target writes it (FdrHarness.Rucio OperationStats.ToCsv).
        File.WriteAllText(Path.Combine(_dir, ApiLatency.FileName), """
            operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes,failures
            add_replicas,820,818,2,5,3,0,41.5,120,310.2,905,201:818 503:7,no_answer:2
            add_rule,90,90,0,0,0,0,12,30,35,40,201:90,
            """);
        var s = ReportBuilder.Build(_dir, new ReportOptions { Plots = false }).Summary;

        Assert.Equal(2, s.ApiLatency.Count);
        var replicas = s.ApiLatency[0];
        Assert.Equal(("add_replicas", 820L, 818L, 2L, 5L, 3L), (replicas.Operation, replicas.Count, replicas.Ok, replicas.Failed, replicas.Retries, replicas.Late));
        Assert.Equal(120, replicas.P95Ms);
        Assert.Equal("201:818 503:7", replicas.StatusCodes);
        Assert.Equal("no_answer:2", replicas.Failures);
        var md = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("### API latency", md);
        Assert.Contains("| add_replicas | 820 | 818 | 2 | 5 | 3 | 0 | 41.5 ms | 120 ms | 310.2 ms | 905 ms | 201:818 503:7 | no_answer:2 |", md);
        Assert.Contains("<h2 id=\"api-latency\">API latency</h2>", File.ReadAllText(Path.Combine(_dir, "report.html")));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        Assert.Equal(2, json.RootElement.GetProperty("api_latency").GetArrayLength());

        // A run written before the failures column is read the same, with none.
        File.WriteAllText(Path.Combine(_dir, ApiLatency.FileName), """
            operation,count,ok,failed,retries,late,dropped,p50_ms,p95_ms,p99_ms,max_ms,status_codes
            add_rule,90,90,0,0,0,0,12,30,35,40,201:90
            """);
        var old = Assert.Single(ReportBuilder.Build(_dir, new ReportOptions { Plots = false }).Summary.ApiLatency);
        Assert.Equal(("add_rule", "201:90", ""), (old.Operation, old.StatusCodes, old.Failures));
    }
}

public sealed class EmptyRunTests : IDisposable
{
    private readonly string _dir = Repo.TempDir("empty");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void ARunThatObservedNothingStillGetsAReport()
    {
        using (new ParquetObservationSink(_dir)) { }
        File.Delete(Path.Combine(_dir, ParquetObservationSink.SamplesFile));
        var result = ReportBuilder.Build(_dir);
        Assert.Equal(0, result.Summary.Events.Total);
        Assert.All(result.Summary.TransferMatrix.Links, l => Assert.Equal(0, l.Submitted));
        Assert.Contains("No transfer was submitted: the transfer matrix is empty.", File.ReadAllText(Path.Combine(_dir, "report.md")));
        Assert.Null(result.Summary.Transfers.DoneOverSubmitted);
        Assert.True(File.Exists(Path.Combine(_dir, "report.html")));
        Assert.True(File.Exists(Path.Combine(_dir, "plots", "transfer-matrix.svg")));
    }

}
