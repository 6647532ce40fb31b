using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using FdrHarness.Lake.Daemons;
using MathNet.Numerics.LinearAlgebra;

namespace FdrHarness.Decisions.Calibration;

/// <summary>
/// A fitted parameter: its value, the half-width of its 95 % interval, and whether the run could tell it (else it keeps
/// its default and says why). <paramref name="Combined"/>: the run told it only together with another key (their sum,
/// when every bulk had the same units): it is written, so the sum holds, but it is not the parameter on its own.
/// </summary>
public sealed record FittedValue(string Key, double Value, double HalfWidth, bool Determined, string? Note = null, bool Combined = false)
{
    /// <summary>Whether the calibration file carries it: told alone, or told in a sum.</summary>
    public bool Written => Determined || Combined;
}

/// <summary>One daemon's fit: its model keys, the rows it came from and its error on the run (relative RMS).</summary>
public sealed record DaemonFit(string Daemon, IReadOnlyList<FittedValue> Values, int CpuRows, int MemoryRows, double CpuError, double MemoryError, string? Note);


public sealed record Calibration(string Scenario, IReadOnlyList<DaemonFit> Daemons, IReadOnlyList<LinkFit> Links, int Passes);

/// <summary>
/// Fits the lake's work models to a run's observations. The observed samples (samples.parquet) say what each pod used;
/// what work it did in each interval is counted by replaying the run's workload (its scenario.yaml) on the lake with a
/// <see cref="WorkProbe"/>, the model keys being fitted removed (defaults, then the previous passes' fit). The replay
/// follows the run's own transfers (<see cref="RunTransfers"/>: each attempt's verdict and duration from events.parquet)
/// rather than drawing them again. CPU-seconds are linear in idle_cpu, cost_per_item and cost_per_bulk, summed over
/// windows of a few samples; the highest working set in linear in base_memory, memory_per_item and cache_per_item
/// (cache_max where the cache levelled off): least squares (Math.NET's QR) per daemon. The replay's timing depends on the
/// costs (a bulk takes its CPU's time), so the fit is repeated on a replay with the fitted values until they settle.
/// Link failure probabilities come from events.parquet alone.
/// </summary>
public static class Calibrator
{
    /// <summary>The model keys a calibration fits; every other key (tick, bulk, waits...) is the daemon's configuration and is kept.</summary>
    public static readonly string[] FittedKeys = ["idle_cpu", "cost_per_item", "cost_per_bulk", "base_memory", "memory_per_item", "cache_per_item", "cache_max"];

    /// <summary>
    /// Replays at most, by default: the defaults', then one per refit until two fits agree within 1 %. On ci-smoke with
    /// hidden models (seeds 16-20) the replay reaches the run's own timing after 5-10 passes and every told value comes
    /// back within tolerance; the ESCAPE run settles after 2.
    /// </summary>
    public const int DefaultPasses = 12;

    /// <summary>
    /// The CPU fit sums each pod's clean samples over windows of this many sample intervals: a replay whose timing is off
    /// by a tick moves work across a sample's boundary and not often across a window's, so the fit's rows are close to the
    /// run's even before the replay has settled on its timing (over the windows the CPU-seconds are as linear as per sample).
    /// </summary>
    private const int Window = 4;

    private readonly record struct Observed(double Cpu, long Memory, long? Limit, bool Clean, bool Running);

    public static Calibration Run(string runDir, Scenario scenario, int passes = DefaultPasses)
    {
        // events.parquet (the links) and samples.parquet are read side by side.
        var transfers = new RunTransfers();
        var linksRead = Task.Run(() => LinkCalibration.Fit(new ObservationReader(runDir), transfers));
        var observed = ReadSamples(new ObservationReader(runDir));
        var links = linksRead.GetAwaiter().GetResult();
        var interval = scenario.Run.ObservationInterval.TotalSeconds;
        var baseScenario = CalibrationFile.Strip(scenario);
        List<DaemonFit> fits = [], replayed = [];
        var pass = 0;
        for (; pass < passes; pass++)
        {
            var replay = CalibrationFile.Apply(baseScenario, new Calibration(scenario.Run.Name, replayed, links, pass));
            var probe = new WorkProbe(transfers);
            EmbeddedLake.Run(replay, probe, probe);
            var next = FitDaemons(probe.Rows, observed, interval, replay);
            var settled = pass > 0 && next.All(n => fits.FirstOrDefault(f => f.Daemon == n.Daemon) is { } f && Close(f, n));
            // From the third replay on, the mean of the last two fits: a fit that swings between two timings settles.
            replayed = pass > 0 ? Blend(fits, next) : next;
            fits = next;
            if (settled) { pass++; break; }
        }
        return new Calibration(scenario.Run.Name, fits, links, pass);
    }

