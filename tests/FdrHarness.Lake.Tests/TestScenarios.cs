using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Lake.Tests;

internal static class TestScenarios
{
    public static Scenario Load(string file, double? scale = null)
    {
        var r = ScenarioLoader.Load(RepoPaths.Scenario(file));
        Assert.True(r.Ok, string.Join("\n", r.Diagnostics));
        var s = r.Scenario!;
        return scale is { } f ? s with { Run = s.Run with { Scale = f } } : s;
    }
}
