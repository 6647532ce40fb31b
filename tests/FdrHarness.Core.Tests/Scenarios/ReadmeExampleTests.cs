using FdrHarness.Core.Scenarios;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>The README's tour of the language is a scenario too: it must stay valid as the language changes.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void TheReadmeTourIsAValidScenario()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var start = readme.IndexOf("```yaml\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no ```yaml block");
        start += "```yaml\n".Length;
        var yaml = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];

        var result = ScenarioLoader.Parse(yaml, "README.md");

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Equal(5, result.Scenario!.Rses.Count);
        Assert.Equal(4, result.Scenario.Chaos.Count);
    }
}
