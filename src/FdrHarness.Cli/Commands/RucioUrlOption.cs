using System.CommandLine;
using System.CommandLine.Parsing;

namespace FdrHarness.Cli.Commands;

/// <summary>--rucio-url URL: the Rucio server, over target.rucio.url and FDR_RUCIO_URL (fdr run and fdr live prepare).</summary>
public static class RucioUrlOption
{
    public static Option<Uri?> Create() => new("--rucio-url")
    {
        Description = "The Rucio server, overriding target.rucio.url and FDR_RUCIO_URL.",
        CustomParser = r => Uri.TryCreate(r.Tokens.Single().Value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : Invalid(r),
    };

    private static Uri? Invalid(ArgumentResult result)
    {
        result.AddError($"--rucio-url '{result.Tokens.Single().Value}': expected an http or https URL such as https://rucio.example:443");
        return null;
    }
}
