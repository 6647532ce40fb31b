using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// `fdr run --target rucio` against a Rucio that turns hostile once the run has connected: every catalog call meets the
/// same bad answer. Each run ends by its planned end plus the grace, cuts off what was still going, says so, writes its
/// report and a finished run.json, and exits as its thresholds say (99: the gate's figure has no value) — never 1, and
/// never 3 (the target was usable at the start).
/// </summary>
public sealed class HostileRucioTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const string PasswordVariable = "FDR_HOSTILE_RUCIO_PASSWORD";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(Fault.TruncatedJson)]
    [InlineData(Fault.HtmlPage)]
    [InlineData(Fault.Status500)]
    [InlineData(Fault.Timeout)]
    public async Task A_run_against_a_server_that_turns_hostile_ends_with_its_report_and_says_what_was_cut_off(Fault fault)
    {
        await using var rucio = await RucioDouble.StartAsync();
        // A short run and grace: the run is cut off soon after its end, whatever the server does (nothing here times it).
        var yaml = $$$"""
            run: {name: hostile, seed: 7, duration: 2s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:   {storage: dcache, quota: 1 TB, attributes: {QOS: FAST}}
              SAFE-1: {storage: eos, quota: 1 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA: {files: 40, file_size: 1 MB, files_per_dataset: 20, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 40, interval: 1s, during: 1s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE}}
            thresholds:
              - transfers.done >= 1
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                grace: 1s
                auth: {method: userpass, username: {{{rucio.Username}}}, password_env: {{{PasswordVariable}}}}
            """;
        rucio.AddLake(ScenarioLoader.Parse(yaml).Scenario!);
        // The connection check (ping, token) passes; every call on the catalog meets the fault.
        rucio.FaultPlan = new FaultPlan { Rate = 1, Kinds = [fault], Paths = ["/dids", "/replicas", "/rules"] };
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        var scenario = Path.Combine(_dir, "hostile.yaml");
        await File.WriteAllTextAsync(scenario, yaml);
        var run = Path.Combine(_dir, "run");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await Task.Run(() => FdrApp.Run(["run", scenario, "--target", "rucio", "--out", run], stdout, stderr));

        var output = stdout.ToString();
        log.WriteLine(output + stderr);
        Assert.True(code == ExitCodes.ThresholdsFailed, $"exit {code}\n{output}\n{stderr}");
        Assert.True(rucio.Injected.GetValueOrDefault(fault) > 0, $"no {fault} was answered");
        // What was cut off and what never succeeded, in words; the counts in run.json.
        Assert.Contains("cut off at the planned end + 1s (target.rucio.grace): ", output);
        Assert.Contains("counts not read back from Rucio", output);
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!;
        Assert.Equal(ExitCodes.ThresholdsFailed, (int)info["exit_status"]!);
        Assert.NotNull(info["ended_utc"]);
        var summary = info["summary"]!;
        Assert.True((double)summary[RunCounters.OperationsCutOff]! + (double)summary[RunCounters.OperationsFailed]! > 0, summary.ToJsonString());
        Assert.Null(summary[RunCounters.FilesInjected]); // not read back, so not claimed
        // Errors, calls stopped unanswered and 200s whose body cannot be read are all failed calls in api-latency.csv, the
        // last two with their reason; run.json's count of failed calls is the file's, recounted.
        var latency = ApiLatencyFile.Read(run);
        Assert.All(latency, r => Assert.Equal(r.Count, r.Ok + r.Failed));
        Assert.Equal(latency.Where(r => !r.Operation.StartsWith("load:", StringComparison.Ordinal)).Sum(r => r.Failed), (double)summary[RunCounters.ApiFailed]!); // calls, not operations
        Assert.True((double)summary[RunCounters.ApiFailed]! > 0, summary.ToJsonString());
        var unreadable = latency.Select(r => (Row: r, Calls: Reason(r, "unreadable"))).Where(x => x.Calls > 0).ToList();
        if (fault is Fault.TruncatedJson or Fault.HtmlPage)
        {
            Assert.NotEmpty(unreadable);
            // Each such call was a 200 (its status kept), failed, and answered with the fault (never more than the double sent).
            Assert.All(unreadable, x => Assert.Contains("200:", x.Row.StatusCodes));
            Assert.All(unreadable, x => Assert.True(x.Row.Failed >= x.Calls, x.Row.ToString()));
            Assert.InRange(unreadable.Sum(x => x.Calls), 1, rucio.Injected[fault]);
            Assert.Contains(unreadable, x => x.Row.Operation.StartsWith("list_", StringComparison.Ordinal) || x.Row.Operation == "search_dids");
        }
        else Assert.Empty(unreadable);
        if (fault is Fault.Timeout) Assert.True(latency.Sum(r => Reason(r, "no_answer") + Reason(r, "cancelled")) > 0, string.Join("\n", latency));
        // The report and the verdict, as after any run; nothing half-written.
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        Assert.Contains("transfers.done", File.ReadAllText(Path.Combine(run, "thresholds.junit.xml")));
        Assert.Empty(Directory.GetFiles(run, "*" + ParquetObservationSink.TempSuffix, SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
        Assert.DoesNotContain("   at ", stderr.ToString()); // no stack trace
    }

    /// <summary>How many failed calls of the row the failures column puts down to <paramref name="reason"/>.</summary>
    private static long Reason(ApiLatencyRow row, string reason) => row.Failures.Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Where(p => p.StartsWith(reason + ":", StringComparison.Ordinal)).Sum(p => long.Parse(p[(reason.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_broker_that_falls_silent_fails_an_abort_on_fail_run_with_its_report()
    {
        await using var rucio = await RucioDouble.StartAsync();
        using var broker = new SilentBroker();
        var yaml = $$$"""
            run: {name: silent-broker, seed: 7, duration: 1h, observation_interval: 1s}
            rses:
              MOCK: {storage: dcache, quota: 1 TB}
            experiments:
              CTA: {files: 10, file_size: 1 MB, files_per_dataset: 10, write_to: MOCK}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 10, interval: 1s, during: 1s}}]}
            thresholds:
              - {expression: "transfers.efficiency >= 90%", abort_on_fail: true}
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                auth: {method: userpass, username: {{{rucio.Username}}}, password_env: {{{PasswordVariable}}}}
                broker: {url: "stomp://127.0.0.1:{{{broker.Port}}}", max_silence: 1s}
            """;
        rucio.AddLake(ScenarioLoader.Parse(yaml).Scenario!);
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        var scenario = Path.Combine(_dir, "silent.yaml");
        await File.WriteAllTextAsync(scenario, yaml);
        var run = Path.Combine(_dir, "run");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        // An hour's run: only the silence ends it.
        var code = await Task.Run(() => FdrApp.Run(["run", scenario, "--out", run], stdout, stderr));

        log.WriteLine(stdout.ToString() + stderr);
        Assert.True(code == ExitCodes.ThresholdsFailed, $"exit {code}\n{stdout}\n{stderr}");
        Assert.True(broker.Subscribed, "the run subscribed before it fell silent");
        var aborted = Assert.Single(stderr.ToString().Split('\n'), l => l.StartsWith("fdr: aborted: ", StringComparison.Ordinal));
        Assert.Contains($"the broker stomp://127.0.0.1:{broker.Port} sent no message and no heart-beat for ", aborted);
        Assert.Contains("(target.rucio.broker.max_silence)", aborted);
        Assert.Contains("no message and no heart-beat from the broker", stdout.ToString()); // the consumer's own warning
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!;
        Assert.Equal(ExitCodes.ThresholdsFailed, (int)info["exit_status"]!);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }

    /// <summary>A STOMP broker on a local port that connects, confirms the subscription, then never sends anything again.</summary>
    private sealed class SilentBroker : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private volatile bool _subscribed;

        public SilentBroker()
        {
            _listener.Start();
            _ = Task.Run(() => AcceptAsync(_stop.Token));
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public bool Subscribed => _subscribed;

        private async Task AcceptAsync(CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(ct);
                    _ = Task.Run(() => ServeAsync(client, ct), ct);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        // CONNECTED without heart-beats, a RECEIPT for every frame asking for one; nothing else, ever.
        private async Task ServeAsync(TcpClient client, CancellationToken ct)
        {
            using var _ = client;
            var stream = client.GetStream();
            var pending = new List<byte>();
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer, ct) is var n and > 0)
                {
                    pending.AddRange(buffer.AsSpan(0, n));
                    int nul;
                    while ((nul = pending.IndexOf(0)) >= 0)
                    {
                        var frame = Encoding.UTF8.GetString([.. pending.Take(nul)]).TrimStart('\r', '\n');
                        pending.RemoveRange(0, nul + 1);
                        var lines = frame.Split('\n');
                        string reply = "";
                        if (lines[0] is "CONNECT" or "STOMP") reply = "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0";
                        else if (lines.FirstOrDefault(l => l.StartsWith("receipt:", StringComparison.Ordinal)) is { } receipt)
                            reply = $"RECEIPT\nreceipt-id:{receipt["receipt:".Length..]}\n\n\0";
                        if (lines[0] == "SUBSCRIBE") _subscribed = true;
                        if (reply.Length > 0) await stream.WriteAsync(Encoding.UTF8.GetBytes(reply), ct);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException) { }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
