using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Tests.Scenarios;

public class ScenarioLoaderTests
{
    private static Scenario LoadOk(string path)
    {
        var result = ScenarioLoader.Load(path);
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        return result.Scenario!;
    }

    private static Scenario ParseOk(string yaml)
    {
        var result = ScenarioLoader.Parse(yaml, "test.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        return result.Scenario!;
    }

    [Theory]
    [InlineData("escape-fdr-2020.yaml")]
    [InlineData("ci-smoke.yaml")]
    public void ShippedScenariosValidateWithoutDiagnostics(string name) => LoadOk(RepoPaths.Scenario(name));

    [Fact]
    public void EscapeFdr2020BindsItsKeyFigures()
    {
        var s = LoadOk(RepoPaths.Scenario("escape-fdr-2020.yaml"));

        Assert.Equal("escape-fdr-2020", s.Run.Name);
        Assert.Equal(2020, s.Run.Seed);
        Assert.Equal(TimeSpan.FromHours(24), s.Run.Duration);
        Assert.Equal(TimeSpan.FromMinutes(1), s.Run.ObservationInterval);
        Assert.Equal(1.0, s.Run.Scale);

        var pool = Assert.Single(s.Cluster.Nodes);
        Assert.Equal((10, 8000L, 16L << 30), (pool.Count, pool.Cpu.Millicores, pool.Memory.Bytes));

        Assert.Equal(["FAST", "SAFE", "CHEAP-ANALYSIS", "OPPORTUNISTIC"], s.QosClasses.Select(q => q.Name));
        Assert.Equal(14, s.Rses.Count);
        Assert.Equal(791_100_000_000_000, s.Rses.Sum(r => r.Quota.Bytes)); // the seed table's rows
        var pic = s.Rses.Single(r => r.Name == "PIC-DCACHE");
        Assert.Equal(StorageTechnology.Dcache, pic.Storage);
        Assert.Equal(ByteSize.Parse("28 TB"), pic.Quota);
        Assert.Equal(ByteSize.Parse("27.99 TB"), pic.Watermark);
        Assert.Equal("SAFE", pic.Attributes["QOS"]);
        Assert.Equal(["davs", "srm"], pic.Protocols.Select(p => p.Scheme));
        Assert.Equal(8452, pic.Protocols[0].Port);

        Assert.Equal(9, s.Experiments.Count);
        Assert.Equal(821_850, s.Experiments.Sum(e => e.Files));
        var cta = s.Experiments.Single(e => e.Name == "CTA");
        Assert.Equal(508_900, cta.Files);
        var lognormal = Assert.IsType<LognormalSize>(cta.FileSize);
        Assert.Equal(ByteSize.Parse("9.27 MB"), lognormal.Mean);
        Assert.Equal(ByteSize.Parse("2 GB"), lognormal.Max);
        Assert.Equal("DL1", cta.Metadata["datatype"]);
        var ska = Assert.IsType<HistogramSize>(s.Experiments.Single(e => e.Name == "SKA").FileSize);
        Assert.Equal([45.0, 40.0, 15.0], ska.Bins.Select(b => b.Weight));
        Assert.Equal("ego-virgo", s.Experiments.Single(e => e.Name == "EGO-VIRGO").EffectiveScope);

        Assert.Equal(17, s.Daemons.Count);
        Assert.Equal(28, s.Daemons.Sum(d => d.Replicas));
        var evaluator = s.Daemons.Single(d => d.Name == "judge-evaluator");
        Assert.Equal((3, 3), (evaluator.Replicas, evaluator.Threads));
        Assert.Equal(CpuQuantity.Parse("2"), evaluator.Requests.Cpu);
        Assert.Equal(CpuQuantity.Parse("2"), evaluator.Limits.Cpu);
        Assert.Equal(ByteSize.Parse("2000Mi"), evaluator.Requests.Memory);
        Assert.Equal(ByteSize.Parse("2000Mi"), evaluator.Limits.Memory);
        var ui = s.Daemons.Single(d => d.Name == "rucio-ui");
        Assert.Null(ui.Limits.Memory); // no limits were set

        Assert.Equal(["inject", "cta-to-safe", "lsst-to-analysis", "ska-to-safe", "small-to-fast", "fast-to-cheap", "lifecycle", "virgo-expiry", "noise"],
            s.Workload.Select(p => p.Name));
        var smallToFast = Assert.IsType<ReplicatePhase>(s.Workload[4]);
        Assert.Equal(1, smallToFast.Rule.Copies);
        Assert.Equal("QOS=FAST", smallToFast.Rule.RseExpression.Text);
        Assert.Equal("QOS=SAFE|GSI-ROOT|PIC-DCACHE", smallToFast.Rule.SourceReplicaExpression!.Text);
        Assert.Equal("small-to-fast", Assert.IsType<QosTransitionPhase>(s.Workload[5]).From);
        var noise = Assert.IsType<NoisePhase>(s.Workload[8]);
        Assert.Equal(12, noise.Rses!.Evaluate(s.Rses).Count); // INFN-ROMA1 and PIC-INJECT took no part

        Assert.Equal(3, s.Chaos.Count);
        var kill = Assert.IsType<PodKill>(s.Chaos[0]);
        Assert.Equal((SelectionMode.All, TimeSpan.Parse("02:30:00")), (kill.Mode, kill.Schedule.At!.Value));
        var limits = Assert.IsType<LimitChange>(s.Chaos[1]);
        Assert.Equal(ByteSize.Parse("2500Mi"), limits.Limits!.Memory);

        Assert.Equal(3, s.Thresholds.Count);
        Assert.Equal(0.9, s.Thresholds[0].Expression.Value);
        Assert.Equal(TargetKind.Embedded, s.Target.Kind);
    }

    [Fact]
    public void CiSmokeBindsAndFillsDefaults()
    {
        var s = LoadOk(RepoPaths.Scenario("ci-smoke.yaml"));

        Assert.Equal(("ci-smoke", 42L, TimeSpan.FromHours(2)), (s.Run.Name, s.Run.Seed, s.Run.Duration));
        Assert.Equal(1.0, s.Run.Scale);                      // default
        Assert.Equal("rucio", s.Cluster.Namespace);          // default
        Assert.Equal(4, s.Rses.Count);
        Assert.Equal(2, s.Experiments.Count);
        Assert.Equal(2500, s.Experiments.Sum(e => e.Files));
        Assert.Equal(14, s.Daemons.Count);

        var virgo = s.Experiments.Single(e => e.Name == "VIRGO");
        Assert.Equal(86_400, Assert.IsType<FixedSize>(virgo.FileSize).Size.Bytes); // "file_size: 86.4 KB" short form
        var cta = s.Experiments.Single(e => e.Name == "CTA");
        Assert.Equal("cta", cta.EffectiveScope);             // scope defaults to the name in lower case
        Assert.Equal(0, cta.DatasetsPerContainer);
        Assert.Equal(new ByteSize(1), Assert.IsType<LognormalSize>(cta.FileSize).Min);

        // The unnamed noise phase gets its kind and position.
        Assert.Equal(["inject", "to-safe", "cleanup", "noise-1"], s.Workload.Select(p => p.Name));
        var rule = Assert.IsType<ReplicatePhase>(s.Workload[1]).Rule;
        Assert.Equal((RuleGrouping.Dataset, 3, "User Subscriptions", NotifyMode.C), (rule.Grouping, rule.Priority, rule.Activity, rule.Notify));
        Assert.Equal(TimeSpan.FromHours(1), rule.Lifetime);
        var noise = Assert.IsType<NoisePhase>(s.Workload[3]);
        Assert.Equal((100_000_000L, TimeSpan.FromHours(1), "noise"), (noise.FileSize.Bytes, noise.Lifetime, noise.Scope));
        var ramp = Assert.IsType<RampingInject>(Assert.IsType<InjectPhase>(s.Workload[0]).Load[0]);
        Assert.Equal((1.0, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5)), (ramp.Rate, ramp.Interval, ramp.During));

        Assert.Equal(5e8, s.Links.Defaults.Bandwidth!.Value.BytesPerSecond);
        Assert.Equal("*", Assert.Single(s.Links.Overrides).Source.Text);
        var outage = Assert.IsType<RseOutage>(s.Chaos[1]);
        Assert.Equal([RseOperation.Write], outage.Unavailable);
        var kill = Assert.IsType<PodKill>(s.Chaos[0]);
        Assert.Equal((SelectionMode.One, TimeSpan.Zero), (kill.Mode, kill.GracePeriod));
        Assert.Equal("to-safe", s.Thresholds[1].Phase);
        Assert.True(s.Rses.All(r => r.Availability is { Read: true, Write: true, Delete: true }));
    }

