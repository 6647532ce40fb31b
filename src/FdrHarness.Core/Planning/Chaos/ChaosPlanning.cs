using System.Text.Json;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>
/// One chaos kind at the plan stage, one file per kind: when it fires within the run, its fields in the plan's JSON,
/// whether a live run carries it out, and its line in `fdr plan`'s summary. A kind's other stages: its model record
/// (Scenarios/Model/Chaos.cs, bound by its [UnionCase]), its checks (ScenarioValidator, beside the other sections' checks
/// that report through the same diagnostics), and its action on each target (Lake/Chaos, Rucio's PlanExecutor,
/// Kubernetes' ChaosExecutor).
/// </summary>
public abstract class ChaosPlanning
{
    // One line per chaos kind.
    private static readonly Dictionary<Type, ChaosPlanning> Kinds = new ChaosPlanning[]
    {
        new PodKillPlanning(), new LimitChangePlanning(), new RseOutagePlanning(), new LinkDegradationPlanning(),
    }.ToDictionary(k => k.Action);

    public static ChaosPlanning For(ChaosAction action) => Kinds[action.GetType()];

    /// <summary>The model record this kind plans.</summary>
    public abstract Type Action { get; }

    /// <summary>Its firings within a run of <paramref name="duration"/>: instant, occurrence (the draw key's), edge.</summary>
    public abstract IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(ChaosAction action, TimeSpan duration);

    /// <summary>Its own fields in a firing's JSON line.</summary>
    public abstract void WriteFields(Utf8JsonWriter w, ChaosAction action);

    /// <summary>Whether a live run carries it out, and if not why.</summary>
    public abstract (bool Applied, string? Note) Live(Scenario scenario);

    /// <summary>One line for `fdr plan` and `fdr validate`.</summary>
    public abstract string Describe(ChaosAction action);

    /// <summary>A fault that lasts a while: begins at <paramref name="from"/>, ends after <paramref name="during"/> (when within the run).</summary>
    protected static IEnumerable<(TimeSpan, int, ChaosEdge)> Window(TimeSpan from, TimeSpan during, TimeSpan duration)
    {
        if (from > duration) yield break;
        yield return (from, 0, ChaosEdge.Begin);
        if (from + during <= duration) yield return (from + during, 0, ChaosEdge.End);
    }

    /// <summary>A live cluster action (pod kills, limit changes): carried out only with target.kubernetes.</summary>
    protected static (bool, string?) OnTheCluster(Scenario scenario) =>
        scenario.Target.Kubernetes is null ? (false, "no target.kubernetes: the cluster is left alone") : (true, null);
}

/// <summary>The typed side of a <see cref="ChaosPlanning"/>.</summary>
public abstract class ChaosPlanning<T> : ChaosPlanning where T : ChaosAction
{
    public sealed override Type Action => typeof(T);

    public sealed override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(ChaosAction action, TimeSpan duration) => Firings((T)action, duration);

    public sealed override void WriteFields(Utf8JsonWriter w, ChaosAction action) => WriteFields(w, (T)action);

    public sealed override string Describe(ChaosAction action) => Describe((T)action);

    protected abstract IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(T action, TimeSpan duration);

    protected abstract void WriteFields(Utf8JsonWriter w, T action);

    protected abstract string Describe(T action);
}
