using System.Globalization;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios;

/// <summary>One figure of the budget: its key, what it counts and how, and its default limit.</summary>
public sealed record BudgetLimit(string Key, string Noun, string Counted, double Default)
{
    /// <summary>The environment variable that raises (or lowers) it: FDR_BUDGET_FILES.</summary>
    public string Variable => "FDR_BUDGET_" + Key.ToUpperInvariant();
}

/// <summary>
/// What a scenario may ask of the machine that runs it: every figure that sets the memory or time a run takes, with a
/// limit. A scenario beyond one is refused by validate (and so by run and sweep) with the figure, the limit and the
/// variable that raises it. The limits belong to the machine, not to the scenario: they are raised through the
/// environment (FDR_BUDGET_FILES=50000000), never by the file being checked.
/// </summary>
/// <remarks>
/// Every figure is computed from the scenario's numbers in time proportional to the scenario's size (never by
/// enumerating files, firings or intervals), in doubles so that no product overflows.
/// </remarks>
public sealed class ResourceBudget
{
    public static readonly BudgetLimit Files = new("files", "files", "the experiments' files × run.scale", 20_000_000);
    public static readonly BudgetLimit Pods = new("pods", "pods", "the daemons' replicas summed", 1_000);
    public static readonly BudgetLimit Threads = new("threads", "worker threads", "replicas × threads summed over the daemons", 20_000);
    public static readonly BudgetLimit Nodes = new("nodes", "cluster nodes", "the node pools' counts summed", 1_000);
    public static readonly BudgetLimit ChaosFirings = new("chaos_firings", "pod_kill firings", "each pod_kill's firings within the run, summed", 100_000);
    public static readonly BudgetLimit NoiseTransfers = new("noise_transfers", "noise files", "ordered RSE pairs × rounds of each noise phase", 1_000_000);
    public static readonly BudgetLimit Operations = new("operations", "load operations", "rate × run.scale × intervals of every load simulation", 100_000_000);
    public static readonly BudgetLimit LoadIntervals = new("load_intervals", "load intervals", "during ÷ interval of every load simulation", 10_000_000);
    public static readonly BudgetLimit Samples = new("samples", "pod samples", "run.duration ÷ run.observation_interval × pods", 20_000_000);
    public static readonly BudgetLimit Duration = new("duration", "run.duration", "the run's length", TimeSpan.FromDays(31).TotalSeconds);
    public static readonly BudgetLimit Rses = new("rses", "RSEs", "the rses section's entries", 250);
    public static readonly BudgetLimit Experiments = new("experiments", "experiments", "the experiments section's entries", 250);

    public static IReadOnlyList<BudgetLimit> All { get; } =
        [Files, Pods, Threads, Nodes, ChaosFirings, NoiseTransfers, Operations, LoadIntervals, Samples, Duration, Rses, Experiments];

    /// <summary>What the embedded data lake can represent whatever the budget says (its RSE and experiment ids are bytes).</summary>
    public const int EmbeddedMaxRses = 250, EmbeddedMaxExperiments = 254;
    public const long EmbeddedMaxFiles = int.MaxValue / 4;

    /// <summary>The finest step of a run: a schedule repeating faster would not advance the embedded lake's clock.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private readonly Dictionary<string, double> _max;

    private ResourceBudget(Dictionary<string, double> max) => _max = max;

    public static ResourceBudget Default { get; } = new(All.ToDictionary(l => l.Key, l => l.Default));

    /// <summary>No limit: for reading back the scenario.yaml of a run that has already run.</summary>
    public static ResourceBudget Unlimited { get; } = new(All.ToDictionary(l => l.Key, _ => double.PositiveInfinity));

    /// <summary>The figures of <paramref name="scenario"/> beyond the budget of this process's environment: for a scenario
    /// changed after it was loaded (--scale, --helm-values, a sweep's points).</summary>
    public static IReadOnlyList<Diagnostic> Exceeded(Scenario scenario, SourceMap map)
    {
        var bag = new DiagnosticBag();
        FromEnvironment(bag).Check(scenario, map, bag);
        return bag.Sorted();
    }

    public double this[BudgetLimit limit] => _max[limit.Key];

