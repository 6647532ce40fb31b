using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Tests.Observations;

public class RunDirectoryTests
{
    private static readonly DateTime Start = new(2026, 11, 25, 11, 0, 7, DateTimeKind.Utc);

    private sealed class FixedClock(DateTime utc) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(utc);
    }

    private static Scenario Scenario(string name = "ci-smoke", long seed = 7) => new()
    {
        Run = new RunSettings { Name = name, Seed = seed, Scale = 0.5 },
    };

    [Fact]
    public void Default_path_is_scenario_name_then_utc_time_and_seed()
    {
        using var tmp = new TempFolder();
        var run = RunDirectory.Create(tmp.Path, "escape-fdr-2020", 2020, Start);
        Assert.Equal(Path.Combine(tmp.Path, "escape-fdr-2020", "20261125T110007Z-2020"), run.Path);
        Assert.True(Directory.Exists(run.Path));
    }

    [Fact]
    public void Local_start_times_are_named_in_utc()
    {
        using var tmp = new TempFolder();
        var local = new DateTimeOffset(2026, 11, 25, 12, 0, 7, TimeSpan.FromHours(1)).UtcDateTime.ToLocalTime();
        var run = RunDirectory.Create(tmp.Path, "s", 1, local);
        Assert.EndsWith("20261125T110007Z-1", run.Path);
    }

    [Fact]
    public void A_taken_name_gets_a_numbered_sibling_and_an_empty_one_is_reused()
    {
        using var tmp = new TempFolder();
        var first = RunDirectory.Create(tmp.Path, "s", 1, Start);
        File.WriteAllText(Path.Combine(first.Path, RunDirectory.RunFile), "{}");
        var second = RunDirectory.Create(tmp.Path, "s", 1, Start);
        Assert.Equal(first.Path + "-2", second.Path);
        var third = RunDirectory.Create(tmp.Path, "s", 1, Start);
        Assert.Equal(first.Path + "-3", third.Path); // -2 is empty but claimed by a run in progress
        File.Delete(Path.Combine(second.Path, RunDirectory.ClaimFile)); // as if that run had ended without writing anything
        Assert.Equal(second.Path, RunDirectory.Create(tmp.Path, "s", 1, Start).Path);
    }

    [Fact]
    public void A_folder_is_claimed_before_anything_is_written_and_released_when_the_run_finishes()
    {
        using var tmp = new TempFolder();
        var run = RunDirectory.Start(Scenario(), tmp.Path, tmp.Sub("out"), out var info);
        Assert.True(File.Exists(Path.Combine(run.Path, RunDirectory.ClaimFile)));
        var e = Assert.Throws<RunDirectoryException>(() => RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("out")));
        Assert.Equal($"--out {tmp.Sub("out")} is being written by another run (it holds .fdr-run.claim); give another folder", e.Message);
        run.Finish(info, ExitCodes.Success);
        Assert.False(File.Exists(Path.Combine(run.Path, RunDirectory.ClaimFile)));
        // Finished, the folder is a run's record: never reused.
        Assert.Contains("is not empty", Assert.Throws<RunDirectoryException>(() => RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("out"))).Message);
    }

    [Fact]
    public void Of_runs_racing_into_one_folder_exactly_one_gets_it_whichever_comes_first()
    {
        using var tmp = new TempFolder();
        for (var round = 0; round < 20; round++)
        {
            var folder = tmp.Sub($"race-{round}");
            const int runners = 4;
            using var start = new Barrier(runners);
            var won = 0;
            var refusals = new System.Collections.Concurrent.ConcurrentBag<string>();
            var threads = Enumerable.Range(0, runners).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    RunDirectory.Start(Scenario(), tmp.Path, folder, out _);
                    Interlocked.Increment(ref won);
                }
                catch (RunDirectoryException e)
                {
                    refusals.Add(e.Message);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Equal(1, won);
            Assert.Equal(runners - 1, refusals.Count);
            Assert.All(refusals, m => Assert.Matches("is being written by another run|is not empty", m));
            Assert.Equal([RunDirectory.ClaimFile, RunDirectory.RunFile, RunDirectory.ScenarioFile],
                Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void An_empty_out_is_refused_before_anything_is_created()
    {
        using var tmp = new TempFolder();
        Assert.Equal("--out is empty; give a folder that does not exist yet or is empty",
            Assert.Throws<RunDirectoryException>(() => RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: "")).Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Fact]
    public void Scenario_names_cannot_escape_the_reports_folder()
    {
        Assert.Equal("_.._etc_passwd", RunDirectory.SafeName("/../etc/passwd"));
        Assert.Equal("unnamed", RunDirectory.SafeName(".."));
        Assert.Equal("escape-fdr-2020", RunDirectory.SafeName("escape-fdr-2020"));
    }

    [Fact]
    public void Out_dir_is_used_when_new_or_empty()
    {
        using var tmp = new TempFolder();
        var fresh = RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("new/nested"));
        Assert.Equal(tmp.Sub("new/nested"), fresh.Path);
        Directory.CreateDirectory(tmp.Sub("empty"));
        Assert.Equal(tmp.Sub("empty"), RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("empty")).Path);
    }

    [Fact]
    public void Out_dir_that_is_not_empty_or_is_a_file_is_refused_with_a_clear_message()
    {
        using var tmp = new TempFolder();
        Directory.CreateDirectory(tmp.Sub("used"));
        File.WriteAllText(Path.Combine(tmp.Sub("used"), "events.parquet"), "x");
        var e = Assert.Throws<RunDirectoryException>(() => RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("used")));
        Assert.Contains("--out", e.Message);
        Assert.Contains("not empty", e.Message);
        Assert.Equal("x", File.ReadAllText(Path.Combine(tmp.Sub("used"), "events.parquet"))); // untouched

        File.WriteAllText(tmp.Sub("file"), "");
        Assert.Contains("is a file", Assert.Throws<RunDirectoryException>(() => RunDirectory.Create(tmp.Path, "s", 1, Start, outDir: tmp.Sub("file"))).Message);
    }

    [Fact]
    public void Run_json_holds_what_the_run_was_and_how_it_ended()
    {
        using var tmp = new TempFolder();
        var scenario = Scenario();
        var info = RunInfo.Start(scenario, new FixedClock(Start.AddTicks(1234)));
        var run = RunDirectory.Create(tmp.Path, info);
        run.WriteRunInfo(info);

        using (var started = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Path, RunDirectory.RunFile))))
        {
            var root = started.RootElement;
            Assert.Equal(RunDirectory.ToolVersion, root.GetProperty("tool_version").GetString());
            Assert.Equal("embedded", root.GetProperty("target").GetString());
            Assert.Equal("ci-smoke", root.GetProperty("scenario").GetString());
            Assert.Equal(7, root.GetProperty("seed").GetInt64());
            Assert.Equal(0.5, root.GetProperty("scale").GetDouble());
            Assert.Equal("2026-11-25T11:00:07Z", root.GetProperty("started_utc").GetString());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("ended_utc").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("exit_status").ValueKind);
            Assert.Equal(Environment.MachineName, root.GetProperty("host").GetString());
        }

        var summary = new Dictionary<string, double> { ["events"] = 3_000_000, ["transfers_done"] = 448_117, ["done_ratio"] = 0.95 };
        run.WriteRunInfo(info.End(ExitCodes.ThresholdsFailed, summary, new FixedClock(Start.AddMinutes(2))));
        using (var ended = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Path, RunDirectory.RunFile))))
        {
            var root = ended.RootElement;
            Assert.Equal(99, root.GetProperty("exit_status").GetInt32());
            Assert.Equal("2026-11-25T11:02:07Z", root.GetProperty("ended_utc").GetString());
            Assert.Equal(448_117, root.GetProperty("summary").GetProperty("transfers_done").GetDouble());
            Assert.Equal(0.95, root.GetProperty("summary").GetProperty("done_ratio").GetDouble());
        }
        Assert.Equal(info.End(99, summary, new FixedClock(Start.AddMinutes(2))) with { Summary = null }, run.ReadRunInfo() with { Summary = null });
        Assert.Empty(Directory.GetFiles(run.Path, "*" + ParquetObservationSink.TempSuffix));
    }

    [Fact]
    public void Run_json_of_a_real_target_names_the_server_without_credentials()
    {
        var scenario = Scenario() with
        {
            Target = new TargetSettings
            {
                Kind = TargetKind.Rucio,
                Rucio = new RucioConnection { Url = new Uri("https://ddmadmin:s3cret@rucio.example.org/") },
            },
        };
        var info = RunInfo.Start(scenario);
        Assert.Equal("rucio", info.Target);
        Assert.Equal("https://rucio.example.org/", info.TargetUrl);
    }

    [Fact]
    public void Scenario_yaml_is_the_resolved_scenario_and_loads_back()
    {
        using var tmp = new TempFolder();
        var source = ScenarioLoader.Load(RepositoryFile("scenarios", "ci-smoke.yaml"));
        Assert.NotNull(source.Scenario);
        var scenario = source.Scenario with { Run = source.Scenario.Run with { Seed = 7, Scale = 0.5 } };
        var run = RunDirectory.Create(tmp.Path, scenario.Run.Name, 7, Start);
        run.WriteScenario(scenario);
        var loaded = ScenarioLoader.Load(Path.Combine(run.Path, RunDirectory.ScenarioFile));
        Assert.True(loaded.Scenario is not null, string.Join("\n", loaded.Diagnostics));
        Assert.Equal(7, loaded.Scenario.Run.Seed);
        Assert.Equal(0.5, loaded.Scenario.Run.Scale);
        Assert.Equal(scenario.Rses.Select(r => r.Name), loaded.Scenario.Rses.Select(r => r.Name));
    }

    private static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(Path.Combine(parts));
    }

    [Fact]
    public void A_whole_run_leaves_complete_files_only()
    {
        using var tmp = new TempFolder();
        var run = RunDirectory.Start(Scenario(), tmp.Path, null, out var info, new FixedClock(Start));
        Assert.Equal(Path.Combine(tmp.Path, "ci-smoke", "20261125T110007Z-7"), run.Path);
        Assert.Null(run.ReadRunInfo().ExitStatus);
        using (var sink = run.OpenSink())
            for (var i = 0; i < 100; i++) sink.Event(ObservationFixtures.Event(i));
        run.Finish(info, ExitCodes.Interrupted, new Dictionary<string, double> { ["events"] = 100 });
        Assert.Equal(130, run.ReadRunInfo().ExitStatus);
        Assert.Equal(
            [ParquetObservationSink.EventsFile, ParquetObservationSink.FaultsFile, ParquetObservationSink.InjectionsFile, ParquetObservationSink.LifecycleFile,
             RunDirectory.RunFile, ParquetObservationSink.SamplesFile, RunDirectory.ScenarioFile],
            Directory.GetFiles(run.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(100, run.Observations().Events().Count());
    }

    [Fact]
    public void Atomic_write_replaces_whole_files()
    {
        using var tmp = new TempFolder();
        var path = tmp.Sub("x.json");
        RunDirectory.WriteAtomically(path, "first");
        RunDirectory.WriteAtomically(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.False(File.Exists(path + ParquetObservationSink.TempSuffix));
    }
}
