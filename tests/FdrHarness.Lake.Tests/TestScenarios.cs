using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Lake.Tests;

internal static class TestScenarios
{
    public static Scenario Load(string file, double? scale = null)
    {
        var r = ScenarioLoader.Load(RepoPaths.Scenario(file));
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var s = r.Scenario!;
        return scale is { } f ? s with { Run = s.Run with { Scale = f } } : s;
    }

    /// <summary>A small random rehearsal built in code: RSEs, experiments, phases, daemons with tight limits, chaos.</summary>
    public static Scenario Random(int seed)
    {
        var rng = new SplitMix64(StableHash.Of((ulong)seed, "random-scenario"));
        int Next(int lo, int hi) => lo + rng.NextBelow(hi - lo + 1);
        string[] classes = ["FAST", "SAFE", "CHEAP"];
        var rses = Enumerable.Range(0, Next(2, 5)).Select(i => new RseSpec
        {
            Name = $"RSE-{i}",
            Quota = new ByteSize(Next(1, 20) * 10_000_000_000L),
            Watermark = new ByteSize(10_000_000_000L),
            Attributes = new Dictionary<string, string> { ["QOS"] = classes[i % classes.Length] },
            Protocols = [new StorageProtocol("davs", "rse" + i + ".example", 443, "/data")],
        }).ToArray();
        var experiments = Enumerable.Range(0, Next(1, 3)).Select(i => new ExperimentSpec
        {
            Name = $"EXP{i}",
            Files = Next(50, 600),
            FileSize = new LognormalSize { Mean = new ByteSize(Next(1, 200) * 1_000_000L), Sigma = 0.5 },
            FilesPerDataset = Next(10, 120),
            DatasetsPerContainer = Next(0, 4),
            Qos = i == 0 ? "FAST" : null,
            WriteTo = i == 0 ? null : RseExpression.Parse("RSE-0"),
        }).ToArray();
        var duration = TimeSpan.FromMinutes(Next(60, 180));
        List<Phase> workload =
        [
            new InjectPhase { Name = "inject", Load = [new RampingInject { Rate = Next(1, 4), During = TimeSpan.FromMinutes(5) }, new Inject { Rate = Next(1, 4), During = TimeSpan.FromMinutes(30) }] },
            new ReplicatePhase
            {
                Name = "rep", Start = TimeSpan.FromMinutes(Next(0, 20)), Fraction = Next(3, 10) / 10.0,
                Level = (RuleLevel)Next(0, 2),
                Rule = new RuleSpec { Copies = Next(1, 2), RseExpression = RseExpression.Parse(Next(0, 1) == 0 ? "QOS=SAFE|QOS=CHEAP" : "*"), Asynchronous = Next(0, 1) == 1, Notify = (NotifyMode)Next(0, 3), Grouping = (RuleGrouping)Next(0, 2), Lifetime = Next(0, 1) == 1 ? TimeSpan.FromMinutes(Next(20, 90)) : null },
            },
            new QosTransitionPhase { Name = "move", From = "rep", Start = TimeSpan.FromMinutes(Next(30, 60)), Rule = new RuleSpec { RseExpression = RseExpression.Parse("QOS=FAST") }, Fraction = 0.5 },
            new DeletePhase { Name = "del", Start = TimeSpan.FromMinutes(Next(40, 80)), RulesOf = ["rep"], Fraction = 0.5, RuleLifetime = TimeSpan.FromMinutes(Next(0, 20)) },
            new DeletePhase { Name = "expire", After = "inject", Experiments = [experiments[^1].Name], DidLifetime = TimeSpan.FromMinutes(Next(1, 30)) },
            new NoisePhase { Name = "noise", Every = TimeSpan.FromMinutes(Next(15, 45)), Lifetime = TimeSpan.FromMinutes(20), FileSize = new ByteSize(50_000_000) },
        ];
        var daemons = RucioDaemons.All.Select(name => new DaemonSpec
        {
            Name = name,
            Replicas = Next(1, 2),
            Threads = Next(1, 3),
            Requests = new Resources { Cpu = new CpuQuantity(Next(1, 7) * 100), Memory = new ByteSize(Next(1, 4) * 256L << 20) },
            // Tight limits on some daemons so OOMKills and CrashLoopBackOff happen.
            Limits = RucioDaemons.Servers.Contains(name)
                ? new Resources { Cpu = new CpuQuantity(4000), Memory = new ByteSize(4L << 30) }
                : name == "judge-evaluator" // about its base: OOMKilled until the limit change
                ? new Resources { Cpu = new CpuQuantity(1000), Memory = new ByteSize(Next(55, 62) * 10L << 20) }
                : new Resources { Cpu = new CpuQuantity(Next(1, 20) * 100), Memory = new ByteSize(Next(2, 12) * 256L << 20) },
        }).ToArray();
        ChaosAction[] chaos =
        [
            new PodKill { Name = "kill", Selector = new PodSelector { Daemon = "conveyor-submitter" }, Mode = SelectionMode.All, Schedule = new Schedule { Every = TimeSpan.FromMinutes(Next(10, 40)) } },
            new LimitChange { Name = "limits", Daemon = "judge-evaluator", At = TimeSpan.FromMinutes(Next(10, 50)), Limits = new Resources { Cpu = new CpuQuantity(1000), Memory = new ByteSize(2L << 30) } },
            new RseOutage { Name = "outage", Rse = rses[^1].Name, From = TimeSpan.FromMinutes(Next(5, 40)), During = TimeSpan.FromMinutes(Next(5, 20)) },
            new LinkDegradation { Name = "slow", Source = RseExpression.Parse("*"), Destination = RseExpression.Parse(rses[0].Name), From = TimeSpan.FromMinutes(10), During = TimeSpan.FromMinutes(10), BandwidthFactor = 0.1, FailureProbability = 0.5 },
        ];
        return new Scenario
        {
            Run = new RunSettings { Name = $"random-{seed}", Seed = seed, Duration = duration, ObservationInterval = TimeSpan.FromMinutes(1) },
            Cluster = new ClusterSpec { Nodes = [new NodePool { Count = Next(1, 3), Cpu = new CpuQuantity(8000), Memory = new ByteSize(16L << 30) }] },
            Rses = rses,
            Links = new LinkSettings { Defaults = new LinkProperties { Bandwidth = new Bandwidth(Next(1, 10) * 100e6), MaxActive = Next(2, 50), FailureProbability = Next(0, 50) / 100.0 } },
            Experiments = experiments,
            Workload = workload,
            Daemons = daemons,
            Chaos = chaos,
        };
    }
}
