using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Tests;

public class ProgressTests
{
    private sealed class Collect : IProgress<LakeProgress>
    {
        public readonly List<LakeProgress> Reports = [];
        public void Report(LakeProgress value) => Reports.Add(value);
    }

    [Fact]
    public void Progress_is_reported_every_few_virtual_minutes_up_to_the_end()
    {
        var scenario = TestScenarios.Load("ci-smoke.yaml");
        var progress = new Collect();
        var result = EmbeddedLake.Run(scenario, new RecordingSink(), progress);
        Assert.True(progress.Reports.Count >= 20);
        Assert.True(progress.Reports.Zip(progress.Reports.Skip(1)).All(p => p.First.VirtualTime <= p.Second.VirtualTime));
        var last = progress.Reports[^1];
        Assert.Equal(scenario.Run.Duration, last.VirtualTime);
        Assert.Equal(result.FilesInjected, last.FilesInjected);
        Assert.Equal(result.TransfersDone, last.TransfersDone);
        Assert.Contains(last.Backlog, b => b.Key == "conveyor-submitter");
        Assert.Equal(VirtualClock.Epoch + scenario.Run.Duration, result.VirtualEndUtc);
    }

    [Fact]
    public void Cancellation_stops_the_run()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => EmbeddedLake.Run(TestScenarios.Load("ci-smoke.yaml"), new RecordingSink(), null, cts.Token));
    }
}