    /// <summary>The mean of two passes' values for the next replay, where both were written (damps a fit that swings between two timings).</summary>
    private static List<DaemonFit> Blend(List<DaemonFit> previous, List<DaemonFit> next) =>
        [.. next.Select(n => previous.FirstOrDefault(p => p.Daemon == n.Daemon) is not { } p ? n : n with
        {
            Values = [.. n.Values.Select(v => p.Values.FirstOrDefault(q => q.Key == v.Key) is { Written: true } q && v.Written ? v with { Value = (v.Value + q.Value) / 2 } : v)],
        })];

    private static bool Close(DaemonFit a, DaemonFit b) =>
        a.Values.Zip(b.Values).All(p => Math.Abs(p.First.Value - p.Second.Value) <= 0.01 * Math.Max(Math.Abs(p.First.Value), Math.Abs(p.Second.Value)) + 1e-6);

    private static Dictionary<(string, int, DateTime), Observed> ReadSamples(ObservationReader reader)
    {
        var rows = new Dictionary<(string, int, DateTime), Observed>();
        var ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        var perDaemon = new Dictionary<string, int>(StringComparer.Ordinal);
        var previous = new Dictionary<string, (string State, int Restarts)>(StringComparer.Ordinal);
        foreach (var batch in reader.SampleBatches(["time", "daemon", "pod", "state", "cpu_cores", "memory_bytes", "memory_limit", "restarts"]))
            foreach (var s in batch)
            {
                if (!ordinals.TryGetValue(s.Pod, out var ordinal))
                {
                    perDaemon.TryGetValue(s.Daemon, out ordinal);
                    ordinals[s.Pod] = ordinal;
                    perDaemon[s.Daemon] = ordinal + 1;
                }
                var running = s.State == "Running";
                // A clean interval: the pod ran through it without a restart (CPU and memory mean what the model says).
                var clean = running && previous.TryGetValue(s.Pod, out var p) && p.State == "Running" && p.Restarts == s.Restarts;
                previous[s.Pod] = (s.State, s.Restarts);
                rows[(s.Daemon, ordinal, s.Time)] = new Observed(s.CpuCores, s.MemoryBytes, s.MemoryLimit, clean, running);
            }
        return rows;
    }

    private static List<DaemonFit> FitDaemons(List<PodWork> work, Dictionary<(string, int, DateTime), Observed> observed, double interval, Scenario replay)
    {
        var fits = new List<DaemonFit>();
        foreach (var group in work.GroupBy(w => w.Daemon).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var spec = replay.Daemons.FirstOrDefault(d => d.Name == group.Key) ?? new DaemonSpec { Name = group.Key };
            var current = DaemonModel.For(spec);
            var defaults = DaemonModel.Defaults(group.Key);
            var pairs = group.Where(w => observed.ContainsKey((w.Daemon, w.Ordinal, w.Time))).Select(w => (W: w, O: observed[(w.Daemon, w.Ordinal, w.Time)])).ToList();
            if (pairs.Count == 0) continue;
            var worked = pairs.Any(p => p.W.ItemUnits > 0 || p.W.Moments.Any(m => m.InFlight > 0));
            var cpuRows = pairs.Where(p => p.O.Clean && p.W.RunSeconds > 0.5 * interval).ToList();
            var cpu = FitCpu(cpuRows, defaults, worked, interval);
            var memRows = pairs.Where(p => p.O.Running && (p.O.Limit is not { } l || p.O.Memory < l)).ToList();
            var memory = FitMemory(memRows, current, defaults, worked);
            fits.Add(new DaemonFit(group.Key, [.. cpu.Values, .. memory.Values], cpuRows.Count, memRows.Count, cpu.Error, memory.Error,
                worked ? null : "did no work in this run: only its idle CPU and base memory are fitted"));
        }
        return fits;
    }

