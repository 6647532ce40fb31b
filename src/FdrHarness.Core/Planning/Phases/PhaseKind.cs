using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>
/// One phase kind, its model record and this in one file of Planning/Phases: its checks, its load, and how the plan
/// takes it (its end, its rules, its lifetimes, the operations it streams), next to its RunPlan partial file when it
/// plans much. <see cref="All"/> is the one list of kinds: the YAML binder's union (<see cref="Phase"/>), the validator
/// and the planner read it.
/// </summary>
public abstract class PhaseKind
{
    /// <summary>Every phase kind, in the order the schema and error messages list them. A new kind is one line here.</summary>
    public static readonly IReadOnlyList<PhaseKind> All =
        [new InjectKind(), new ReplicateKind(), new QosTransitionKind(), new DeleteKind(), new NoiseKind()];

    private static readonly Dictionary<Type, PhaseKind> ByType = All.ToDictionary(k => k.Phase);

    /// <summary>The model records of <see cref="All"/>: the cases of <see cref="Scenarios.Model.Phase"/>'s union.</summary>
    public static IReadOnlyList<Type> Cases => [.. All.Select(k => k.Phase)];

    public static PhaseKind For(Phase phase) => ByType[phase.GetType()];

    /// <summary>The model record of this kind.</summary>
    public abstract Type Phase { get; }

    /// <summary>What `fdr plan` counts for a phase of this kind: files, rules, lifetimes.</summary>
    public abstract string Counted { get; }

    /// <summary>Whether its phases add rules other phases may name (qos_transition's from, delete's rules_of).</summary>
    public virtual bool AddsRules => false;

    /// <summary>Whether a phase ends with its work (its last file) rather than when it starts: what "after" waits for.</summary>
    public virtual bool EndsWithItsWork => false;

    /// <summary>Its load simulations; empty when it has none.</summary>
    public abstract IReadOnlyList<LoadSimulation> Load(Phase phase);

    /// <summary>The phase with <paramref name="load"/> instead of its own (unchanged for a kind without load).</summary>
    public abstract Phase WithLoad(Phase phase, IReadOnlyList<LoadSimulation> load);

    /// <summary>Its own checks beyond those every phase has, reported through the validator at the offending key.</summary>
    public abstract void Check(Phase phase, ScenarioValidator validator);

    /// <summary>
    /// The rules it will ask for, read from the scenario before any plan (a live target's preflight checks Rucio can
    /// place them): RSE expression, copies and the bytes of the largest DID one rule holds, given one dataset's bytes.
    /// </summary>
    public virtual IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(Phase phase, Scenario scenario, long datasetBytes) => [];

    /// <summary>When a phase that starts at <paramref name="start"/> ends (null: not within the run).</summary>
    internal virtual TimeSpan? End(RunPlan plan, int phase, int[] experiments, TimeSpan start) => start;

    /// <summary>
    /// The rules a started phase adds, given the rules of the phases planned so far (by phase index; a phase that never
    /// starts has none); null while a phase it depends on is not planned yet.
    /// </summary>
    internal virtual List<RunPlan.RuleDraft>? Rules(RunPlan plan, PlannedPhase phase, IReadOnlyDictionary<int, List<RunPlan.RuleDraft>> planned) => [];

    /// <summary>The lifetimes a started phase sets, on the run's rules once they are numbered.</summary>
    internal virtual List<PlannedOperation> Lifetimes(RunPlan plan, PlannedPhase phase, List<RunPlan.RuleDraft> rules) => [];

    /// <summary>The operations a phase streams itself, in time order (injection batches, noise rounds).</summary>
    internal virtual IEnumerable<PlannedOperation> Streamed(RunPlan plan, PlannedPhase phase, FileDetail detail) => [];

    /// <summary>How many operations <see cref="Streamed"/> gives, counted without making them.</summary>
    internal virtual long StreamedCount(RunPlan plan, PlannedPhase phase) => 0;

    /// <summary>At one instant, its streamed operations come after the rules and lifetimes (noise, the background).</summary>
    internal virtual bool StreamsAfterRules => false;
}

/// <summary>The typed side of a <see cref="PhaseKind"/>.</summary>
public abstract class PhaseKind<T> : PhaseKind where T : Phase
{
    public sealed override Type Phase => typeof(T);

    public sealed override IReadOnlyList<LoadSimulation> Load(Phase phase) => Load((T)phase);

    public sealed override Phase WithLoad(Phase phase, IReadOnlyList<LoadSimulation> load) => WithLoad((T)phase, load);

    public sealed override void Check(Phase phase, ScenarioValidator validator) => Check((T)phase, validator);

    public sealed override IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(Phase phase, Scenario scenario, long datasetBytes) =>
        RuleTargets((T)phase, scenario, datasetBytes);

    protected virtual IReadOnlyList<LoadSimulation> Load(T phase) => [];

    protected virtual T WithLoad(T phase, IReadOnlyList<LoadSimulation> load) => phase;

    protected virtual IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(T phase, Scenario scenario, long datasetBytes) => [];

    protected abstract void Check(T phase, ScenarioValidator v);
}
