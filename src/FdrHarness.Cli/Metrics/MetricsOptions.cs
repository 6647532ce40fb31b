using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Cli.Metrics;

/// <summary>
/// `fdr run --metrics-port N [--metrics-wait D]` (or run.metrics_port / run.metrics_wait): the run inside
/// <see cref="Around"/> serves <see cref="RunMetrics"/> while it goes on.
/// </summary>
public sealed class MetricsOptions
{
    public Option<int?> Port { get; } = new("--metrics-port")
    {
        Description = "Serve Prometheus metrics on this port while running (http://HOST:PORT/metrics); overrides run.metrics_port. 0: any free port.",
        CustomParser = r => int.TryParse(r.Tokens.Single().Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 65535
            ? p : Invalid<int>(r, "--metrics-port", "a TCP port such as 9464"),
    };

    public Option<TimeSpan?> Wait { get; } = new("--metrics-wait")
    {
        Description = "With metrics: wait up to this long for a first scrape before starting and for two after the end (e.g. 2m); overrides run.metrics_wait.",
        CustomParser = r => Durations.TryParse(r.Tokens.Single().Value, out var d, out _) && d >= TimeSpan.Zero
            ? d : Invalid<TimeSpan>(r, "--metrics-wait", "a duration such as 2m or 30s"),
    };

    /// <summary>
    /// Runs <paramref name="run"/> with the metrics it should feed (null when metrics are off), serving them from before
    /// it starts until Prometheus has them all. A port that cannot be listened on is exit 2, nothing run.
    /// </summary>
    public int Around(ParseResult parse, Scenario scenario, TextWriter stdout, TextWriter stderr, CancellationToken ct, Func<RunMetrics?, int> run)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(run);
        if ((parse.GetValue(Port) ?? scenario.Run.MetricsPort) is not { } port) return run(null);
        var wait = parse.GetValue(Wait) ?? scenario.Run.MetricsWait;
        var metrics = new RunMetrics(scenario);
        MetricsEndpoint endpoint;
        try
        {
            endpoint = MetricsEndpoint.Start(metrics, port);
        }
        catch (MetricsEndpointException e)
        {
            stderr.WriteLine($"fdr run: --metrics-port {port}: cannot listen: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        using (endpoint)
        {
            stdout.WriteLine($"Metrics: http://0.0.0.0:{endpoint.Port}/metrics");
            if (wait > TimeSpan.Zero)
            {
                stdout.WriteLine($"Waiting up to {Durations.Format(wait)} for a first scrape…");
                try
                {
                    if (!endpoint.WaitForScrapesAsync(1, wait, ct).GetAwaiter().GetResult())
                        stdout.WriteLine($"No scrape within {Durations.Format(wait)}: starting anyway.");
                }
                catch (OperationCanceledException)
                {
                    return ExitCodes.Interrupted; // nothing started yet
                }
            }
            var exit = run(metrics);
            metrics.Finished(exit);
            if (wait > TimeSpan.Zero && endpoint.Scrapes > 0)
            {
                // Someone scrapes: keep the final values up until they are stored (see MetricsEndpoint).
                try
                {
                    if (!endpoint.WaitForScrapesAsync(endpoint.Scrapes + 2, wait, ct).GetAwaiter().GetResult())
                        stdout.WriteLine($"Metrics: the final values were not scraped twice within {Durations.Format(wait)}.");
                }
                catch (OperationCanceledException) { /* Ctrl-C: do not wait any longer; the run's exit stands */ }
            }
            return exit;
        }
    }

    private static T? Invalid<T>(ArgumentResult result, string option, string expected) where T : struct
    {
        result.AddError($"{option} '{result.Tokens.Single().Value}': expected {expected}");
        return null;
    }
}
