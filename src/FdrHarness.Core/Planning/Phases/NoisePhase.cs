using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase("noise"), Doc("ESCAPE's background: per ordered RSE pair a file written at the source and a 1-copy rule to the destination.")]
    public sealed record NoisePhase : Phase
    {
        [Doc("Size of each noise file.")]
        public ByteSize FileSize { get; init; } = new(100_000_000);

        [Doc("How often a round of noise files is written.")]
        public TimeSpan Every { get; init; } = TimeSpan.FromHours(1);

        [Doc("Lifetime of each noise rule.")]
        public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

        [Doc("RSEs that take part (an RSE expression).")]
        public RseExpression? Rses { get; init; }

        [Doc("Rule activity.")]
        public string Activity { get; init; } = "Functional Test";

        [Doc("Scope of the noise files.")]
        public string Scope { get; init; } = "noise";

        [Doc("How long the noise goes on; until the run ends when omitted.")]
        public TimeSpan? During { get; init; }
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>noise: per ordered pair of RSEs a file and a 1-copy rule every period (NoisePlan.cs), after the work at one instant.</summary>
    public sealed class NoiseKind : PhaseKind<NoisePhase>
    {
        public override string Counted => "noise files";

        protected override void Check(NoisePhase n, ScenarioValidator v)
        {
            if (n.Rses is not null) v.Expression(n.Rses, n, nameof(n.Rses), 2);
            else if (v.Scenario.Rses.Count < 2) v.Error(n, "", $"phase {n.Name}: noise needs at least two RSEs");
            if (n.Every <= TimeSpan.Zero) v.Error(n, nameof(n.Every), $"phase {n.Name}: every must be longer than 0");
            if (n.FileSize.Bytes <= 0) v.Error(n, nameof(n.FileSize), $"phase {n.Name}: file_size must be above 0");
        }

        // One 1-copy rule per RSE it sends to, each holding one noise file.
        protected override IEnumerable<(string Expression, int Copies, long Bytes)> RuleTargets(NoisePhase n, Scenario scenario, long datasetBytes) =>
            scenario.Rses.Where(r => n.Rses is null || n.Rses.Evaluate(scenario.Rses).Contains(r.Name)).Select(r => (r.Name, 1, n.FileSize.Bytes));

        internal override IEnumerable<PlannedOperation> Streamed(RunPlan plan, PlannedPhase phase, FileDetail detail) => plan.Noise.Rounds(phase.Index);

        internal override long StreamedCount(RunPlan plan, PlannedPhase phase) => plan.Noise.FilesOf(phase.Index);

        internal override bool StreamsAfterRules => true;
    }
}
