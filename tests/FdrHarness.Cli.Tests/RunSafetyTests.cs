using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>Runs that race for one folder, runs given secrets, and a run stopped by SIGTERM.</summary>
public sealed class RunSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Two_runs_into_one_out_folder_at_once_one_runs_and_the_other_is_refused_with_one_line()
    {
        var run = Path.Combine(_dir, "shared");
        using var start = new Barrier(2);
        var results = new (int Code, string Out, string Err)[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            start.SignalAndWait();
            results[i] = (FdrApp.Run(["run", RepoPaths.Scenario("ci-smoke.yaml"), "--out", run], stdout, stderr), stdout.ToString(), stderr.ToString());
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        // Whichever came first: one ran (ci-smoke passes or fails its thresholds), the other was refused before writing.
        var ran = Assert.Single(results, r => r.Code != ExitCodes.InvalidInput);
        var refused = Assert.Single(results, r => r.Code == ExitCodes.InvalidInput);
        Assert.True(ran.Code is ExitCodes.Success or ExitCodes.ThresholdsFailed, ran.Err);
        Assert.Matches(@"^fdr run: --out \S+ (is being written by another run|is not empty)", refused.Err);
        Assert.Single(refused.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // The winner's folder is whole: its report and a finished run.json, no claim left, nothing half-written.
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        Assert.Equal(ran.Code, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!["exit_status"]!);
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
        Assert.Empty(Directory.GetFiles(run, "*" + ParquetObservationSink.TempSuffix, SearchOption.AllDirectories));
    }

    [Fact]
    public void Secrets_in_urls_and_variables_never_reach_the_run_folder()
    {
        // An embedded run of a scenario that also describes its live target, with credentials in every URL.
        const string passwordVariable = "FDR_SAFETY_PASSWORD";
        const string passwordValue = "pw-from-the-environment-7c1";
        Environment.SetEnvironmentVariable(passwordVariable, passwordValue);
        var smoke = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));
        var scenario = Path.Combine(_dir, "secrets.yaml");
        File.WriteAllText(scenario, smoke[..smoke.IndexOf("thresholds:", StringComparison.Ordinal)] + $$"""
            target:
              kind: embedded
              rucio:
                url: "https://ddm-user-3f:rucio-url-secret@rucio.example.org:443/"
                auth_url: "https://ddm-user-3f:auth-url-secret@rucio-auth.example.org/"
                account: root
                auth: {method: userpass, username: ddm-user-3f, password_env: {{passwordVariable}}}
                broker: {url: "stomp://hermes-user-3f:broker-url-secret@activemq.example.org:61613", password_env: {{passwordVariable}}}
              kubernetes:
                namespaces: [rucio]
                prometheus_url: "http://scraper-user-3f:prometheus-url-secret@prometheus.example.org:9090"
            """);
        var run = Path.Combine(_dir, "run");
        var stderr = new StringWriter();
        var code = FdrApp.Run(["run", scenario, "--out", run], new StringWriter(), stderr);
        Assert.True(code is ExitCodes.Success or ExitCodes.ThresholdsFailed, stderr.ToString());

        var files = Directory.GetFiles(run, "*", SearchOption.AllDirectories);
        Assert.Contains(Path.Combine(run, "scenario.yaml"), files);
        Assert.Contains(Path.Combine(run, "run.json"), files);
        foreach (var file in files)
        {
            var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file)); // binary files too: strings are stored plain
            foreach (var secret in new[] { "rucio-url-secret", "auth-url-secret", "broker-url-secret", "prometheus-url-secret", passwordValue, "hermes-user-3f", "scraper-user-3f" })
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{file} holds '{secret}'");
        }
        // The hosts are kept: the record says where the target is, without credentials.
        var written = File.ReadAllText(Path.Combine(run, "scenario.yaml"));
        Assert.Contains("url: https://rucio.example.org/", written);
        Assert.Contains("stomp://activemq.example.org:61613", written);
        Assert.Contains("prometheus_url: http://prometheus.example.org:9090/", written);
        Assert.Contains($"password_env: {passwordVariable}", written); // the variable's name, never its value
    }

    [Fact]
    public async Task A_live_run_given_a_url_with_credentials_writes_none_of_them()
    {
        await using var rucio = await RucioDouble.StartAsync();
        const string passwordVariable = "FDR_SAFETY_LIVE_PASSWORD";
        Environment.SetEnvironmentVariable(passwordVariable, rucio.Password);
        var url = new UriBuilder(rucio.Url) { UserName = "ddmlab", Password = "live-url-secret" }.Uri;
        var scenario = Path.Combine(_dir, "live.yaml");
        File.WriteAllText(scenario, $$$"""
            run: {name: live-secrets, seed: 7, duration: 2s, observation_interval: 1s}
            rses:
              MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB}
            experiments:
              CTA: {files: 20, file_size: 1 MB, files_per_dataset: 10, write_to: MOCK}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 20, interval: 1s, during: 1s}}]}
            target:
              kind: rucio
              rucio:
                url: "{{{url}}}"
                account: root
                auth: {method: userpass, username: ddmlab, password_env: {{{passwordVariable}}}}
            """);
        rucio.AddLake(Core.Scenarios.ScenarioLoader.Load(scenario).Scenario!);
        var run = Path.Combine(_dir, "live-run");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Task.Run(() => FdrApp.Run(["run", scenario, "--out", run], stdout, stderr));
        Assert.True(code == ExitCodes.Success, $"exit {code}\n{stdout}\n{stderr}");

        foreach (var file in Directory.GetFiles(run, "*", SearchOption.AllDirectories))
        {
            var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.False(text.Contains("live-url-secret", StringComparison.Ordinal), $"{file} holds the URL's password");
            Assert.False(text.Contains(rucio.Password, StringComparison.Ordinal), $"{file} holds the password");
        }
        Assert.DoesNotContain("live-url-secret", stdout.ToString() + stderr);
    }

    [LinuxFact("SIGTERM is a POSIX signal")]
    public async Task SIGTERM_ends_a_run_with_143_a_partial_report_and_nothing_half_written()
    {
        var fdr = Path.Combine(AppContext.BaseDirectory, "fdr.dll");
        Assert.True(File.Exists(fdr), $"{fdr}: the built program is copied beside the tests");
        var run = Path.Combine(_dir, "terminated");
        var info = new ProcessStartInfo("dotnet", [fdr, "run", RepoPaths.Scenario("escape-fdr-2020.yaml"), "--out", run])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();

        // Wait for the line that says the run has its folder, then signal: no sleeping, whatever the machine's load.
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("Run directory: ", StringComparison.Ordinal)) { }
        Assert.NotNull(line);
        Assert.Equal(0, Kill(process.Id, 15));
        var rest = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == ExitCodes.Terminated, $"exit {process.ExitCode}\n{await rest}\n{await stderr}");
        Assert.Contains("Interrupted after", await stderr);
        Assert.True(File.Exists(Path.Combine(run, "report.html")), "the partial report");
        var runJson = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.RunFile)))!;
        Assert.Equal(ExitCodes.Terminated, (int)runJson["exit_status"]!);
        Assert.NotNull((string?)runJson["ended_utc"]);
        Assert.Empty(Directory.GetFiles(run, "*" + ParquetObservationSink.TempSuffix, SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ClaimFile)));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
