namespace FdrHarness.Reporting;

/// <summary>How a report is built. Defaults give the full report.</summary>
public sealed record ReportOptions
{
    /// <summary>The link target when none is given: the FDR's 90 % done/submitted.</summary>
    public const double DefaultLinkTarget = 0.9;

    /// <summary>Per-link target of done/submitted: each matrix cell gets ok or below-target. Null: <see cref="DefaultLinkTarget"/>.</summary>
    public double? LinkTarget { get; init; }

    /// <summary>Length of a bin of the series over time; null picks a round length giving at most 200 bins.</summary>
    public double? BinSeconds { get; init; }

    /// <summary>Write plots/*.svg (and inline them in report.html).</summary>
    public bool Plots { get; init; } = true;

    /// <summary>
    /// Also write each plot as plots/*.png (--png): for where an SVG is not shown (chat, some slide tools). Off by default:
    /// report.html shows the SVGs, and rasterising and encoding the PNGs took a third of the plots' CPU (README, Benchmarks).
    /// </summary>
    public bool Png { get; init; }

    /// <summary>The thresholds' verdict on the summary, shown at the top of the report; null: none (report without a scenario's thresholds).</summary>
    public Func<Analysis.Summary, ReportVerdict?>? Judge { get; init; }

    /// <summary>
    /// The run's events as its sink wrote them (fdr run): the event pass is then taken from it instead of decoding
    /// events.parquet again, when it saw exactly the file's rows; null (or a feed that did not): the file is read.
    /// </summary>
    public Input.ObservationFeed? Feed { get; init; }

    /// <summary>
    /// The run's scenario for a caller that needs it too (fdr report judges with it), loaded once when the summary first
    /// asks for it, after the event pass has started; null: the summary loads the run's scenario.yaml itself.
    /// </summary>
    public Lazy<FdrHarness.Core.Scenarios.Model.Scenario?>? Scenario { get; init; }
}
