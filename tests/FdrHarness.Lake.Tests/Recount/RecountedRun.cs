using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Lake.Tests.Recount;

/// <summary>Runs a scenario into Parquet files as `fdr run` does, then checks <see cref="RunInvariants"/> on them.</summary>
internal sealed class RecountedRun : IDisposable
{
    public string Directory { get; }
    public LakeResult Result { get; }
    public Summary Summary { get; }
    public RunFiles Files { get; }

    private RecountedRun(string directory, LakeResult result, Summary summary, RunFiles files)
    {
        Directory = directory;
        Result = result;
        Summary = summary;
        Files = files;
    }

    public static RecountedRun Run(Scenario scenario)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("fdr-lake-recount-").FullName;
        try
        {
            // As `fdr run` does: the target's counters are run.json's.
            var target = new EmbeddedTarget();
            TargetOutcome outcome;
            using (var sink = new ParquetObservationSink(dir))
                outcome = target.ExecuteAsync(RunPlan.Create(scenario), new RehearsalContext(dir, DateTime.UnixEpoch, sink, TextWriter.Null), CancellationToken.None).GetAwaiter().GetResult();
            var result = target.Result!;
            var summary = SummaryBuilder.Build(dir, new Reporting.ReportOptions { Plots = false });
            var files = RunFiles.Read(dir);
            RunInvariants.Check(scenario, files, result, summary, outcome.Counters);
            return new RecountedRun(dir, result, summary, files);
        }
        catch
        {
            System.IO.Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
