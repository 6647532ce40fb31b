using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Tests;

public class EdgeCaseTests
{
    private static Scenario Minimal(params Phase[] workload) => new()
    {
        Run = new RunSettings { Name = "minimal", Duration = TimeSpan.FromMinutes(30), ObservationInterval = TimeSpan.FromMinutes(5) },
        Cluster = new ClusterSpec { Nodes = [new NodePool { Cpu = new CpuQuantity(4000), Memory = new ByteSize(8L << 30) }] },
        Rses =
        [
            new RseSpec { Name = "A", Quota = ByteSize.Parse("1 TB"), Attributes = new Dictionary<string, string> { ["QOS"] = "FAST" } },
            new RseSpec { Name = "B", Quota = ByteSize.Parse("1 TB"), Attributes = new Dictionary<string, string> { ["QOS"] = "SAFE" } },
        ],
        Experiments = [new ExperimentSpec { Name = "X", Files = 100, FileSize = new FixedSize { Size = ByteSize.Parse("1 MB") }, FilesPerDataset = 10, WriteTo = RseExpression.Parse("A") }],
        Workload = workload,
    };

    [Fact]
    public void Daemons_the_scenario_omits_still_run_with_defaults()
    {
        var s = Minimal(
            new InjectPhase { Name = "inject", Load = [new Inject { Rate = 1, During = TimeSpan.FromMinutes(5) }] },
            new ReplicatePhase { Name = "rep", Rule = new RuleSpec { RseExpression = RseExpression.Parse("QOS=SAFE"), Notify = NotifyMode.Y } });
        using var run = LakeInvariantTests.Recounted(s);
        var r = run.Result;
        Assert.Equal(100, r.FilesInjected);
        Assert.InRange(r.TransfersDone, 90, 100);
        Assert.Equal(10, r.RulesOk + r.RulesStuck);
        Assert.True(run.Files.Samples.Rows > 0);
    }

    [Fact]
    public void A_replicate_phase_with_a_load_creates_its_rules_at_that_pace()
    {
        var s = Minimal(
            new InjectPhase { Name = "inject", Load = [new Inject { Rate = 10, During = TimeSpan.FromSeconds(10) }] },
            new ReplicatePhase
            {
                Name = "rep", Start = TimeSpan.FromMinutes(1),
                Rule = new RuleSpec { RseExpression = RseExpression.Parse("QOS=SAFE"), Notify = NotifyMode.Y },
                Load = [new Inject { Rate = 1, Interval = TimeSpan.FromMinutes(2), During = TimeSpan.FromMinutes(20) }],
            });
        var times = new List<DateTime>();
        var sink = new TimesSink(times);
        var r = EmbeddedLake.Run(s, sink);
        Assert.Equal(10, r.RulesCreated);
        Assert.Equal(10, times.Count);
        Assert.True(times.Max() - times.Min() >= TimeSpan.FromMinutes(15));
    }

    private sealed class TimesSink(List<DateTime> ruleOk) : Core.Observations.IObservationSink
    {
        public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

        public void Event(in Core.Observations.HermesEvent e) { if (e.EventType == "RULE_OK") ruleOk.Add(e.CreatedAt); }
        public void Sample(in Core.Observations.PodSample s) { }
        public void Lifecycle(in Core.Observations.PodLifecycleEvent e) { }
        public void Fault(in Core.Observations.FaultRecord f) { }
        public void Injection(in Core.Observations.InjectionRecord r) { }
    }

    [Fact]
    public void Nothing_to_do_is_fine()
    {
        var s = Minimal() with { Experiments = [] };
        using var run = LakeInvariantTests.Recounted(s);
        Assert.Equal(0, run.Result.FilesInjected);
        Assert.Equal(0, run.Files.Events.Rows);
    }

    [Fact]
    public void A_full_rse_refuses_uploads_and_says_so()
    {
        var s = Minimal(new InjectPhase { Name = "inject", Load = [new Inject { Rate = 1, During = TimeSpan.FromMinutes(5) }] });
        s = s with { Rses = [s.Rses[0] with { Quota = ByteSize.Parse("50 MB") }, s.Rses[1]] };
        using var run = LakeInvariantTests.Recounted(s);
        var r = run.Result;
        Assert.Equal(50, r.FilesInjected);
        Assert.Equal(50, r.FilesRefused);
        Assert.True(r.QuotaRefusals >= 50);
    }

    [Fact]
    public void A_pending_pod_waits_for_room_on_the_nodes()
    {
        var s = Minimal(new InjectPhase { Name = "inject", Load = [new Inject { Rate = 1, During = TimeSpan.FromMinutes(5) }] });
        var big = new Resources { Cpu = new CpuQuantity(3000), Memory = new ByteSize(1L << 30) };
        s = s with { Daemons = [new DaemonSpec { Name = "judge-evaluator", Replicas = 2, Requests = big, Limits = big }] };
        var sink = new RecordingSink();
        EmbeddedLake.Run(s, sink);
        Assert.Contains(sink.Lifecycles, e => e.Daemon == "judge-evaluator" && e.Event == "pending");
    }
}
