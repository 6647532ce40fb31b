using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase("inject"), Doc("Write the experiments' files at the pace of the load simulations.")]
    public sealed record InjectPhase : Phase
    {
        [RequiredKey, Doc("NBomber-style load simulations, one after another; rates are files per interval.")]
        public IReadOnlyList<LoadSimulation> Load { get; init; } = [];
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>inject: the load simulations' batches of files (RunPlan.Inject.cs); the phase ends with its last file.</summary>
    public sealed class InjectKind : PhaseKind<InjectPhase>
    {
        public override string Counted => "files";

        public override bool EndsWithItsWork => true;

        protected override IReadOnlyList<LoadSimulation> Load(InjectPhase phase) => phase.Load;

        protected override InjectPhase WithLoad(InjectPhase phase, IReadOnlyList<LoadSimulation> load) => phase with { Load = load };

        protected override void Check(InjectPhase inject, ScenarioValidator v)
        {
            if (inject.Load.Count == 0) v.Error(inject, nameof(inject.Load), $"phase {inject.Name}: an inject phase needs at least one load simulation");
            v.Load(inject.Load, inject.Name!);
        }

        internal override TimeSpan? End(RunPlan plan, int phase, int[] experiments, TimeSpan start) =>
            plan.PlanInjection(phase, (InjectPhase)plan.Scenario.Workload[phase], experiments, start);

        internal override IEnumerable<PlannedOperation> Streamed(RunPlan plan, PlannedPhase phase, FileDetail detail) => plan.Injection(phase.Index, detail);

        internal override long StreamedCount(RunPlan plan, PlannedPhase phase) => plan.InjectedFiles(phase.Index);
    }
}
