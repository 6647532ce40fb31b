using System.Globalization;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>Shard <see cref="Index"/> of <see cref="Count"/> (<c>--shard i/N</c>, 0 ≤ i &lt; N, as Kubernetes' JOB_COMPLETION_INDEX counts).</summary>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>More shards than this is a typo (an Indexed Job of a thousand injectors against one Rucio is already a lot).</summary>
    public const int MaxCount = 1000;

    /// <summary>The whole plan: no --shard.</summary>
    public static ShardSpec Whole => new(0, 1);

    public bool IsWhole => Count == 1;

    /// <summary>Parses "i/N"; on failure <paramref name="error"/> says what is wrong in one line.</summary>
    public static bool TryParse(string? text, out ShardSpec shard, out string error)
    {
        shard = Whole;
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            error = $"--shard '{text}': expected INDEX/COUNT such as 0/4 (shards are numbered 0 to COUNT-1, as JOB_COMPLETION_INDEX is)";
            return false;
        }
        if (n is < 1 or > MaxCount)
        {
            error = $"--shard '{text}': the count must be from 1 to {MaxCount}";
            return false;
        }
        if (i >= n)
        {
            error = $"--shard '{text}': the index must be from 0 to {n - 1} (shards are numbered 0 to COUNT-1, as JOB_COMPLETION_INDEX is)";
            return false;
        }
        shard = new ShardSpec(i, n);
        error = "";
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>
/// A shard's part of a plan: a deterministic, disjoint part, and the N parts cover the plan exactly. The unit is what
/// a rule waits for: an experiment's container (when it has containers) or dataset, with all its files, the rules and
/// lifetimes on it and on its files; a noise file with its rule. A unit belongs to shard StableHash(scope, unit name)
/// mod N — the plan's names are a function of the seed, so every shard process computes the same split alone.
/// Chaos and the cluster (pod kills, limit changes, outages, degradations; pod samples and lifecycle) belong to shard 0:
/// they act on what all shards share and must happen once.
/// </summary>
public sealed class PlanShard
{
    private static readonly ulong UnitKey = StableHash.Of(0, "shard-unit");
    private static readonly ulong NameKey = StableHash.Of(0, "shard-did");
    private readonly bool[][] _datasets;
    private readonly bool[] _noise;
    private readonly Lazy<PlanCounts> _counts;
    private readonly Lazy<HashSet<ulong>> _names;

    public PlanShard(RunPlan plan, ShardSpec spec)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (spec.Count < 1 || spec.Index < 0 || spec.Index >= spec.Count) throw new ArgumentOutOfRangeException(nameof(spec), spec, "no such shard");
        Plan = plan;
        Spec = spec;
        _datasets = plan.Experiments.Select(e =>
        {
            var owned = new bool[e.DatasetCount];
            for (var d = 0L; d < owned.Length; d++)
                owned[d] = spec.IsWhole || Of(e.Scope, e.DatasetsPerContainer > 0 ? e.ContainerName(e.ContainerOf(d)) : e.DatasetName(d)) == spec.Index;
            return owned;
        }).ToArray();
        _noise = new bool[plan.Noise.Files];
        for (var f = 0L; f < _noise.LongLength; f++)
        {
            var n = spec.IsWhole ? default : plan.Noise.File(f);
            _noise[f] = spec.IsWhole || Of(n.Scope, n.Name) == spec.Index;
        }
        _counts = new Lazy<PlanCounts>(Count);
        _names = new Lazy<HashSet<ulong>>(Names);
    }

    /// <summary>The whole plan as one shard.</summary>
    public static PlanShard Whole(RunPlan plan) => new(plan, ShardSpec.Whole);

    public RunPlan Plan { get; }
    public ShardSpec Spec { get; }
    public bool IsWhole => Spec.IsWhole;

    /// <summary>Chaos firings and the cluster's observations: shard 0's.</summary>
    public bool OwnsCluster => Spec.Index == 0;

    public bool OwnsDataset(int experiment, long dataset) => _datasets[experiment][dataset];

    public bool OwnsNoiseFile(long index) => _noise[index];

    public bool OwnsDid(PlannedDid did) => did.Kind switch
    {
        DidKind.Dataset => OwnsDataset(did.Experiment, did.Index),
        DidKind.Container => OwnsDataset(did.Experiment, Plan.Experiments[did.Experiment].DatasetsOf(did.Index).First),
        _ => OwnsDataset(did.Experiment, did.Index / Plan.Experiments[did.Experiment].FilesPerDataset),
    };

    public bool OwnsRule(int rule) => OwnsDid(Plan.RuleDid(rule));

    public bool Owns(PlannedOperation operation) => operation switch
    {
        InjectFiles inject => inject.Files.Any(f => OwnsDataset(f.Experiment, f.Dataset)),
        NoiseRound noise => noise.Files.Any(f => OwnsNoiseFile(f.Index)),
        AddRule add => OwnsDid(add.Did),
        SetRuleLifetime set => OwnsRule(set.Rule),
        SetDidLifetime set => OwnsDid(set.Did),
        ChaosFiring => OwnsCluster,
        _ => throw new ArgumentException($"unknown operation {operation.GetType().Name}", nameof(operation)),
    };

    /// <summary>
    /// The shard's operations in time order: the plan's, with each injection batch and noise round cut down to the
    /// shard's files (same instants), and only the rules, lifetimes and chaos it owns. Streamed, as the plan is.
    /// </summary>
    public IEnumerable<PlannedOperation> Operations()
    {
        foreach (var operation in Plan.Operations())
        {
            if (IsWhole) yield return operation;
            else if (operation is InjectFiles inject)
            {
                var files = inject.Files.Where(f => OwnsDataset(f.Experiment, f.Dataset)).ToArray();
                if (files.Length > 0) yield return inject with { Files = files };
            }
            else if (operation is NoiseRound noise)
            {
                var files = noise.Files.Where(f => OwnsNoiseFile(f.Index)).ToArray();
                if (files.Length > 0) yield return noise with { Files = files };
            }
            else if (Owns(operation)) yield return operation;
        }
    }

    /// <summary>What the shard's part plans (its files, datasets, rules, lifetimes, noise files, chaos firings): the parts' counts sum to the plan's.</summary>
    public PlanCounts Counts => IsWhole ? Plan.Counts : _counts.Value;

    /// <summary>
    /// Whether the DID an event names (a file, dataset or container of the plan, or a noise file) is in this shard's part:
    /// how a shard keeps the events its operations caused and no other shard's.
    /// </summary>
    public bool OwnsDidNamed(string scope, string name)
    {
        if (IsWhole || _names.Value.Contains(NameHash(scope, name))) return true;
        // A live run's noise file carries the run's start after its planned name.
        var planned = NoisePlan.PlannedName(name);
        return !ReferenceEquals(planned, name) && _names.Value.Contains(NameHash(scope, planned));
    }

    private int Of(string scope, string unit) => (int)(StableHash.Of(StableHash.Combine(UnitKey, StableHash.Of(0, scope)), unit) % (ulong)Spec.Count);

    private static ulong NameHash(string scope, string name) => StableHash.Of(StableHash.Combine(NameKey, StableHash.Of(0, scope)), name);

    private PlanCounts Count()
    {
        long files = 0, noise = 0;
        int rules = 0, ruleLifetimes = 0, didLifetimes = 0, chaos = 0;
        foreach (var operation in Operations())
        {
            switch (operation)
            {
                case InjectFiles inject: files += inject.Files.Count; break;
                case NoiseRound round: noise += round.Files.Count; break;
                case AddRule: rules++; break;
                case SetRuleLifetime: ruleLifetimes++; break;
                case SetDidLifetime: didLifetimes++; break;
                case ChaosFiring: chaos++; break;
            }
        }
        long datasets = 0;
        foreach (var e in Plan.Experiments)
            for (var d = 0L; d < e.DatasetCount; d++)
                if (OwnsDataset(e.Index, d) && Plan.DatasetInstants(e.Index, d) is not null) datasets++;
        return new PlanCounts(files, datasets, rules, ruleLifetimes, didLifetimes, noise, chaos);
    }

    /// <summary>The names of the shard's DIDs, hashed: every file, dataset and container of its units, and its noise files.</summary>
    private HashSet<ulong> Names()
    {
        var names = new HashSet<ulong>();
        var chunk = new SyntheticFile[256];
        foreach (var e in Plan.Experiments)
        {
            for (var d = 0L; d < e.DatasetCount; d++)
            {
                if (!OwnsDataset(e.Index, d)) continue;
                names.Add(NameHash(e.Scope, e.DatasetName(d)));
                if (e.DatasetsPerContainer > 0 && d % e.DatasetsPerContainer == 0) names.Add(NameHash(e.Scope, e.ContainerName(e.ContainerOf(d))));
                var (first, count) = e.FilesOf(d);
                for (var f = first; f < first + count; f += chunk.Length)
                {
                    var n = e.Files.Fill(f, chunk.AsSpan(0, (int)Math.Min(chunk.Length, first + count - f)));
                    for (var k = 0; k < n; k++) names.Add(NameHash(e.Scope, chunk[k].Name));
                }
            }
        }
        for (var f = 0L; f < _noise.LongLength; f++)
            if (_noise[f] && Plan.Noise.File(f) is var n) names.Add(NameHash(n.Scope, n.Name));
        return names;
    }
}
