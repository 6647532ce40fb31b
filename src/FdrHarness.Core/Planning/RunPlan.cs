using FdrHarness.Core.Chaos;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>How much a plan does, counted without generating a file.</summary>
public sealed record PlanCounts(long Files, long Datasets, int Rules, int RuleLifetimes, int DidLifetimes, long NoiseFiles, int ChaosFirings);

/// <summary>
/// What a rehearsal does, made from (scenario, seed, scale) alone: per phase, in time order, the files injected
/// (name, size, checksum, dataset, container, write RSE), the rules and the DIDs they cover, lifetimes, QoS
/// transitions, noise rounds, and the chaos actions with the draws that choose their targets. Both targets execute
/// the same plan; neither reads the scenario's workload or chaos sections.
/// </summary>
/// <remarks>
/// Every instant is a pure function of the scenario: a replicate phase's rule on a dataset comes when the dataset's
/// last file is planned (or when the phase starts, if later), at the pace of the phase's load; a qos_transition's new
/// rule when the rule it replaces is planned; a delete phase's lifetimes likewise. Operations at or after the run's
/// end are not planned. Files are streamed from their generators, never held: a million-file plan holds only its
/// rules and a few numbers per dataset.
/// </remarks>
public sealed partial class RunPlan
{
    private readonly List<PlannedOperation> _ruleOperations;
    private PlannedDid[] _ruleDids = [];
    private readonly long[][] _datasetFirstMs;
    private readonly long[][] _datasetLastMs;
    private readonly long[] _injected;

    private RunPlan(Scenario scenario)
    {
        Scenario = scenario;
        Streams = new PlanStreams(scenario.Run.Seed);
        Content = new SyntheticContent(scenario.Run.Seed);
        var rses = scenario.Rses;
        Experiments = scenario.Experiments.Select((e, i) =>
        {
            var write = e.WriteTo is { } w ? w.Evaluate(rses) : e.Qos is { } q ? RseExpression.Parse("QOS=" + q).Evaluate(rses) : null;
            var names = rses.Select(r => r.Name).Where(n => write is null || write.Contains(n)).ToArray();
            var generator = new SyntheticFileGenerator(scenario.Run.Seed, e, scenario.Run.Scale, Content);
            return new PlannedExperiment(i, generator, names, Streams.Key("write-rse", generator.Scope));
        }).ToArray();
        _datasetFirstMs = Experiments.Select(e => Filled(e.DatasetCount)).ToArray();
        _datasetLastMs = Experiments.Select(e => Filled(e.DatasetCount)).ToArray();
        _injected = new long[scenario.Workload.Count];
        Phases = ResolvePhases();
        Noise = new NoisePlan(this);
        _ruleOperations = PlanRules(out var rules, out var ruleLifetimes, out var didLifetimes);
        ChaosFirings = PlanChaos();
        // Loops, not LINQ's Sum and Count over longs: those are compiled at run time (not in the ReadyToRun image).
        var perPhase = new long[Phases.Count];
        for (var i = 0; i < perPhase.Length; i++) perPhase[i] = PhaseKind.For(Phases[i].Spec).StreamedCount(this, Phases[i]);
        foreach (var o in _ruleOperations) perPhase[o.Phase]++;
        PhaseOperations = perPhase;
        long files = 0, datasets = 0;
        foreach (var n in _injected) files += n;
        foreach (var last in _datasetLastMs)
            foreach (var t in last)
                if (t >= 0) datasets++;
        Counts = new PlanCounts(files, datasets, rules, ruleLifetimes, didLifetimes, Noise.Files, ChaosFirings.Count);
    }

