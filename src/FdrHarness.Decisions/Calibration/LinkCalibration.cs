using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Decisions.Calibration;

/// <summary>
/// One link's fit. Failure probability: failures not caused by an unavailable RSE over the attempts that ended.
/// <see cref="Bandwidth"/> (bytes/s, null when not told, <see cref="BandwidthNote"/> says why): the median over its done
/// transfers (those longer than the overhead + 0.1 s) of active × bytes / (duration − overhead), the lake's law (the link's bandwidth shared by the transfers
/// active when one starts); <see cref="BandwidthHalfWidth"/> the median's distribution-free 95 % interval (order
/// statistics n/2 ± 1.96·√n/2) with ±0.5 % for the reconstruction added in quadrature. <see cref="MaxActive"/>: FTS's concurrency ceiling, told only when a transfer waited for
/// a slot (the link was saturated): the most transfers active at an instant when a waiting one started; else null and
/// <see cref="PeakActive"/> (the most ever active) is only a lower bound.
/// </summary>
public sealed record LinkFit(string Source, string Destination, long Attempts, long Failures, double Probability, double HalfWidth)
{
    public double? Bandwidth { get; init; }
    public double BandwidthHalfWidth { get; init; }
    public int DoneTransfers { get; init; }
    public string? BandwidthNote { get; init; }
    public int? MaxActive { get; init; }
    public int PeakActive { get; init; }
    public long Waited { get; init; }
    public string? MaxActiveNote { get; init; }
}

/// <summary>The links' fits from events.parquet alone: one pass over the columns they need.</summary>
public static class LinkCalibration
{
    /// <summary>FTS's fixed time per transfer in the lake (Fts.OverheadSeconds): a duration is this plus bytes over the share.</summary>
    public const double OverheadSeconds = 2;

    /// <summary>Done transfers a link needs before its bandwidth is told.</summary>
    public const int MinTransfers = 10;

    /// <summary>The reconstruction's relative error allowed for in a bandwidth's interval (see <see cref="FitOne"/>).</summary>
    public const double SystematicBandwidth = 0.005;

    /// <summary>
    /// Time beyond the overhead a done transfer needs to tell its share: durations are whole milliseconds, so a shorter
    /// one's share is uncertain by more than 0.5 %.
    /// </summary>
    public const double MinSeconds = 0.1;

    private const byte Done = 0, LinkFailed = 1, Unavailable = 2;

    private readonly record struct Attempt(long Submitted, long Started, long Ended, long Bytes, byte Kind);

    public static List<LinkFit> Fit(ObservationReader reader) => Fit(reader, null);

