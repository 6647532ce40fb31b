using FdrHarness.Lake.Cluster;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// Sees the daemons' work as the lake does it, for calibration (fdr calibrate): it counts, per pod, what the work
/// models multiply by their parameters. Null in an ordinary run.
/// </summary>
public interface IWorkMeter
{
    /// <summary>A thread of <paramref name="pod"/> took a bulk: <paramref name="units"/> is the bulk's units.</summary>
    void Took(Pod pod, long units);

    /// <summary>A thread finished a bulk of <paramref name="units"/> units (what the pod's cache grows by).</summary>
    void Finished(Pod pod, long units);

    /// <summary>
    /// The pod's tick at <paramref name="now"/> (ms): from now for <paramref name="seconds"/> it runs its idle loop and
    /// spends the CPU of <paramref name="itemUnits"/> items' cost and <paramref name="bulks"/> bulks' cost (fractions of
    /// bulks in flight), as <see cref="Pod.UseCpu"/> spreads it.
    /// </summary>
    void Ticked(Pod pod, long now, double seconds, double itemUnits, double bulks);
}
