using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Reporting.Tests;

/// <summary>An exporter is its class and its line in ReportFormats.All: one left out of the list fails here (found by reflection).</summary>
public sealed class ExporterRegistrationTests
{
    [Fact]
    public void Every_exporter_runs()
    {
        var declared = typeof(IExporter).Assembly.GetTypes().Where(t => typeof(IExporter).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false });
        Assert.Equal(declared.Select(t => t.Name).Order(), ReportFormats.All.Select(e => e.GetType().Name).Order());
    }
}
