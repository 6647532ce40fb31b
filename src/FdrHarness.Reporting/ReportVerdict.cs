namespace FdrHarness.Reporting;

/// <summary>One threshold as the report's verdict shows it: its figure, the value seen, the limit, ✓/✗ and why.</summary>
public sealed record VerdictLine(string Threshold, string Over, string Figure, string Value, string Limit, bool Passed, string Why);

/// <summary>
/// The thresholds' outcome at the top of report.html and report.md. The report does not judge (Decisions does, from
/// the same summary): <see cref="ReportOptions.Judge"/> hands it in while the report is built.
/// </summary>
public sealed record ReportVerdict(IReadOnlyList<VerdictLine> Lines)
{
    public bool Passed => Lines.All(l => l.Passed);
    public int Failed => Lines.Count(l => !l.Passed);

    public string Headline => Lines.Count == 0 ? "No thresholds declared: nothing to pass or fail."
        : Passed ? $"✓ PASSED: all {Lines.Count} threshold{(Lines.Count == 1 ? "" : "s")} hold."
        : $"✗ FAILED: {Failed} of {Lines.Count} threshold{(Lines.Count == 1 ? "" : "s")} failed.";
}
