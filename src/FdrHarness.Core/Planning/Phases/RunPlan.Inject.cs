using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// inject: the load simulations' batches of files, experiments interleaved.
public sealed partial class RunPlan
{
    /// <summary>The instants and sizes of an inject phase's batches, offsets from the run's start, cut at its end.</summary>
    private IEnumerable<(TimeSpan At, long Files)> InjectionTicks(int phase, TimeSpan start, long total)
    {
        var spec = (InjectPhase)Scenario.Workload[phase];
        foreach (var tick in LoadSchedule.Ticks(spec.Load, Scale, Streams.Key("load", spec.Name!), total))
        {
            var at = start + tick.At;
            if (at >= Duration) yield break;
            yield return (at, tick.Operations);
        }
    }

    /// <summary>Every inject phase's batches as (instant, files), without making a file: what the load simulations start and when.</summary>
    public IEnumerable<(TimeSpan At, long Files)> InjectionTicks()
    {
        foreach (var p in Phases)
        {
            if (p.Spec is not InjectPhase || p.Start is not { } start) continue;
            var total = p.Experiments.Sum(e => Experiments[e].FileCount);
            foreach (var tick in InjectionTicks(p.Index, start, total)) yield return tick;
        }
    }

    /// <summary>Walks the phase's schedule once without making files: datasets' first and last instants, the phase's end.</summary>
    internal TimeSpan? PlanInjection(int phase, InjectPhase spec, int[] experiments, TimeSpan start)
    {
        var picker = new Picker(experiments.Select(e => Experiments[e].FileCount).ToArray());
        if (picker.Total == 0) return start;
        var last = start;
        foreach (var (at, n) in InjectionTicks(phase, start, picker.Total))
        {
            var ms = Ms(at);
            for (var k = 0; k < n; k++)
            {
                var i = picker.Next(out var index);
                if (i < 0) break;
                var e = Experiments[experiments[i]];
                var dataset = index / e.FilesPerDataset;
                var first = _datasetFirstMs[e.Index];
                if (first[dataset] < 0 || first[dataset] > ms) first[dataset] = ms;
                if ((index + 1) % e.FilesPerDataset == 0 || index + 1 == e.FileCount)
                {
                    var done = _datasetLastMs[e.Index];
                    if (done[dataset] < 0 || done[dataset] > ms) done[dataset] = ms;
                }
                _injected[phase]++;
            }
            last = at;
        }
        return picker.Done ? last : null;
    }

    /// <summary>The files an inject phase plans within the run.</summary>
    internal long InjectedFiles(int phase) => _injected[phase];

    /// <summary>The batches of an inject phase: each tick's files, experiments interleaved so each progresses evenly.</summary>
    public IEnumerable<InjectFiles> Injection(int phase, FileDetail detail = FileDetail.Full)
    {
        const int MaxBatch = 10_000;
        var p = Phases[phase];
        if (p.Spec is not InjectPhase || p.Start is not { } start) yield break;
        var experiments = p.Experiments.Select(i => Experiments[i]).ToArray();
        var picker = new Picker(experiments.Select(e => e.FileCount).ToArray());
        var cursors = experiments.Select(e => new FileCursor(e.Files, detail == FileDetail.Lean)).ToArray();
        foreach (var (at, n) in InjectionTicks(phase, start, picker.Total))
        {
            for (var left = n; left > 0;)
            {
                var batch = new List<PlannedFile>((int)Math.Min(left, MaxBatch));
                for (; left > 0 && batch.Count < MaxBatch; left--)
                {
                    var i = picker.Next(out var index);
                    if (i < 0) { left = 0; break; }
                    var e = experiments[i];
                    var dataset = index / e.FilesPerDataset;
                    batch.Add(new PlannedFile(e.Index, cursors[i].Get(index), dataset, e.WriteRseStart(dataset)));
                }
                if (batch.Count > 0) yield return new InjectFiles(at, phase, batch);
            }
        }
    }

    /// <summary>The experiment furthest behind its share goes next (ties: the first listed), so each progresses evenly.</summary>
    private sealed class Picker
    {
        private readonly long[] _counts;
        private readonly long[] _next;
        // (next + 0.5) / count of each experiment, +∞ once it has given every file: only the one picked changes per pick.
        private readonly double[] _progress;
        private long _given;

        public Picker(long[] counts)
        {
            _counts = counts;
            _next = new long[counts.Length];
            _progress = new double[counts.Length];
            for (var i = 0; i < counts.Length; i++) _progress[i] = Progress(i);
            Total = counts.Sum();
        }

        public long Total { get; }
        public bool Done => _given == Total;

        private double Progress(int i) => _next[i] >= _counts[i] ? double.PositiveInfinity : (_next[i] + 0.5) / _counts[i];

        public int Next(out long index)
        {
            var best = -1;
            var bestProgress = double.MaxValue; // above any progress (< 1), below +∞: exhausted experiments are never picked
            var progress = _progress;
            for (var i = 0; i < progress.Length; i++)
            {
                if (progress[i] < bestProgress)
                {
                    bestProgress = progress[i];
                    best = i;
                }
            }
            if (best < 0)
            {
                index = -1;
                return -1;
            }
            index = _next[best]++;
            progress[best] = Progress(best);
            _given++;
            return best;
        }
    }

    /// <summary>Files of one experiment asked for in increasing order: generated a chunk at a time (dataset names shared).</summary>
    private sealed class FileCursor(SyntheticFileGenerator files, bool lean)
    {
        private readonly SyntheticFile[] _chunk = new SyntheticFile[256];
        private long _first = -1;
        private int _count;

        public SyntheticFile Get(long index)
        {
            if (index < _first || index >= _first + _count)
            {
                _first = index;
                _count = files.Fill(index, _chunk, lean);
            }
            return _chunk[index - _first];
        }
    }
}
