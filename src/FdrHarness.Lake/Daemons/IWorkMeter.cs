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

    /// <summary>The run's own transfer outcomes for a replay that follows them; null: the lake draws them.</summary>
    ITransferOutcomes? Outcomes => null;
}

/// <summary>
/// A run's transfer attempts as it observed them (fdr calibrate's replay): FTS takes each attempt's verdict and duration
/// from here instead of drawing them, so the replay's transfers end when the run's did whatever the link parameters.
/// </summary>
public interface ITransferOutcomes
{
    /// <summary>
    /// The run's next attempt to copy file <paramref name="scope"/>:<paramref name="name"/> to <paramref name="destination"/>
    /// (attempts in the order they started): whether the link failed it (not unavailable storage) and how long it took, in
    /// ms. False when the run has no further attempt for it.
    /// </summary>
    bool Next(string scope, string name, string destination, out bool linkFailed, out long milliseconds);
}
