using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>The resolved scenario written as YAML (a run's scenario.yaml) loads back to the same scenario.</summary>
public class ScenarioWriterTests
{
    /// <summary>Every section and every union case, so the round trip covers the whole language.</summary>
    private const string EverySection = """
        run: {name: every-section, description: "a: colon, # hash and 'quotes'", seed: 9, duration: 6h, observation_interval: 10s, scale: 0.5}
        cluster: {namespace: rucio-test, nodes: [{name: big, count: 3, cpu: 7500m, memory: 31.5Gi}]}
        qos_classes: {FAST: {}, SAFE: {description: safe}}
        rses:
          A-DISK: {storage: xrootd, protocols: [root, "davs://a.example:2880/x"], quota: 1.5 TB, watermark: 100Gi, attributes: {QOS: FAST, tier: 1}, availability: {delete: false}}
          B-DISK: {quota: 1 PB, attributes: {QOS: SAFE, tier: 2}}
          C-DISK: {quota: 123456789, attributes: {QOS: SAFE}}
        links:
          defaults: {bandwidth: 10 Gbps, max_active: 10, failure_probability: 5%}
          overrides: [{source: A-DISK, destination: "QOS=SAFE\\C-DISK", bandwidth: 800 Mbit/s}]
        experiments:
          X: {files: 100, file_size: {histogram: [{up_to: 1 MB, weight: 1}, {from: 2 MB, up_to: 3 MB, weight: 2.5}]}, write_to: "A-DISK|B-DISK", account: root, metadata: {datatype: RAW}}
          Y: {scope: y.scope, files: 50, file_size: {fixed: 2Gi}, qos: SAFE, files_per_dataset: 5, datasets_per_container: 2}
          Z: {files: 5, file_size: {lognormal: {mean: 1 GB, sigma: 0, min: 1 MB, max: 2 GB}}}
        workload:
          - inject:
              experiments: [X, Y, Z]
              load:
                - ramping_inject: {rate: 10, interval: 500ms, during: 10m}
                - inject_random: {min_rate: 1, max_rate: 5, during: 5m}
                - iterations_for_inject: {rate: 2, iterations: 100}
                - keep_constant: {copies: 3, during: 1m}
                - ramping_constant: {copies: 0, during: 1m}
                - pause: 30s
          - replicate:
              name: copy
              after: inject-1
              level: file
              fraction: 50%
              rule: {copies: 2, rse_expression: "tier>0", grouping: none, lifetime: 1h30m, asynchronous: true, notify: p, priority: 5, source_replica_expression: A-DISK}
              load: [{inject: {rate: 1, during: 1h}}]
          - qos_transition: {from: copy, start: 3h, remove_old: false, rule: {rse_expression: QOS=SAFE}}
          - delete: {rules_of: [copy], rule_lifetime: 1h, did_lifetime: 2h, start: 4h}
          - noise: {rses: "*", file_size: 1 MB, every: 15m, during: 1h, lifetime: 30m}
        daemons:
          judge-evaluator: {replicas: 2, threads: 4, requests: {cpu: 0.5, memory: 1.5Gi}, limits: {cpu: 1, memory: 2Gi}, model: {bulk: 40}}
          reaper: ~
        chaos:
          - pod_kill: {name: k, selector: {daemon: judge-evaluator, labels: {app: x}}, mode: fixed-percent, value: 50, schedule: {every: 30m, from: 1h, until: 5h}, grace_period: 10s}
          - limit_change: {daemon: reaper, at: 2h, requests: {cpu: 100m}, limits: {memory: 300Mi}}
          - rse_outage: {rse: B-DISK, from: 1h, during: 30m}
          - link_degradation: {source: "*", destination: C-DISK, from: 2h, during: 1h, bandwidth_factor: 0.25, failure_probability: 0.5}
        thresholds:
          - daemons[judge-evaluator].oom_kills == 0
          - {expression: "rules.completion_time.p95 < 2h", window: 1h, abort_on_fail: true}
        target:
          kind: rucio
          rucio: {url: "https://rucio.example", account: root, vo: def, auth: {method: x509, certificate: /etc/cert.pem}, injection: upload, batch_size: 10}
          kubernetes: {namespaces: [rucio], release: r, max_unavailable: 25%}
        """;

    public static TheoryData<string> Scenarios() => new() { "escape-fdr-2020.yaml", "ci-smoke.yaml" };

    private static string RoundTrip(Scenario scenario, out Scenario again)
    {
        var yaml = ScenarioWriter.ToYaml(scenario);
        var result = ScenarioLoader.Parse(yaml, "written.yaml");
        Assert.True(result.Ok, "the written YAML does not load:\n" + string.Join("\n", result.Diagnostics) + "\n" + yaml);
        again = result.Scenario!;
        return yaml;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void WritingTwiceGivesIdenticalText(string name)
    {
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario(name));
        Assert.True(loaded.Ok);

        var first = RoundTrip(loaded.Scenario!, out var again);
        var second = ScenarioWriter.ToYaml(again);

        Assert.Equal(first, second);
        Assert.Equal(loaded.Scenario!.Experiments.Sum(e => e.Files), again.Experiments.Sum(e => e.Files));
        Assert.Equal(loaded.Scenario.Rses.Select(r => (r.Name, r.Quota, r.Watermark)), again.Rses.Select(r => (r.Name, r.Quota, r.Watermark)));
        Assert.Equal(loaded.Scenario.Workload.Select(p => p.Name), again.Workload.Select(p => p.Name));
    }

    [Fact]
    public void EverySectionRoundTrips()
    {
        var loaded = ScenarioLoader.Parse(EverySection, "every.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));

        var first = RoundTrip(loaded.Scenario!, out var again);

        Assert.Equal(first, ScenarioWriter.ToYaml(again));
        Assert.Equal("a: colon, # hash and 'quotes'", again.Run.Description);
        Assert.Equal(0.5, again.Run.Scale);
        Assert.Equal(7500, again.Cluster.Nodes[0].Cpu.Millicores);
        Assert.Equal(0.05, again.Links.Defaults.FailureProbability);
        Assert.Equal(1e8, again.Links.Overrides[0].Bandwidth!.Value.BytesPerSecond);
        Assert.Equal("QOS=SAFE\\C-DISK", again.Links.Overrides[0].Destination.Text);
        Assert.False(again.Rses[0].Availability.Delete);
        Assert.Equal(6, Assert.IsType<InjectPhase>(again.Workload[0]).Load.Count);
        Assert.Equal(NotifyMode.P, Assert.IsType<ReplicatePhase>(again.Workload[1]).Rule.Notify);
        Assert.Equal(2.5, Assert.IsType<HistogramSize>(again.Experiments[0].FileSize).Bins[1].Weight);
        Assert.Equal("40", again.Daemons[0].Model["bulk"]);
        Assert.Equal(SelectionMode.FixedPercent, Assert.IsType<PodKill>(again.Chaos[0]).Mode);
        Assert.Equal(0.25, Assert.IsType<LinkDegradation>(again.Chaos[3]).BandwidthFactor);
        Assert.True(again.Thresholds[1].AbortOnFail);
        Assert.Equal(InjectionMode.Upload, again.Target.Rucio!.Injection);
    }

    [Fact]
    public void TheWrittenScenarioHasEveryDefaultFilledIn()
    {
        var loaded = ScenarioLoader.Parse("run: {name: tiny}\nrses: {A: {quota: 1 TB}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\n", "tiny.yaml");
        var yaml = ScenarioWriter.ToYaml(loaded.Scenario!);

        Assert.Contains("  seed: 1\n", yaml);
        Assert.Contains("  duration: 24h\n", yaml);
        Assert.Contains("  observation_interval: 1m\n", yaml);
        Assert.Contains("    storage: other\n", yaml);
        Assert.Contains("    files_per_dataset: 1000\n", yaml);
        Assert.Contains("  kind: embedded\n", yaml);
        Assert.DoesNotContain("description", yaml); // nulls are left out
    }

    [Fact]
    public void Credentials_in_urls_are_never_written()
    {
        var loaded = ScenarioLoader.Parse("""
            run: {name: secrets}
            rses: {A-DISK: {quota: 1 TB}}
            experiments: {X: {files: 1, file_size: 1 MB}}
            target:
              kind: rucio
              rucio:
                url: "https://ddmadmin:url-secret@rucio.example.org/"
                auth_url: "https://ddmadmin:auth-secret@auth.example.org:8443/"
                account: root
                auth: {method: userpass, username: ddmadmin, password_env: RUCIO_PASSWORD}
                broker: {url: "stomp://hermes:broker-secret@mq.example.org:61613"}
              kubernetes: {namespaces: [rucio], prometheus_url: "http://scrape:prom-secret@prom.example.org:9090"}
            """, "secrets.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var yaml = ScenarioWriter.ToYaml(loaded.Scenario!);
        foreach (var secret in new[] { "url-secret", "auth-secret", "broker-secret", "prom-secret", "ddmadmin:", "hermes:", "scrape:" })
            Assert.DoesNotContain(secret, yaml);
        Assert.Contains("url: https://rucio.example.org/", yaml);
        Assert.Contains("auth_url: https://auth.example.org:8443/", yaml);
        Assert.Contains("url: stomp://mq.example.org:61613", yaml);
        Assert.Contains("prometheus_url: http://prom.example.org:9090/", yaml);
        Assert.Contains("password_env: RUCIO_PASSWORD", yaml);
        // What is written still loads: the run's scenario.yaml names the same servers.
        var back = ScenarioLoader.Parse(yaml, "scenario.yaml").Scenario!;
        Assert.Equal(new Uri("https://rucio.example.org/"), back.Target.Rucio!.Url);
    }
}
