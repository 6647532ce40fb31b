using System.Globalization;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>
/// ESCAPE's functional-test noise: per noise phase, every period from its start until it ends (or the run does), one
/// file per ordered pair of its RSEs. Noise files are numbered across the run; any one is found from its number
/// without listing the others.
/// </summary>
public sealed class NoisePlan
{
    private readonly List<Part> _parts = [];
    private readonly RunPlan _plan;

    private sealed record Part(int Phase, NoisePhase Spec, string Prefix, TimeSpan Start, TimeSpan Every, long Rounds, (string Source, string Destination)[] Pairs, long FirstFile)
    {
        public long Files => Rounds * Pairs.Length;
    }

    /// <summary>
    /// A noise file's name on a live Rucio: the planned name and the run's start (yyyyMMddTHHmmss), so a later run never
    /// meets a name Rucio keeps as deleted.
    /// </summary>
    public static string LiveName(string planned, DateTimeOffset runStart) =>
        planned + "." + runStart.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The planned name of a name <see cref="LiveName"/> made (a shard recognises its noise files by it); other names as they are.</summary>
    public static string PlannedName(string name)
    {
        var dot = name.LastIndexOf('.');
        return dot > 0 && name.Length - dot - 1 == 15 && DateTime.TryParseExact(name.AsSpan(dot + 1), "yyyyMMdd'T'HHmmss",
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _) ? name[..dot] : name;
    }

    internal NoisePlan(RunPlan plan)
    {
        _plan = plan;
        var scenario = plan.Scenario;
        long next = 0;
        foreach (var p in plan.Phases)
        {
            if (p.Spec is not NoisePhase n || p.Start is not { } start) continue;
            var names = n.Rses is { } x ? x.Evaluate(scenario.Rses) : null;
            var rses = scenario.Rses.Select(r => r.Name).Where(r => names is null || names.Contains(r)).ToArray();
            var pairs = (from s in rses from d in rses where s != d select (s, d)).ToArray();
            var every = n.Every < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : n.Every;
            var until = n.During is { } during && start + during < plan.Duration ? start + during : plan.Duration;
            var rounds = pairs.Length == 0 || until <= start ? 0 : (long)Math.Ceiling((until - start) / every - 1e-9);
            // The first noise phase keeps ESCAPE's cron names; later ones carry their phase's name.
            var prefix = _parts.Count == 0 ? "fdr-noise" : "fdr-noise." + p.Name;
            var part = new Part(p.Index, n, prefix, start, every, rounds, pairs, next);
            _parts.Add(part);
            next += part.Files;
        }
        Files = next;
    }

    /// <summary>Noise files in the whole run.</summary>
    public long Files { get; }

    /// <summary>The scopes noise files are written in.</summary>
    public IEnumerable<string> Scopes => _parts.Select(p => p.Spec.Scope).Distinct(StringComparer.Ordinal);

    /// <summary>The rounds of a noise phase in time order.</summary>
    public IEnumerable<NoiseRound> Rounds(int phase)
    {
        var part = _parts.FirstOrDefault(p => p.Phase == phase);
        if (part is null) yield break;
        for (var round = 0L; round < part.Rounds; round++)
        {
            var files = new NoiseFile[part.Pairs.Length];
            for (var k = 0; k < files.Length; k++) files[k] = File(part, round, k);
            yield return new NoiseRound(part.Start + part.Every * round, phase, (int)round, files);
        }
    }

    /// <summary>Noise file <paramref name="index"/> of the run (0 ≤ index &lt; <see cref="Files"/>).</summary>
    public NoiseFile File(long index)
    {
        foreach (var part in _parts)
        {
            if (index < part.FirstFile + part.Files)
            {
                var local = index - part.FirstFile;
                return File(part, local / part.Pairs.Length, (int)(local % part.Pairs.Length));
            }
        }
        throw new ArgumentOutOfRangeException(nameof(index), index, "no such noise file");
    }

    /// <summary>Noise files of one phase.</summary>
    public long FilesOf(int phase) => _parts.FirstOrDefault(p => p.Phase == phase)?.Files ?? 0;

    /// <summary>The phase of noise file <paramref name="index"/>.</summary>
    public NoisePhase PhaseOf(long index) => _parts.First(p => index < p.FirstFile + p.Files).Spec;

    private NoiseFile File(Part part, long round, int pair)
    {
        var (src, dst) = part.Pairs[pair];
        var index = part.FirstFile + round * part.Pairs.Length + pair;
        var name = string.Create(CultureInfo.InvariantCulture, $"{part.Prefix}.{src}.{dst}.r{round:D3}");
        var bytes = part.Spec.FileSize.Bytes;
        return new NoiseFile(index, part.Spec.Scope, src, dst, name, bytes, _plan.Content.ComputeAdler32(part.Spec.Scope, index, bytes));
    }
}
