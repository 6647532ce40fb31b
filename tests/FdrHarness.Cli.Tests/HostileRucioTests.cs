using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// `fdr run --target rucio` against a Rucio that turns hostile once the run has connected: every catalog call meets the
/// same bad answer. Each run ends by its planned end plus the grace, cuts off what was still going, says so, writes its
/// report and a finished run.json, and exits as its thresholds say (99: the gate's figure has no value) — never 1, and
/// never 3 (the target was usable at the start).
/// </summary>
public sealed class HostileRucioTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const string PasswordVariable = "FDR_HOSTILE_RUCIO_PASSWORD";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(Fault.TruncatedJson)]
    [InlineData(Fault.HtmlPage)]
    [InlineData(Fault.Status500)]
    [InlineData(Fault.Timeout)]
    public async Task A_run_against_a_server_that_turns_hostile_ends_with_its_report_and_says_what_was_cut_off(Fault fault)
    {
        await using var rucio = await RucioDouble.StartAsync();
        // A short run and grace: the run is cut off soon after its end, whatever the server does (nothing here times it).
        var yaml = $$$"""
            run: {name: hostile, seed: 7, duration: 2s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:   {storage: dcache, quota: 1 TB, attributes: {QOS: FAST}}
              SAFE-1: {storage: eos, quota: 1 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA: {files: 40, file_size: 1 MB, files_per_dataset: 20, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 40, interval: 1s, during: 1s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE}}
            thresholds:
              - transfers.done >= 1
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                grace: 1s
                auth: {method: userpass, username: {{{rucio.Username}}}, password_env: {{{PasswordVariable}}}}
            """;
        rucio.AddLake(ScenarioLoader.Parse(yaml).Scenario!);
        // The connection check (ping, token) passes; every call on the catalog meets the fault.
        rucio.FaultPlan = new FaultPlan { Rate = 1, Kinds = [fault], Paths = ["/dids", "/replicas", "/rules"] };
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        var scenario = Path.Combine(_dir, "hostile.yaml");
        await File.WriteAllTextAsync(scenario, yaml);
        var run = Path.Combine(_dir, "run");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await Task.Run(() => FdrApp.Run(["run", scenario, "--target", "rucio", "--out", run], stdout, stderr));

        var output = stdout.ToString();
        log.WriteLine(output + stderr);
        Assert.True(code == ExitCodes.ThresholdsFailed, $"exit {code}\n{output}\n{stderr}");
        Assert.True(rucio.Injected.GetValueOrDefault(fault) > 0, $"no {fault} was answered");
        // What was cut off and what never succeeded, in words; the counts in run.json.
        Assert.Contains("cut off at the planned end + 1s (target.rucio.grace): ", output);
        Assert.Contains("counts not read back from Rucio", output);
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!;
        Assert.Equal(ExitCodes.ThresholdsFailed, (int)info["exit_status"]!);
        Assert.NotNull(info["ended_utc"]);
        var summary = info["summary"]!;
        Assert.True((double)summary[RunCounters.OperationsCutOff]! + (double)summary[RunCounters.OperationsFailed]! > 0, summary.ToJsonString());
        Assert.Null(summary[RunCounters.FilesInjected]); // not read back, so not claimed
        // Errors and calls stopped unanswered are failed calls; a 200 whose body cannot be read was answered (the operation failed).
        if (fault is Fault.Status500 or Fault.Timeout) Assert.True((double)summary[RunCounters.ApiFailed]! > 0, summary.ToJsonString());
        // The report and the verdict, as after any run; nothing half-written.
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        Assert.Contains("transfers.done", File.ReadAllText(Path.Combine(run, "thresholds.junit.xml")));
        Assert.Empty(Directory.GetFiles(run, "*" + ParquetObservationSink.TempSuffix, SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
        Assert.DoesNotContain("   at ", stderr.ToString()); // no stack trace
    }
}
