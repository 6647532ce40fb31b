using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Tests;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// One plan for both targets: `fdr plan --format json` gives the same operations for --target embedded and --target
/// rucio, line for line, once the fields only a live target has are set aside.
/// </summary>
public sealed class PlanCommandTests
{
    /// <summary>Fields only the live target's plan has: the run tag noise names get, whether a chaos action applies there.</summary>
    private static readonly string[] LiveOnly = ["name_suffix", "applied", "note", "target"];

    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Every_scenario_plans_the_same_operations_on_both_targets(string file)
    {
        // The big scenarios at a small scale: the plan's logic is the same, the test stays within CI's budget.
        var path = RepoPaths.Scenario(file);
        var scale = ScenarioLoader.Load(path).Scenario!.Experiments.Sum(e => e.Files) > 50_000 ? "0.02" : "1";
        var embedded = Digest(["plan", path, "--format", "json", "--target", "embedded", "--scale", scale], out var lines);
        var live = Digest(["plan", path, "--format", "json", "--target", "rucio", "--scale", scale], out var liveLines);
        Assert.True(lines > 1, "the plan has operations");
        Assert.Equal(lines, liveLines);
        Assert.Equal(embedded, live);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Generated_scenarios_plan_the_same_operations_on_both_targets(int seed)
    {
        var yaml = ScenarioWriter.ToYaml(ScenarioGenerator.Generate(seed));
        var loaded = ScenarioLoader.Parse(yaml, $"generated-{seed}.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var scenario = loaded.Scenario!;
        var embedded = new StringWriter();
        var live = new StringWriter();
        PlanWriter.WriteJsonLines(RunPlan.Create(scenario), "embedded", embedded);
        PlanWriter.WriteJsonLines(RunPlan.Create(scenario), "rucio", live);
        var a = embedded.ToString().Split('\n').Select(Normalize).ToList();
        var b = live.ToString().Split('\n').Select(Normalize).ToList();
        Assert.True(a.Count > 10);
        Assert.Equal(a, b);
    }

    [Fact]
    public void The_same_scenario_and_seed_plan_the_same_and_another_seed_otherwise()
    {
        var path = RepoPaths.Scenario("ci-smoke.yaml");
        var one = Digest(["plan", path, "--format", "json"], out _);
        var again = Digest(["plan", path, "--format", "json"], out _);
        var other = Digest(["plan", path, "--format", "json", "--seed", "8"], out _);
        Assert.Equal(one, again);
        Assert.NotEqual(one, other);
    }

    [Fact]
    public void The_text_plan_and_the_dry_run_tell_the_same_plan()
    {
        var path = RepoPaths.Scenario("ci-smoke.yaml");
        var plan = new StringWriter();
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["plan", path], plan, new StringWriter()));
        var dry = new StringWriter();
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["run", path, "--dry-run"], dry, new StringWriter()));
        var planLines = plan.ToString().Split('\n').Where(l => l.StartsWith("Plan:", StringComparison.Ordinal) || l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Contains(planLines, l => l.StartsWith("Plan:", StringComparison.Ordinal));
        foreach (var line in planLines) Assert.Contains(line, dry.ToString());
    }

    [Fact]
    public void A_set_changes_the_plan_as_the_matching_option_does_and_a_wrong_one_is_one_line()
    {
        var path = RepoPaths.Scenario("ci-smoke.yaml");
        var viaSet = Digest(["plan", path, "--format", "json", "--set", "run.scale=0.5"], out _);
        var viaOption = Digest(["plan", path, "--format", "json", "--scale", "0.5"], out _);
        var plain = Digest(["plan", path, "--format", "json"], out _);
        Assert.Equal(viaOption, viaSet);
        Assert.NotEqual(plain, viaSet);
        // Several settings apply in order; the plan's header tells the seed.
        var slower = new StringWriter();
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["plan", path, "--set", "links.bandwidth_factor=0.5", "--set", "run.seed=9"], slower, new StringWriter()));
        Assert.Contains("seed 9", slower.ToString());

        // The workload's pace: ci-smoke's 2,500 files at half the rate take twice as long (44m9s → 1h25m49s).
        var halfPace = new StringWriter();
        Assert.Equal(ExitCodes.Success, FdrApp.Run(["plan", path, "--set", "workload.rate_factor=0.5"], halfPace, new StringWriter()));
        Assert.Matches(@"inject +inject +from 0s to 1h25m49s: 2,500 files", halfPace.ToString());
        Assert.DoesNotMatch(@"inject +inject +from 0s to 1h25m49s", slower.ToString());

        var run = Path.Combine(Path.GetTempPath(), "fdr-set-" + Guid.NewGuid().ToString("N"));
        foreach (var (set, expected) in new[]
        {
            ("links.nonsense=2", "--set links.nonsense"),
            ("workload.rate_factor=0", "--set workload.rate_factor=0: expected a factor above 0"),
            ("workload.rate_factor=fast", "--set workload.rate_factor=fast: expected a factor above 0"),
            ("workload.rate_factor=5000", "at most 1000"),
        })
        {
            var stderr = new StringWriter();
            Assert.Equal(ExitCodes.InvalidInput, FdrApp.Run(["run", path, "--set", set, "--out", run], new StringWriter(), stderr));
            var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line);
            Assert.False(Directory.Exists(run));
        }
    }

    private static string Normalize(string line)
    {
        if (line.Length == 0) return line;
        var o = JsonNode.Parse(line)!.AsObject();
        foreach (var key in LiveOnly) o.Remove(key);
        return o.ToJsonString();
    }

    /// <summary>The SHA-256 of the plan's normalized lines, streamed: ESCAPE's plan is hundreds of MB as text.</summary>
    private static string Digest(string[] args, out long lines)
    {
        using var writer = new LineDigest();
        var stderr = new StringWriter();
        Assert.True(FdrApp.Run(args, writer, stderr) == ExitCodes.Success, stderr.ToString());
        writer.Flush();
        lines = writer.Lines;
        return writer.Hex();
    }

    private sealed class LineDigest : TextWriter
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly StringBuilder _line = new();
        public long Lines { get; private set; }
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value != '\n')
            {
                _line.Append(value);
                return;
            }
            _hash.AppendData(Encoding.UTF8.GetBytes(Normalize(_line.ToString()) + "\n"));
            _line.Clear();
            Lines++;
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "") Write(c);
        }

        public string Hex() => Convert.ToHexString(_hash.GetHashAndReset());

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