    /// <summary>This budget with one limit changed.</summary>
    public ResourceBudget With(BudgetLimit limit, double max) => new(new Dictionary<string, double>(_max) { [limit.Key] = max });

    /// <summary>The default budget with the FDR_BUDGET_* variables set in <paramref name="environment"/> (the process's when null).</summary>
    public static ResourceBudget FromEnvironment(DiagnosticBag bag, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var budget = Default;
        foreach (var limit in All)
        {
            if (environment(limit.Variable) is not { } text) continue;
            if (TryParse(limit, text, out var max)) budget = budget.With(limit, max);
            else
                bag.Add(new SourceLocation(limit.Variable, 0, 0), $"'{text}' is not a limit of {limit.Noun}",
                    limit == Duration ? "give a duration such as 90d" : "give a whole number such as " + Number(limit.Default * 10));
        }
        return budget;
    }

    private static bool TryParse(BudgetLimit limit, string text, out double max)
    {
        max = 0;
        if (limit == Duration)
        {
            if (!Durations.TryParse(text, out var t, out _)) return false;
            max = t.TotalSeconds;
            return true;
        }
        return double.TryParse(text.Trim().Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out max)
               && double.IsFinite(max) && max >= 0;
    }

    /// <summary>
    /// Adds a diagnostic for every figure of <paramref name="scenario"/> beyond this budget. Returns false when the
    /// scenario is too large to validate further (more RSEs or experiments than allowed: checks that relate them would
    /// take time in proportion to their product).
    /// </summary>
    public bool Check(Scenario scenario, SourceMap map, DiagnosticBag bag) => new Checker(this, scenario, map, bag).Run();

    /// <summary>
    /// The declared RSEs and experiments of a scenario's YAML tree against the budget, before the tree is bound: a file
    /// with tens of thousands of them is refused in the time it takes to read it. False (and a diagnostic) when beyond.
    /// </summary>
    public bool CheckDeclared(YMapping root, DiagnosticBag bag)
    {
        var ok = true;
        foreach (var (key, limit) in new[] { ("rses", Rses), ("experiments", Experiments) })
        {
            var entry = root.Entries.FirstOrDefault(e => e.Key.Value == key);
            if (entry.Value is not YMapping declared || declared.Entries.Count <= this[limit]) continue;
            bag.Add(entry.Key.At, $"the scenario declares {Number(declared.Entries.Count)} {limit.Noun}; the budget allows {Number(this[limit])}", RaiseHint(limit));
            ok = false;
        }
        return ok;
    }

    private static string RaiseHint(BudgetLimit limit) =>
        $"if this machine can take it, raise the limit with the environment variable {limit.Variable}; see the README's resource budget";

    private sealed class Checker(ResourceBudget budget, Scenario s, SourceMap map, DiagnosticBag bag)
    {
        private readonly double _scale = s.Run.Scale is > 0 and < double.PositiveInfinity ? s.Run.Scale : 1;
        private readonly bool _embedded = s.Target.Kind == TargetKind.Embedded;

        public bool Run()
        {
            var sized = Count(Rses, s.Rses.Count, s, nameof(s.Rses), _embedded ? EmbeddedMaxRses : null);
            sized &= Count(Experiments, s.Experiments.Count, s, nameof(s.Experiments), _embedded ? EmbeddedMaxExperiments : null);

            var files = Largest(s.Experiments, e => Math.Max(0, e.Files) * _scale);
            if (!Over(Files, files.Total, files.Item, nameof(ExperimentSpec.Files), $"the experiments' files × run.scale {Number(_scale)}")
                && _embedded && files.Total > EmbeddedMaxFiles)
                Hard(files.Item, nameof(ExperimentSpec.Files), $"{Number(files.Total)} files", $"the embedded data lake holds at most {Number(EmbeddedMaxFiles)}");

            var pods = Largest(s.Daemons, d => Math.Max(0, d.Replicas));
            Over(Pods, pods.Total, pods.Item, nameof(DaemonSpec.Replicas));
            var threads = Largest(s.Daemons, d => Math.Max(0, d.Replicas) * (double)Math.Max(1, d.Threads));
            Over(Threads, threads.Total, threads.Item, nameof(DaemonSpec.Threads));
            var nodes = Largest(s.Cluster.Nodes, n => Math.Max(0, n.Count));
            Over(Nodes, nodes.Total, nodes.Item, nameof(NodePool.Count));

            var duration = s.Run.Duration.TotalSeconds;
            if (duration > budget[Duration])
                Add(s.Run, nameof(RunSettings.Duration), $"run.duration is {Durations.Format(s.Run.Duration)}; the budget allows {Durations.Format(TimeSpan.FromSeconds(budget[Duration]))}", Duration);
            else
            {
                var interval = Math.Max(1, s.Run.ObservationInterval.TotalSeconds);
                Over(Samples, Math.Ceiling(duration / interval) * Math.Max(1, pods.Total), s.Run, nameof(RunSettings.ObservationInterval));
                Chaos(duration);
                Noise(duration);
                Load();
            }
            return sized;
        }

