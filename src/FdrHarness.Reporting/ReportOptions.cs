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

    /// <summary>Write plots/*.png and *.svg (and inline them in report.html).</summary>
    public bool Plots { get; init; } = true;

    /// <summary>The thresholds' verdict on the summary, shown at the top of the report; null: none (report without a scenario's thresholds).</summary>
    public Func<Analysis.Summary, ReportVerdict?>? Judge { get; init; }
}
