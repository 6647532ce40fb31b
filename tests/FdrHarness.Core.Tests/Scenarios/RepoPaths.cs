namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>Files of the repository the tests read in place (scenarios/).</summary>
public static class RepoPaths
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