        private void Chaos(double duration)
        {
            var total = 0.0;
            (object? Item, double Value) largest = (null, -1);
            foreach (var kill in s.Chaos.OfType<PodKill>())
            {
                var schedule = kill.Schedule;
                double firings;
                if (schedule.Every is { } every && every > TimeSpan.Zero)
                {
                    if (every < Resolution)
                    {
                        Hard(schedule, nameof(Schedule.Every), $"pod_kill every {every.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms",
                            $"a schedule repeats at most every {Durations.Format(Resolution)}");
                        continue;
                    }
                    var from = (schedule.From ?? every).TotalSeconds;
                    var until = Math.Min(schedule.Until?.TotalSeconds ?? duration, duration);
                    firings = until > from ? Math.Ceiling((until - from) / every.TotalSeconds) : 0;
                }
                else firings = schedule.At is null ? 0 : 1;
                total += firings;
                if (firings > largest.Value) largest = (schedule, firings);
            }
            Over(ChaosFirings, total, largest.Item, nameof(Schedule.Every));
        }

        private void Noise(double duration)
        {
            var total = 0.0;
            (object? Item, double Value) largest = (null, -1);
            foreach (var noise in s.Workload.OfType<NoisePhase>())
            {
                // Beyond the RSE budget the expression is not evaluated (that was refused already): all RSEs bound it.
                double n = noise.Rses is { } rses && s.Rses.Count <= budget[Rses] && !map.IsInvalid(noise) ? rses.Evaluate(s.Rses).Count : s.Rses.Count;
                var start = noise.Start?.TotalSeconds ?? 0;
                var end = Math.Min(duration, noise.During is { } d ? start + d.TotalSeconds : duration);
                var rounds = end > start ? Math.Ceiling((end - start) / Math.Max(1, noise.Every.TotalSeconds)) : 0;
                var files = n * (n - 1) * rounds;
                total += files;
                if (files > largest.Value) largest = (noise, files);
            }
            Over(NoiseTransfers, total, largest.Item, nameof(NoisePhase.Every));
        }