    [Fact]
    public void UnnamedPhasesAreNamedByKindAndCount()
    {
        var s = ParseOk("""
            run: {name: names}
            rses:
              A: {quota: 1 TB, attributes: {QOS: X}}
              B: {quota: 1 TB, attributes: {QOS: Y}}
            experiments:
              E: {files: 10, file_size: 1 MB}
            workload:
              - inject: {load: [{inject: {rate: 1, during: 1m}}]}
              - inject: {load: [{pause: 1m}]}
              - replicate: {rule: {rse_expression: QOS=X}}
              - qos_transition: {from: replicate-1, rule: {rse_expression: QOS=Y}}
              - delete: {rules_of: [replicate-1, qos-transition-1]}
              - noise: {}
            """);
        Assert.Equal(["inject-1", "inject-2", "replicate-1", "qos-transition-1", "delete-1", "noise-1"], s.Workload.Select(p => p.Name));
        Assert.Equal(TimeSpan.FromMinutes(1), Assert.IsType<Pause>(Assert.IsType<InjectPhase>(s.Workload[1]).Load[0]).During);
    }

    [Fact]
    public void ALiveRucioTargetBindsWithoutSecrets()
    {
        var s = ParseOk("""
            run: {name: live}
            rses:
              A: {quota: 1 TB}
            experiments:
              E: {files: 10, file_size: 1 MB}
            target:
              kind: rucio
              rucio:
                url: https://rucio.example:443
                account: root
                auth: {method: userpass, username: root, password_env: RUCIO_PASSWORD}
                broker: {url: "stomp://broker.example:61613"}
              kubernetes:
                namespaces: [rucio]
                prometheus_url: http://prometheus.example:9090
            """);
        Assert.Equal(TargetKind.Rucio, s.Target.Kind);
        Assert.Equal("RUCIO_PASSWORD", s.Target.Rucio!.Auth.PasswordEnv);
        Assert.Equal(InjectionMode.Register, s.Target.Rucio.Injection);
        Assert.Equal("/topic/rucio.events", s.Target.Rucio.Broker!.Destination);
        Assert.Equal(0.5, s.Target.Kubernetes!.MaxUnavailable);
    }

    [Fact]
    public void ParseTakesTextAndNamesTheFile()
    {
        var result = ScenarioLoader.Parse("run: {name: x}\nrses: {A: {quota: 1 TB}}\nexperiments: {E: {files: 1, file_size: 1 MX}}\n", "mine.yaml");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(new Diagnostics.SourceLocation("mine.yaml", 3, 40), d.Location);
    }

    [Fact]
    public void DiagnosticsComeSortedByPlace()
    {
        var result = ScenarioLoader.Load(Path.Combine(AppContext.BaseDirectory, "Scenarios", "Broken", "43-several-mistakes.yaml"));
        var places = result.Diagnostics.Select(d => (d.Location.Line, d.Location.Column)).ToList();
        Assert.Equal(places.Order(), places);
    }
}
