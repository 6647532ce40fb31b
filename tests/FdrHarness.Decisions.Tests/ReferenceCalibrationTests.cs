using System.Globalization;
using System.Text;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Calibration;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

/// <summary>fdr calibrate --reference: the seed's measured tables read, and a scenario's daemon models fitted to a table of measured usage.</summary>
public sealed class ReferenceCalibrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-reference-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>../shared/reference/escape-fdr-2020 beside the checkout, found by walking up (as CI has it).</summary>
    private static string Seed(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference", "escape-fdr-2020", file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"no shared/reference/escape-fdr-2020/{file} above {AppContext.BaseDirectory}: the seed's tables sit beside the checkout");
    }

    [Fact]
    public void The_seed_tables_read_as_the_figures_they_state()
    {
        var table = ReferenceTable.Read(Seed("daemons-during-fdr.csv"), Seed("transfer-matrix.csv"));
        Assert.Equal(17, table.Daemons.Count);
        Assert.All(table.Daemons, d => Assert.True(Core.Rucio.RucioDaemons.IsKnown(d.Daemon), d.Service));
        var server = table.Daemons.Single(d => d.Daemon == "rucio-server");
        Assert.Equal("server (after limits)", server.Service); // the steady state, not the one before the limits
        Assert.Equal((2.0, 4.0, 3.0), (server.Cpu!.Low, server.Cpu.High, server.Cpu.Typical));
        Assert.Equal(1.5 * (1L << 30), server.Memory!.Typical);
        Assert.Equal(500.0 * (1 << 20), table.Daemons.Single(d => d.Daemon == "rucio-server-auth").Memory!.Typical);
        var evaluator = table.Daemons.Single(d => d.Daemon == "judge-evaluator");
        Assert.Equal(1.3, evaluator.Cpu!.Typical);
        Assert.Equal(0.105, table.Daemons.Single(d => d.Daemon == "abacus-collection-replica").Cpu!.Typical, 9);
        Assert.Equal(250.0 * (1 << 20), table.Daemons.Single(d => d.Daemon == "reaper").Memory!.Typical); // reaper2 in the seed
        Assert.Equal(51, table.Matrix[("DESY-DCACHE", "PIC-DCACHE")]);
        Assert.False(table.Matrix.ContainsKey(("DESY-DCACHE", "DESY-DCACHE"))); // empty = no data
        Assert.Equal(130, table.Matrix.Count);
    }

    [Fact]
    public void Fitted_to_a_hidden_lakes_usage_the_calibrated_lake_comes_within_15_percent_cpu_and_10_percent_memory()
    {
        // Closed loop: the usage of ci-smoke with hidden models (every memory and CPU parameter moved by up to ±50 %), written
        // as the seed writes its table; ci-smoke with the default models is fitted to it.
        var scenario = Load("ci-smoke.yaml");
        var hidden = LakeUsage.Of(CalibrationTests.Hidden(scenario, 16));
        var c = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("# measured usage of a hidden lake\nservice,usage_cpu,usage_memory\n");
        var names = Core.Rucio.RucioDaemons.All.Where(n => hidden.Typical(n) is not null).ToList();
        foreach (var name in names)
        {
            var (cpu, memory) = hidden.Typical(name)!.Value;
            csv.Append(c, $"{name},{cpu:0.######},{memory / 1048576:0.###} MiB\n");
        }
        var path = Path.Combine(_dir, "measured.csv");
        File.WriteAllText(path, csv.ToString());

        var result = ReferenceCalibrator.Run(scenario, ReferenceTable.Read(path, null));
        var problems = new List<string>();
        foreach (var d in result.Daemons)
        {
            var (cpu, memory) = (d.Cpu!.Typical, d.Memory!.Typical);
            var fitted = d.Calibrated!.Value;
            // CPU to the table's six decimals (a millicore's resolution would be coarser than 15 % of an idle daemon's).
            if (Math.Abs(fitted.Cpu - cpu) > 0.15 * cpu + 1e-6) problems.Add($"{d.Daemon} cpu: calibrated {fitted.Cpu:0.####}, measured {cpu:0.####}");
            if (Math.Abs(fitted.Memory - memory) > 0.10 * memory) problems.Add($"{d.Daemon} memory: calibrated {fitted.Memory / 1048576:0.#}Mi, measured {memory / 1048576:0.#}Mi");
        }
        Assert.True(names.Count >= 15, $"only {names.Count} daemons measured");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The uncalibrated lake was further off: the fit did something.
        Assert.Contains(result.Daemons, d => Math.Abs(d.Uncalibrated!.Value.Memory - d.Memory!.Typical) > 0.10 * d.Memory.Typical);
    }

    [Fact]
    public void Calibrate_reference_on_the_seed_tables_writes_an_overlay_predict_takes_and_the_closeness_table()
    {
        // ci-smoke (small, so quick) against the seed's ESCAPE figures: the mechanics of the command, not ESCAPE's closeness (README).
        var overlay = Path.Combine(_dir, "reference.yaml");
        var (code, stdout, stderr) = Fdr("calibrate", "--reference", Seed("daemons-during-fdr.csv"), "--scenario", RepoPaths.Scenario("ci-smoke.yaml"), "--out", overlay);
        Assert.True(code == 0, stderr);
        Assert.Contains("cpu measured", stdout, StringComparison.Ordinal);
        Assert.Contains("transfer matrix, done/submitted", stdout, StringComparison.Ordinal); // transfer-matrix.csv found beside the table
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml"), overlays: [overlay]);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        Assert.True(loaded.Overlays.Single().Calibrated);
        Assert.True(PredictionIntervals.From(loaded.Calibrations).IsEmpty);
        Assert.NotEqual(Load("ci-smoke.yaml").Daemons.Single(d => d.Name == "judge-evaluator").Model, loaded.Scenario!.Daemons.Single(d => d.Name == "judge-evaluator").Model);
        var closeness = File.ReadAllLines(Path.Combine(_dir, "reference.closeness.csv"));
        Assert.Equal(17, closeness.Count(l => l.StartsWith("daemon,", StringComparison.Ordinal)));
        Assert.Equal(130, closeness.Count(l => l.StartsWith("link,", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("service,usage_cpu,usage_memory\njudge-evaluator,1.3,lots\n", "measured.csv:2: 'lots' is not a measured memory")]
    [InlineData("service,usage_cpu\njudge-evaluator,1.3\n", "measured.csv:1: no 'usage_memory' column")]
    [InlineData("service,usage_cpu,usage_memory\njudge-evaluater,1.3,1 GiB\n", "services this harness does not know: judge-evaluater (line 2)")]
    public void A_bad_reference_table_is_one_line_exit_2_and_nothing_written(string text, string expected)
    {
        var table = Path.Combine(_dir, "measured.csv");
        File.WriteAllText(table, text);
        var overlay = Path.Combine(_dir, "out.yaml");
        var (code, _, stderr) = Fdr("calibrate", "--reference", table, "--scenario", RepoPaths.Scenario("ci-smoke.yaml"), "--out", overlay);
        Assert.Equal(2, code);
        Assert.Contains(expected, Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.False(File.Exists(overlay));

        (code, _, stderr) = Fdr("calibrate", "--reference", table, "--out", overlay);
        Assert.Equal(2, code);
        Assert.Contains("--reference needs --scenario", Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
    }
}
