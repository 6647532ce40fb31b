using System.Collections;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Synthetic;

/// <summary>
/// The files of one experiment, in order, as a pure function of (run seed, scope, index): <see cref="GetFile"/> and the
/// streamed sequence agree, any range can be generated on any thread, and nothing is held per file.
/// Dataset d holds files [d × FilesPerDataset, (d + 1) × FilesPerDataset); container c holds datasets likewise.
/// </summary>
public sealed class SyntheticFileGenerator : IEnumerable<SyntheticFile>
{
    private const int ChunkSize = 512;

    private readonly ulong _fileKey;
    private readonly ulong _contentKey;
    private readonly FileSizeSampler _sizes;
    private readonly int _sizeDraws;

    /// <param name="runSeed">The scenario's seed.</param>
    /// <param name="scale">Multiplies the experiment's file count (rounded to the nearest file).</param>
    /// <param name="content">Shared content of the run; pass one instance to every generator of a run to build its pattern once.</param>
    public SyntheticFileGenerator(long runSeed, ExperimentSpec experiment, double scale = 1.0, SyntheticContent? content = null)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        if (!(scale >= 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be a finite number ≥ 0");
        if (experiment.Files < 0) throw new ArgumentException($"experiment {experiment.Name}: files must be ≥ 0", nameof(experiment));
        if (experiment.FilesPerDataset < 1) throw new ArgumentException($"experiment {experiment.Name}: files_per_dataset must be ≥ 1", nameof(experiment));
        if (experiment.DatasetsPerContainer < 0) throw new ArgumentException($"experiment {experiment.Name}: datasets_per_container must be ≥ 0", nameof(experiment));
        if (content is not null && content.Seed != runSeed)
            throw new ArgumentException("the content was built for another seed", nameof(content));

        RunSeed = runSeed;
        Experiment = experiment;
        Scope = experiment.EffectiveScope;
        ArgumentException.ThrowIfNullOrEmpty(Scope, nameof(experiment));
        Count = (long)Math.Round(experiment.Files * scale, MidpointRounding.AwayFromZero);
        Content = content ?? new SyntheticContent(runSeed);
        Vocabulary = FileNameVocabulary.Create(runSeed, experiment.Name, Scope);
        _sizes = new FileSizeSampler(experiment.FileSize);
        _sizeDraws = _sizes.DrawsPerSample;
        // Per-experiment stream: a stable hash of (seed, scope), never string.GetHashCode (randomised per process).
        _fileKey = StableHash.Of(StableHash.Of((ulong)runSeed, "files"), Scope);
        _contentKey = Content.ScopeKey(Scope);
    }

    /// <summary>Generators for every experiment of a scenario, sharing one <see cref="SyntheticContent"/>.</summary>
    public static IReadOnlyList<SyntheticFileGenerator> ForExperiments(long runSeed, IEnumerable<ExperimentSpec> experiments, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(experiments);
        var content = new SyntheticContent(runSeed);
        return experiments.Select(e => new SyntheticFileGenerator(runSeed, e, scale, content)).ToArray();
    }

    public long RunSeed { get; }
    public ExperimentSpec Experiment { get; }
    public string Scope { get; }

    /// <summary>Number of files: round(Files × scale).</summary>
    public long Count { get; }

    public long DatasetCount => (Count + Experiment.FilesPerDataset - 1) / Experiment.FilesPerDataset;

    public long ContainerCount => Experiment.DatasetsPerContainer == 0
        ? 0
        : (DatasetCount + Experiment.DatasetsPerContainer - 1) / Experiment.DatasetsPerContainer;

    public SyntheticContent Content { get; }
    public FileNameVocabulary Vocabulary { get; }
    public FileSizeSampler Sizes => _sizes;

    public long DatasetIndexOf(long fileIndex) => fileIndex / Experiment.FilesPerDataset;

    public string DatasetName(long datasetIndex) => Vocabulary.DatasetName(datasetIndex);

    /// <summary>The container of a dataset, or null when the experiment has no containers.</summary>
    public string? ContainerNameOfDataset(long datasetIndex) => Experiment.DatasetsPerContainer == 0
        ? null
        : Vocabulary.ContainerName(datasetIndex / Experiment.DatasetsPerContainer);

    /// <summary>File <paramref name="index"/> (0 ≤ index &lt; Count), identical to the one the stream yields at that position.</summary>
    public SyntheticFile GetFile(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var dataset = DatasetIndexOf(index);
        return Make(index, DatasetName(dataset), ContainerNameOfDataset(dataset), Vocabulary.TierOf(dataset));
    }

    /// <summary>
    /// The name of file <paramref name="index"/>, equal to <c>GetFile(index).Name</c> without the checksum and the dataset
    /// and container names GetFile also makes: the lake names files in its events on the hot path.
    /// </summary>
    public string FileName(long index) => new(FileNameChars(index));

    /// <summary><see cref="FileName"/> in this thread's name buffer, valid until the thread's next name: no string made.</summary>
    public ReadOnlySpan<char> FileNameChars(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var rng = FileRandom(index);
        // The size comes first from the file's stream, the name after it: skip the size's words without computing it.
        rng.Skip(_sizeDraws);
        return Vocabulary.FileNameChars(index, Vocabulary.TierOf(DatasetIndexOf(index)), ref rng);
    }

    /// <summary>The size of file <paramref name="index"/>, equal to <c>GetFile(index).Bytes</c>, without its name or checksum.</summary>
    public long Size(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var rng = FileRandom(index);
        return _sizes.Sample(ref rng);
    }

    /// <summary>The Adler-32 of file <paramref name="index"/> given its size, equal to <c>GetFile(index).Adler32</c>.</summary>
    public uint Adler32Of(long index, long bytes) => Content.ComputeAdler32(_contentKey, index, bytes);

    /// <summary><see cref="Adler32Of(long, long)"/> of several files at once (<see cref="SyntheticContent.ComputeAdler32(ulong, ReadOnlySpan{long}, ReadOnlySpan{long}, Span{uint})"/>).</summary>
    public void Adler32Of(ReadOnlySpan<long> indexes, ReadOnlySpan<long> bytes, Span<uint> adlers) =>
        Content.ComputeAdler32(_contentKey, indexes, bytes, adlers);

    /// <summary>
    /// Writes files [first, first + n) into <paramref name="buffer"/>, n = min(buffer length, Count − first), and returns n.
    /// Consecutive files of a dataset share one dataset-name string.
    /// </summary>
    public int Fill(long first, Span<SyntheticFile> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        if (first >= Count) return 0;
        var n = (int)Math.Min(buffer.Length, Count - first);
        var perDataset = Experiment.FilesPerDataset;
        var dataset = -1L;
        string datasetName = "";
        string? container = null;
        var tier = 0;
        for (var k = 0; k < n; k++)
        {
            var index = first + k;
            var d = index / perDataset;
            if (d != dataset)
            {
                dataset = d;
                datasetName = DatasetName(d);
                container = ContainerNameOfDataset(d);
                tier = Vocabulary.TierOf(d);
            }
            buffer[k] = Make(index, datasetName, container, tier);
        }
        return n;
    }

    /// <summary>Streams files [first, first + count) (to the end by default) in chunks; never holds more than one chunk.</summary>
    public IEnumerable<SyntheticFile> Enumerate(long first = 0, long count = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return EnumerateCore(first, count);
    }

    private IEnumerable<SyntheticFile> EnumerateCore(long first, long count)
    {
        var end = Math.Min(Count, first + Math.Min(count, long.MaxValue - first));
        var chunk = new SyntheticFile[ChunkSize];
        for (var next = first; next < end;)
        {
            var n = Fill(next, chunk.AsSpan(0, (int)Math.Min(ChunkSize, end - next)));
            for (var k = 0; k < n; k++)
                yield return chunk[k];
            next += n;
        }
    }

    public IEnumerator<SyntheticFile> GetEnumerator() => EnumerateCore(0, Count).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private SyntheticFile Make(long index, string dataset, string? container, int tier)
    {
        var rng = FileRandom(index);
        var bytes = _sizes.Sample(ref rng);
        var name = Vocabulary.FileName(index, tier, ref rng);
        var adler = Content.ComputeAdler32(_contentKey, index, bytes);
        return new SyntheticFile(Scope, name, dataset, container, bytes, adler, index);
    }

    // Counter-based: the file's random words come from its index alone, so random access costs the same as streaming.
    private SplitMix64 FileRandom(long index) => new(SplitMix64.Mix(_fileKey + (ulong)index));
}
