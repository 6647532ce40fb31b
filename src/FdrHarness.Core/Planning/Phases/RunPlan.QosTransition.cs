using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// qos_transition: a new rule replacing each selected rule of the phase it follows.
public sealed partial class RunPlan
{
    /// <summary>A new rule on the DID of each selected rule of the source phase, when that rule is planned.</summary>
    internal List<RuleDraft> Transition(PlannedPhase p, QosTransitionPhase q, TimeSpan start, List<RuleDraft> old)
    {
        var ready = new List<RuleDraft>();
        foreach (var o in old)
            if (o.At < Duration && Selected(p.Index, o.Did, q.Fraction))
                ready.Add(new RuleDraft(p.Index, o.Did, q.Rule, q.RemoveOld ? o : null) { At = Later(start, Ms(o.At)) });
        return Pace(p, q.Load, ready);
    }
}
