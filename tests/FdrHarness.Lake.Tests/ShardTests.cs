using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// --shard i/N on the plan and on the embedded lake: the N parts cover the plan's operations exactly once, each unit
/// (a dataset or container with its files and rules, a noise file) whole in one part; and N shards of the lake write
/// together exactly the observations and counts of one process's run (each shard simulates the whole lake).
/// </summary>
public sealed class ShardTests
{
    private const int Shards = 4;

    /// <summary>Two ready scenarios and the first generated ones that plan rules or noise on several units and observe something.</summary>
    public static TheoryData<string> Scenarios() =>
    [
        "ci-smoke.yaml", "plan-on-both-targets",
        .. Enumerable.Range(1, 200).Where(seed => RunPlan.Create(GeneratedScenarioTests.Load(seed)).Counts is { Rules: >= 8 } or { NoiseFiles: >= 8 })
            .Where(seed => EmbeddedLake.Run(GeneratedScenarioTests.Load(seed), new RecordingSink()).Events >= 50).Take(5).Select(seed => $"generated-{seed}"),
    ];

    private static Scenario Load(string name)
    {
        if (name.StartsWith("generated-", StringComparison.Ordinal)) return GeneratedScenarioTests.Load(int.Parse(name["generated-".Length..], System.Globalization.CultureInfo.InvariantCulture));
        if (name.EndsWith(".yaml", StringComparison.Ordinal)) return TestScenarios.Load(name);
        var loaded = ScenarioLoader.Load(Path.Combine(RepoPaths.Root, "tests", "Shared", name + ".yaml"));
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        // The lake's servers need a few virtual minutes to start: the same plan, a longer run.
        return loaded.Scenario! with
        {
            Target = loaded.Scenario!.Target with { Kind = TargetKind.Embedded },
            Run = loaded.Scenario.Run with { Duration = TimeSpan.FromHours(1) },
        };
    }

    /// <summary>Every item an operation carries, with its instant: a file, a noise file, a rule, a lifetime, a chaos firing.</summary>
    private static IEnumerable<string> Items(IEnumerable<PlannedOperation> operations, RunPlan plan) =>
        operations.SelectMany(o => o switch
        {
            InjectFiles i => i.Files.Select(f => $"{o.At} {o.Phase} file {f.File.Scope}:{f.File.Name} {f.Dataset} {f.WriteRseStart}"),
            NoiseRound n => n.Files.Select(f => $"{o.At} {o.Phase} noise {f.Index} {f.Name} {n.Round}"),
            AddRule a => [$"{o.At} {o.Phase} rule {a.Rule} {plan.ScopeOf(a.Did)}:{plan.NameOf(a.Did)} {a.Replaces}"],
            SetRuleLifetime l => [$"{o.At} {o.Phase} rule-lifetime {l.Rule} {l.Lifetime}"],
            SetDidLifetime l => [$"{o.At} {o.Phase} did-lifetime {plan.ScopeOf(l.Did)}:{plan.NameOf(l.Did)} {l.Lifetime}"],
            ChaosFiring c => [$"{o.At} chaos {c.Name} {c.Occurrence} {c.Edge} {c.DrawKey}"],
            _ => throw new InvalidOperationException(o.GetType().Name),
        });