    /// <summary>The links' fits; with <paramref name="transfers"/>, the same pass also collects each attempt for calibrate's replay.</summary>
    internal static List<LinkFit> Fit(ObservationReader reader, RunTransfers? transfers)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var attempts = new Dictionary<(string, string), List<Attempt>>();
        (string? Src, string? Dst, List<Attempt>? List) last = default;
        string[] columns = ["event_type", "src_rse", "dst_rse", "reason", "bytes", "submitted_at", "started_at", "transferred_at"];
        foreach (var batch in Decoded(reader.EventBatches(transfers is null ? columns : [.. columns, "scope", "name", "duration"])))
            foreach (var e in batch)
            {
                var failed = e.EventType == EventTypes.TransferFailed;
                if (!failed && e.EventType != EventTypes.TransferDone) continue;
                // An RSE that was unavailable is an outage, not the link: FTS's reason says which.
                var kind = !failed ? Done : e.Reason?.Contains("unavailable", StringComparison.OrdinalIgnoreCase) == true ? Unavailable : LinkFailed;
                transfers?.Add(e, kind == LinkFailed);
                if (e.SrcRse is null || e.DstRse is null) continue;
                if (last.List is not { } list || !string.Equals(last.Src, e.SrcRse, StringComparison.Ordinal) || !string.Equals(last.Dst, e.DstRse, StringComparison.Ordinal))
                {
                    if (!attempts.TryGetValue((e.SrcRse, e.DstRse), out list)) attempts[(e.SrcRse, e.DstRse)] = list = [];
                    last = (e.SrcRse, e.DstRse, list);
                }
                list.Add(new Attempt(Ms(e.SubmittedAt), Ms(e.StartedAt), Ms(e.TransferredAt), e.Bytes ?? 0, kind));
            }
        // In the order a SortedDictionary of the pairs kept them (the default comparer).
        return [.. attempts.OrderBy(kv => kv.Key).Select(kv => FitOne(kv.Key.Item1, kv.Key.Item2, kv.Value))];
    }

    /// <summary>
    /// The row groups decoded on another thread a few groups ahead while this one goes through them (in the file's
    /// order): on the 1 M-file ESCAPE run decoding is most of the pass.
    /// </summary>
    private static IEnumerable<HermesEvent[]> Decoded(IEnumerable<HermesEvent[]> batches)
    {
        using var stop = new CancellationTokenSource();
        using var queue = new System.Collections.Concurrent.BlockingCollection<HermesEvent[]>(boundedCapacity: 4);
        var decoder = Task.Run(() =>
        {
            try
            {
                foreach (var b in batches) queue.Add(b, stop.Token);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        try
        {
            foreach (var b in queue.GetConsumingEnumerable()) yield return b;
        }
        finally
        {
            // A consumer that stopped early (or threw) releases a decoder blocked on a full queue.
            stop.Cancel();
            try { decoder.Wait(); } catch (AggregateException) { } // its own error is thrown below
        }
        decoder.GetAwaiter().GetResult(); // the file's own errors (damaged Parquet) as the reader throws them
    }

    private static long Ms(DateTime? t) => t is { } v ? v.Ticks / TimeSpan.TicksPerMillisecond : long.MinValue;

    private static LinkFit FitOne(string src, string dst, List<Attempt> all)
    {
        var n = all.Count(a => a.Kind != Unavailable);
        var f = all.Count(a => a.Kind == LinkFailed);
        var p = n == 0 ? 0 : (double)f / n;
        var half = n == 0 ? 1 : 1.96 * Math.Sqrt(Math.Max(p * (1 - p), 1.0 / n) / n);
        // Attempts whose times are known occupy a slot from start to end (a refused one too: FTS's overhead).
        var timed = all.Where(a => a.Started != long.MinValue && a.Ended != long.MinValue && a.Ended >= a.Started).OrderBy(a => a.Started).ToList();
        var ends = timed.Select(a => a.Ended).Order().ToArray();
        var shares = new List<double>();
        var (active, peak, endAt, waited, ceiling) = (0, 0, 0, 0L, 0);
        for (var i = 0; i < timed.Count;)
        {
            var t = timed[i].Started;
            // A slot freed at t is free for a transfer starting at t (FTS ends what is due, then starts the next).
            while (endAt < ends.Length && ends[endAt] <= t) { active--; endAt++; }
            var j = i;
            while (j < timed.Count && timed[j].Started == t) j++;
            var k = j - i;
            // The transfers starting at the same instant were started one after another: the k-th saw base + k active.
            // Which order is not recorded; a transfer's share (bytes over its time) falls as more are active, so the done
            // ones are ranked by share, the failed ones (their time cut short) spread evenly among them.
            var done = timed.GetRange(i, k).Where(a => a.Kind == Done && (a.Ended - a.Started) / 1000.0 >= OverheadSeconds + MinSeconds)
                .Select(a => a.Bytes / ((a.Ended - a.Started) / 1000.0 - OverheadSeconds - 0.0005)).OrderDescending().ToList();
            for (var q = 0; q < done.Count; q++)
                shares.Add(done[q] * (active + (q + 0.5) * k / done.Count + 0.5));
            active += k;
            peak = Math.Max(peak, active);
            var waitedHere = timed.Skip(i).Take(k).Count(a => a.Started > a.Submitted);
            if (waitedHere > 0) (waited, ceiling) = (waited + waitedHere, Math.Max(ceiling, active));
            i = j;
        }
        var fit = new LinkFit(src, dst, n, f, p, half) { PeakActive = peak, Waited = waited, DoneTransfers = shares.Count };
        if (shares.Count < MinTransfers)
            fit = fit with { BandwidthNote = $"{shares.Count} done transfers: too few to tell (at least {MinTransfers})" };
        else
        {
            shares.Sort();
            var m = shares.Count;
            var median = m % 2 == 1 ? shares[m / 2] : (shares[m / 2 - 1] + shares[m / 2]) / 2;
            var lo = shares[Math.Max(0, (int)Math.Floor(m / 2.0 - 1.96 * Math.Sqrt(m) / 2))];
            var hi = shares[Math.Min(m - 1, (int)Math.Ceiling(m / 2.0 + 1.96 * Math.Sqrt(m) / 2))];
            // The median's sampling interval, and a systematic term for the reconstruction: the order of the transfers
            // started at one instant is not recorded (failed ones spread evenly) and durations are whole milliseconds.
            // On ci-smoke's closed loops (bandwidths 120-900 MB/s, ceilings 6-50) those biased the median by 0.01-0.15 %:
            // ±0.5 % is added in quadrature.
            var sampling = Math.Max(median - lo, hi - median);
            fit = fit with { Bandwidth = median, BandwidthHalfWidth = Math.Sqrt(sampling * sampling + Math.Pow(SystematicBandwidth * median, 2)) };
        }
        return waited > 0
            ? fit with { MaxActive = ceiling }
            : fit with { MaxActiveNote = timed.Count == 0 ? "no transfer times: never used" : $"never saturated (no transfer waited for a slot; at most {peak} active): the ceiling is at least {peak}" };
    }

    /// <summary>A link's properties in a scenario, as the lake sets them: the defaults, then each override that names it (later wins).</summary>
    public static (double Bandwidth, int MaxActive, double FailureProbability) InScenario(Scenario s, string src, string dst)
    {
        ArgumentNullException.ThrowIfNull(s);
        var d = s.Links.Defaults;
        var (bw, ma, p) = (d.Bandwidth?.BytesPerSecond ?? 1e9, d.MaxActive ?? 100, d.FailureProbability ?? 0.01);
        foreach (var o in s.Links.Overrides)
        {
            if (!o.Source.Evaluate(s.Rses).Contains(src) || !o.Destination.Evaluate(s.Rses).Contains(dst)) continue;
            if (o.Bandwidth is { } b) bw = b.BytesPerSecond;
            if (o.MaxActive is { } m) ma = m;
            if (o.FailureProbability is { } q) p = q;
        }
        return (bw, ma, p);
    }

    /// <summary>The fitted bandwidth when the run contradicts the scenario's (outside the fit's 95 % interval); else null (the scenario's stands).</summary>
    public static double? BandwidthToWrite(LinkFit l, Scenario? s) =>
        l.Bandwidth is not { } b ? null
        : s is null || Math.Abs(InScenario(s, l.Source, l.Destination).Bandwidth - b) > l.BandwidthHalfWidth ? b : null;

    /// <summary>The told ceiling when it differs from the scenario's; else null.</summary>
    public static int? MaxActiveToWrite(LinkFit l, Scenario? s) =>
        l.MaxActive is not { } m ? null : s is null || InScenario(s, l.Source, l.Destination).MaxActive != m ? m : null;
}
