using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Tests.Recount;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// Each mechanism of issue 14 on a scenario made to exercise it, its files recounted (<see cref="RunInvariants"/>)
/// and the situation it is about shown to have happened (a test that passes because nothing happened proves nothing).
/// </summary>
public class MechanismTests
{
    private static Scenario Lake(TimeSpan duration, params Phase[] workload) => new()
    {
        Run = new RunSettings { Name = "mechanism", Duration = duration, ObservationInterval = TimeSpan.FromMinutes(1) },
        Cluster = new ClusterSpec { Nodes = [new NodePool { Count = 4, Cpu = new CpuQuantity(8000), Memory = new ByteSize(16L << 30) }] },
        Rses =
        [
            new RseSpec { Name = "A", Quota = ByteSize.Parse("10 TB"), Attributes = new Dictionary<string, string> { ["QOS"] = "FAST" } },
            new RseSpec { Name = "B", Quota = ByteSize.Parse("10 TB"), Attributes = new Dictionary<string, string> { ["QOS"] = "SAFE" } },
            new RseSpec { Name = "C", Quota = ByteSize.Parse("10 TB"), Attributes = new Dictionary<string, string> { ["QOS"] = "SAFE" } },
        ],
        Links = new LinkSettings { Defaults = new LinkProperties { Bandwidth = new Bandwidth(1e9), MaxActive = 100, FailureProbability = 0 } },
        Experiments = [new ExperimentSpec { Name = "X", Files = 200, FileSize = new FixedSize { Size = ByteSize.Parse("100 MB") }, FilesPerDataset = 20, WriteTo = RseExpression.Parse("A") }],
        Workload = workload,
    };

    private static InjectPhase Inject(double rate = 1, int minutes = 5) => new() { Name = "inject", Load = [new Inject { Rate = rate, During = TimeSpan.FromMinutes(minutes) }] };

    private static ReplicatePhase Replicate(string expression, int copies = 1) =>
        new() { Name = "rep", Rule = new RuleSpec { RseExpression = RseExpression.Parse(expression), Copies = copies, Notify = NotifyMode.Y } };

    private static (string?[] Type, string?[] Src, string?[] Dst, DateTime[] Created, DateTime?[] Submitted, DateTime?[] Started, string?[] Reason) Transfers(RunFiles f) =>
        (f.Events.Column<string?>("event_type"), f.Events.Column<string?>("src_rse"), f.Events.Column<string?>("dst_rse"), f.Events.Column<DateTime>("created_at"),
            f.Events.Column<DateTime?>("submitted_at"), f.Events.Column<DateTime?>("started_at"), f.Events.Column<string?>("reason"));

    [Fact]
    public void A_waiting_transfer_starts_no_earlier_than_its_submission()
    {
        // One transfer at a time, 3.5 s each, one submitted every 4 s: each new request finds the link still busy
        // with a transfer that ended half a second before FTS notices; the slot it frees is taken at the submission.
        var s = Lake(TimeSpan.FromMinutes(30), Inject(rate: 0.25, minutes: 20), Replicate("B")) with
        {
            Experiments = [new ExperimentSpec { Name = "X", Files = 300, FileSize = new FixedSize { Size = ByteSize.Parse("100 MB") }, FilesPerDataset = 1, WriteTo = RseExpression.Parse("A") }],
            Links = new LinkSettings { Defaults = new LinkProperties { Bandwidth = new Bandwidth(100e6 / 1.5), MaxActive = 1, FailureProbability = 0 } },
        };
        using var run = RecountedRun.Run(s);
        var (type, _, _, _, submitted, started, _) = Transfers(run.Files);
        var waited = Enumerable.Range(0, type.Length).Count(i => type[i] == "transfer-done" && started[i] > submitted[i]);
        Assert.True(waited > 10, $"only {waited} transfers waited for a slot");
    }

