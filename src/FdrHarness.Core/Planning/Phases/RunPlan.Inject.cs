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
        // A tick gives each experiment a run of consecutive files: its datasets are marked once per tick, not per file.
        var from = new long[experiments.Length];
        var picked = new long[experiments.Length];
        foreach (var (at, n) in InjectionTicks(phase, start, picker.Total))
        {
            Array.Clear(picked);
            long k = 0;
            for (; k < n; k++)
            {
                var i = picker.Next(out var index);
                if (i < 0) break;
                if (picked[i]++ == 0) from[i] = index;
            }
            _injected[phase] += k;
            var ms = Ms(at);
            for (var i = 0; i < experiments.Length; i++)
                if (picked[i] > 0) MarkDatasets(Experiments[experiments[i]], from[i], from[i] + picked[i], ms);
            last = at;
        }
        return picker.Done ? last : null;
    }

    /// <summary>Files [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="e"/> injected at <paramref name="ms"/>: their datasets' first and last instants.</summary>
    private void MarkDatasets(PlannedExperiment e, long from, long to, long ms)
    {
        long perDataset = e.FilesPerDataset, files = e.FileCount;
        var first = _datasetFirstMs[e.Index];
        var done = _datasetLastMs[e.Index];
        for (var dataset = from / perDataset; dataset <= (to - 1) / perDataset; dataset++)
        {
            if (first[dataset] < 0 || first[dataset] > ms) first[dataset] = ms;
            var lastFile = Math.Min((dataset + 1) * perDataset, files) - 1;
            if (lastFile >= from && lastFile < to && (done[dataset] < 0 || done[dataset] > ms)) done[dataset] = ms;
        }
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
        var lean = detail != FileDetail.Full;
        var cursors = lean ? null : experiments.Select(e => new FileCursor(e.Files)).ToArray();
        var shared = detail == FileDetail.LeanTransient ? new LeanBatch(experiments, 0) : null;
        foreach (var (at, n) in InjectionTicks(phase, start, picker.Total))
        {
            for (var left = n; left > 0;)
            {
                var size = (int)Math.Min(left, MaxBatch);
                left -= size;
                var batch = lean ? null : new List<PlannedFile>(size);
                var leanBatch = shared?.Reset(size) ?? (lean ? new LeanBatch(experiments, size) : null);
                for (var k = 0; k < size; k++)
                {
                    var i = picker.Next(out var index);
                    if (i < 0) { left = 0; break; }
                    var e = experiments[i];
                    var dataset = index / e.FilesPerDataset;
                    if (lean) leanBatch!.Add(i, index, e.Files.Size(index), e.WriteRseStart(dataset));
                    else batch!.Add(new PlannedFile(e.Index, cursors![i].Get(index), dataset, e.WriteRseStart(dataset)));
                }
                IReadOnlyList<PlannedFile> files = lean ? leanBatch! : batch!;
                if (files.Count > 0) yield return new InjectFiles(at, phase, files);
            }
        }
    }

    /// <summary>
    /// A lean batch (<see cref="FileDetail.Lean"/>): each file kept as its experiment, index, size and write RSE, its
    /// <see cref="PlannedFile"/> made when read. 24 bytes a file instead of a PlannedFile's 80: the batches were a
    /// seventh of the embedded lake's allocations.
    /// </summary>
    private sealed class LeanBatch(PlannedExperiment[] experiments, int capacity) : IReadOnlyList<PlannedFile>
    {
        private (long Index, long Bytes, int Experiment, int WriteRseStart)[] _files = new (long, long, int, int)[capacity];

        public int Count { get; private set; }

        /// <summary>Empties the batch for the next one (<see cref="FileDetail.LeanTransient"/>), with room for <paramref name="capacity"/> files.</summary>
        public LeanBatch Reset(int capacity)
        {
            if (_files.Length < capacity) _files = new (long, long, int, int)[capacity];
            Count = 0;
            return this;
        }

        public void Add(int experiment, long index, long bytes, int writeRseStart) => _files[Count++] = (index, bytes, experiment, writeRseStart);

        public PlannedFile this[int i]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)Count, nameof(i));
                var f = _files[i];
                var e = experiments[f.Experiment];
                return new PlannedFile(e.Index, new SyntheticFile(e.Scope, "", "", null, f.Bytes, 0, f.Index), f.Index / e.FilesPerDataset, f.WriteRseStart);
            }
        }

        public IEnumerator<PlannedFile> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
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
    private sealed class FileCursor(SyntheticFileGenerator files)
    {
        private readonly SyntheticFile[] _chunk = new SyntheticFile[256];
        private long _first = -1;
        private int _count;

        public SyntheticFile Get(long index)
        {
            if (index < _first || index >= _first + _count)
            {
                _first = index;
                _count = files.Fill(index, _chunk);
            }
            return _chunk[index - _first];
        }
    }
}
