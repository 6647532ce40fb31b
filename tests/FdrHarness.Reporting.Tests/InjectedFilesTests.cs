using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// The experiments and RSE tables' injected files come from injections.parquet, and say "not recorded" for a run folder
/// written before it existed (never the files seen in events, which leave out every file that did not move).
/// </summary>
public sealed class InjectedFilesTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    [Fact]
    public void Injected_files_per_experiment_and_rse_are_the_injection_files()
    {
        var s = SummaryBuilder.Build(run.Dir, new ReportOptions { Plots = false });
        var rows = new ObservationReader(run.Dir).Injections().ToList();
        Assert.NotEmpty(rows);
        Assert.Equal(new InjectionTotals(rows.Sum(r => r.Files), rows.Sum(r => r.Bytes)), s.Injected);
        foreach (var g in rows.GroupBy(r => r.Scope))
            Assert.Equal((g.Sum(r => r.Files), g.Sum(r => r.Bytes)), (s.Experiments.Single(x => x.Scope == g.Key).InjectedFiles, s.Experiments.Single(x => x.Scope == g.Key).InjectedBytes));
        foreach (var u in s.Rses)
        {
            var mine = rows.Where(r => r.Rse == u.Rse).ToList();
            Assert.Equal((mine.Sum(r => r.Files), mine.Sum(r => r.Bytes)), (u.InjectedFiles, u.InjectedBytes));
            Assert.Equal(u.InjectedBytes + u.BytesIn - u.BytesDeleted, u.NetBytes);
        }
        // ci-smoke's files all go in: each experiment's injected files are the plan's, whether they moved or not.
        var scenario = ScenarioLoader.Load(Path.Combine(run.Dir, "scenario.yaml")).Scenario!;
        foreach (var e in RunPlan.Create(scenario).Experiments)
            Assert.Equal(e.FileCount, s.Experiments.Single(x => x.Scope == e.Scope).InjectedFiles);
    }

    [Fact]
    public void A_run_folder_without_the_injection_file_says_not_recorded()
    {
        var old = Repo.TempDir("no-injections");
        try
        {
            foreach (var f in Directory.GetFiles(run.Dir).Where(f => Path.GetFileName(f) is not ParquetObservationSink.InjectionsFile && !f.EndsWith(".csv", StringComparison.Ordinal)))
                File.Copy(f, Path.Combine(old, Path.GetFileName(f)));
            Assert.False(File.Exists(Path.Combine(old, ParquetObservationSink.InjectionsFile)));
            ReportBuilder.Build(old, new ReportOptions { Plots = false });
            var s = SummaryBuilder.Build(old, new ReportOptions { Plots = false });
            Assert.Null(s.Injected);
            Assert.NotEmpty(s.Experiments);
            Assert.All(s.Experiments, x => Assert.Null(x.InjectedFiles));
            Assert.All(s.Rses, u => Assert.Null(u.NetBytes));
            Assert.Contains("files injected: not recorded", File.ReadAllText(Path.Combine(old, "report.md")), StringComparison.Ordinal);
            Assert.Contains("not recorded", File.ReadAllText(Path.Combine(old, "report.html")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(old, recursive: true);
        }
    }
}
