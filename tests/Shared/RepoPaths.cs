namespace FdrHarness.Tests;

/// <summary>Files of the repository that tests read in place (scenarios/, README.md). Linked into every test project.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Scenario(string name) => Path.Combine(Root, "scenarios", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FdrHarness.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no FdrHarness.sln above {AppContext.BaseDirectory}");
    }
}
