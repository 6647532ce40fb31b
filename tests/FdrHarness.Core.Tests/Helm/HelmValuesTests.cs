using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Helm;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Tests.Helm;

public class HelmValuesTests
{
    private static readonly string ValuesFile = Path.Combine(RepoPaths.Root, "tests", "FdrHarness.Core.Tests", "Helm", "rucio-daemons.values.yaml");

    private static Scenario CiSmoke()
    {
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml"));
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        return loaded.Scenario!;
    }

    private static DaemonSpec Daemon(Scenario s, string name) => Assert.Single(s.Daemons, d => d.Name == name);

    [Fact]
    public void ChartShapedValuesFileConfiguresTheDaemonsOfCiSmoke()
    {
        var before = CiSmoke();
        var result = HelmValues.ApplyFile(before, ValuesFile);
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        var after = result.Scenario!;

        var evaluator = Daemon(after, "judge-evaluator");
        Assert.Equal(3, evaluator.Replicas);
        Assert.Equal(4, evaluator.Threads);
        Assert.Equal(ByteSize.Parse("3Gi"), evaluator.Limits.Memory);
        Assert.Equal(CpuQuantity.Parse("2"), evaluator.Limits.Cpu);
        Assert.Equal(ByteSize.Parse("1500Mi"), evaluator.Requests.Memory);
        Assert.Equal(CpuQuantity.Parse("500m"), evaluator.Requests.Cpu);
        Assert.Equal(Daemon(before, "judge-evaluator").Model, evaluator.Model);

        // The chart's key for the submitter is conveyorTransferSubmitter.
        var submitter = Daemon(after, "conveyor-submitter");
        Assert.Equal((2, 3), (submitter.Replicas, submitter.Threads));
        Assert.Equal(ByteSize.Parse("1Gi"), submitter.Limits.Memory);

        // Count 0 disables: the daemon stays listed (so chaos naming it still validates) with no pod.
        Assert.Equal(0, Daemon(after, "judge-repairer").Replicas);

        // Enabled by the file, absent from the scenario: added with the file's settings.
        var transmogrifier = Daemon(after, "transmogrifier");
        Assert.Equal(1, transmogrifier.Replicas);
        Assert.Equal(ByteSize.Parse("300Mi"), transmogrifier.Limits.Memory);
        Assert.Equal(CpuQuantity.Parse("100m"), transmogrifier.Requests.Cpu);

        // Field by field, as Helm merges: what the file leaves out stays, a null removes.
        var abacusRse = Daemon(after, "abacus-rse");
        Assert.Equal(ByteSize.Parse("256Mi"), abacusRse.Limits.Memory);
        Assert.Equal(Daemon(before, "abacus-rse").Limits.Cpu, abacusRse.Limits.Cpu);
        Assert.Equal(Daemon(before, "abacus-rse").Requests, abacusRse.Requests);
        var undertaker = Daemon(after, "undertaker");
        Assert.Null(undertaker.Limits.Cpu);
        Assert.Equal(Daemon(before, "undertaker").Limits.Memory, undertaker.Limits.Memory);

        // Not mentioned: unchanged. A daemon of the chart the rehearsal does not model: left out, with a note.
        Assert.Equal(Daemon(before, "rucio-server"), Daemon(after, "rucio-server"));
        Assert.Equal(Daemon(before, "hermes"), Daemon(after, "hermes"));
        Assert.DoesNotContain(after.Daemons, d => d.Name == "automatix");
        var note = Assert.Single(result.Notes);
        Assert.Contains("automatix", note);
        Assert.Contains("rucio-daemons.values.yaml:7:1", note);
        Assert.Equal(before.Daemons.Count + 1, after.Daemons.Count);
    }

    [Fact]
    public void TheConfiguredScenarioIsStillAValidScenario()
    {
        var result = HelmValues.ApplyFile(CiSmoke(), ValuesFile);
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        var reloaded = ScenarioLoader.Parse(ScenarioWriter.ToYaml(result.Scenario!), "configured.yaml");
        Assert.True(reloaded.Ok, string.Join("\n", reloaded.Diagnostics));
        Assert.Equal(result.Scenario!.Daemons.Select(d => (d.Name, d.Replicas, d.Threads, d.Requests, d.Limits)),
            reloaded.Scenario!.Daemons.Select(d => (d.Name, d.Replicas, d.Threads, d.Requests, d.Limits)));
    }

