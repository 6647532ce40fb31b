using System.Diagnostics;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// The test command's own set-up scripts on this machine: apt-get waits for another apt-get, and the podman service
/// that scripts/containers.sh starts does not hold its lock, so the script (and scripts/test.sh) runs again.
/// </summary>
public sealed class ScriptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-scripts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Script(string name) => Path.Combine(RepoPaths.Root, "scripts", name);

    private static Process Start(string script, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("bash", [script, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    [RootProgramsFact("apt-get's lists lock", "apt-get")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Apt_get_waits_for_another_apt_get_holding_the_package_lists()
    {
        // A private package-list folder and no sources: 'update' touches nothing of the machine's apt.
        var lists = Directory.CreateDirectory(Path.Combine(_dir, "lists", "partial")).Parent!.FullName;
        var cache = Directory.CreateDirectory(Path.Combine(_dir, "cache", "archives", "partial")).Parent!.Parent!.FullName;
        var parts = Directory.CreateDirectory(Path.Combine(_dir, "sources.list.d")).FullName;
        var held = new FileStream(Path.Combine(lists, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        held.Lock(0, 1); // fcntl, as apt locks: apt-get update alone would fail at once ("Could not get lock")

        using var process = Start(Script("apt-get-wait.sh"), ["-o", $"Dir::State::Lists={lists}", "-o", $"Dir::Cache={cache}",
            "-o", "Dir::Etc::SourceList=/dev/null", "-o", $"Dir::Etc::SourceParts={parts}", "update", "-qq"]);
        var stdout = process.StandardOutput.ReadToEndAsync();
        // It says it waits, and is still waiting: only then is the other apt-get's lock let go.
        var line = await process.StandardError.ReadLineAsync();
        Assert.Matches("^apt-get-wait.sh: another apt-get holds a lock .*; waiting$", line);
        Assert.False(process.HasExited);
        held.Dispose();

        var rest = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {rest}{await stdout}");
    }

    [RootProgramsFact("starts a podman service of its own beside the machine's", "podman", "pgrep", RequiresFile = "/run/fdr-containers.env")]
    public async Task Containers_sh_runs_twice_and_the_service_it_starts_holds_no_lock()
    {
        var socket = Path.Combine(_dir, "podman.sock");
        var environment = new Dictionary<string, string> { ["FDR_PODMAN_SOCK"] = socket, ["FDR_CONTAINERS_ENV"] = Path.Combine(_dir, "env") };
        var pattern = $"podman system service --time=0 unix://{socket}";
        try
        {
            await RunToEnd(Script("containers.sh"), environment);
            var service = await Pgrep(pattern);
            Assert.NotNull(service);
            // The service inherited none of the script's descriptors on its lock.
            var fds = Directory.GetFiles($"/proc/{service}/fd").Select(fd => new FileInfo(fd).LinkTarget).ToList();
            Assert.DoesNotContain("/run/fdr-containers.setup.lock", fds);

            // A second run finds the lock free and the service answering: it reuses it.
            await RunToEnd(Script("containers.sh"), environment);
            Assert.Equal(service, await Pgrep(pattern));
            Assert.Contains($"DOCKER_HOST=unix://{socket}", await File.ReadAllTextAsync(Path.Combine(_dir, "env")));
        }
        finally
        {
            if (await Pgrep(pattern) is { } pid)
            {
                using var service = Process.GetProcessById(pid);
                Assert.Equal(0, Kill(pid, 15)); // the service this test started, by its id; SIGTERM lets it close cleanly
                await service.WaitForExitAsync();
            }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static async Task RunToEnd(string script, IDictionary<string, string> environment)
    {
        using var process = Start(script, [], environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{script}: exit {process.ExitCode}\n{await stdout}{await stderr}");
    }

    private static async Task<int?> Pgrep(string commandLine)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", "-x", commandLine]) { RedirectStandardOutput = true })!;
        var output = await pgrep.StandardOutput.ReadToEndAsync();
        await pgrep.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Cast<int?>().FirstOrDefault();
    }
}
