using FdrHarness.Core.Scenarios.Thresholds;

namespace FdrHarness.Core.Tests.Scenarios;

public class ThresholdExpressionTests
{
    [Theory]
    [InlineData("transfers.efficiency >= 95%", "transfers.efficiency", ComparisonOperator.GreaterOrEqual, 0.95)]
    [InlineData("transfers.efficiency>=0.95", "transfers.efficiency", ComparisonOperator.GreaterOrEqual, 0.95)]
    [InlineData("daemons[judge-evaluator].oom_kills == 0", "daemons[judge-evaluator].oom_kills", ComparisonOperator.Equal, 0)]
    [InlineData("links[*].done_over_submitted >= 10%", "links[*].done_over_submitted", ComparisonOperator.GreaterOrEqual, 0.1)]
    [InlineData("rules.completion_time.p95 < 2h", "rules.completion_time.p95", ComparisonOperator.Less, 7200)]
    [InlineData("rules.stuck <= 10", "rules.stuck", ComparisonOperator.LessOrEqual, 10)]
    [InlineData("rses[SARA-DCACHE].used > 10 TB", "rses[SARA-DCACHE].used", ComparisonOperator.Greater, 1e13)]
    [InlineData("transfers.throughput > 1.25 GB/s", "transfers.throughput", ComparisonOperator.Greater, 1.25e9)]
    [InlineData("events.count != 0", "events.count", ComparisonOperator.NotEqual, 0)]
    [InlineData("  latency.p99 < 500ms  ", "latency.p99", ComparisonOperator.Less, 0.5)]
    [InlineData("x > -1.5e3", "x", ComparisonOperator.Greater, -1500)]
    public void Parses(string text, string figure, ComparisonOperator op, double value)
    {
        Assert.True(ThresholdExpression.TryParse(text, out var t, out var error), error);
        Assert.Equal(figure, t.FigurePath);
        Assert.Equal(op, t.Operator);
        Assert.Equal(value, t.Value, 9);
        Assert.Equal(text.Trim(), t.Text);
        Assert.Equal(text.Trim(), t.ToString());
    }

    [Fact]
    public void SegmentsKeepTheirSelectors()
    {
        Assert.True(ThresholdExpression.TryParse("daemons[judge-evaluator].memory.p95 < 2000Mi", out var t, out _));
        Assert.Equal([new FigureSegment("daemons", "judge-evaluator"), new FigureSegment("memory", null), new FigureSegment("p95", null)], t.Figure);
        Assert.Equal(2000.0 * 1024 * 1024, t.Value);
        Assert.Equal("2000Mi", t.ValueText);
        Assert.Equal("< 2000Mi", t.Limit);
        // A link's selector holds a '>' of its own: the limit comes from the parse, not from the text's first '>'.
        Assert.True(ThresholdExpression.TryParse("links[PIC-DCACHE->EULAKE-1].efficiency>=90%", out var link, out _));
        Assert.Equal(">= 90%", link.Limit);
    }

    [Theory]
    [InlineData("transfers.efficiency 90%", 21, "expected a comparison")]
    [InlineData("transfers.efficiency => 90%", 21, "did you mean '>='?")]
    [InlineData("transfers.efficiency =< 90%", 21, "did you mean '<='?")]
    [InlineData("transfers.efficiency = 1", 21, "did you mean '=='?")]
    [InlineData("transfers.efficiency >= lots", 24, "'lots' is not a value")]
    [InlineData("transfers.efficiency >=", 23, "'' is not a value")]
    [InlineData("links[*.efficiency >= 0.9", 5, "never closed")]
    [InlineData("links[].efficiency >= 0.9", 5, "empty selector")]
    [InlineData(">= 0.9", 0, "expected a figure name")]
    [InlineData("9lives > 1", 0, "expected a figure name")]
    [InlineData("transfers. > 1", 10, "expected a figure name")]
    [InlineData("", 0, "expected a figure name")]
    public void RejectsWithThePlaceOfTheMistake(string text, int index, string message)
    {
        Assert.False(ThresholdExpression.TryParse(text, out _, out var error, out var at));
        Assert.Contains(message, error);
        Assert.Equal(index, at);
        Assert.False(ThresholdExpression.TryParse(text, out _, out var withColumn));
        Assert.EndsWith($"(column {index + 1} of the expression)", withColumn);
    }

    [Theory]
    [InlineData("x < 5", 4.9, true)]
    [InlineData("x < 5", 5, false)]
    [InlineData("x <= 5", 5, true)]
    [InlineData("x > 5", 5, false)]
    [InlineData("x >= 5", 5, true)]
    [InlineData("x == 95%", 0.95, true)]
    [InlineData("x != 0", 0, false)]
    public void Holds(string text, double figure, bool holds)
    {
        Assert.True(ThresholdExpression.TryParse(text, out var t, out _));
        Assert.Equal(holds, t.Holds(figure));
    }
}