    [Fact]
    public void EveryMistakeIsReportedWithItsPosition()
    {
        const string text = """
            judgeEvaluaterCount: 2
            reaperCount: -1
            hermesCount: two
            judgeEvaluator:
              threads: 2
              resources:
                limits: {cpu: 2 cores, memory: 512m}
                requests:
                  memory: lots
                  memroy: 1Gi
            conveyorFinisher:
              thread: 3
              resources:
                limit: {memory: 1Gi}
            reaperr:
              threads: 2
            someChartSetting: {enabled: true}
            """;
        var result = HelmValues.Apply(CiSmoke(), text, "values.yaml");
        Assert.False(result.Ok);
        Assert.Null(result.Scenario);
        var lines = result.Diagnostics.Select(d => d.ToString()).ToList();
        string At(string position) => Assert.Single(lines, l => l.StartsWith("values.yaml:" + position + ": error: ", StringComparison.Ordinal));

        Assert.Contains("unknown daemon key 'judgeEvaluaterCount'", At("1:1"));
        Assert.Contains("did you mean 'judgeEvaluatorCount'?", At("1:1"));
        Assert.Contains("cannot be negative", At("2:14"));
        Assert.Contains("whole number of pods; found 'two'", At("3:14"));
        Assert.Contains("resources.limits.cpu: unknown CPU unit 'cores'", At("7:19"));
        Assert.Contains("thousandths of a byte", At("7:36"));
        Assert.Contains("did you mean '512Mi'?", At("7:36"));
        Assert.Contains("resources.requests.memory: 'lots' is not a size", At("9:15"));
        Assert.Contains("unknown resource 'memroy'", At("10:7"));
        Assert.Contains("did you mean 'memory'?", At("10:7"));
        Assert.Contains("unknown key 'thread'", At("12:3"));
        Assert.Contains("did you mean 'threads'?", At("12:3"));
        Assert.Contains("unknown key 'limit' in resources", At("14:5"));
        Assert.Contains("did you mean 'limits'?", At("14:5"));
        Assert.Contains("did you mean 'reaper'?", At("15:1"));
        Assert.Equal(10, lines.Count);   // someChartSetting is a chart setting, not a mistake
    }

    [Fact]
    public void RequestAboveTheLimitIsRefusedAtTheResourcesBlock()
    {
        const string text = """
            judgeEvaluator:
              resources:
                requests: {memory: 4Gi}
            """;
        var result = HelmValues.Apply(CiSmoke(), text, "values.yaml");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal((2, 3), (d.Location.Line, d.Location.Column));
        Assert.Contains("memory request (4Gi) is above the limit (1Gi)", d.Message);
    }

    [Fact]
    public void SettingsWithoutACountDoNotAddADaemon()
    {
        var before = CiSmoke();
        var result = HelmValues.Apply(before, "minosTemporaryExpiration: {threads: 2}\ntransmogrifier: {threads: 2}\n", "values.yaml");
        Assert.True(result.Ok);
        Assert.Equal(before.Daemons, result.Scenario!.Daemons);
        Assert.Contains(result.Notes, n => n.StartsWith("values.yaml:2:1: transmogrifier has settings but no transmogrifierCount", StringComparison.Ordinal));
    }

    [Fact]
    public void EmptyOrMissingFiles()
    {
        var before = CiSmoke();
        var empty = HelmValues.Apply(before, "# nothing set\n", "values.yaml");
        Assert.True(empty.Ok);
        Assert.Same(before, empty.Scenario);

        var list = HelmValues.Apply(before, "- judgeEvaluatorCount: 1\n", "values.yaml");
        Assert.Contains("a values file is a mapping", Assert.Single(list.Diagnostics).Message);

        var missing = HelmValues.ApplyFile(before, "/nonexistent/values.yaml");
        Assert.Equal("/nonexistent/values.yaml: error: no such values file", Assert.Single(missing.Diagnostics).ToString());
    }

    [Theory]
    [InlineData("conveyor-submitter", "conveyorTransferSubmitter")]
    [InlineData("judge-evaluator", "judgeEvaluator")]
    [InlineData("abacus-collection-replica", "abacusCollectionReplica")]
    [InlineData("minos-temporary-expiration", "minosTemporaryExpiration")]
    public void ChartKeysAndDaemonNamesMapBothWays(string daemon, string key)
    {
        Assert.Equal(key, HelmValues.ChartKey(daemon));
        Assert.Equal(daemon, HelmValues.DaemonOfChartKey(key));
    }

    [Fact]
    public void EveryDaemonTheLakeModelsIsAChartDaemon()
    {
        Assert.All(Core.Rucio.RucioDaemons.Daemons, d => Assert.Contains(HelmValues.ChartDaemons, c => c.Daemon == d));
    }
}
