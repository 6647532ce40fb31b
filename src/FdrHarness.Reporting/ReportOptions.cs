namespace FdrHarness.Reporting;

/// <summary>How a report is built. Defaults give the full report.</summary>
public sealed record ReportOptions
{
    /// <summary>Per-link target of done/submitted (e.g. 0.9): each matrix cell gets ok or below-target. Null: no verdicts.</summary>
    public double? LinkTarget { get; init; }

    /// <summary>Length of a bin of the series over time; null picks a round length giving at most 200 bins.</summary>
    public double? BinSeconds { get; init; }

    /// <summary>Write plots/*.png and *.svg (and inline them in report.html).</summary>
    public bool Plots { get; init; } = true;
}