    [Fact]
    public void A_noise_file_under_its_live_name_belongs_to_the_shard_of_its_planned_name_only()
    {
        // On a live Rucio a noise file's name carries the run's start; each shard's sink must still know it as its own.
        var plan = RunPlan.Create(Load("ci-smoke.yaml"));
        Assert.True(plan.Noise.Files >= 8, "ci-smoke plans noise files");
        var parts = Enumerable.Range(0, Shards).Select(i => new PlanShard(plan, new ShardSpec(i, Shards))).ToList();
        var start = new DateTimeOffset(2026, 12, 2, 9, 30, 5, TimeSpan.Zero);
        for (var i = 0L; i < plan.Noise.Files; i++)
        {
            var file = plan.Noise.File(i);
            var live = NoisePlan.LiveName(file.Name, start);
            Assert.Equal(file.Name + ".20261202T093005", live);
            var owners = parts.Where(p => p.OwnsDidNamed(file.Scope, live)).ToList();
            Assert.Equal(parts.Where(p => p.OwnsNoiseFile(i)), owners);
            Assert.Single(owners);
        }
        Assert.Equal("data.2026", NoisePlan.PlannedName("data.2026"));
        Assert.Equal("x.20261302T093005", NoisePlan.PlannedName("x.20261302T093005")); // no such month: not a run's start
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void The_shards_parts_cover_the_plan_exactly_once_with_each_unit_whole(string name)
    {
        var plan = RunPlan.Create(Load(name));
        var parts = Enumerable.Range(0, Shards).Select(i => new PlanShard(plan, new ShardSpec(i, Shards))).ToList();

        var whole = Items(plan.Operations(), plan).Order(StringComparer.Ordinal).ToList();
        var joined = parts.SelectMany(p => Items(p.Operations(), plan)).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(whole);
        Assert.Equal(whole, joined); // every item once: none lost, none twice, same instants

        foreach (var part in parts)
        {
            var operations = part.Operations().ToList();
            // Time order kept.
            Assert.True(operations.Zip(operations.Skip(1)).All(x => x.First.At <= x.Second.At));
            // A unit is whole: the files of every DID a rule of this shard covers are all this shard's.
            var files = operations.OfType<InjectFiles>().SelectMany(i => i.Files).Select(f => (f.Experiment, f.Dataset)).ToHashSet();
            var everyFile = plan.Operations().OfType<InjectFiles>().SelectMany(i => i.Files).Select(f => (f.Experiment, f.Dataset)).ToHashSet();
            foreach (var rule in operations.OfType<AddRule>())
            {
                var datasets = rule.Did.Kind switch
                {
                    DidKind.Container => Enumerable.Range(0, (int)plan.Experiments[rule.Did.Experiment].DatasetsOf(rule.Did.Index).Count)
                        .Select(k => plan.Experiments[rule.Did.Experiment].DatasetsOf(rule.Did.Index).First + k),
                    DidKind.Dataset => [rule.Did.Index],
                    _ => [rule.Did.Index / plan.Experiments[rule.Did.Experiment].FilesPerDataset],
                };
                foreach (var d in datasets.Where(d => everyFile.Contains((rule.Did.Experiment, d))))
                    Assert.Contains((rule.Did.Experiment, d), files);
            }
            foreach (var lifetime in operations.OfType<SetRuleLifetime>())
                Assert.Contains(operations.OfType<AddRule>(), r => r.Rule == lifetime.Rule);
            if (part.Spec.Index != 0) Assert.Empty(operations.OfType<ChaosFiring>());
        }

        // The parts' counts sum to the plan's.
        var sum = parts.Select(p => p.Counts).Aggregate((a, b) => new PlanCounts(a.Files + b.Files, a.Datasets + b.Datasets, a.Rules + b.Rules,
            a.RuleLifetimes + b.RuleLifetimes, a.DidLifetimes + b.DidLifetimes, a.NoiseFiles + b.NoiseFiles, a.ChaosFirings + b.ChaosFirings));
        Assert.Equal(plan.Counts, sum);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Four_shards_of_the_lake_write_what_one_run_writes_and_count_what_it_counts(string name)
    {
        var plan = RunPlan.Create(Load(name));
        var (one, oneCounters) = await Run(plan, null);
        var shards = new List<(Collected Seen, IReadOnlyDictionary<string, double> Counters)>();
        for (var i = 0; i < Shards; i++) shards.Add(await Run(plan, new PlanShard(plan, new ShardSpec(i, Shards))));

        // run.json's counters: each summed over the shards equals the one run's.
        Assert.Equal(oneCounters.OrderBy(c => c.Key), oneCounters.Keys.Select(k => KeyValuePair.Create(k, shards.Sum(s => s.Counters[k]))).OrderBy(c => c.Key));
        Assert.True(oneCounters[RunCounters.Events] > 0, "a run that observes nothing proves nothing");
        // ci-smoke replicates, retries and fails transfers on several links: the matrix below is not empty there.
        if (name == "ci-smoke.yaml") Assert.True(Matrix(one.Events).Count >= 4 && oneCounters[RunCounters.TransfersFailed] > 0);

        // Every event written by exactly one shard: the shards' events are the one run's, as a multiset of whole records.
        Assert.Equal(Multiset(one.Events), Multiset(shards.SelectMany(s => s.Seen.Events)));
        Assert.True(shards.Count(s => s.Seen.Events.Count > 0) >= 2, "the events are spread over the shards");
        // The transfer matrix (done and submitted per link), as the report counts it.
        Assert.Equal(Matrix(one.Events), Matrix(shards.SelectMany(s => s.Seen.Events)));
        // The cluster's observations: shard 0's, once.
        Assert.Equal(one.Samples, shards[0].Seen.Samples);
        Assert.Equal(one.Lifecycles, shards[0].Seen.Lifecycles);
        Assert.Equal(one.Faults, shards[0].Seen.Faults);
        Assert.All(shards.Skip(1), s => Assert.Equal(0, s.Seen.Samples.Count + s.Seen.Lifecycles.Count + s.Seen.Faults.Count));
        // Every injection row written by exactly one shard (its dataset's or noise file's), rows whole: the files sum to
        // run.json's files.injected, the one run's and the shards' alike.
        Assert.Equal(one.Injections.Select(r => r.ToString()).Order(StringComparer.Ordinal), shards.SelectMany(s => s.Seen.Injections).Select(r => r.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(oneCounters[RunCounters.FilesInjected], one.Injections.Sum(r => r.Files));
        Assert.All(shards, s => Assert.Equal(s.Counters[RunCounters.FilesInjected], s.Seen.Injections.Sum(r => r.Files)));
        Assert.True(one.Injections.Sum(r => r.Files) > 0, "a run that injects nothing proves nothing");
    }

    private static async Task<(Collected Seen, IReadOnlyDictionary<string, double> Counters)> Run(RunPlan plan, PlanShard? shard)
    {
        var seen = new Collected();
        var outcome = await new EmbeddedTarget().ExecuteAsync(plan, new RehearsalContext("unused", DateTime.UnixEpoch, seen, TextWriter.Null, null, shard), CancellationToken.None);
        return (seen, outcome.Counters);
    }

    private static SortedDictionary<string, int> Multiset(IEnumerable<HermesEvent> events) =>
        new(events.GroupBy(e => e.ToString()).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);

    private static SortedDictionary<string, (int Submitted, int Done, int Failed)> Matrix(IEnumerable<HermesEvent> events)
    {
        var m = new SortedDictionary<string, (int Submitted, int Done, int Failed)>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.EventType.StartsWith("transfer-", StringComparison.Ordinal) && e.SrcRse is not null))
        {
            var key = $"{e.SrcRse}->{e.DstRse}";
            var (s, d, f) = m.GetValueOrDefault(key);
            m[key] = e.EventType switch
            {
                "transfer-submitted" => (s + 1, d, f),
                "transfer-done" => (s, d + 1, f),
                "transfer-failed" => (s, d, f + 1),
                _ => (s, d, f),
            };
        }
        return m;
    }

    private sealed class Collected : IObservationSink
    {
        public readonly List<HermesEvent> Events = [];
        public readonly List<PodSample> Samples = [];
        public readonly List<PodLifecycleEvent> Lifecycles = [];
        public readonly List<FaultRecord> Faults = [];
        public readonly List<InjectionRecord> Injections = [];
        public void Event(in HermesEvent e) => Events.Add(e);
        public void Sample(in PodSample s) => Samples.Add(s);
        public void Lifecycle(in PodLifecycleEvent e) => Lifecycles.Add(e);
        public void Fault(in FaultRecord f) => Faults.Add(f);
        public void Injection(in InjectionRecord r) => Injections.Add(r);
        public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }
    }
}
