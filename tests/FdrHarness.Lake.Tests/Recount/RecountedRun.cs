using FdrHarness.Core.Observations;
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
            LakeResult result;
            using (var sink = new ParquetObservationSink(dir)) result = EmbeddedLake.Run(scenario, sink);
            var summary = SummaryBuilder.Build(dir, new Reporting.ReportOptions { Plots = false });
            var files = RunFiles.Read(dir);
            RunInvariants.Check(scenario, files, result, summary);
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
