using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DotNet.Testcontainers.Configurations;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // pack and publish share the Cli's obj/ folder

namespace FdrHarness.Cli.PackagingTests;

/// <summary>The dotnet CLI on this repository's build of fdr, and the container engine.</summary>
internal static class Build
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string CliProject => Path.Combine(RepoPaths.Root, "src", "FdrHarness.Cli", "FdrHarness.Cli.csproj");

    /// <summary>Runs a program to its end (bounded); fails with its output when the exit code is not 0.</summary>
    public static string Run(string program, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', args)}: no end within {(timeout ?? TimeSpan.FromMinutes(5)).TotalMinutes} min");
        }
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)}: exit {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>SHA-256 over the relative paths and contents of every file under <paramref name="dir"/>.</summary>
    public static string TreeHash(string dir)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(dir, file).Replace('\\', '/') + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>A bind-mounted folder the image's user (1654) may write into.</summary>
    public static void WorldWritable(string dir)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
    }

    public static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>No engine is a failure, not a skip: scripts/test.sh always sets one up (scripts/containers.sh).</summary>
    public static void RequireEngine()
    {
        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
            Assert.Fail("no container engine reachable: run scripts/containers.sh and source /run/fdr-containers.env (DOCKER_HOST) before these tests");
    }

    /// <summary>Debian's Prometheus 2 built by scripts/containers.sh; prom/prometheus:v2.x where a registry is reachable.</summary>
    public static string PrometheusImage => Environment.GetEnvironmentVariable("FDR_PROMETHEUS_IMAGE") ?? "localhost/fdr-prometheus:2";

    /// <summary>
    /// What the Containerfile's RUNTIME is here: scripts/containers.sh's Debian base with this machine's .NET runtime
    /// (named by its version, the one running these tests); mcr.microsoft.com/dotnet/runtime where a registry is reachable.
    /// </summary>
    public static string RuntimeImage => Environment.GetEnvironmentVariable("FDR_DOTNET_RUNTIME_IMAGE") ?? $"localhost/fdr-dotnet-runtime:{Environment.Version}";
}
