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
        var overlay = OverlayOption.Create();
        overlay.Description = "An overlay merged over the run's scenario (repeatable, in order), e.g. fdr calibrate's: an embedded run is replayed with it "
            + "(into OUT/calibrated-run) and recommended from that replay; a live run's limits are verified on the lake with it. Figures are labelled calibrated.";
        var command = new Command("recommend", "Per daemon VPA and KRR recommendations side by side, written as a rucio-daemons Helm values override.") { runDir, outDir, policy, noVerify, overlay };
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
            var scenarioFile = Path.Combine(dir, Core.Observations.RunDirectory.ScenarioFile);
            var overlays = parse.GetValue(overlay) ?? [];
            // The run's own scenario, as it ran (its budget was checked then), with the overlays merged.
            var runScenario = File.Exists(scenarioFile) ? Core.Scenarios.ScenarioLoader.Load(scenarioFile, Core.Scenarios.ResourceBudget.Unlimited).Scenario : null;
            IReadOnlyList<Core.Scenarios.AppliedOverlay> applied = [];
            if (overlays.Length > 0)
            {
                if (runScenario is null)
                {
                    stderr.WriteLine($"{(dir.Length == 0 ? "''" : dir)}: error: --overlay needs the run's {Core.Observations.RunDirectory.ScenarioFile} to merge over, and it is missing or not valid");
                    return ExitCodes.InvalidInput;
                }
                if (OverlayOption.Load(scenarioFile, overlays, stderr, Core.Scenarios.ResourceBudget.Unlimited) is not { } loaded) return ExitCodes.InvalidInput;
                if (!loaded.Ok)
                {
                    stderr.WriteLine($"fdr recommend: error: the run's scenario with the overlays is not valid ({loaded.Diagnostics[0]})");
                    return ExitCodes.InvalidInput;
                }
                runScenario = loaded.Scenario!;
                applied = loaded.Overlays;
            }
            var figuresFrom = dir;
            if (applied.Count > 0 && runScenario!.Target.Kind == Core.Scenarios.Model.TargetKind.Embedded)
            {
                // The lake's figures are its models': with a calibrated overlay they come from a replay of the run with it.
                figuresFrom = Path.Combine(output, "calibrated-run");
                stdout.WriteLine($"Replaying the run with the overlays on the embedded lake into {figuresFrom}");
                Core.Observations.RunDirectory replay;
                Core.Observations.RunInfo info;
                try
                {
                    Core.Observations.RunDirectory.ClearFinished(figuresFrom); // the replay of an earlier fdr recommend
                    replay = Core.Observations.RunDirectory.Start(runScenario, Core.Observations.RunDirectory.DefaultReportsRoot, figuresFrom, out info, overlays: applied);
                }
                catch (Exception e) when (e is Core.Observations.RunDirectoryException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"fdr recommend: {e.Message}");
                    return ExitCodes.InvalidInput;
                }
                using (var sink = new Core.Observations.ParquetObservationSink(replay.Path)) Lake.EmbeddedLake.Run(runScenario, sink);
                replay.Finish(info, ExitCodes.Success);
            }
            Summary summary;
            try
            {
                summary = SummaryBuilder.Build(figuresFrom, new ReportOptions { Plots = false });
            }
            catch (Exception e) when (e is IOException or InvalidDataException or Parquet.ParquetException)
            {
                stderr.WriteLine($"{dir}: error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
            var result = HelmRecommender.Recommend(summary, p, Sources.For(summary, runScenario));
            stdout.WriteLine(Label(summary, figuresFrom, applied, Core.Observations.RunDirectory.Open(dir) is var run ? RunOverlays(run) : []));
            string? verified = null;
            var verifyOn = runScenario is null ? null : applied.Count > 0 ? runScenario with { Target = runScenario.Target with { Kind = Core.Scenarios.Model.TargetKind.Embedded } } : runScenario;
            if (!parse.GetValue(noVerify) && verifyOn is { Target.Kind: Core.Scenarios.Model.TargetKind.Embedded } scenario)
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
            var files = HelmRecommender.Write(result, output, Path.GetFullPath(figuresFrom));
            stdout.WriteLine($"Values override: {string.Join(", ", files)}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The overlays a run applied (its run.json), none when it cannot be read.</summary>
    private static IReadOnlyList<Core.Scenarios.AppliedOverlay> RunOverlays(Core.Observations.RunDirectory run)
    {
        try { return run.ReadRunInfo().Overlays ?? []; }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>Where the figures come from: live samples, or the lake with calibrated models (overlays from fdr calibrate) or its defaults.</summary>
    public static string Label(Summary summary, string figuresFrom, IReadOnlyList<Core.Scenarios.AppliedOverlay> applied, IReadOnlyList<Core.Scenarios.AppliedOverlay> ranWith)
    {
        static string Names(IEnumerable<Core.Scenarios.AppliedOverlay> o) => string.Join(", ", o.Select(x => $"{x.Path} (sha256 {x.Sha256[..12]})"));
        if (summary.Run.Target != "embedded")
            return applied.Count > 0 ? $"Figures: live samples; limits verified on the embedded lake calibrated by {Names(applied)}." : "Figures: live samples.";
        var calibrated = applied.Where(o => o.Calibrated).Concat(ranWith.Where(o => o.Calibrated)).ToList();
        if (calibrated.Count > 0)
            return $"Figures: calibrated — the embedded lake ({figuresFrom}) with the models fitted by fdr calibrate in {Names(calibrated)}.";
        return applied.Count > 0 || ranWith.Count > 0
            ? $"Figures: simulated — the embedded lake with overlays {Names(applied.Concat(ranWith))}, none of them from fdr calibrate."
            : "Figures: simulated — the embedded lake's default models (uncalibrated: run fdr calibrate, then --overlay).";
    }
}
