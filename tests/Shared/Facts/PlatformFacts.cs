namespace FdrHarness.Tests;

/// <summary>A test of Linux behaviour (statx, signals, FIFOs): skipped elsewhere, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string why)
    {
        if (!OperatingSystem.IsLinux()) Skip = $"Linux only: {why}";
    }
}

/// <summary>A test that runs programs of the machine as root (the scripts' apt-get and podman): skipped, saying which is missing, elsewhere.</summary>
public sealed class RootProgramsFactAttribute : FactAttribute
{
    public RootProgramsFactAttribute(string why, params string[] programs)
    {
        if (!OperatingSystem.IsLinux()) Skip = $"Linux only: {why}";
        else if (Environment.UserName != "root") Skip = $"needs root: {why}";
        else if (programs.FirstOrDefault(p => !OnPath(p)) is { } missing) Skip = $"{missing} is not installed: {why}";
    }

    /// <summary>A file that must exist (e.g. the mark that set-up ran), else the test is skipped naming it.</summary>
    public string? RequiresFile
    {
        get => field;
        set
        {
            field = value;
            if (Skip is null && value is not null && !File.Exists(value)) Skip = $"{value} does not exist (set-up has not run here)";
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program)));
}
