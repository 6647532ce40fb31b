using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>Rucio's DID types.</summary>
public enum DidKind : byte { File, Dataset, Container }

/// <summary>A DID of an experiment by position: file, dataset or container <paramref name="Index"/> of experiment <paramref name="Experiment"/>.</summary>
public readonly record struct PlannedDid(DidKind Kind, int Experiment, long Index);

/// <summary>
/// One thing the harness does to the target at an instant (an offset from the run's start). Operations come in time
/// order from <see cref="RunPlan.Operations"/>; a target carries them out no earlier than <see cref="At"/>.
/// </summary>
/// <param name="Phase">Index of the phase in <see cref="RunPlan.Phases"/>; -1 for chaos.</param>
public abstract record PlannedOperation(TimeSpan At, int Phase);

/// <summary>What the plan's injected files carry.</summary>
public enum FileDetail : byte
{
    /// <summary>Every field of <see cref="SyntheticFile"/>.</summary>
    Full,
    /// <summary><see cref="SyntheticFile.Name"/> and <see cref="SyntheticFile.Dataset"/> left empty (""),
    /// <see cref="SyntheticFile.Container"/> null and <see cref="SyntheticFile.Adler32"/> 0: a name costs a string per
    /// file and a checksum a pass over the content's table; a consumer that needs them only for some files makes them
    /// from the file's index (<see cref="SyntheticFileGenerator.FileName"/>, <see cref="SyntheticFileGenerator.Adler32Of"/>,
    /// <see cref="PlannedExperiment.DatasetName"/>).</summary>
    Lean,
    /// <summary><see cref="Lean"/>, and an <see cref="InjectFiles"/>' files read only until the enumeration moves on: one
    /// batch's storage serves every batch (a consumer that keeps files copies them), so a walk of the plan allocates no
    /// batch of files per tick (the embedded lake's: most of what its thread allocated).</summary>
    LeanTransient,
}

/// <summary>A file of an injection batch, with the dataset it goes into and where the writer starts looking for room.</summary>
/// <param name="Dataset">The dataset's index in its experiment (the container follows from it).</param>
/// <param name="WriteRseStart">Index in the experiment's <see cref="PlannedExperiment.WriteRses"/> tried first; the next ones follow in order.</param>
public readonly record struct PlannedFile(int Experiment, SyntheticFile File, long Dataset, int WriteRseStart);

/// <summary>Files registered (or uploaded) at one instant of an inject phase's load.</summary>
public sealed record InjectFiles(TimeSpan At, int Phase, IReadOnlyList<PlannedFile> Files) : PlannedOperation(At, Phase);

/// <summary>A rule on a DID (POST /rules/). <paramref name="Rule"/> numbers the plan's rules in time order.</summary>
/// <param name="Replaces">A qos_transition's new rule: the plan number of the rule it replaces, removed once this one is OK.</param>
public sealed record AddRule(TimeSpan At, int Phase, int Rule, PlannedDid Did, RuleSpec Spec, int? Replaces) : PlannedOperation(At, Phase);

/// <summary>A lifetime on a planned rule; null removes it now.</summary>
public sealed record SetRuleLifetime(TimeSpan At, int Phase, int Rule, TimeSpan? Lifetime) : PlannedOperation(At, Phase);

/// <summary>A lifetime on a dataset: the undertaker erases it when it runs out.</summary>
public sealed record SetDidLifetime(TimeSpan At, int Phase, PlannedDid Did, TimeSpan Lifetime) : PlannedOperation(At, Phase);

/// <summary>A noise file: written at <paramref name="Source"/>, with a one-copy rule to <paramref name="Destination"/>.</summary>
/// <param name="Index">The file's number among every noise file of the run (0-based): with the seed it fixes the content.</param>
public readonly record struct NoiseFile(long Index, string Scope, string Source, string Destination, string Name, long Bytes, uint Adler32);

/// <summary>One round of a noise phase: a file per ordered RSE pair, each with a DID lifetime and a rule to the destination.</summary>
public sealed record NoiseRound(TimeSpan At, int Phase, int Round, IReadOnlyList<NoiseFile> Files) : PlannedOperation(At, Phase);

/// <summary>Which edge of a chaos action: a pod kill or a limit change happens at an instant; an outage or a degradation begins and ends.</summary>
public enum ChaosEdge : byte { Instant, Begin, End }

/// <summary>
/// A chaos action firing. <paramref name="DrawKey"/> seeds the choices the target makes when it fires (which pods of
/// the selector's candidates), so the same plan chooses the same way on every target.
/// </summary>
public sealed record ChaosFiring(TimeSpan At, int Action, string Name, ChaosAction Spec, int Occurrence, ChaosEdge Edge, ulong DrawKey)
    : PlannedOperation(At, -1);
