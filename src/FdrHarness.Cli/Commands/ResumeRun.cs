using System.CommandLine;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// `fdr run --resume RUN_DIR`: continues a live run that was killed (kill -9, a node lost) or interrupted, in its own
/// folder, from its own scenario.yaml and journal: the same plan on the same instants; work the journal has as done is
/// not done again (its rule ids and counts are taken up), the rest is carried out, and the counts are read back from
/// Rucio at the end as for any run.
/// </summary>
public static class ResumeRun
{
    public static Option<string?> Option() => new("--resume")
    {
        Description = "Continue the live run in RUN_DIR that was killed or interrupted (its scenario.yaml and journal.jsonl); nothing done twice.",
        HelpName = "RUN_DIR",
    };

    public static int Run(ParseResult parse, string runDir, ScenarioOptions scenarioOptions, IReadOnlyList<Option> planOptions, Option<Uri?> rucioUrl,
        MetricsOptions metricsOptions, bool png, TextWriter stdout, TextWriter stderr)
    {
        // The plan is the run's: nothing on the command line may change it.
        var changing = new List<string>();
        if (parse.GetValue(scenarioOptions.Scenario) is not null) changing.Add("SCENARIO");
        foreach (var o in new Option[] { scenarioOptions.Target, scenarioOptions.Seed, scenarioOptions.Scale, scenarioOptions.HelmValues, scenarioOptions.Overlay, scenarioOptions.Set, scenarioOptions.Kubeconfig, scenarioOptions.Context }.Concat(planOptions))
            if (parse.GetResult(o) is { Implicit: false }) changing.Add(o.Name);
        if (changing.Count > 0)
        {
            stderr.WriteLine($"fdr run: --resume continues the run as it was planned; {string.Join(", ", changing)} cannot go with it");
            return ExitCodes.InvalidInput;
        }
        var scenarioFile = Path.Combine(runDir, RunDirectory.ScenarioFile);
        if (!File.Exists(scenarioFile))
        {
            stderr.WriteLine($"fdr run: --resume {runDir}: not a run folder (no {RunDirectory.ScenarioFile})");
            return ExitCodes.InvalidInput;
        }
        var loaded = ScenarioLoader.Load(scenarioFile, ResourceBudget.Unlimited); // it ran once: the budget let it
        if (!ValidateCommand.Report(loaded, stderr)) return ExitCodes.InvalidInput;
        var scenario = loaded.Scenario!;
        if (scenario.Target.Kind != TargetKind.Rucio)
        {
            stderr.WriteLine($"fdr run: --resume {runDir}: only a live run (--target rucio) is resumed; an embedded run is run again with its seed");
            return ExitCodes.InvalidInput;
        }
        RunJournal.Contents journal;
        try { journal = RunJournal.Read(runDir); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fdr run: --resume: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        var plan = RunPlan.Create(scenario);
        if (journal.Header.Mismatch(plan, journal.Header.StartedUtc) is { } mismatch)
        {
            stderr.WriteLine($"fdr run: --resume {runDir}: {mismatch}");
            return ExitCodes.InvalidInput;
        }
        PlanPrinter.Print(scenario, stdout);
        if (scenario.Target.Kubernetes is not null)
            stdout.WriteLine("the cluster side (pod kills, limit changes, pod samples) is not resumed; `fdr restore RUN_DIR` puts back limits the killed run changed");

        using var signals = new Signals();
        return signals.ExitCode(metricsOptions.Around(parse, scenario, stdout, stderr, signals.Token, metrics =>
            ResumeAsync(runDir, plan, journal, parse.GetValue(rucioUrl), metrics, png, signals, stdout, stderr).GetAwaiter().GetResult()));
    }

    private static async Task<int> ResumeAsync(string runDir, RunPlan plan, RunJournal.Contents journal, Uri? rucioUrl, RunMetrics? metrics, bool png, Signals signals,
        TextWriter stdout, TextWriter stderr)
    {
        var live = new LiveRunOptions { RucioUrl = rucioUrl, Resume = journal, Started = metrics is null ? null : metrics.Watch };
        // Probe and preflight before the folder is taken over: a Rucio that refuses leaves it as it was.
        var (target, exit) = await RucioTarget.ConnectAsync(plan.Scenario, live, stdout, stderr, signals.Token).ConfigureAwait(false);
        if (target is null) return exit;
        using (target)
        {
            var dir = RunDirectory.Resume(runDir, out var info, out var note);
            if (note is not null) stdout.WriteLine("note: " + note);
            stdout.WriteLine($"Resuming the run started {info.StartedUtc:u}: {journal.Done.Count():N0} units of work done before the kill");
            var options = new RehearsalOptions
            {
                Resume = (dir, info), Metrics = metrics, InterruptedExit = () => signals.Received ?? ExitCodes.Interrupted, Png = png,
                Shard = info.Shard is { } shard ? new ShardSpec(shard.Index, shard.Count) : null, // a shard goes on as that shard
            };
            return await Rehearsal.RunAsync(plan, target, options, stdout, stderr, signals.Token).ConfigureAwait(false);
        }
    }
}
