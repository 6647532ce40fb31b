using System.Text.RegularExpressions;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>
/// The corpus of broken scenarios in Scenarios/Broken/. Each file states its diagnostics in its header,
/// one line each: <c># expect: LINE:COLUMN message substring | suggestion substring</c>. The loader must
/// report exactly those: same count, same places, messages and suggestions containing the substrings.
/// </summary>
public partial class BrokenScenarioTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Scenarios", "Broken");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Folder, "*.yaml").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(file));
        return data;
    }

    private sealed record Expectation(int Line, int Column, string Message, string? Suggestion)
    {
        public override string ToString() => $"{Line}:{Column} {Message}" + (Suggestion is null ? "" : $" | {Suggestion}");
    }

    private static List<Expectation> Expectations(string path)
    {
        var result = new List<Expectation>();
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("# expect:", StringComparison.Ordinal)) continue;
            var m = ExpectLine().Match(line);
            Assert.True(m.Success, $"{Path.GetFileName(path)}: malformed header line '{line}'");
            result.Add(new Expectation(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), m.Groups[3].Value.Trim(),
                m.Groups[4].Success ? m.Groups[4].Value.Trim() : null));
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ReportsExactlyTheExpectedDiagnostics(string name)
    {
        var path = Path.Combine(Folder, name);
        var expected = Expectations(path);
        Assert.NotEmpty(expected);

        var result = ScenarioLoader.Load(path);

        Assert.False(result.Ok);
        Assert.Null(result.Scenario);
        var actual = result.Diagnostics;
        var listing = string.Join("\n", actual.Select(d => $"  {d.Location.Line}:{d.Location.Column} {d.Message} | {d.Suggestion}"));
        Assert.True(expected.Count == actual.Count,
            $"{name}: expected {expected.Count} diagnostic(s):\n  {string.Join("\n  ", expected)}\nactual {actual.Count}:\n{listing}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, d) = (expected[i], actual[i]);
            var context = $"{name}, diagnostic {i + 1}: expected '{e}'; actual:\n{listing}";
            Assert.True(e.Line == d.Location.Line && e.Column == d.Location.Column, "wrong place. " + context);
            Assert.Equal(path, d.Location.File);
            Assert.True(d.Message.Contains(e.Message, StringComparison.Ordinal), "wrong message. " + context);
            if (e.Suggestion is not null)
                Assert.True(d.Suggestion?.Contains(e.Suggestion, StringComparison.Ordinal) == true, "wrong suggestion. " + context);
        }
    }

    [Fact]
    public void TheCorpusIsLargeAndEveryFileStatesItsDiagnostics()
    {
        var files = Directory.GetFiles(Folder, "*.yaml");
        Assert.True(files.Length >= 35, $"only {files.Length} broken scenarios");
        Assert.All(files, f => Assert.Matches(@"^\d\d-[a-z0-9-]+\.yaml$", Path.GetFileName(f)));
        Assert.All(files, f => Assert.NotEmpty(Expectations(f)));
    }

    [Fact]
    public void SeveralMistakesAreAllReportedInOnePass()
    {
        var result = ScenarioLoader.Load(Path.Combine(Folder, "43-several-mistakes.yaml"));

        // Binding mistakes (a misspelt key, a bad enum, a bad size, a threshold) and validation mistakes
        // (watermark, copies, an unknown daemon, an unknown RSE) come together, top to bottom.
        Assert.Equal(8, result.Diagnostics.Count);
        Assert.Equal(result.Diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column), result.Diagnostics);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("unknown key 'duraton'", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("no daemon named 'judge-evaluater'", StringComparison.Ordinal));
    }

    [Fact]
    public void DiagnosticsPrintAsFileLineColumn()
    {
        var path = Path.Combine(Folder, "06-rule-misspelt-key.yaml");
        var d = Assert.Single(ScenarioLoader.Load(path).Diagnostics);
        Assert.StartsWith($"{path}:14:9: error: ", d.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("(did you mean 'copies'?)", d.ToString(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^# expect: (\d+):(\d+) (.+?)(?: \| (.+))?$")]
    private static partial Regex ExpectLine();
}