    [Fact]
    public void An_outage_stops_submissions_to_the_rse_and_fails_the_transfers_it_cuts_citing_it()
    {
        var s = Lake(TimeSpan.FromHours(2), Inject(rate: 1, minutes: 4), Replicate("B")) with
        {
            Links = new LinkSettings { Defaults = new LinkProperties { Bandwidth = new Bandwidth(20e6), MaxActive = 5, FailureProbability = 0 } },
            Chaos = [new RseOutage { Name = "b-down", Rse = "B", From = TimeSpan.FromMinutes(3), During = TimeSpan.FromMinutes(20), Unavailable = [RseOperation.Write] }],
            // A slow submitter: a bulk taken before the outage is still being worked on when it begins.
            Daemons = [new DaemonSpec { Name = "conveyor-submitter", Limits = new Resources { Cpu = CpuQuantity.Parse("1") }, Model = new Dictionary<string, string> { ["cost_per_item"] = "3s" } }],
        };
        using var run = RecountedRun.Run(s);
        var (type, _, dst, created, _, _, reason) = Transfers(run.Files);
        var from = Simulation.VirtualClock.Epoch + TimeSpan.FromMinutes(3);
        var cut = Enumerable.Range(0, type.Length).Count(i => type[i] == "transfer-failed" && reason[i]!.StartsWith("DESTINATION [70]", StringComparison.Ordinal));
        Assert.True(cut > 0, "no transfer was cut by the outage");
        // Submissions pause during the outage and resume after it; every file reaches B in the end.
        Assert.Contains(Enumerable.Range(0, type.Length), i => type[i] == "transfer-submitted" && dst[i] == "B" && created[i] < from);
        Assert.Contains(Enumerable.Range(0, type.Length), i => type[i] == "transfer-submitted" && dst[i] == "B" && created[i] > from + TimeSpan.FromMinutes(20));
        Assert.Equal(200, run.Result.TransfersDone);
    }

    [Fact]
    public void Cpu_samples_stay_within_the_limit_idle_loop_included_whatever_the_sampling_interval()
    {
        // abacus-collection-replica saturated at 0.5 cores, sampled every 5 s while it works in 10 s ticks; abacus-rse
        // with a limit at its idle CPU.
        var s = Lake(TimeSpan.FromMinutes(30), Inject(rate: 2, minutes: 10)) with
        {
            Run = new RunSettings { Name = "cpu", Duration = TimeSpan.FromMinutes(30), ObservationInterval = TimeSpan.FromSeconds(5) },
            Daemons =
            [
                new DaemonSpec { Name = "abacus-collection-replica", Limits = new Resources { Cpu = CpuQuantity.Parse("500m") }, Model = new Dictionary<string, string> { ["cost_per_item"] = "1s" } },
                new DaemonSpec { Name = "abacus-rse", Limits = new Resources { Cpu = CpuQuantity.Parse("5m") } },
            ],
        };
        using var run = RecountedRun.Run(s);
        var daemon = run.Files.Samples.Column<string?>("daemon");
        var cpu = run.Files.Samples.Column<double>("cpu_cores");
        var busy = Enumerable.Range(0, daemon.Length).Where(i => daemon[i] == "abacus-collection-replica").Max(i => cpu[i]);
        Assert.InRange(busy, 0.499, 0.5 + 1e-9);
        var idle = Enumerable.Range(0, daemon.Length).Where(i => daemon[i] == "abacus-rse").Max(i => cpu[i]);
        Assert.InRange(idle, 0.004, 0.005 + 1e-9);
    }

    [Fact]
    public void A_limit_change_merges_into_the_resources_and_one_leaving_a_request_above_its_limit_is_refused()
    {
        var r = new Resources { Cpu = CpuQuantity.Parse("1"), Memory = ByteSize.Parse("1Gi") };
        var l = new Resources { Cpu = CpuQuantity.Parse("2"), Memory = ByteSize.Parse("2Gi") };
        var s = Lake(TimeSpan.FromMinutes(30), Inject()) with
        {
            Daemons = [new DaemonSpec { Name = "judge-evaluator", Replicas = 2, Requests = r, Limits = l }],
            Chaos =
            [
                new LimitChange { Name = "more-memory", Daemon = "judge-evaluator", At = TimeSpan.FromMinutes(5), Limits = new Resources { Memory = ByteSize.Parse("3Gi") } },
                new LimitChange { Name = "too-little", Daemon = "judge-evaluator", At = TimeSpan.FromMinutes(15), Limits = new Resources { Memory = ByteSize.Parse("512Mi") } },
            ],
        };
        using var run = RecountedRun.Run(s);
        var samples = run.Files.Samples;
        var (daemon, time, cpuLimit, memoryLimit) = (samples.Column<string?>("daemon"), samples.Column<DateTime>("time"), samples.Column<double?>("cpu_limit"), samples.Column<long?>("memory_limit"));
        var last = Enumerable.Range(0, daemon.Length).Where(i => daemon[i] == "judge-evaluator" && time[i] == time.Max()).ToList();
        Assert.Equal(2, last.Count);
        // The CPU limit the patch did not name is kept; the memory limit is the first change's.
        Assert.All(last, i => Assert.Equal((2.0, 3L << 30), (cpuLimit[i], memoryLimit[i])));
        var refused = Assert.Single(run.Result.LimitChangesRefused);
        Assert.Contains("too-little", refused);
        Assert.Contains("requests.memory 1Gi must be less than or equal to limits.memory 512Mi", refused);
        // One rolling restart only (two pods), no fault for the refused change.
        Assert.Equal(2, run.Files.LifecycleRows().Count(e => e.Event == "killed" && e.Reason == "rolling restart: limits changed"));
        Assert.Equal(1, run.Files.Faults.Rows);
    }

