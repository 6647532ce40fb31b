using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>
/// A phase of the plan: its name (made once, <see cref="Scenarios.DefaultNames"/>), the experiments it works on and
/// when it starts and ends on the run's clock. <see cref="Start"/> is null when the phase never starts within the
/// run (it comes after an inject phase that does not finish); an inject phase ends with its last file, every other
/// phase when it starts (what "after" waits for).
/// </summary>
public sealed record PlannedPhase(int Index, string Name, string Kind, Phase Spec, IReadOnlyList<int> Experiments, TimeSpan? Start, TimeSpan? End);

/// <summary>An experiment of the plan: its files (a pure function of seed, scope and index) and where they are written.</summary>
public sealed class PlannedExperiment
{
    private readonly ulong _writeKey;

    internal PlannedExperiment(int index, SyntheticFileGenerator files, IReadOnlyList<string> writeRses, ulong writeKey)
    {
        Index = index;
        Files = files;
        WriteRses = writeRses;
        _writeKey = writeKey;
    }

    public int Index { get; }
    public ExperimentSpec Spec => Files.Experiment;
    public string Name => Files.Experiment.Name;
    public string Scope => Files.Scope;
    /// <summary>The Rucio account that owns the experiment's DIDs and rules: the scenario's, else the scope's name.</summary>
    public string Account => Spec.Account ?? Scope;
    public SyntheticFileGenerator Files { get; }
    public long FileCount => Files.Count;
    public long DatasetCount => Files.DatasetCount;
    public long ContainerCount => Files.ContainerCount;
    public int FilesPerDataset => Spec.FilesPerDataset;
    public int DatasetsPerContainer => Spec.DatasetsPerContainer;

    /// <summary>The RSEs files may be written to (write_to, else QOS=qos, else every RSE), in the scenario's order.</summary>
    public IReadOnlyList<string> WriteRses { get; }

    /// <summary>Where a dataset's files go first: a seeded choice per dataset, so a dataset's files stay together.</summary>
    public int WriteRseStart(long dataset) => PlanStreams.Below(_writeKey, (ulong)dataset, WriteRses.Count);

    /// <summary>The container of a dataset, or -1 when the experiment has none.</summary>
    public long ContainerOf(long dataset) => DatasetsPerContainer == 0 ? -1 : dataset / DatasetsPerContainer;

    /// <summary>Files [First, First + Count) of a dataset.</summary>
    public (long First, long Count) FilesOf(long dataset)
    {
        var first = dataset * FilesPerDataset;
        return (first, Math.Min(FilesPerDataset, FileCount - first));
    }

    /// <summary>Datasets [First, First + Count) of a container.</summary>
    public (long First, long Count) DatasetsOf(long container)
    {
        var first = container * DatasetsPerContainer;
        return (first, Math.Min(DatasetsPerContainer, DatasetCount - first));
    }

    public string DatasetName(long dataset) => Files.DatasetName(dataset);

    public string ContainerName(long container) => Files.ContainerNameOfDataset(container * DatasetsPerContainer)!;
}
