using System.CommandLine;

namespace FdrHarness.Cli.Commands;

/// <summary>--png: each plot as plots/*.png too (fdr run, report and merge); report.html and plots/*.svg are written either way.</summary>
public static class PngOption
{
    public static Option<bool> Create() => new("--png")
    {
        Description = "Also write each plot as plots/*.png (report.html shows the SVGs in plots/), for where an SVG is not shown.",
    };
}
