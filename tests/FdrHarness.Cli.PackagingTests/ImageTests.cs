using System.Globalization;
using System.Text.Json.Nodes;
using DotNet.Testcontainers.Builders;
using FdrHarness.Core.Execution;

namespace FdrHarness.Cli.PackagingTests;

/// <summary>
/// Inside the fdr image, as its non-root user, with a read-only root filesystem as the chart runs it: fdr answers,
/// validates, and runs a ci-smoke rehearsal. (The entrypoint itself runs the rehearsal of <see cref="PrometheusScrapeTests"/>.)
/// </summary>
[Collection(nameof(FdrImage))]
public sealed class ImageTests(FdrImage image) : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("fdr-image-runs-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task FdrAnswersValidatesAndRunsASmokeRehearsalInside()
    {
        Build.WorldWritable(_runs);   // the image's user (1654) writes the run directory here
        await using var container = new ContainerBuilder(image.Name)
            .WithEntrypoint("sleep", "infinity")
            .WithBindMount(_runs, "/runs")
            .WithTmpfsMount("/tmp")
            .WithCreateParameterModifier(p => p.HostConfig!.ReadonlyRootfs = true)
            .Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await container.StartAsync(timeout.Token);

        var version = await container.ExecAsync(["/opt/fdr/fdr", "--version"], timeout.Token);
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.Equal("0.1.0", version.Stdout.Trim());

        var user = await container.ExecAsync(["id", "-u"], timeout.Token);
        Assert.Equal("1654", user.Stdout.Trim());

        var validate = await container.ExecAsync(["/opt/fdr/fdr", "validate", "scenarios/ci-smoke.yaml"], timeout.Token);
        Assert.True(validate.ExitCode == 0, validate.Stderr);
        Assert.StartsWith("✓ scenarios/ci-smoke.yaml is a valid scenario", validate.Stdout);

        var run = await container.ExecAsync(["/opt/fdr/fdr", "run", "scenarios/ci-smoke.yaml", "--out", "/runs/smoke"], timeout.Token);
        Assert.True(run.ExitCode == 0, $"{run.Stdout}\n{run.Stderr}");
        Assert.Contains("all 2 thresholds hold", run.Stdout);
        var dir = Path.Combine(_runs, "smoke");
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run.json")))!;
        Assert.Equal(0, (int)info["exit_status"]!);
        Assert.Equal(2545, (double)info["summary"]![RunCounters.FilesInjected]!);   // the same lake as on the host: deterministic
        Assert.True(new FileInfo(Path.Combine(dir, "report.html")).Length > 10_000);
        Assert.Equal(1654, int.Parse(Build.Run("stat", ["-c", "%u", Path.Combine(dir, "run.json")]).Trim(), CultureInfo.InvariantCulture));
    }
}
