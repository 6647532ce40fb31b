using System.Text.Json.Nodes;
using FdrHarness.Core;

namespace FdrHarness.Cli.Tests;

/// <summary>The `fdr` command run in-process: exit codes, what goes to stdout and stderr, nothing written on invalid input.</summary>
public sealed class FdrAppTests : IDisposable
{
    private static readonly string Root = RepoPaths.Root;
    private static readonly string EscapeScenario = Path.Combine(Root, "scenarios", "escape-fdr-2020.yaml");
    private static readonly string SmokeScenario = Path.Combine(Root, "scenarios", "ci-smoke.yaml");

    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Fdr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        Assert.DoesNotContain("   at ", stdout.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString()); // never a stack trace
        Assert.DoesNotContain("Exception", stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Broken()
    {
        var path = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(path, """
            run:
              name: broken
            rses:
              ALPHA-DISK: {quota: 10 TB, storage: dcahce}
            experiments:
              CTA: {files: 100, file_size: 10 MB}
            workload:
              - replicate:
                  rule: {copeis: 2, rse_expression: ALPHA-DISK}
            """);
        return path;
    }

    [Theory]
    [InlineData("escape-fdr-2020.yaml", "14 RSEs", "821,850 files")]
    [InlineData("ci-smoke.yaml", "4 RSEs", "2,500 files")]
    public void ValidateAValidScenario(string name, string rses, string files)
    {
        var path = Path.Combine(Root, "scenarios", name);
        var (code, stdout, stderr) = Fdr("validate", path);

        Assert.Equal(ExitCodes.Success, code);
        Assert.StartsWith($"✓ {path} is a valid scenario", stdout);
        Assert.Contains(rses, stdout);
        Assert.Contains(files, stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void ValidateABrokenScenario()
    {
        var path = Broken();
        var (code, stdout, stderr) = Fdr("validate", path);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal(2, code);
        Assert.DoesNotContain("✓", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{path}:4:39: error: 'rses.ALPHA-DISK.storage': 'dcahce' is not one of dcache, dpm, eos, storm, xrootd, webdav, echo, posix, other (did you mean 'dcache'?)", lines[0]);
        Assert.StartsWith($"{path}:9:14: error: 'workload[1].replicate.rule': unknown key 'copeis'", lines[1]);
        Assert.EndsWith("(did you mean 'copies'?)", lines[1]);
        Assert.Equal("2 errors; nothing was run.", lines[2]);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public void ValidateAMissingFileSuggestsTheCloseOne()
    {
        var (code, _, stderr) = Fdr("validate", Path.Combine(Root, "scenarios", "ci-smok.yaml"));
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("no such file", stderr);
        Assert.Contains("did you mean", stderr);
        Assert.Contains("ci-smoke.yaml", stderr);
    }

    [Fact]
    public void ValidateADirectory()
    {
        var (code, _, stderr) = Fdr("validate", _dir);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("is a directory", stderr);
    }

    [Fact]
    public void ValidateABinaryFile()
    {
        var path = Path.Combine(_dir, "binary.yaml");
        File.WriteAllBytes(path, [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]);
        var (code, _, stderr) = Fdr("validate", path);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains($"{path}:1:7: error: the file is binary", stderr);
    }

    [Fact]
    public void DryRunPrintsThePlanAndWritesNothing()
    {
        var output = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = Fdr("run", EscapeScenario, "--dry-run", "--out", output, "--seed", "7", "--scale", "0.5");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("escape-fdr-2020: 24h on the embedded target, seed 7, scale 0.5", stdout);
        Assert.Contains("410,926 files", stdout); // 821,850 × 0.5, rounded per experiment half away from zero, as the file generator counts
        Assert.Contains("Dry run: nothing was started.", stdout);
        Assert.Equal("", stderr);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void RunWithAnInvalidScenarioWritesNothing()
    {
        var output = Path.Combine(_dir, "out", "run-1");
        var (code, stdout, stderr) = Fdr("run", Broken(), "--out", output);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("nothing was run", stderr);
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(output));
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1001")]
    public void RunRefusesAScaleOutOfRange(string scale)
    {
        var (code, stdout, stderr) = Fdr("run", SmokeScenario, "--scale", scale, "--dry-run");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("--scale", stderr);
        Assert.Contains("expected a factor above 0, at most 1000", stderr);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("run", "SMOKE", "--bogus")]
    [InlineData("validate", "SMOKE", "--verbose")]
    [InlineData("frobnicate")]
    [InlineData("run", "SMOKE", "--target", "nowhere")]
    [InlineData("run", "SMOKE", "--scale", "lots")]
    [InlineData("run", "SMOKE", "--seed", "1.5")]
    [InlineData("validate", "SMOKE", "extra")]
    public void UnknownOptionsAndBadValuesAreInvalidInput(params string[] args)
    {
        var (code, stdout, stderr) = Fdr([.. args.Select(a => a == "SMOKE" ? SmokeScenario : a)]);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.StartsWith("fdr: ", stderr);
        Assert.Contains("Try 'fdr --help'.", stderr);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("run")]
    [InlineData("report")]
    [InlineData("run", "--dry-run")]
    public void AMissingArgumentIsInvalidInput(params string[] args)
    {
        var (code, _, stderr) = Fdr(args);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("Required argument", stderr);
        Assert.Contains("missing", stderr);
    }

    [Fact]
    public void NoCommandIsInvalidInput()
    {
        var (code, _, stderr) = Fdr();
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("Try 'fdr --help'.", stderr);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void HelpListsCommandsExamplesAndExitCodes(string flag)
    {
        var (code, stdout, _) = Fdr(flag);
        Assert.Equal(ExitCodes.Success, code);
        foreach (var command in new[] { "validate", "run", "report", "schema", "compare", "recommend", "sweep", "restore" }) Assert.Contains(command, stdout);
        Assert.Contains("Examples:", stdout);
        Assert.Contains("fdr validate scenarios/escape-fdr-2020.yaml", stdout);
        Assert.Contains("--dry-run", stdout);
        Assert.Contains("Exit codes: 0 success, 1 unexpected failure, 2 invalid scenario or arguments", stdout);
        Assert.Contains("99 thresholds failed, 130 interrupted", stdout);
    }

    [Fact]
    public void RunHelpListsItsOptions()
    {
        var (code, stdout, _) = Fdr("run", "--help");
        Assert.Equal(ExitCodes.Success, code);
        foreach (var option in new[] { "--target", "--out", "--seed", "--scale", "--dry-run", "--rucio-url", "--helm-values" }) Assert.Contains(option, stdout);
    }

    [Fact]
    public void VersionPrintsAVersion()
    {
        var (code, stdout, _) = Fdr("--version");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(FdrApp.Version + Environment.NewLine, stdout); // fdr's own version, even inside a test host
        Assert.Matches(@"^\d+\.\d+\.\d+", FdrApp.Version);
        Assert.DoesNotContain("+", FdrApp.Version); // no commit hash
    }

    [Fact]
    public void ReportOnAMissingDirectory()
    {
        var missing = Path.Combine(_dir, "no-such-run");
        var (code, stdout, stderr) = Fdr("report", missing);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal($"{missing}: error: no such run directory (a folder under reports/<scenario>/)", stderr.Trim());
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void ReportOnADirectoryThatIsNoRun()
    {
        var (code, _, stderr) = Fdr("report", _dir);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("it has no events.parquet", stderr);
    }

    [Fact]
    public void SchemaPrintsTheSchemaFile()
    {
        var (code, stdout, stderr) = Fdr("schema");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal("", stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "scenarios", "scenario.schema.json")).ReplaceLineEndings("\n"), stdout);
        var schema = JsonNode.Parse(stdout)!;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)schema["$schema"]);
    }
}
