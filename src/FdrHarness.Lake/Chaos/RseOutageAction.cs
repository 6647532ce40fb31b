using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Chaos;

/// <summary>rse_outage on the lake: the RSE's operations unavailable from the begin firing to the end one.</summary>
internal static class RseOutageAction
{
    public static void Fire(ChaosFiring firing, LakeParts lake)
    {
        var o = (RseOutage)firing.Spec;
        var begin = firing.Edge != ChaosEdge.End;
        if (!lake.Rses.Exists(o.Rse)) return;
        var rse = lake.Rses[lake.Rses.Id(o.Rse)];
        foreach (var op in o.Unavailable) rse.Outage(op, begin);
        if (begin) ChaosEngine.Fault(lake.Context, firing.Name, ChaosKinds.RseOutage, o.Rse, ChaosEngine.Ms(o.From + o.During),
            "unavailable: " + string.Join(",", o.Unavailable).ToLowerInvariant());
    }
}
