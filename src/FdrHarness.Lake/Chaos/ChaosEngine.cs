using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Chaos;

/// <summary>
/// The plan's faults on virtual time: each firing goes to its kind's action, one file per kind (pod kills, limit
/// changes, RSE outages, link degradation). Every action that happens is also written as a fault record.
/// </summary>
internal sealed class ChaosEngine(LakeParts lake)
{
    // One line per chaos kind of Core's ChaosKind.All (the lake acts on every kind): its file and its line here.
    private static readonly Dictionary<Type, Action<ChaosFiring, LakeParts>> Actions = new()
    {
        [typeof(PodKill)] = PodKillAction.Fire,
        [typeof(LimitChange)] = LimitChangeAction.Fire,
        [typeof(RseOutage)] = RseOutageAction.Fire,
        [typeof(LinkDegradation)] = LinkDegradationAction.Fire,
    };

    /// <summary>The chaos kinds the lake acts on (their model records).</summary>
    internal static IEnumerable<Type> Kinds => Actions.Keys;

    /// <summary>A firing of the plan, at its instant.</summary>
    public void Fire(ChaosFiring firing) => Actions[firing.Spec.GetType()](firing, lake);

    public static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>The fault record of an action that happened, from now until <paramref name="end"/> (ms; null: an instant).</summary>
    public static void Fault(LakeContext context, string name, string kind, string target, long? end, string? detail) =>
        context.Sink.Fault(new FaultRecord
        {
            Start = context.UtcNow,
            End = end is { } e ? VirtualClock.ToUtc(e) : context.UtcNow,
            Name = name,
            Kind = kind,
            Target = target,
            Detail = detail,
        });
}
