using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    public enum RuleLevel { File, Dataset, Container }

    [UnionCase("replicate"), Doc("Add a rule on each injected dataset (or container, or file).")]
    public sealed record ReplicatePhase : Phase
    {
        [RequiredKey, Doc("The rule to add.")]
        public RuleSpec Rule { get; init; } = null!;

        [Doc("The DIDs that receive the rule: file, dataset or container.")]
        public RuleLevel Level { get; init; } = RuleLevel.Dataset;

        [Doc("Share of the DIDs that receive the rule, 0 to 1.")]
        public double Fraction { get; init; } = 1.0;

        [Doc("Pace of rule creation; when omitted, a rule as soon as its DID is complete.")]
        public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>replicate: a rule on each selected DID of the phase's experiments once it is complete (RunPlan.Replicate.cs).</summary>
    public sealed class ReplicateKind : PhaseKind<ReplicatePhase>
    {
        public override string Counted => "rules";

        public override bool AddsRules => true;

        protected override IReadOnlyList<LoadSimulation> Load(ReplicatePhase phase) => phase.Load;

        protected override ReplicatePhase WithLoad(ReplicatePhase phase, IReadOnlyList<LoadSimulation> load) => phase with { Load = load };

        protected override IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(ReplicatePhase r, Scenario scenario, long datasetBytes) =>
            [(r.Rule.RseExpression.Text, r.Rule.Copies, datasetBytes)];

        protected override void Check(ReplicatePhase r, ScenarioValidator v)
        {
            v.Rule(r.Rule, r.Name!);
            v.Fraction(r, nameof(r.Fraction), r.Fraction);
            v.Load(r.Load, r.Name!);
        }

        internal override List<RunPlan.RuleDraft>? Rules(RunPlan plan, PlannedPhase phase, IReadOnlyDictionary<int, List<RunPlan.RuleDraft>> planned) =>
            plan.Replicate(phase, (ReplicatePhase)phase.Spec, phase.Start!.Value);
    }
}
