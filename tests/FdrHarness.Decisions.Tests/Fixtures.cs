using FdrHarness.Cli;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Thresholds;

namespace FdrHarness.Decisions.Tests;

internal static class Repo
{
    public static Scenario Load(string file) => ScenarioLoader.Load(RepoPaths.Scenario(file)).Scenario!;

    public static Threshold T(string text, string? phase = null, TimeSpan? window = null)
    {
        Assert.True(ThresholdExpression.TryParse(text, out var e, out var error), error);
        return new Threshold { Expression = e, Phase = phase, Window = window };
    }

    public static (int Code, string Out, string Err) Fdr(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = FdrApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}

/// <summary>One ci-smoke run with its report, shared by the tests that need a real run directory.</summary>
public sealed class SmokeRun : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "fdr-decisions-" + Guid.NewGuid().ToString("N")[..8]);

    public SmokeRun()
    {
        var (code, _, err) = Repo.Fdr("run", RepoPaths.Scenario("ci-smoke.yaml"), "--out", Dir);
        // 0 or 99 (thresholds) are both a finished run with its report.
        if (code is not (0 or 99)) throw new InvalidOperationException($"fdr run failed ({code}): {err}");
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition("smoke")]
public sealed class SmokeCollection : ICollectionFixture<SmokeRun>;
