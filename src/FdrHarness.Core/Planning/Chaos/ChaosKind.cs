using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>Who carries a chaos kind out on a live run.</summary>
public enum LiveSide
{
    /// <summary>Rucio, through its API (Rucio's PlanExecutor).</summary>
    Rucio,
    /// <summary>The cluster, through the Kubernetes API, when the scenario has target.kubernetes (Kubernetes' ChaosExecutor).</summary>
    Cluster,
    /// <summary>No live target: the embedded lake only; the kind's live note says why.</summary>
    None,
}

/// <summary>
/// One chaos kind, one file per kind holding its model record and this: its checks, when it fires within the run, its
/// fields in the plan's JSON, who carries it out live, and its line in `fdr plan`'s summary. <see cref="All"/> is the
/// one list of kinds: the YAML binder's union (<see cref="ChaosAction"/>), the validator and the planner read it. Each
/// target acts on a kind through its own table: the lake's ChaosEngine for every kind, Rucio's PlanExecutor for the
/// <see cref="LiveSide.Rucio"/> kinds, Kubernetes' ChaosExecutor and ChaosPlanner for the <see cref="LiveSide.Cluster"/> ones.
/// </summary>
public abstract class ChaosKind
{
    /// <summary>Every chaos kind, in the order the schema and error messages list them. A new kind is one line here.</summary>
    public static readonly IReadOnlyList<ChaosKind> All =
        [new PodKillKind(), new LimitChangeKind(), new RseOutageKind(), new LinkDegradationKind()];

    private static readonly Dictionary<Type, ChaosKind> ByType = All.ToDictionary(k => k.Action);

    /// <summary>The model records of <see cref="All"/>: the cases of <see cref="ChaosAction"/>'s union.</summary>
    public static IReadOnlyList<Type> Cases => [.. All.Select(k => k.Action)];

    public static ChaosKind For(ChaosAction action) => ByType[action.GetType()];

    /// <summary>The model record of this kind.</summary>
    public abstract Type Action { get; }

    /// <summary>Who carries it out on a live run.</summary>
    public abstract LiveSide Side { get; }

    /// <summary>What a live run's plan says beside it (why not, or how), if anything.</summary>
    protected virtual string? LiveNote => null;

    /// <summary>Whether a live run of <paramref name="scenario"/> carries it out, and the note saying how or why not.</summary>
    public (bool Applied, string? Note) Live(Scenario scenario) => Side switch
    {
        LiveSide.Cluster => scenario.Target.Kubernetes is null ? (false, "no target.kubernetes: the cluster is left alone") : (true, LiveNote),
        LiveSide.Rucio => (true, LiveNote),
        _ => (false, LiveNote),
    };

    /// <summary>Its checks beyond YAML's shape, reported through the validator at the offending key.</summary>
    public abstract void Check(ChaosAction action, ScenarioValidator validator);

    /// <summary>Its firings within a run of <paramref name="duration"/>: instant, occurrence (the draw key's), edge.</summary>
    public abstract IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(ChaosAction action, TimeSpan duration);

    /// <summary>Its own fields in a firing's JSON line.</summary>
    public abstract void WriteFields(Utf8JsonWriter w, ChaosAction action);

    /// <summary>One line for `fdr plan` and `fdr validate`.</summary>
    public abstract string Describe(ChaosAction action);

    /// <summary>When, in words: "at 2h30m", "from 1h for 15m", "every 2h from 2h until 24h".</summary>
    public abstract string When(ChaosAction action, TimeSpan duration);

    /// <summary>What it hits, in words: an RSE, links, a daemon.</summary>
    public abstract string Target(ChaosAction action);

    /// <summary>A fault that lasts a while: begins at <paramref name="from"/>, ends after <paramref name="during"/> (when within the run).</summary>
    protected static IEnumerable<(TimeSpan, int, ChaosEdge)> Window(TimeSpan from, TimeSpan during, TimeSpan duration)
    {
        if (from > duration) yield break;
        yield return (from, 0, ChaosEdge.Begin);
        if (from + during <= duration) yield return (from + during, 0, ChaosEdge.End);
    }

    protected static string WindowText(TimeSpan from, TimeSpan during) => $"from {Durations.Format(from)} for {Durations.Format(during)}";
}

/// <summary>The typed side of a <see cref="ChaosKind"/>.</summary>
public abstract class ChaosKind<T> : ChaosKind where T : ChaosAction
{
    public sealed override Type Action => typeof(T);

    public sealed override void Check(ChaosAction action, ScenarioValidator validator) => Check((T)action, validator);

    public sealed override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(ChaosAction action, TimeSpan duration) => Firings((T)action, duration);

    public sealed override void WriteFields(Utf8JsonWriter w, ChaosAction action) => WriteFields(w, (T)action);

    public sealed override string Describe(ChaosAction action) => Describe((T)action);

    public sealed override string When(ChaosAction action, TimeSpan duration) => When((T)action, duration);

    public sealed override string Target(ChaosAction action) => Target((T)action);

    protected abstract void Check(T action, ScenarioValidator v);

    protected abstract IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(T action, TimeSpan duration);

    protected abstract void WriteFields(Utf8JsonWriter w, T action);

    protected abstract string Describe(T action);

    protected abstract string When(T action, TimeSpan duration);

    protected abstract string Target(T action);
}
