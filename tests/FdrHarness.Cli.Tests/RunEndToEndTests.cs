using FdrHarness.Core.Execution;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FdrHarness.Core;

namespace FdrHarness.Cli.Tests;

/// <summary>`fdr run` on the embedded lake, end to end: run directory, observations, report, determinism.</summary>
public sealed class RunEndToEndTests : IDisposable
{
    private static readonly string Smoke = RepoPaths.Scenario("ci-smoke.yaml");
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Run(string name, params string[] extra)
    {
        var output = Path.Combine(_dir, name);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(["run", Smoke, "--out", output, .. extra], stdout, stderr);
        Assert.True(code == ExitCodes.Success, $"exit {code}: {stderr}");
        Assert.Contains("Report: ", stdout.ToString());
        return output;
    }

    private static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    [Fact]
    public void SameSeedWritesByteIdenticalObservationsAndSummary_AnotherSeedDiffers()
    {
        var first = Run("a");
        var second = Run("b");
        var other = Run("c", "--seed", "43");

        foreach (var file in new[] { "events.parquet", "samples.parquet", "lifecycle.parquet", "faults.parquet", "summary.json" })
            Assert.Equal(Hash(Path.Combine(first, file)), Hash(Path.Combine(second, file)));
        Assert.NotEqual(Hash(Path.Combine(first, "events.parquet")), Hash(Path.Combine(other, "events.parquet")));
    }

    [Fact]
    public void ARunDirectoryHoldsTheResolvedScenarioRunInfoObservationsAndReport()
    {
        var run = Run("r");

        foreach (var file in new[] { "scenario.yaml", "run.json", "events.parquet", "samples.parquet", "report.html", "report.md", "summary.json" })
            Assert.True(File.Exists(Path.Combine(run, file)), file + " is missing");
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(0, (int)info["exit_status"]!);
        Assert.Equal("embedded", (string)info["target"]!);
        Assert.True((double)info["summary"]![RunCounters.TransfersSubmitted]! > 0);
        // Every file the lake took or refused was planned (experiments' files and noise files).
        double Count(string name) => (double)info["summary"]![name]!;
        Assert.InRange(Count(RunCounters.FilesInjected) + Count(RunCounters.FilesRefused), 1, Count(RunCounters.FilesPlanned) + Count(RunCounters.NoiseFiles));
        // The resolved scenario fills in defaults the file left out, e.g. the link defaults' fields and phase names.
        var resolved = File.ReadAllText(Path.Combine(run, "scenario.yaml"));
        Assert.Contains("noise-1", resolved);
        Assert.Contains("observation_interval: 30s", resolved);
    }

    [Fact]
    public void AFailingThresholdExits99WithJUnitAndTheRunKept()
    {
        var scenario = Path.Combine(_dir, "strict.yaml");
        File.WriteAllText(scenario, File.ReadAllText(Smoke).Replace("transfers.efficiency >= 90%", "transfers.efficiency >= 99.9%"));
        var output = Path.Combine(_dir, "strict");
        var stdout = new StringWriter();

        var code = FdrApp.Run(["run", scenario, "--out", output], stdout, new StringWriter());

        Assert.Equal(ExitCodes.ThresholdsFailed, code);
        Assert.Contains("✗ transfers.efficiency >= 99.9%", stdout.ToString());
        var junit = System.Xml.Linq.XDocument.Load(Path.Combine(output, "thresholds.junit.xml"));
        Assert.Single(junit.Descendants("failure"));
        Assert.Equal(ExitCodes.ThresholdsFailed, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(output, "run.json")))!["exit_status"]!);
        Assert.True(File.Exists(Path.Combine(output, "report.html")));

        // fdr report rebuilds the same verdict from the run's files, and gates the same way.
        File.Delete(Path.Combine(output, "thresholds.junit.xml"));
        var again = new StringWriter();
        Assert.Equal(ExitCodes.ThresholdsFailed, FdrApp.Run(["report", output], again, new StringWriter()));
        Assert.Contains("✗ transfers.efficiency >= 99.9%", again.ToString());
        Assert.Single(System.Xml.Linq.XDocument.Load(Path.Combine(output, "thresholds.junit.xml")).Descendants("failure"));
    }

    [Fact]
    public void ReportOnARunWhoseThresholdsHoldExits0()
    {
        var run = Run("held");
        var stdout = new StringWriter();
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["report", run], stdout, new StringWriter()));
        Assert.Contains("✓ transfers.efficiency >= 90%", stdout.ToString());
    }

    [Fact]
    public void PlotsArePngToo_OnlyWithPng()
    {
        var run = Run("png", "--png");
        var plots = Path.Combine(run, "plots");
        var svgs = Directory.GetFiles(plots, "*.svg").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(svgs);
        Assert.Equal(svgs, Directory.GetFiles(plots, "*.png").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal));

        // fdr report without --png leaves none behind; with it they are back, the same bytes.
        var first = Hash(Path.Combine(plots, "transfer-matrix.png"));
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["report", run], new StringWriter(), new StringWriter()));
        Assert.Empty(Directory.GetFiles(plots, "*.png"));
        Assert.Equal(svgs.Count, Directory.GetFiles(plots, "*.svg").Length);
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["report", run, "--png"], new StringWriter(), new StringWriter()));
        Assert.Equal(first, Hash(Path.Combine(plots, "transfer-matrix.png")));
    }

    [Fact]
    public void AnUnreachableRucioExits3WithOneLineNamingTheUrl()
    {
        var stderr = new StringWriter();
        var output = Path.Combine(_dir, "live");

        var code = FdrApp.Run(["run", Smoke, "--target", "rucio", "--rucio-url", "http://127.0.0.1:9", "--out", output], new StringWriter(), stderr);

        Assert.Equal(ExitCodes.TargetUnreachable, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("http://127.0.0.1:9", line);
    }

    [Fact]
    public void HelmValuesConfigureTheDaemonsOfTheRunAndTheResolvedScenarioShowsThem()
    {
        var values = Path.Combine(_dir, "values.yaml");
        File.WriteAllText(values, """
            judgeEvaluatorCount: 2
            judgeEvaluator:
              threads: 3
              resources:
                limits: {cpu: 1500m, memory: 3Gi}
                requests: {cpu: 1, memory: 2Gi}
            """);

        var run = Run("helm", "--helm-values", values);

        var resolved = File.ReadAllText(Path.Combine(run, "scenario.yaml"));
        var evaluator = resolved[resolved.IndexOf("judge-evaluator:", StringComparison.Ordinal)..];
        evaluator = evaluator[..evaluator.IndexOf("\n  judge-", 1, StringComparison.Ordinal)];
        Assert.Contains("replicas: 2", evaluator);
        Assert.Contains("threads: 3", evaluator);
        Assert.Contains("3Gi", evaluator);
        Assert.Contains("1500m", evaluator);
    }

    [Fact]
    public void AMistakeInTheValuesFileIsToldWithItsPositionAndNothingRuns()
    {
        var values = Path.Combine(_dir, "bad-values.yaml");
        File.WriteAllText(values, "judgeEvaluator:\n  resources:\n    limits: {memory: lots}\n");
        var stderr = new StringWriter();
        var output = Path.Combine(_dir, "bad-helm");

        var code = FdrApp.Run(["run", Smoke, "--out", output, "--helm-values", values], new StringWriter(), stderr);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains(values + ":3:", stderr.ToString());
        Assert.Contains("nothing was run", stderr.ToString());
        Assert.False(Directory.Exists(output));
    }
}
