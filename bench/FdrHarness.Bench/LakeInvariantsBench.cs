using System.Diagnostics;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Lake.Tests.Recount;
using FdrHarness.Tests;

/// <summary>
/// The Lake tests' property test on as many generated scenarios as asked: each written as YAML and loaded as a user's
/// file, run into Parquet files, every invariant recomputed from them (tests/FdrHarness.Lake.Tests/Recount). Prints
/// the seeds that fail with why, and the pace; exit 1 when one failed.
/// </summary>
internal static class LakeInvariantsBench
{
    public static int Run(Options options)
    {
        var count = (int)options.Long("scenarios", 500);
        var from = (int)options.Long("from", 1);
        Console.WriteLine($"lake-invariants: {count} generated scenarios from seed {from}, {Environment.ProcessorCount} cores");
        var clock = Stopwatch.StartNew();
        var failed = 0;
        long events = 0;
        for (var seed = from; seed < from + count; seed++)
        {
            try
            {
                var yaml = ScenarioWriter.ToYaml(ScenarioGenerator.Generate(seed));
                var loaded = ScenarioLoader.Parse(yaml, $"generated-{seed}.yaml");
                if (!loaded.Ok) throw new InvalidOperationException("invalid: " + string.Join("; ", loaded.Diagnostics));
                using var run = RecountedRun.Run(loaded.Scenario!);
                events += run.Result.Events;
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"  seed {seed}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        clock.Stop();
        Console.WriteLine($"{count - failed} of {count} hold every invariant; {clock.Elapsed.TotalSeconds:0.0} s wall, {count / clock.Elapsed.TotalSeconds:0.0} scenarios/s, {events:N0} events");
        return failed == 0 ? 0 : 1;
    }
}
