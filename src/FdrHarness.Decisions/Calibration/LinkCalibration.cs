using FdrHarness.Core.Observations;

namespace FdrHarness.Decisions.Calibration;

/// <summary>One link's failure probability: failures not caused by an unavailable RSE over the attempts that ended.</summary>
public sealed record LinkFit(string Source, string Destination, long Attempts, long Failures, double Probability, double HalfWidth);

/// <summary>The links' fits from events.parquet alone (one pass over the columns they need).</summary>
public static class LinkCalibration
{
    public static List<LinkFit> Fit(ObservationReader reader)
    {
        var counts = new SortedDictionary<(string, string), (long Attempts, long Failures)>();
        foreach (var batch in reader.EventBatches(["event_type", "src_rse", "dst_rse", "reason"]))
            foreach (var e in batch)
            {
                var failed = e.EventType == EventTypes.TransferFailed;
                if (!failed && e.EventType != EventTypes.TransferDone) continue;
                if (e.SrcRse is null || e.DstRse is null) continue;
                // An RSE that was unavailable is an outage, not the link: FTS's reason says which.
                if (failed && e.Reason?.Contains("unavailable", StringComparison.OrdinalIgnoreCase) == true) continue;
                counts.TryGetValue((e.SrcRse, e.DstRse), out var c);
                counts[(e.SrcRse, e.DstRse)] = (c.Attempts + 1, c.Failures + (failed ? 1 : 0));
            }
        return counts.Select(kv =>
        {
            var (n, f) = (kv.Value.Attempts, kv.Value.Failures);
            var p = (double)f / n;
            return new LinkFit(kv.Key.Item1, kv.Key.Item2, n, f, p, 1.96 * Math.Sqrt(Math.Max(p * (1 - p), 1.0 / n) / n));
        }).ToList();
    }
}
