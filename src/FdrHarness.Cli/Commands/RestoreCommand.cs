using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Connection;

namespace FdrHarness.Cli.Commands;

/// <summary>`fdr restore RUN_DIR`: puts back the limits a live run changed, after a crash left them changed.</summary>
public static class RestoreCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDir = new Argument<string>("run-dir") { Description = "The run directory of a live run (it holds restore.json and scenario.yaml)." };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "The kubeconfig to use instead of the run's target.kubernetes.kubeconfig (as kubectl's)." };
        var context = new Option<string?>("--context") { Description = "The kubeconfig context to use instead of the run's (as kubectl's)." };
        var command = new Command("restore", "Put back the Deployment resources a live run changed (from its restore.json); safe to repeat.") { runDir, kubeconfig, context };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Directory.Exists(dir))
            {
                stderr.WriteLine($"{dir}: error: no such run directory");
                return ExitCodes.InvalidInput;
            }
            if (!File.Exists(Path.Combine(dir, RestoreFile.FileName)))
            {
                stdout.WriteLine($"{dir}: the run changed no limits ({RestoreFile.FileName} is absent); nothing to restore");
                return ExitCodes.Success;
            }
            try
            {
                RestoreFile.Open(dir); // read before the cluster is contacted: a damaged file is told, nothing touched
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{Path.Combine(dir, RestoreFile.FileName)}: error: damaged, nothing was restored: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
            // The run's own resolved scenario says which cluster it touched.
            var loaded = ScenarioLoader.Load(Path.Combine(dir, RunDirectory.ScenarioFile), ResourceBudget.Unlimited);
            if (loaded.Scenario?.Target.Kubernetes is null)
            {
                foreach (var d in loaded.Diagnostics) stderr.WriteLine(d);
                stderr.WriteLine($"{dir}: error: its scenario.yaml has no target.kubernetes; cannot tell which cluster to restore");
                return ExitCodes.InvalidInput;
            }
            if (ScenarioOptions.WithCluster(loaded.Scenario, parse.GetValue(kubeconfig), parse.GetValue(context), "restore", stderr)?.Target.Kubernetes is not { } connection)
                return ExitCodes.InvalidInput;
            try
            {
                using var client = ClusterConnector.Create(connection);
                ClusterConnector.ProbeAsync(client).GetAwaiter().GetResult();
                var report = ChaosRestore.RestoreRunDirectoryAsync(client, dir).GetAwaiter().GetResult();
                stdout.WriteLine($"restored {report.Restored} change(s); {report.AlreadyRestored} had been restored before; audit.jsonl updated");
                foreach (var f in report.Failures) stderr.WriteLine($"fdr restore: {f}");
                return report.Complete ? ExitCodes.Success : ExitCodes.UnexpectedFailure;
            }
            catch (ClusterUnreachableException e)
            {
                stderr.WriteLine($"fdr: cannot reach the Kubernetes API at {e.Server}: {e.Reason}");
                return ExitCodes.TargetUnreachable;
            }
        });
        return command;
    }
}
