using System.CommandLine;
using FdrHarness.Cli.Metrics;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake;
using FdrHarness.Rucio;

namespace FdrHarness.Cli.Commands;

public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenario = new ScenarioOptions();
        var output = new Option<string?>("--out") { Description = "Run directory; default reports/<name>/<UTC time>-<seed>/." };
        var rucioUrl = RucioUrlOption.Create();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (as `fdr plan` does) and every chaos action; touch nothing." };
        var metricsOptions = new MetricsOptions();
        var shard = ShardOption.Create("Carry out part INDEX of COUNT of the plan (0 ≤ INDEX < COUNT, e.g. $JOB_COMPLETION_INDEX/4); join the shards with fdr merge.");
        var resume = ResumeRun.Option();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No plan, progress or summary lines: only the run folder, the report, the verdict and errors." };
        var noColor = new Option<bool>("--no-color") { Description = "Plain progress lines, no colours or live table (also when NO_COLOR is set)." };
        var png = PngOption.Create();
        var force = new Option<bool>("--force") { Description = "Reuse --out when it holds a finished run: its files are removed first (a folder that is not a finished run's is still refused)." };
        var command = new Command("run", "Run a rehearsal and write its run directory.")
        {
            output, rucioUrl, dryRun, shard, metricsOptions.Port, metricsOptions.Wait, resume, quiet, noColor, force, png,
        };
        scenario.AddTo(command);
        scenario.Scenario.Arity = ArgumentArity.ZeroOrOne; // --resume takes the scenario from the run folder
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) is { } runDir)
                return ResumeRun.Run(parse, runDir, scenario, [output, dryRun, shard, force], rucioUrl, metricsOptions, parse.GetValue(png), stdout, stderr);
            if (parse.GetValue(scenario.Scenario) is null)
            {
                // The parser's own words (the argument is optional only for --resume).
                stderr.WriteLine("fdr: Required argument missing for command: 'run': a SCENARIO file, or --resume RUN_DIR to continue a killed live run.");
                return ExitCodes.InvalidInput;
            }
            WarmUp.Then(RunDirectory.Prepare); // run.json's serializer, made ready while the scenario is read
            if (scenario.Resolve(parse, "run", stdout, stderr, out var map, out var overlays) is not { } s) return ExitCodes.InvalidInput;
            if (!parse.GetValue(quiet)) PlanPrinter.Print(s, stdout);
            if (parse.GetValue(dryRun))
            {
                var plan = RunPlan.Create(s);
                PlanCommand.PrintText(plan, stdout);
                var planned = s.Target.Kind == TargetKind.Rucio ? ClusterSide.PrintPlan(plan, map, stdout, stderr) : ExitCodes.Success;
                stdout.WriteLine("Dry run: nothing was started.");
                return planned;
            }
            using var signals = new Signals(); // Ctrl-C and SIGTERM stop cleanly: the observations so far are completed and kept
            // Live metrics wrap the whole run: RunMetrics observes the run's sink and reads its progress.
            return signals.ExitCode(metricsOptions.Around(parse, s, stdout, stderr, signals.Token, metrics =>
            {
                var options = new RehearsalOptions
                {
                    OutDir = parse.GetValue(output), Metrics = metrics, InterruptedExit = () => signals.Received ?? ExitCodes.Interrupted,
                    Shard = parse.GetValue(shard), Overlays = overlays, Quiet = parse.GetValue(quiet), Force = parse.GetValue(force), Png = parse.GetValue(png),
                    Plain = parse.GetValue(noColor) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")),
                };
                if (s.Target.Kind == TargetKind.Embedded)
                {
                    // The plan (a walk over every planned file) on another core while the run folder and the sink are set up.
                    var named = DefaultNames.Apply(s);
                    return Rehearsal.RunAsync(named, Task.Run(() => RunPlan.Create(named)), new EmbeddedTarget(), options, stdout, stderr, signals.Token)
                        .GetAwaiter().GetResult();
                }
                return RunLive(s, map!, parse.GetValue(rucioUrl), options, stdout, stderr, signals.Token).GetAwaiter().GetResult();
            }));
        });
        return command;
    }

    /// <summary>A live run: the cluster checked and probed first, then Rucio; either refusing ends it before anything is written.</summary>
    private static async Task<int> RunLive(Scenario s, Core.Scenarios.Yaml.SourceMap map, Uri? rucioUrl, RehearsalOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        // The cluster's chaos and observation belong to shard 0 (they act on what every shard shares); other shards leave it alone.
        k8s.IKubernetes? cluster = null;
        var prepared = options.Shard is { Index: > 0 } ? ExitCodes.Success : ClusterSide.Prepare(s, map, stdout, stderr, ct, out cluster);
        if (prepared != ExitCodes.Success) return prepared;
        var live = new LiveRunOptions
        {
            RucioUrl = rucioUrl,
            Alongside = cluster is null ? null : ClusterSide.Alongside(cluster, stdout, stderr),
            Started = options.Metrics is { } metrics ? metrics.Watch : null,
        };
        var (target, exit) = await RucioTarget.ConnectAsync(s, live, stdout, stderr, ct).ConfigureAwait(false);
        if (target is null)
        {
            cluster?.Dispose();
            return exit;
        }
        using (target)
        {
            var resolved = s with { Target = s.Target with { Kind = TargetKind.Rucio, Rucio = target.Connection } };
            return await Rehearsal.RunAsync(RunPlan.Create(resolved), target, options, stdout, stderr, ct).ConfigureAwait(false);
        }
    }

}
