using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Chaos;

/// <summary>link_degradation on the lake: the FTS links' bandwidth and failure probability changed from the begin firing to the end one.</summary>
internal static class LinkDegradationAction
{
    public static void Fire(ChaosFiring firing, LakeParts lake)
    {
        var d = (LinkDegradation)firing.Spec;
        var begin = firing.Edge != ChaosEdge.End;
        var src = lake.Rses.Select(d.Source);
        var dst = lake.Rses.Select(d.Destination);
        foreach (var s in src)
        foreach (var t in dst)
        {
            if (s == t) continue;
            var link = lake.Fts.LinkOf(s, t);
            link.BandwidthFactor = begin ? Math.Clamp(d.BandwidthFactor, 0.001, 1) : 1;
            link.DegradedFailure = begin ? d.FailureProbability : null;
        }
        if (begin) ChaosEngine.Fault(lake.Context, firing.Name, ChaosKinds.LinkDegradation, $"{d.Source}->{d.Destination}", ChaosEngine.Ms(d.From + d.During),
            $"bandwidth x{d.BandwidthFactor}, failure probability {d.FailureProbability?.ToString(CultureInfo.InvariantCulture) ?? "unchanged"}");
    }
}
