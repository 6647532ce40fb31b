using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase("qos_transition"), Doc("Move DIDs to another QoS class: a new rule, then the old rule removed.")]
    public sealed record QosTransitionPhase : Phase
    {
        [RequiredKey, Doc("The replicate phase whose rules are replaced.")]
        public string From { get; init; } = "";

        [RequiredKey, Doc("The new rule.")]
        public RuleSpec Rule { get; init; } = null!;

        [Doc("Remove the old rule once the new one is OK.")]
        public bool RemoveOld { get; init; } = true;

        [Doc("Share of the rules that move, 0 to 1.")]
        public double Fraction { get; init; } = 1.0;

        public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>qos_transition: a new rule replacing each selected rule of the phase it follows, once those are planned (RunPlan.QosTransition.cs).</summary>
    public sealed class QosTransitionKind : PhaseKind<QosTransitionPhase>
    {
        public override string Counted => "rules";

        public override bool AddsRules => true;

        protected override IReadOnlyList<LoadSimulation> Load(QosTransitionPhase phase) => phase.Load;

        protected override QosTransitionPhase WithLoad(QosTransitionPhase phase, IReadOnlyList<LoadSimulation> load) => phase with { Load = load };

        protected override IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(QosTransitionPhase q, Scenario scenario, long datasetBytes) =>
            [(q.Rule.RseExpression.Text, q.Rule.Copies, datasetBytes)];

        protected override void Check(QosTransitionPhase q, ScenarioValidator v)
        {
            v.RulePhase(q, nameof(q.From), q.From, "from");
            v.Rule(q.Rule, q.Name!);
            v.Fraction(q, nameof(q.Fraction), q.Fraction);
            v.Load(q.Load, q.Name!);
        }

        // Transitions may replace the rules of another transition: planned once the phase they follow is.
        internal override List<RunPlan.RuleDraft>? Rules(RunPlan plan, PlannedPhase phase, IReadOnlyDictionary<int, List<RunPlan.RuleDraft>> planned)
        {
            var q = (QosTransitionPhase)phase.Spec;
            var from = plan.IndexOfPhase(q.From);
            return from >= 0 && planned.TryGetValue(from, out var old) ? plan.Transition(phase, q, phase.Start!.Value, old) : null;
        }
    }
}
