using System.CommandLine;
using System.CommandLine.Invocation;
using FdrHarness.Cli.Commands;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Cli;

/// <summary>The `fdr` command line. In-process entry point so tests run it without spawning a process.</summary>
public static class FdrApp
{
    public const string Examples = """
        Examples:
          fdr validate scenarios/escape-fdr-2020.yaml
          fdr run scenarios/escape-fdr-2020.yaml                 # the 24 h ESCAPE rehearsal on the embedded data lake
          fdr run scenarios/ci-smoke.yaml --seed 7 --scale 0.5 --out reports/try
          fdr plan scenarios/escape-fdr-2020.yaml                # what a run does, per phase; --format json: every operation
          fdr run scenarios/escape-fdr-2020.yaml --dry-run       # print the plan, run nothing
          fdr run scenarios/escape-fdr-2020.yaml --target rucio --dry-run   # the chaos a live run would do, and where
          fdr run scenarios/ci-smoke.yaml --helm-values values.yaml        # a rucio-daemons values file, rehearsed
          fdr run staging.yaml --metrics-port 9464 --metrics-wait 2m      # Prometheus metrics while it runs
          fdr report reports/escape-fdr-2020/20261125T110000Z-2020
          fdr restore reports/staging/20261125T110000Z-7         # put back limits a crashed live run changed
          fdr live prepare test-lake.yaml                        # scopes, RSE attributes, limits on a disposable test Rucio
          fdr baseline scenarios/ci-smoke.yaml --seeds 5 --out baseline.json   # median and spread over 5 seeds
          fdr compare baseline.json reports/ci-smoke/20261125T110000Z-42         # exit 99 when a figure regressed
          fdr run staging.yaml --target rucio --shard 2/4 --out runs/s2    # part 2 of 4 of the plan (an Indexed Job's pod)
          fdr merge runs/s0 runs/s1 runs/s2 runs/s3 --out runs/all       # the shards as one run, its report and thresholds
          fdr sweep my.yaml --scale 0.5,1,2,5,10 --shard 3/5 --out sweep/s3    # one point of a sweep (also baseline, predict)
          fdr merge sweep --out sweep/all --wait 2h                  # wait for every shard in sweep/, then the sweep's files

        Exit codes: 0 success, 1 unexpected failure, 2 invalid scenario or arguments,
                    3 target unreachable, 99 thresholds failed, 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
        """;

    public static string Version => Core.Observations.RunDirectory.ToolVersion;

    private sealed class PrintVersion(TextWriter stdout) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine(Version);
            return ExitCodes.Success;
        }
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // Nearly every command reads a scenario or a run's scenario.yaml: YamlDotNet's parser is made ready meanwhile.
        WarmUp.Then(YamlTreeReader.Prepare);
        var root = new RootCommand("fdr — full-dress rehearsals of a Rucio data lake: inject, replicate, delete, break things, report.\n\n" + Examples)
        {
            ValidateCommand.Create(stdout, stderr),
            PlanCommand.Create(stdout, stderr),
            RunCommand.Create(stdout, stderr),
            ReportCommand.Create(stdout, stderr),
            SchemaCommand.Create(stdout),
            CompareCommand.Create(stdout, stderr),
            BaselineCommand.Create(stdout, stderr),
            RecommendCommand.Create(stdout, stderr),
            SweepCommand.Create(stdout, stderr),
            RestoreCommand.Create(stdout, stderr),
            LiveCommand.Create(stdout, stderr),
            MergeCommand.Create(stdout, stderr),
            CalibrateCommand.Create(stdout, stderr),
            PredictCommand.Create(stdout, stderr),
        };
        // The built-in version action prints the entry assembly's version (a test host's, in tests); print ours.
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new PrintVersion(stdout);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"fdr: {error.Message}");
            stderr.WriteLine("Try 'fdr --help'.");
            return ExitCodes.InvalidInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is RunDirectoryException or InputFileException)
        {
            // A folder or file the user named cannot be used (taken, not empty, not a file): their mistake, said in one line.
            stderr.WriteLine($"fdr: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e)
        {
            // A bug, not a user mistake: one line plus where to look, never a bare stack trace on the console.
            stderr.WriteLine($"fdr: unexpected failure: {e.GetType().Name}: {e.Message}");
            stderr.WriteLine("This is a bug in fdr; please report it with the command line and scenario.");
            return ExitCodes.UnexpectedFailure;
        }
    }
}
