using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Decisions.Recommend;
using FdrHarness.Reporting;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Cli.Commands;

public static class RecommendCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run directory (reports/<scenario>/<time>-<seed>/)." };
        var outDir = new Option<string?>("--out") { Description = "Folder for the values files (default: RUN_DIR/recommend)." };
        var policy = new Option<string>("--policy") { Description = "max (default: the larger memory of VPA and KRR), vpa or krr.", DefaultValueFactory = _ => "max" };
        var noVerify = new Option<bool>("--no-verify") { Description = "Do not replay an embedded-lake run with the recommended limits to bump the ones still OOMKilled." };
        var command = new Command("recommend", "Per daemon VPA and KRR recommendations side by side, written as a rucio-daemons Helm values override.") { runDir, outDir, policy, noVerify };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Enum.TryParse<Policy>(parse.GetValue(policy), ignoreCase: true, out var p))
            {
                stderr.WriteLine($"--policy {parse.GetValue(policy)}: error: expected max, vpa or krr");
                return ExitCodes.InvalidInput;
            }
            if (string.IsNullOrWhiteSpace(dir) || !Directory.Exists(dir) || !File.Exists(Path.Combine(dir, "samples.parquet")))
            {
                stderr.WriteLine($"{(dir.Length == 0 ? "''" : dir)}: error: not a run directory with samples.parquet (pod usage is what the recommendations come from)");
                return ExitCodes.InvalidInput;
            }
            var output = parse.GetValue(outDir) ?? Path.Combine(dir, "recommend");
            if (OutputFolder.Problem(output) is { } unusable)
            {
                stderr.WriteLine($"fdr recommend: {unusable}");
                return ExitCodes.InvalidInput;
            }
            Summary summary;
            try
            {
                summary = SummaryBuilder.Build(dir, new ReportOptions { Plots = false });
            }
            catch (Exception e) when (e is IOException or InvalidDataException or Parquet.ParquetException)
            {
                stderr.WriteLine($"{dir}: error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
            var scenarioFile = Path.Combine(dir, Core.Observations.RunDirectory.ScenarioFile);
            // The run's own scenario, as it ran (its budget was checked then).
            var runScenario = File.Exists(scenarioFile) ? Core.Scenarios.ScenarioLoader.Load(scenarioFile, Core.Scenarios.ResourceBudget.Unlimited).Scenario : null;
            var result = HelmRecommender.Recommend(summary, p, Sources.For(summary, runScenario));
            string? verified = null;
            if (!parse.GetValue(noVerify) && runScenario is { Target.Kind: Core.Scenarios.Model.TargetKind.Embedded } scenario)
            {
                // Replays the run in memory: a limit that still OOMs is bumped again, as VPA would after the next kill.
                var (converged, verification) = OomVerifier.Converge(scenario, result);
                result = converged;
                verified = verification.NoOom
                    ? $"Verified on the embedded lake: no OOMKill with these limits ({verification.Rounds} replay{(verification.Rounds == 1 ? "" : "s")})."
                    : $"Warning: still OOMKilled after {verification.Rounds} replays: {string.Join(", ", verification.OomKillsPerRound[^1].Keys)}.";
            }
            stdout.Write(HelmRecommender.Table(result));
            if (verified is not null) stdout.WriteLine(verified);
            var files = HelmRecommender.Write(result, output, Path.GetFullPath(dir));
            stdout.WriteLine($"Values override: {string.Join(", ", files)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
