namespace FdrHarness.Lake.Tests;

public class DeterminismTests
{
    [Fact]
    public void Same_seed_gives_identical_observations_and_another_seed_differs()
    {
        var scenario = TestScenarios.Load("ci-smoke.yaml");
        var a = new RecordingSink();
        var b = new RecordingSink();
        var c = new RecordingSink();
        EmbeddedLake.Run(scenario, a);
        EmbeddedLake.Run(scenario, b);
        EmbeddedLake.Run(scenario with { Run = scenario.Run with { Seed = scenario.Run.Seed + 1 } }, c);
        Assert.True(a.Events > 1000 && a.Injections > 0);
        Assert.Equal(a.Events, b.Events);
        Assert.Equal(a.Hash, b.Hash);
        Assert.NotEqual(a.Hash, c.Hash);
    }

    [Fact]
    public void Escape_at_small_scale_with_its_chaos_is_deterministic()
    {
        var scenario = TestScenarios.Load("escape-fdr-2020.yaml", 0.02);
        var a = new RecordingSink();
        var b = new RecordingSink();
        EmbeddedLake.Run(scenario, a);
        EmbeddedLake.Run(scenario, b);
        Assert.True(a.Faults >= 3);
        Assert.Equal(a.Hash, b.Hash);
    }
}
