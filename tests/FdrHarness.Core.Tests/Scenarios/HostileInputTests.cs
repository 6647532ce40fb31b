using System.Text;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>
/// Input no scenario author writes on purpose: each gives one clear diagnostic, never an exception,
/// and reading stops early (alias bombs and deep nesting are refused, not expanded).
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private const string Valid = """
        run:
          name: hostile
        rses:
          ALPHA-DISK: {quota: 10 TB}
        experiments:
          CTA: {files: 10, file_size: 1 MB}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Loads and expects exactly one diagnostic containing <paramref name="message"/>.</summary>
    private static Diagnostic Refused(string path, string message)
    {
        var result = ScenarioLoader.Load(path);
        Assert.False(result.Ok);
        Assert.Null(result.Scenario);
        var d = Assert.Single(result.Diagnostics);
        Assert.Contains(message, d.Message, StringComparison.Ordinal);
        Assert.Equal(path, d.Location.File);
        return d;
    }

    [Fact]
    public void EmptyFile()
    {
        var d = Refused(Write("empty.yaml", ""), "the scenario is empty");
        Assert.Equal((1, 1), (d.Location.Line, d.Location.Column));
        Assert.Contains("ci-smoke.yaml", d.Suggestion);
    }

    [Theory]
    [InlineData("   \n\n\t\n  ")]
    [InlineData("# only a comment\n\n   # and another, indented\n")]
    [InlineData("\r\n\r\n# windows line ends\r\n")]
    public void WhitespaceAndCommentsOnly(string text) => Refused(Write("blank.yaml", text), "the scenario is empty");

    [Fact]
    public void NulBytesMakeABinaryFile()
    {
        var d = Refused(Write("nul.yaml", "run:\n  name: x\0y\n"), "binary");
        Assert.Equal((2, 10), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void RandomBytes()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        Refused(Write("random.bin", bytes), "binary");
    }

    [Fact]
    public void RandomBytesWithoutNulAreNotText()
    {
        var bytes = new byte[4096];
        new Random(11).NextBytes(bytes);
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Max((int)bytes[i], 0x80);
        Refused(Write("random.yaml", bytes), "not UTF-8");
    }

    [Fact]
    public void ControlCharactersMakeABinaryFile()
    {
        var d = Refused(Write("control.yaml", "run:\n  name: \u0007bell\n"), "control character U+0007");
        Assert.Equal((2, 9), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void InvalidUtf8()
    {
        var bytes = Encoding.Latin1.GetBytes("run:\n  name: caf\u00e9\n");
        var d = Refused(Write("latin1.yaml", bytes), "not UTF-8");
        Assert.Equal((2, 12), (d.Location.Line, d.Location.Column));
        Assert.Contains("UTF-8", d.Suggestion);
    }

    [Fact]
    public void ByteOrderMarkIsAccepted()
    {
        var path = Write("bom.yaml", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Valid)]);
        var result = ScenarioLoader.Load(path);
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void ADirectory()
    {
        var d = Refused(_dir, "is a directory");
        Assert.Contains(".yaml", d.Suggestion);
    }

    [Fact]
    public void AMissingFileSuggestsACloseName()
    {
        Write("ci-smoke.yaml", Valid);
        var d = Refused(Path.Combine(_dir, "ci-smok.yaml"), "no such file");
        Assert.Equal($"did you mean '{Path.Combine(_dir, "ci-smoke.yaml")}'?", d.Suggestion);
    }

    [Fact]
    public void AMissingFileWithNothingCloseHasNoSuggestion()
    {
        Write("ci-smoke.yaml", Valid);
        var d = Refused(Path.Combine(_dir, "escape-fdr-2020.yaml"), "no such file");
        Assert.Null(d.Suggestion);
    }

    [Fact]
    public void AMissingDirectory() => Refused(Path.Combine(_dir, "no", "such", "dir", "x.yaml"), "no such file");

    [Fact]
    public void BillionLaughs()
    {
        // 9 levels of 9 aliases each: 9^9 = 387 million nodes if expanded.
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        var previous = 'a';
        foreach (var level in "bcdefghi")
        {
            yaml.Append($"{level}: &{level} [{string.Join(",", Enumerable.Repeat("*" + previous, 9))}]\n");
            previous = level;
        }
        var d = Refused(Write("bomb.yaml", yaml.ToString()), "alias bomb");
        Assert.InRange(d.Location.Line, 2, 9);
        Assert.Contains("aliases", d.Suggestion);
    }

    [Fact]
    public void AnAliasWithoutAnAnchor() => Refused(Write("alias.yaml", "run: *nowhere\n"), "refers to no anchor");

    [Fact]
    public void FlowNesting10000Deep()
    {
        const int depth = 10_000;
        var d = Refused(Write("flow.yaml", new string('[', depth) + new string(']', depth) + "\n"), "nesting deeper than 64 levels");
        Assert.Equal((1, YamlTreeReader.MaxDepth + 1), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void FlowMappingNesting10000Deep()
    {
        const int depth = 10_000;
        var text = string.Concat(Enumerable.Repeat("{a: ", depth)) + "x" + new string('}', depth) + "\n";
        Refused(Write("flowmap.yaml", text), "nesting deeper than 64 levels");
    }

    [Fact]
    public void BlockNesting10000Deep()
    {
        // "- - - - x": block sequences inside block sequences, 10,000 deep on one line.
        var d = Refused(Write("block.yaml", string.Concat(Enumerable.Repeat("- ", 10_000)) + "x\n"), "nesting deeper than 64 levels");
        Assert.Equal(1, d.Location.Line);
    }

    [Fact]
    public void BlockMappingNesting()
    {
        // Indentation grows by one space per level; 10,000 levels would be 50 MB, so 300 show the limit.
        var text = string.Concat(Enumerable.Range(0, 300).Select(i => new string(' ', i) + $"k{i}:\n")) + new string(' ', 300) + "x\n";
        var d = Refused(Write("blockmap.yaml", text), "nesting deeper than 64 levels");
        Assert.InRange(d.Location.Line, 30, 70);
    }

    [Fact]
    public void AFiveMegabyteFileIsRefused()
    {
        var line = "# " + new string('x', 98) + "\n";
        var path = Write("big.yaml", string.Concat(Enumerable.Repeat(line, 5 * 1024 * 1024 / line.Length + 1)));
        Assert.True(new FileInfo(path).Length > 5 * 1024 * 1024);
        var d = Refused(path, "holds more than 4,194,304 bytes");
        Assert.Contains("at most 4 MiB", d.Suggestion);
        Assert.Equal(0, d.Location.Line);
    }

    [LinuxFact("device files are told apart through statx")]
    public void ADeviceIsRefusedBeforeReading()
    {
        // /dev/zero reports length 0 and never ends: refused by its type, not by reading 4 MiB of it.
        var d = Refused("/dev/zero", "is a device, not a file");
        Assert.Equal(0, d.Location.Line);
    }

    [LinuxFact("FIFOs are told apart through statx")]
    public void AFifoIsRefusedWithoutWaitingForAWriter()
    {
        var path = Path.Combine(_dir, "pipe.yaml");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])) mkfifo.WaitForExit();
        Assert.True(File.Exists(path));
        // Opening it would block until a writer comes; the loader returns without opening it.
        Refused(path, "is a FIFO (named pipe), not a file");
    }

    [Fact]
    public void DuplicateKeys()
    {
        var d = Refused(Write("dup.yaml", Valid + "\nrun:\n  name: again\n"), "duplicate key 'run' (first at line 1)");
        Assert.Equal((7, 1), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void DuplicateKeysInFlowMappings()
    {
        var d = Refused(Write("dupflow.yaml", Valid.Replace("{quota: 10 TB}", "{quota: 10 TB, quota: 20 TB}")), "duplicate key 'quota'");
        Assert.Equal(4, d.Location.Line);
    }

    [Fact]
    public void TabsInIndentation()
    {
        var d = Refused(Write("tabs.yaml", Valid.Replace("  name: hostile", "\tname: hostile")), "a tab in the indentation");
        Assert.Equal((2, 1), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void TabsInsideValuesAreFine()
    {
        var result = ScenarioLoader.Load(Write("tabvalue.yaml", Valid.Replace("name: hostile", "name: hostile\n  description: \"a\tb\"")));
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Equal("a\tb", result.Scenario!.Run.Description);
    }

    [Fact]
    public void MergeKeysWork()
    {
        var yaml = """
            run:
              name: merged
            rses:
              ALPHA-DISK: &disk {storage: dcache, quota: 10 TB, attributes: {QOS: FAST}}
              BETA-DISK:
                <<: *disk
                quota: 20 TB
              GAMMA-DISK: {<<: [*disk], watermark: 1 TB}
            experiments:
              CTA: {files: 10, file_size: 1 MB}
            """;
        var result = ScenarioLoader.Load(Write("merge.yaml", yaml));
        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        var rses = result.Scenario!.Rses.ToDictionary(r => r.Name);
        Assert.Equal(Core.Scenarios.Model.StorageTechnology.Dcache, rses["BETA-DISK"].Storage);
        Assert.Equal(20_000_000_000_000, rses["BETA-DISK"].Quota.Bytes); // the explicit key wins
        Assert.Equal(10_000_000_000_000, rses["GAMMA-DISK"].Quota.Bytes);
        Assert.Equal("FAST", rses["GAMMA-DISK"].Attributes["QOS"]);
        Assert.Equal(1_000_000_000_000, rses["GAMMA-DISK"].Watermark.Bytes);
    }

    [Fact]
    public void MergingAScalarIsAnError() =>
        Refused(Write("mergescalar.yaml", Valid.Replace("  name: hostile", "  name: hostile\n  <<: 3")), "'<<' merges a mapping");

    [Fact]
    public void AScalarDocument()
    {
        var d = Refused(Write("scalar.yaml", "just some words\n"), "a scenario is a mapping");
        Assert.Contains("found a value", d.Message);
        Assert.Equal((1, 1), (d.Location.Line, d.Location.Column));
    }

    [Fact]
    public void AListDocument()
    {
        var d = Refused(Write("list.yaml", "- run: {name: x}\n- rses: {}\n"), "a scenario is a mapping");
        Assert.Contains("found a list", d.Message);
    }

    [Fact]
    public void ANullDocument() => Refused(Write("null.yaml", "~\n"), "a scenario is a mapping");

    [Theory]
    [InlineData("run: {name: x\n", 2, 1)]
    [InlineData("run: {name: x\nrses: {}\n", 1, 7)] // YamlDotNet throws InvalidOperationException here, not YamlException
    [InlineData("run: [a, b\nrses: {}\n", 1, 7)]
    [InlineData("run:\n  name: \"open\n", 2, 9)] // the quote that is never closed
    [InlineData("run:\n  name: x\n bad: y\n", 3, 2)] // the key indented by one space
    public void BrokenYamlSyntax(string text, int line, int column)
    {
        var d = Refused(Write("syntax.yaml", text), "invalid YAML");
        Assert.Equal((line, column), (d.Location.Line, d.Location.Column));
        Assert.NotNull(d.Suggestion);
        Assert.DoesNotContain("(Line:", d.Message);
    }

    [Fact]
    public void AComplexKey() =>
        Refused(Write("complex.yaml", Valid + "\n? [a, b]\n: c\n"), "a key must be a plain name");

    [Fact]
    public void SeveralDocuments()
    {
        var d = Refused(Write("docs.yaml", Valid + "\n---\n" + Valid), "a second YAML document");
        Assert.Equal(7, d.Location.Line);
    }

    [Theory]
    [InlineData("ci-smoke.yaml", "~|[]|{}|x|-1|0|[a, b]|{a: 1}|\"\"|1e400|NaN")]
    [InlineData("escape-fdr-2020.yaml", "~|{}|x")]
    public void MutatedScenariosNeverThrowAndAlwaysSayWhere(string name, string values)
    {
        // Each line deleted, and each value replaced by nothing, a list, a mapping, a word or an odd number.
        var lines = File.ReadAllLines(RepoPaths.Scenario(name));
        var replacements = values.Split('|');
        var mutants = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var variants = new List<string> { string.Join("\n", lines.Where((_, j) => j != i)) };
            var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
                variants.AddRange(replacements.Select(r => string.Join("\n", lines.Select((l, j) => j == i ? l[..(colon + 2)] + r : l))));
            foreach (var text in variants)
            {
                mutants++;
                var result = ScenarioLoader.Parse(text, "mutant.yaml");
                Assert.Equal(result.Scenario is not null, result.Diagnostics.Count == 0);
                Assert.All(result.Diagnostics, d => Assert.True(d.Location.Line > 0 && d.Location.Column > 0, $"no place for '{d}' in:\n{text}"));
            }
        }
        Assert.True(mutants > 500, $"only {mutants} mutants");
    }

    [Fact]
    public void ParseFromTextNeverThrowsOnGarbage()
    {
        var random = new Random(3);
        const string alphabet = "[]{}:,-?*&!|>'\"#% \n\tab01";
        for (var i = 0; i < 500; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(1, 80)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var result = ScenarioLoader.Parse(text, "fuzz.yaml");
            Assert.False(result.Ok, text);
            Assert.NotEmpty(result.Diagnostics);
        }
    }
}
