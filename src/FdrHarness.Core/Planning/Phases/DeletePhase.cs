using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase("delete"), Doc("Expire or remove rules and DIDs; the cleaner, reaper and undertaker do the rest.")]
    public sealed record DeletePhase : Phase
    {
        [Doc("Replicate or qos_transition phases whose rules are removed (all rules of the experiments when omitted).")]
        public IReadOnlyList<string> RulesOf { get; init; } = [];

        [Doc("Set this lifetime on the rules instead of removing them at once.")]
        public TimeSpan? RuleLifetime { get; init; }

        [Doc("Set this lifetime on the datasets: the undertaker deletes them when it runs out.")]
        public TimeSpan? DidLifetime { get; init; }

        [Doc("Share of the DIDs affected, 0 to 1.")]
        public double Fraction { get; init; } = 1.0;

        public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>delete: lifetimes on the rules of the phases it names, or of its experiments, and on datasets (RunPlan.Delete.cs).</summary>
    public sealed class DeleteKind : PhaseKind<DeletePhase>
    {
        public override string Counted => "lifetimes";

        protected override IReadOnlyList<LoadSimulation> Load(DeletePhase phase) => phase.Load;

        protected override DeletePhase WithLoad(DeletePhase phase, IReadOnlyList<LoadSimulation> load) => phase with { Load = load };

        protected override void Check(DeletePhase d, ScenarioValidator v)
        {
            foreach (var of in d.RulesOf) v.RulePhase(d, nameof(d.RulesOf), of, "rules_of");
            v.Fraction(d, nameof(d.Fraction), d.Fraction);
            v.Load(d.Load, d.Name!);
        }

        internal override List<PlannedOperation> Lifetimes(RunPlan plan, PlannedPhase phase, List<RunPlan.RuleDraft> rules) =>
            plan.Delete(phase, (DeletePhase)phase.Spec, phase.Start!.Value, rules);
    }
}
