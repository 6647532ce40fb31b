using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Analysis;

/// <summary>The API latency table of a live run (<see cref="ApiLatencyFile"/>).</summary>
public static class ApiLatency
{
    public const string FileName = ApiLatencyFile.FileName;

    public static IReadOnlyList<ApiLatencyRow> Read(string runDir) => ApiLatencyFile.Read(runDir);
}