    /// <summary>CPU-seconds = idle_cpu·running s + cost_per_item·item units + cost_per_bulk·bulks, over every clean sample.</summary>
    private static (FittedValue[] Values, double Error) FitCpu(List<(PodWork W, Observed O)> rows, DaemonModel defaults, bool worked, double interval)
    {
        string[] keys = ["idle_cpu", "cost_per_item", "cost_per_bulk"];
        double[] fallback = [defaults.IdleCpu, defaults.CostPerItem, defaults.CostPerBulk];
        var windows = rows.GroupBy(r => (r.W.Ordinal, (long)((r.W.Time - DateTime.UnixEpoch).TotalSeconds / (Window * interval)))).ToList();
        var x = windows.Select(g => new[] { g.Sum(r => r.W.RunSeconds), g.Sum(r => r.W.ItemUnits), g.Sum(r => r.W.Bulks) }).ToArray();
        // A CPU sample is the mean over its interval.
        var y = windows.Select(g => g.Sum(r => r.O.Cpu * interval)).ToArray();
        return Solve(keys, fallback, x, y, worked ? [true, true, true] : [true, false, false]);
    }

    /// <summary>The interval's highest working set = base_memory + memory_per_item·units in flight + min(cache_max, cache_per_item·units finished).</summary>
    private static (FittedValue[] Values, double Error) FitMemory(List<(PodWork W, Observed O)> rows, DaemonModel current, DaemonModel defaults, bool worked)
    {
        string[] keys = ["base_memory", "memory_per_item", "cache_per_item", "cache_max"];
        double[] fallback = [defaults.BaseMemory, defaults.MemoryPerItem, defaults.CachePerItem, defaults.CacheMax];
        double b = current.BaseMemory, m = current.MemoryPerItem, c = current.CachePerItem, k = current.CacheMax > 0 ? current.CacheMax : double.PositiveInfinity;
        (FittedValue[] Values, double Error) result = default;
        for (var iteration = 0; iteration < 4; iteration++)
        {
            // The sample is the highest of the interval's moments under the current parameters.
            var chosen = rows.Select(r =>
            {
                var best = (U: 0.0, C: 0.0, M: double.NegativeInfinity);
                foreach (var moment in r.W.Moments)
                {
                    var at = m * moment.InFlight + Math.Min(k, c * moment.Finished);
                    if (at > best.M) best = (moment.InFlight, moment.Finished, at);
                }
                return (best.U, best.C);
            }).ToList();
            var saturated = chosen.Select(u => c > 0 && c * u.C >= k).ToList();
            var x = chosen.Select((u, i) => saturated[i] ? new[] { 1.0, u.U, 0, 1 } : [1.0, u.U, u.C, 0]).ToArray();
            var y = rows.Select(r => (double)r.O.Memory).ToArray();
            var anyCache = chosen.Any(u => u.C > 0);
            result = Solve(keys, fallback, x, y, [true, worked, worked && anyCache, saturated.Count(s => s) >= 3]);
            var v = result.Values;
            var (nb, nm, nc) = (v[0].Value, v[1].Value, v[2].Value);
            var nk = v[3].Determined ? v[3].Value : (fallback[3] > 0 ? fallback[3] : double.PositiveInfinity);
            if (Math.Abs(nb - b) <= 1 && Math.Abs(nm - m) <= 1e-3 * Math.Max(m, 1) && Math.Abs(nc - c) <= 1e-3 * Math.Max(c, 1)) break;
            (b, m, c, k) = (nb, nm, nc, nk);
        }
        return result;
    }