    [Fact]
    public void Without_a_cluster_section_the_lake_runs_on_a_cluster_that_fits_every_pod()
    {
        var s = Lake(TimeSpan.FromMinutes(30), Inject(), Replicate("B")) with
        {
            Cluster = new ClusterSpec(),
            Daemons = [new DaemonSpec { Name = "judge-evaluator", Replicas = 3, Requests = new Resources { Cpu = CpuQuantity.Parse("12"), Memory = ByteSize.Parse("20Gi") } }],
        };
        using var run = RecountedRun.Run(s);
        var lifecycle = run.Files.LifecycleRows();
        Assert.DoesNotContain(lifecycle, e => e.Event == "pending");
        Assert.Equal(3, lifecycle.Count(e => e.Daemon == "judge-evaluator" && e.Event == "started"));
        Assert.Equal(200, run.Result.FilesInjected);
        Assert.Equal(200, run.Result.TransfersDone);
    }

    [Fact]
    public void The_judge_places_replicas_only_on_rses_available_for_write_and_a_rule_with_none_is_stuck()
    {
        var s = Lake(TimeSpan.FromMinutes(40), Inject(),
            Replicate("B|C") with { Name = "to-b-or-c" },
            Replicate("C") with { Name = "to-c" });
        s = s with { Rses = [s.Rses[0], s.Rses[1], s.Rses[2] with { Availability = new Availability { Write = false } }] };
        using var run = RecountedRun.Run(s);
        var (type, _, dst, _, _, _, _) = Transfers(run.Files);
        Assert.Equal(200, Enumerable.Range(0, type.Length).Count(i => type[i] == "transfer-queued" && dst[i] == "B"));
        Assert.DoesNotContain(Enumerable.Range(0, type.Length), i => type[i] == "transfer-queued" && dst[i] == "C");
        Assert.Equal(10, run.Result.RulesOk);
        Assert.Equal(10, run.Result.RulesStuck);
    }

    [Fact]
    public void A_rule_stuck_for_want_of_a_writable_rse_is_placed_by_the_repairer_once_the_outage_ends()
    {
        var s = Lake(TimeSpan.FromHours(2), Inject(), Replicate("B")) with
        {
            Daemons = [new DaemonSpec { Name = "judge-repairer", Model = new Dictionary<string, string> { ["stuck_delay"] = "10m" } }],
            Chaos = [new RseOutage { Name = "b-down", Rse = "B", From = TimeSpan.Zero, During = TimeSpan.FromMinutes(30), Unavailable = [RseOperation.Write] }],
        };
        using var run = RecountedRun.Run(s);
        var (type, _, _, created, _, _, _) = Transfers(run.Files);
        var firstQueued = Enumerable.Range(0, type.Length).Where(i => type[i] == "transfer-queued").Min(i => created[i]);
        Assert.True(firstQueued >= Simulation.VirtualClock.Epoch + TimeSpan.FromMinutes(30), $"queued at {firstQueued:O}, during the outage");
        Assert.Equal(10, run.Result.RulesOk);
        Assert.Equal(200, run.Result.TransfersDone);
    }

    [Fact]
    public void A_memory_sample_shows_the_spike_that_oomkilled_the_pod()
    {
        // judge-evaluator's base is 600Mi; a 20-file dataset's locks push it past 601Mi for an instant.
        var s = Lake(TimeSpan.FromMinutes(20), Inject(), Replicate("B")) with
        {
            Daemons = [new DaemonSpec { Name = "judge-evaluator", Limits = new Resources { Memory = ByteSize.Parse("601Mi") } }],
        };
        using var run = RecountedRun.Run(s);
        Assert.True(run.Result.OomKills("judge-evaluator") > 0);
        var samples = run.Files.Samples;
        var (daemon, memory) = (samples.Column<string?>("daemon"), samples.Column<long>("memory_bytes"));
        Assert.Equal(601L << 20, Enumerable.Range(0, daemon.Length).Where(i => daemon[i] == "judge-evaluator").Max(i => memory[i]));
    }
}
