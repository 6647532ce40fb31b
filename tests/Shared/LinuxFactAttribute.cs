namespace FdrHarness.Tests;

/// <summary>A test of Linux behaviour (statx, signals, FIFOs, the scripts): skipped elsewhere, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string why)
    {
        if (!OperatingSystem.IsLinux()) Skip = $"Linux only: {why}";
    }
}