    /// <summary>
    /// Least squares without intercept over the free columns; a coefficient the rows cannot tell (no variation, its 95 %
    /// interval wider than itself, or negative) keeps its default, its column's share taken out of y, and the rest refitted.
    /// </summary>
    private static (FittedValue[] Values, double Error) Solve(string[] keys, double[] fallback, double[][] x, double[] y, bool[] free)
    {
        var n = keys.Length;
        var fixedAt = (double[])fallback.Clone();
        var isFree = (bool[])free.Clone();
        var notes = new string?[n];
        var combined = new string?[n];
        for (var i = 0; i < n; i++)
            if (!isFree[i]) notes[i] = "the run could not tell it: default kept";
        var values = new double[n];
        var half = new double[n];
        for (var round = 0; round <= n; round++)
        {
            for (var i = 0; i < n; i++)
                if (isFree[i] && x.All(r => r[i] == 0)) (isFree[i], notes[i]) = (false, "never exercised in this run: default kept");
            var cols = Enumerable.Range(0, n).Where(i => isFree[i]).ToArray();
            var rhs = y.Select((v, r) => v - Enumerable.Range(0, n).Where(i => !isFree[i]).Sum(i => fixedAt[i] * x[r][i])).ToArray();
            Array.Copy(fixedAt, values, n);
            Array.Clear(half);
            if (cols.Length == 0 || x.Length <= cols.Length) break;
            var a = Matrix<double>.Build.Dense(x.Length, cols.Length, (r, j) => x[r][cols[j]]);
            if (Collinear(a) is { } dependent)
            {
                // A column the others explain (bulk = 1: as many bulks as items) cannot be told apart: it keeps its
                // default and the others take the rest (the columns are ordered so the per-bulk cost goes first).
                var i = cols[dependent];
                var partners = Enumerable.Range(0, dependent).Where(j => Collinear(a.SubMatrix(0, a.RowCount, j, 1).Append(a.SubMatrix(0, a.RowCount, dependent, 1))) is not null).ToList();
                if (partners.Count == 0) partners = [.. Enumerable.Range(0, dependent)];
                var with = string.Join(" and ", partners.Select(j => keys[cols[j]]));
                (isFree[i], notes[i]) = (false, $"the run cannot tell it apart from {with}: every interval had them in the same proportion; default kept");
                foreach (var j in partners)
                    combined[cols[j]] = $"told only with {keys[i]} (every interval had them in the same proportion): written so that their sum holds with {keys[i]} at its default";
                continue;
            }
            var bv = Vector<double>.Build.Dense(rhs);
            var qr = a.QR();
            var beta = qr.Solve(bv);
            var residual = bv - a * beta;
            var sigma2 = residual.DotProduct(residual) / Math.Max(1, x.Length - cols.Length);
            var cov = (a.TransposeThisAndMultiply(a)).Inverse() * sigma2;
            var worst = -1;
            var worstScore = 1.0;
            for (var j = 0; j < cols.Length; j++)
            {
                var i = cols[j];
                values[i] = beta[j];
                half[i] = 1.96 * Math.Sqrt(Math.Max(cov[j, j], 0));
                var score = beta[j] <= 0 ? double.PositiveInfinity : half[i] / beta[j];
                if (!(score <= worstScore)) (worst, worstScore) = (i, double.IsNaN(score) ? double.PositiveInfinity : score);
            }
            if (worst < 0) break;
            (isFree[worst], notes[worst]) = (false, values[worst] <= 0
                ? "fitted at or below zero: default kept"
                : $"its 95 % interval (±{half[worst] / values[worst]:P0}) is wider than itself: default kept");
        }
        var predicted = x.Select(r => Enumerable.Range(0, n).Sum(i => values[i] * r[i])).ToArray();
        var rms = Math.Sqrt(y.Zip(predicted).Sum(p => (p.First - p.Second) * (p.First - p.Second)) / Math.Max(1, y.Length));
        var mean = y.Length == 0 ? 0 : y.Average();
        return (Enumerable.Range(0, n).Select(i => isFree[i] && combined[i] is { } c
            ? new FittedValue(keys[i], values[i], half[i], false, c, Combined: true)
            : new FittedValue(keys[i], values[i], half[i], isFree[i], notes[i])).ToArray(), mean > 0 ? rms / mean : 0);
    }

    /// <summary>The last column that the columns before it explain (to 1e-9 of its norm), or null when they are independent.</summary>
    private static int? Collinear(Matrix<double> a)
    {
        var r = a.NormalizeColumns(2.0).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).R;
        for (var j = a.ColumnCount - 1; j > 0; j--)
            if (Math.Abs(r[j, j]) < 1e-9) return j;
        return null;
    }
}
