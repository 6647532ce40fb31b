using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Core.Scenarios.Thresholds;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A pass/fail condition on a report figure, e.g. "transfers.efficiency >= 95%".</summary>
public sealed record Threshold
{
    [Positional, RequiredKey, Doc("figure operator value, e.g. \"links[*].efficiency >= 0.9\".")]
    public ThresholdExpression Expression { get; init; } = null!;

    [Doc("Evaluate over this phase only.")]
    public string? Phase { get; init; }

    [Doc("Evaluate over every sliding window of this length.")]
    public TimeSpan? Window { get; init; }

    [Doc("Stop a live run as soon as it fails.")]
    public bool AbortOnFail { get; init; }
}
