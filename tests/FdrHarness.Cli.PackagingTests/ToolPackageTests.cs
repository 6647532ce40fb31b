namespace FdrHarness.Cli.PackagingTests;

/// <summary>`dotnet pack` makes a .NET tool that installs from the nupkg alone and runs as `fdr`.</summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ThePackedToolInstallsIntoAToolPathAndRuns()
    {
        var feed = Path.Combine(_dir, "feed");
        var tools = Path.Combine(_dir, "tools");
        Build.Run("dotnet", ["pack", Build.CliProject, "-c", Build.Configuration, "--no-build", "-o", feed]);
        var nupkg = Assert.Single(Directory.GetFiles(feed, "*.nupkg"));
        Assert.Equal("FdrHarness.Cli.0.1.0.nupkg", Path.GetFileName(nupkg));

        // From the folder alone: the tool package carries its dependencies, nothing else is resolved.
        Build.Run("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", feed, "FdrHarness.Cli"], workingDirectory: _dir);
        var fdr = Path.Combine(tools, "fdr");
        Assert.True(File.Exists(fdr), "no fdr command in the tool path");

        Assert.Equal("0.1.0", Build.Run(fdr, ["--version"]).Trim());
        var validated = Build.Run(fdr, ["validate", RepoPaths.Scenario("ci-smoke.yaml")]);
        Assert.StartsWith($"✓ {RepoPaths.Scenario("ci-smoke.yaml")} is a valid scenario", validated);
        Assert.Contains("2,500 files", validated);
    }
}
