using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Images;

namespace FdrHarness.Cli.PackagingTests;

/// <summary>
/// The fdr image, built once per test run from the repository's Containerfile on <see cref="Build.RuntimeImage"/>, and
/// only when no image of the same content exists: its tag is a hash of the build context (published app, scenarios,
/// Containerfile), so an unchanged app is not built again.
/// </summary>
/// <remarks>
/// The app is this build published with no-build (portable), keeping the native libraries of linux-x64 only: what the
/// Containerfile's documented `dotnet publish -r linux-x64 --self-contained false` ships, without a second compilation
/// for that runtime identifier in every CI run.
/// </remarks>
public sealed class FdrImage : IAsyncLifetime
{
    public string Name { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Build.RequireEngine();
        var context = Directory.CreateTempSubdirectory("fdr-image-").FullName;
        try
        {
            var publish = Path.Combine(context, "publish");
            Build.Run("dotnet", ["publish", Build.CliProject, "-c", Build.Configuration, "--no-build", "-o", publish]);
            foreach (var rid in Directory.GetDirectories(Path.Combine(publish, "runtimes")))
                if (Path.GetFileName(rid) is not ("linux-x64" or "unix")) Directory.Delete(rid, recursive: true);
            Build.CopyTree(Path.Combine(RepoPaths.Root, "scenarios"), Path.Combine(context, "scenarios"));
            File.Copy(Path.Combine(RepoPaths.Root, "Containerfile"), Path.Combine(context, "Containerfile"));
            Name = $"localhost/fdr:{Build.TreeHash(context)[..16]}";

            var image = new ImageFromDockerfileBuilder()
                .WithName(Name)
                .WithDockerfileDirectory(context)
                .WithDockerfile("Containerfile")
                .WithBuildArgument("RUNTIME", Build.RuntimeImage)
                .WithImageBuildPolicy(PullPolicy.Missing)   // built only when this content has no image yet
                .WithCleanUp(false)
                .WithDeleteIfExists(false)
                .Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await image.CreateAsync(timeout.Token);
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(nameof(FdrImage))]
public sealed class FdrImageCollection : ICollectionFixture<FdrImage>;
