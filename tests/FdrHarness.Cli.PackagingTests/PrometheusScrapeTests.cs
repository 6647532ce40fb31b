using System.Text;
using System.Text.Json.Nodes;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Networks;
using FdrHarness.Core.Execution;
using FdrHarness.Kubernetes.Prometheus;

namespace FdrHarness.Cli.PackagingTests;

/// <summary>
/// The real Prometheus (Debian's, scripts/containers.sh) scrapes a rehearsal running in the fdr image, and what it
/// stored equals the run's run.json.
/// </summary>
/// <remarks>
/// Nothing here waits on the clock. fdr itself waits by state (<c>--metrics-wait</c>): it starts the rehearsal after
/// Prometheus' first scrape, and after the end it waits for two more scrapes. Prometheus scrapes a target one scrape
/// after the other, storing each before the next begins, so when the second one arrives the first — which carried the
/// final values — is stored; fdr then exits. The test awaits that exit and only then asks Prometheus, once per figure.
/// Both containers share a network: Prometheus reaches fdr by its alias, nothing reaches back to the test process.
/// </remarks>
[Collection(nameof(FdrImage))]
public sealed class PrometheusScrapeTests(FdrImage image) : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("fdr-scrape-runs-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private const string Config = """
        global: {scrape_interval: 1s, scrape_timeout: 1s}
        scrape_configs:
          - job_name: fdr
            static_configs: [{targets: ["fdr:9464"]}]
        """;

    [Fact]
    public async Task PrometheusScrapesARunningRehearsalAndStoresTheCountersOfRunJson()
    {
        Build.WorldWritable(_runs);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var network = new NetworkBuilder().WithName("fdr-scrape-" + Guid.NewGuid().ToString("N")[..8]).Build();
        await network.CreateAsync(timeout.Token);

        await using var fdr = new ContainerBuilder(image.Name)
            .WithNetwork(network)
            .WithNetworkAliases("fdr")
            .WithCommand("run", "scenarios/ci-smoke.yaml", "--out", "/runs/scraped", "--metrics-port", "9464", "--metrics-wait", "2m")
            .WithBindMount(_runs, "/runs")
            .Build();
        await fdr.StartAsync(timeout.Token);

        await using var prometheus = new ContainerBuilder(Build.PrometheusImage)
            .WithNetwork(network)
            .WithResourceMapping(Encoding.UTF8.GetBytes(Config), "/etc/prometheus/prometheus.yml")
            .WithPortBinding(9090, true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(9090).ForPath("/-/ready")))
            .Build();
        await prometheus.StartAsync(timeout.Token);

        var exit = await fdr.GetExitCodeAsync(timeout.Token);
        var (stdout, stderr) = await fdr.GetLogsAsync(ct: timeout.Token);
        Assert.True(exit == 0, $"fdr exit {exit}\n{stdout}\n{stderr}");
        Assert.DoesNotContain("No scrape within", stdout);                 // the rehearsal started after a first scrape
        Assert.DoesNotContain("were not scraped twice", stdout);           // and ended after two more

        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(_runs, "scraped", "run.json")))!;
        var summary = info["summary"]!;
        var client = new PrometheusClient(new Uri($"http://{prometheus.Hostname}:{prometheus.GetMappedPublicPort(9090)}"));

        // The target is gone now and its series are marked stale: read each one's last stored sample.
        async Task<double> Stored(string selector)
        {
            var series = await client.QueryAsync($"sum(last_over_time({selector}[10m]))", cancel: timeout.Token);
            return Assert.Single(Assert.Single(series).Points).Value;
        }

        Assert.Equal(1, await Stored("fdr_run_finished{job=\"fdr\"}"));
        Assert.Equal((double)info["exit_status"]!, await Stored("fdr_run_exit_code{job=\"fdr\"}"));
        Assert.Equal((double)summary[RunCounters.FilesInjected]!, await Stored("fdr_files_injected_total{job=\"fdr\"}"));
        Assert.Equal((double)summary[RunCounters.Events]!, await Stored("fdr_events_total{job=\"fdr\"}"));
        Assert.Equal((double)summary[RunCounters.TransfersSubmitted]!, await Stored("fdr_transfers_total{job=\"fdr\",state=\"submitted\"}"));
        Assert.Equal((double)summary[RunCounters.TransfersDone]!, await Stored("fdr_transfers_total{job=\"fdr\",state=\"done\"}"));
        Assert.Equal((double)summary[RunCounters.TransfersFailed]!, await Stored("fdr_transfers_total{job=\"fdr\",state=\"failed\"}"));
        Assert.True((double)summary[RunCounters.TransfersDone]! > 0);

        // And the rehearsal's start was seen: before it, the counters were scraped at zero (what rates need).
        var first = await client.QueryAsync("min_over_time(fdr_files_injected_total{job=\"fdr\"}[10m])", cancel: timeout.Token);
        Assert.Equal(0, Assert.Single(Assert.Single(first).Points).Value);
    }
}
