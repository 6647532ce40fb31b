using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Baseline;
using FdrHarness.Decisions.Shards;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

public static class BaselineCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenarioPath = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var seeds = new Option<int>("--seeds") { Description = "How many runs, each with a seed derived from the scenario's (at least 2; 5 is a good start).", DefaultValueFactory = _ => 5 };
        var outFile = new Option<string?>("--out") { Description = "The baseline file (default: reports/<scenario>/baseline.json); with --shard, the shard's folder." };
        var shard = ShardOption.Create("Run only the seeds j with j mod COUNT = INDEX (e.g. $JOB_COMPLETION_INDEX/5: one seed per pod) into the folder --out; join the shards with fdr merge.");
        var set = new Option<string[]>("--set") { Description = $"Change a setting first, PATH=VALUE (repeatable): {ScenarioSettings.Paths}.", AllowMultipleArgumentsPerToken = false };
        var command = new Command("baseline", "Run a scenario with several seeds on the embedded lake (on every core) and write each figure's median and spread, the baseline 'fdr compare' judges against.")
        {
            scenarioPath, seeds, outFile, set, shard,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioPath)!;
            var n = parse.GetValue(seeds);
            if (n is < 2 or > 100)
            {
                stderr.WriteLine($"fdr baseline: --seeds {n}: expected 2 to 100 runs (a spread needs at least 2)");
                return ExitCodes.InvalidInput;
            }
            var loaded = ScenarioLoader.Load(path);
            if (!ValidateCommand.Report(loaded, stderr)) return ExitCodes.InvalidInput;
            var scenario = loaded.Scenario!;
            if (scenario.Target.Kind != Core.Scenarios.Model.TargetKind.Embedded)
            {
                stderr.WriteLine($"{path}: error: a baseline runs the embedded lake; this scenario targets a real Rucio (keep its runs' summary.json and compare with them)");
                return ExitCodes.InvalidInput;
            }
            try
            {
                scenario = ScenarioSettings.Apply(scenario, parse.GetValue(set) ?? []);
            }
            catch (SweepInputException e)
            {
                stderr.WriteLine($"fdr baseline: error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            if (ResourceBudget.Exceeded(scenario, loaded.Map) is { Count: > 0 } over) // --set may have grown it
            {
                ValidateCommand.Report(over, stderr);
                return ExitCodes.InvalidInput;
            }
            if (parse.GetValue(shard) is { } part)
            {
                IReadOnlyList<int> indices;
                try
                {
                    indices = PointMerge.Prepare(part, n, "baseline", parse.GetValue(outFile));
                }
                catch (SweepInputException e)
                {
                    stderr.WriteLine($"fdr baseline: error: {e.Message}");
                    return ExitCodes.InvalidInput;
                }
                var clock = Stopwatch.StartNew();
                var runs = BaselineRunner.RunSeeds(scenario, n, indices, new LineProgress(stdout));
                return PointMerge.Finish(new PointShard("baseline", new JsonObject { ["seeds"] = n }, part, n, clock.Elapsed, [.. runs.Select(r => r.ToJson())]),
                    scenario, parse.GetValue(outFile)!, "seeds " + string.Join(", ", runs.Select(r => r.Seed)), stdout);
            }
            var file = parse.GetValue(outFile) ?? Path.Combine(Core.Observations.RunDirectory.DefaultReportsRoot, Core.Observations.RunDirectory.SafeName(scenario.Run.Name), FileName);
            var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
            try
            {
                Directory.CreateDirectory(folder);
                if (Directory.Exists(file)) throw new IOException($"{file} is a directory; give a file name such as baseline.json");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"fdr baseline: error: --out {file}: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            stdout.WriteLine($"Baseline of {scenario.Run.Name}: {n} runs on {Environment.ProcessorCount} cores, seeds {string.Join(", ", BaselineRunner.Seeds(scenario.Run.Seed, n))}");
            var result = BaselineRunner.Run(scenario, n, new LineProgress(stdout));
            Core.Observations.RunDirectory.WriteAtomically(file, result.ToJson());
            Written(result, file, stdout);
            return ExitCodes.Success;
        });
        return command;
    }

    public const string FileName = "baseline.json";

    /// <summary>What a written baseline holds and what to do with it: after one process's runs, or fdr merge of its shards.</summary>
    internal static void Written(BaselineResult result, string file, TextWriter stdout)
    {
        var judged = result.Figures.Count(f => Core.Figures.FigureCatalog.Find(f.Key)?.Judged == true);
        stdout.WriteLine($"Baseline written to {file}: {judged} judged figures, median and spread over {result.Seeds.Count} seeds, in {result.Wall.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
        stdout.WriteLine($"Next: fdr compare {file} RUN_DIR");
    }

    /// <summary>Prints at once from whichever core finished.</summary>
    private sealed class LineProgress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (writer) writer.WriteLine("  " + value);
        }
    }
}
