using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Kubernetes;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Planning;
using FdrHarness.Kubernetes.Prometheus;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Rucio;
using k8s;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// The Kubernetes side of `fdr run --target rucio` when the scenario has target.kubernetes: the dry-run plan, the
/// checks before anything starts (safety, then a bounded probe), and the chaos and observation beside the phases.
/// </summary>
public static class ClusterSide
{
    private static readonly TimeSpan ProbeBudget = TimeSpan.FromSeconds(20);

    /// <summary>--dry-run: every chaos action with its targets, touching nothing; exit 2 when a live run would be refused.</summary>
    public static int PrintPlan(RunPlan runPlan, SourceMap? map, TextWriter stdout, TextWriter stderr)
    {
        var scenario = runPlan.Scenario;
        var plan = ChaosPlanner.Build(runPlan, map);
        foreach (var line in ChaosPlanText.Render(plan)) stdout.WriteLine(line);
        if (scenario.Target.Kubernetes is null)
        {
            stdout.WriteLine("  no target.kubernetes: a live run leaves the cluster alone and applies none of these actions");
            return ExitCodes.Success;
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  blast radius: at most {scenario.Target.Kubernetes.MaxUnavailable * 100:0.#}% of a Deployment's ready pods down at once; every action in audit.jsonl"));
        foreach (var d in plan.Refusals) stderr.WriteLine(d);
        return plan.Refusals.Count == 0 ? ExitCodes.Success : ExitCodes.InvalidInput;
    }

    /// <summary>
    /// Before the run: refuses an unsafe scenario (exit 2, nothing contacted), then connects and probes every allowed
    /// namespace within 20 s in all (exit 3 with one line). Null client: no cluster side.
    /// </summary>
    public static int Prepare(Scenario scenario, SourceMap map, TextWriter stdout, TextWriter stderr, CancellationToken ct, out IKubernetes? client)
    {
        client = null;
        if (scenario.Target.Kubernetes is not { } connection)
        {
            if (scenario.Chaos.Any(c => c is PodKill or LimitChange))
                stdout.WriteLine("no target.kubernetes: pod kills and limit changes are not applied on this live run");
            return ExitCodes.Success;
        }
        var refusals = NamespaceSafety.Check(scenario, map);
        if (refusals.Count > 0)
        {
            ValidateCommand.Report(refusals, stderr, "; nothing was touched.");
            return ExitCodes.InvalidInput;
        }
        try
        {
            client = ClusterConnector.Create(connection);
            // One budget for all namespaces: the operator hears within 30 s, however many there are.
            var deadline = DateTime.UtcNow + ProbeBudget;
            var version = "";
            foreach (var ns in connection.Namespaces)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new ClusterUnreachableException(client.BaseUri.ToString(), $"no answer within {ProbeBudget.TotalSeconds:0} s");
                version = ClusterConnector.ProbeAsync(client, ns, left < ClusterConnector.DefaultProbeTimeout ? left : ClusterConnector.DefaultProbeTimeout, ct).GetAwaiter().GetResult();
            }
            stdout.WriteLine($"Kubernetes {version} at {client.BaseUri}, namespaces {string.Join(", ", connection.Namespaces)}");
            return ExitCodes.Success;
        }
        catch (ClusterUnreachableException e)
        {
            client?.Dispose();
            client = null;
            stderr.WriteLine($"fdr: cannot reach the Kubernetes API at {e.Server}: {e.Reason}");
            return ExitCodes.TargetUnreachable;
        }
        catch (OperationCanceledException)
        {
            client?.Dispose();
            client = null;
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>The chaos and the observation of the cluster, for <see cref="LiveRunOptions.Alongside"/>.</summary>
    public static Func<LiveRunContext, CancellationToken, Task<int>> Alongside(IKubernetes client, TextWriter stdout, TextWriter stderr) =>
        async (run, ct) =>
        {
            var connection = run.Plan.Scenario.Target.Kubernetes!;
            IReadOnlyList<IPodUsageSource> usage = connection.PrometheusUrl is { } prometheus
                ? [new PrometheusUsageSource(new PrometheusClient(prometheus)), new MetricsServerUsage(client)]
                : [new MetricsServerUsage(client)];
            try
            {
                var summary = await ClusterRehearsal.RunAsync(run.Plan, new ClusterRunOptions
                {
                    Sink = run.Sink,
                    RunDirectory = run.RunPath,
                    Start = run.StartedUtc,
                    Client = client,
                    UsageSources = usage,
                }, ct).ConfigureAwait(false);
                foreach (var (name, value) in summary.Counters()) run.Counters[name] = value;
                var c = summary.Chaos;
                await stdout.WriteLineAsync($"cluster: {c.PodsKilled} pods killed ({c.KillsSkipped} kills held back by the blast radius), " +
                    $"{c.LimitChanges} limit changes, {summary.LimitsRestored} restored; {summary.LifecycleEvents} pod events, {summary.Samples} samples; audit.jsonl").ConfigureAwait(false);
                if (summary.RestoreFailures == 0) return ExitCodes.Success;
                await stderr.WriteLineAsync($"fdr: {summary.RestoreFailures} changed limits could not be restored: run 'fdr restore {run.RunPath}'").ConfigureAwait(false);
                return ExitCodes.UnexpectedFailure;
            }
            catch (ClusterUnreachableException e)
            {
                await stderr.WriteLineAsync($"fdr: lost the Kubernetes API at {e.Server}: {e.Reason}; run 'fdr restore {run.RunPath}' once it is back").ConfigureAwait(false);
                return ExitCodes.TargetUnreachable;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The Rucio side goes on and the run is still reported; the cluster side tells what stopped it.
                await stderr.WriteLineAsync($"fdr: the cluster side stopped: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
                return ExitCodes.UnexpectedFailure;
            }
            finally
            {
                client.Dispose();
            }
        };
}
