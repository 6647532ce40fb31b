using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Lake;

namespace FdrHarness.Reporting.Tests;

internal static class Repo
{
    public static string TempDir(string what)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fdr-report-{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>One ci-smoke rehearsal on the embedded lake, observed into a run directory, shared by a test class.</summary>
public sealed class SmokeRun : IDisposable
{
    public string Dir { get; }

    public SmokeRun()
    {
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml"));
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var scenario = loaded.Scenario!;
        Dir = Repo.TempDir("smoke");
        var run = RunDirectory.Create(Dir, scenario.Run.Name, scenario.Run.Seed, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), outDir: Dir);
        run.WriteScenario(scenario);
        var info = RunInfo.Start(scenario);
        run.WriteRunInfo(info);
        using (var sink = run.OpenSink())
            EmbeddedLake.Run(scenario, sink);
        run.WriteRunInfo(info.End(0));
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