        private void Load()
        {
            double operations = 0, intervals = 0;
            (object? Item, double Value) mostOperations = (null, -1), mostIntervals = (null, -1);
            foreach (var phase in s.Workload)
            {
                var steps = PhaseKind.For(phase).Load(phase);
                double previousRate = 0, phaseOperations = 0, lastRate = 0, lastInterval = 1;
                foreach (var step in steps)
                {
                    (double Ops, double Count, double Rate, double Interval) x = step switch
                    {
                        Inject i => (i.Rate * Intervals(i.During, i.Interval), Intervals(i.During, i.Interval), i.Rate, i.Interval.TotalSeconds),
                        RampingInject r => ((previousRate + r.Rate) / 2 * Intervals(r.During, r.Interval), Intervals(r.During, r.Interval), r.Rate, r.Interval.TotalSeconds),
                        InjectRandom r => (r.MaxRate * Intervals(r.During, r.Interval), Intervals(r.During, r.Interval), (r.MinRate + r.MaxRate) / 2, r.Interval.TotalSeconds),
                        IterationsForInject r => (r.Iterations, r.Rate > 0 ? Math.Ceiling(r.Iterations / r.Rate) : 0, r.Rate, r.Interval.TotalSeconds),
                        KeepConstant k => (k.Copies * Seconds(k.During), Seconds(k.During), k.Copies, 1),
                        RampingConstant k => ((previousRate + k.Copies) / 2 * Seconds(k.During), Seconds(k.During), k.Copies, 1),
                        _ => (0, 0, previousRate, lastInterval),
                    };
                    var (ops, count, rate, interval) = x;
                    ops = Math.Max(0, ops) * _scale;
                    phaseOperations += ops;
                    operations += ops;
                    intervals += count;
                    if (ops > mostOperations.Value) mostOperations = (step, ops);
                    if (count > mostIntervals.Value) mostIntervals = (step, count);
                    previousRate = rate;
                    if (step is not Pause) (lastRate, lastInterval) = (rate, interval);
                }
                // An inject phase whose steps end before every file is written repeats its last step until they are.
                if (phase is InjectPhase && lastRate > 0)
                {
                    var rest = PhaseFiles(phase) - phaseOperations;
                    if (rest > 0)
                    {
                        var extra = Math.Ceiling(rest / (lastRate * _scale));
                        intervals += extra;
                        if (extra > mostIntervals.Value) mostIntervals = (steps[steps.Count - 1], extra);
                    }
                }
            }
            Over(Operations, operations, mostOperations.Item, "Rate");
            Over(LoadIntervals, intervals, mostIntervals.Item, "Interval");
        }

        private double PhaseFiles(Phase phase) =>
            s.Experiments.Where(e => phase.Experiments.Count == 0 || phase.Experiments.Contains(e.Name)).Sum(e => Math.Max(0, e.Files) * _scale);

        private static double Intervals(TimeSpan during, TimeSpan interval) =>
            interval <= TimeSpan.Zero || during <= TimeSpan.Zero ? 0 : Math.Ceiling(during / interval - 1e-9);

        private static double Seconds(TimeSpan during) => Math.Max(0, Math.Ceiling(during.TotalSeconds - 1e-9));

        private static (double Total, object? Item) Largest<T>(IEnumerable<T> items, Func<T, double> value) where T : notnull
        {
            double total = 0, best = -1;
            object? item = null;
            foreach (var x in items)
            {
                var v = value(x);
                total += v;
                if (v > best) (best, item) = (v, x);
            }
            return (total, item);
        }

        /// <summary>A count of declared things (RSEs, experiments) against its limit and, on the embedded lake, its hard limit.</summary>
        private bool Count(BudgetLimit limit, int count, object owner, string property, int? hard)
        {
            if (count > budget[limit])
            {
                Add(owner, property, $"the scenario declares {Number(count)} {limit.Noun}; the budget allows {Number(budget[limit])}", limit);
                return false;
            }
            if (count > hard)
            {
                Hard(owner, property, $"{Number(count)} {limit.Noun}", $"the embedded data lake holds at most {Number(hard.Value)}");
                return false;
            }
            return true;
        }

        /// <summary>True (and a diagnostic) when <paramref name="figure"/> is beyond the limit; reported at the largest contributor.</summary>
        private bool Over(BudgetLimit limit, double figure, object? owner, string property, string? counted = null)
        {
            if (figure <= budget[limit]) return false;
            Add(owner ?? s, owner is null ? "" : property,
                $"the scenario asks for {Number(figure)} {limit.Noun} ({counted ?? limit.Counted}); the budget allows {Number(budget[limit])}", limit);
            return true;
        }

        private void Add(object owner, string property, string message, BudgetLimit limit) => bag.Add(map.Locate(owner, property), message, RaiseHint(limit));

        private void Hard(object? owner, string property, string what, string limit) =>
            bag.Add(map.Locate(owner ?? s, property), $"{what}: {limit}");
    }

    /// <summary>A figure as people read it: 20,000,000, or 1.2e+18 beyond what grouping digits helps with.</summary>
    private static string Number(double x) =>
        Math.Abs(x) < 1e15 ? x.ToString(x == Math.Floor(x) ? "N0" : "N2", CultureInfo.InvariantCulture) : x.ToString("0.##e+0", CultureInfo.InvariantCulture);
}