    /// <summary>The plan of a scenario whose seed and scale are already set (command-line overrides applied).</summary>
    public static RunPlan Create(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Run.Duration <= TimeSpan.Zero) throw new ArgumentException("run.duration must be positive");
        return new RunPlan(DefaultNames.Apply(scenario));
    }

    public Scenario Scenario { get; }
    public long Seed => Scenario.Run.Seed;
    public double Scale => Scenario.Run.Scale;
    public TimeSpan Duration => Scenario.Run.Duration;
    public PlanStreams Streams { get; }
    /// <summary>The run's synthetic content (shared by every generator; uploads write it).</summary>
    public SyntheticContent Content { get; }
    public IReadOnlyList<PlannedExperiment> Experiments { get; }
    public IReadOnlyList<PlannedPhase> Phases { get; }
    public NoisePlan Noise { get; }
    public IReadOnlyList<ChaosFiring> ChaosFirings { get; }
    public PlanCounts Counts { get; }
    /// <summary>What each phase plans, by phase index: files (inject, noise), rules (replicate, qos_transition), lifetimes (delete).</summary>
    public IReadOnlyList<long> PhaseOperations { get; }
    /// <summary>Rules are numbered 0 … RuleCount − 1 in the order they are planned.</summary>
    public int RuleCount => Counts.Rules;

    /// <summary>Every operation of the run in time order (ties: chaos, injection, rules and lifetimes, noise), streamed.</summary>
    /// <param name="detail"><see cref="FileDetail.Lean"/>: the injected files without their names, their datasets' and
    /// containers' names and their checksums (the embedded lake makes them only when an event needs them); everything
    /// else is the same.</param>
    public IEnumerable<PlannedOperation> Operations(FileDetail detail = FileDetail.Full)
    {
        var sources = new List<IEnumerator<PlannedOperation>> { ChaosFirings.GetEnumerator() };
        foreach (var p in Phases.Where(p => !PhaseKind.For(p.Spec).StreamsAfterRules)) sources.Add(PhaseKind.For(p.Spec).Streamed(this, p, detail).GetEnumerator());
        sources.Add(_ruleOperations.GetEnumerator());
        foreach (var p in Phases.Where(p => PhaseKind.For(p.Spec).StreamsAfterRules)) sources.Add(PhaseKind.For(p.Spec).Streamed(this, p, detail).GetEnumerator());
        // The earliest source's operation next, ties to the first source: a scan of a few sources, not a PriorityQueue
        // over a tuple (compiled at run time, not in the ReadyToRun image).
        var live = new bool[sources.Count];
        var at = new TimeSpan[sources.Count]; // each live source's next instant
        try
        {
            for (var i = 0; i < sources.Count; i++)
                if (live[i] = sources[i].MoveNext()) at[i] = sources[i].Current.At;
            while (true)
            {
                var next = -1;
                for (var i = 0; i < at.Length; i++)
                    if (live[i] && (next < 0 || at[i] < at[next])) next = i;
                if (next < 0) break;
                yield return sources[next].Current;
                if (live[next] = sources[next].MoveNext()) at[next] = sources[next].Current.At;
            }
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
        }
    }

    /// <summary>The DID planned rule <paramref name="rule"/> is on.</summary>
    public PlannedDid RuleDid(int rule) => _ruleDids[rule];

    public string ScopeOf(PlannedDid did) => Experiments[did.Experiment].Scope;

    public string NameOf(PlannedDid did)
    {
        var e = Experiments[did.Experiment];
        return did.Kind switch
        {
            DidKind.Dataset => e.DatasetName(did.Index),
            DidKind.Container => e.ContainerName(did.Index),
            _ => e.Files.GetFile(did.Index).Name,
        };
    }

    /// <summary>When a dataset's first and last file are planned (offsets from the run's start), or null if never.</summary>
    public (TimeSpan First, TimeSpan Last)? DatasetInstants(int experiment, long dataset)
    {
        var first = _datasetFirstMs[experiment][dataset];
        var last = _datasetLastMs[experiment][dataset];
        return first < 0 ? null : (TimeSpan.FromMilliseconds(first), last < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(last));
    }

    private static long[] Filled(long n)
    {
        var a = new long[n];
        for (var i = 0; i < a.Length; i++) a[i] = -1;
        return a;
    }

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    // --- phases ---

    /// <summary>
    /// Starts: an explicit start, else 0, else after the named phase — an inject phase's end (its last planned file),
    /// any other phase's start. Inject phases are planned as their start becomes known, which fixes their end.
    /// </summary>
    private PlannedPhase[] ResolvePhases()
    {
        var specs = Scenario.Workload;
        var names = Scenario.Experiments.Select(e => e.Name).ToList();
        var experiments = new int[specs.Count][];
        for (var p = 0; p < specs.Count; p++) experiments[p] = ExperimentsOf(specs[p], names);
        var start = new TimeSpan?[specs.Count];
        var end = new TimeSpan?[specs.Count];
        var resolved = new bool[specs.Count];

        void Settle(int p, TimeSpan? at)
        {
            resolved[p] = true;
            start[p] = at is { } t && t < Duration ? t : null;
            end[p] = start[p] is { } s ? PhaseKind.For(specs[p]).End(this, p, experiments[p], s) : null;
        }

        for (var p = 0; p < specs.Count; p++)
            if (specs[p].Start is { } s) Settle(p, s);
            else if (specs[p].After is null) Settle(p, TimeSpan.Zero);
        for (var changed = true; changed;)
        {
            changed = false;
            for (var p = 0; p < specs.Count; p++)
            {
                if (resolved[p]) continue;
                var a = IndexOfPhase(specs[p].After!);
                if (a < 0) Settle(p, null);
                else if (resolved[a]) Settle(p, end[a]);
                else continue;
                changed = true;
            }
        }
        return specs.Select((ph, p) => new PlannedPhase(p, ph.Name!, DefaultNames.KindOf(ph), ph, experiments[p], resolved[p] ? start[p] : null,
            resolved[p] ? end[p] : null)).ToArray();
    }

    /// <summary>The phase's experiments by index (every one when it names none), each once, in the order named.</summary>
    private static int[] ExperimentsOf(Phase phase, List<string> names)
    {
        var picked = new int[phase.Experiments.Count == 0 ? names.Count : phase.Experiments.Count];
        var n = 0;
        if (phase.Experiments.Count == 0)
            for (; n < names.Count; n++) picked[n] = n;
        else
        {
            var seen = new bool[names.Count];
            foreach (var name in phase.Experiments)
                if (names.IndexOf(name) is >= 0 and var i && !seen[i])
                {
                    seen[i] = true;
                    picked[n++] = i;
                }
        }
        return picked[..n];
    }

    internal int IndexOfPhase(string name)
    {
        for (var i = 0; i < Scenario.Workload.Count; i++)
            if (Scenario.Workload[i].Name == name) return i;
        return -1;
    }

    // --- chaos ---

    private List<ChaosFiring> PlanChaos()
    {
        var firings = new List<ChaosFiring>();
        for (var i = 0; i < Scenario.Chaos.Count; i++)
        {
            var action = Scenario.Chaos[i];
            var name = action.Name!;
            foreach (var (at, occurrence, edge) in ChaosKind.For(action).Firings(action, Duration))
                firings.Add(new ChaosFiring(at, i, name, action, occurrence, edge, ChaosDraws.Key(Seed, name, occurrence)));
        }
        return InOrder(firings, StableOrder(firings.Count, (a, b) =>
        {
            var (x, y) = (firings[a], firings[b]);
            return x.At != y.At ? x.At.CompareTo(y.At) : x.Action != y.Action ? x.Action.CompareTo(y.Action) : ((byte)x.Edge).CompareTo((byte)y.Edge);
        }));
    }

    /// <summary>The offsets at which a schedule fires within the run: at, then every period from `from` (default: one period) until `until`.</summary>
    public static IEnumerable<TimeSpan> Instants(Schedule schedule, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.At is { } at && at <= duration) yield return at;
        if (schedule.Every is { } every && every > TimeSpan.Zero)
        {
            var until = schedule.Until is { } u && u < duration ? u : duration;
            for (var t = schedule.From ?? every; t < until; t += every) yield return t;
        }
    }
}
