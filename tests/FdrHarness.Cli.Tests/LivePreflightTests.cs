using System.Text.Json.Nodes;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Cli.Tests;

/// <summary>
/// `fdr run --target rucio` checks Rucio before it writes anything (each gap one line with its fix; exit 3, or 2 when the
/// scenario asks what Rucio cannot give), and `fdr live prepare` sets up a disposable test instance — never another.
/// </summary>
public sealed class LivePreflightTests : IDisposable
{
    private const string PasswordVariable = "FDR_PREFLIGHT_PASSWORD";
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-preflight-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Scenario(RucioDouble rucio, bool disposable)
    {
        var path = Path.Combine(_dir, $"lake-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $$$"""
            run: {name: preflight, seed: 7, duration: 2s, observation_interval: 1s}
            qos_classes: {FAST: {}, SAFE: {}}
            rses:
              MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
              MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 1 TB, attributes: {QOS: SAFE}}
            experiments:
              CTA: {files: 40, file_size: 1 MB, files_per_dataset: 20, qos: FAST}
            workload:
              - inject: {name: inject, load: [{inject: {rate: 40, interval: 1s, during: 1s}}]}
              - replicate: {name: to-safe, after: inject, rule: {rse_expression: QOS=SAFE}}
            target:
              kind: rucio
              rucio:
                url: {{{rucio.Url}}}
                account: root
                disposable: {{{(disposable ? "true" : "false")}}}
                auth: {method: userpass, username: ddmlab, password_env: {{{PasswordVariable}}}}
            """);
        Environment.SetEnvironmentVariable(PasswordVariable, rucio.Password);
        return path;
    }

    /// <summary>The two RSEs with their protocols, but no attributes, scopes or limits: a fresh test instance.</summary>
    private static async Task<RucioDouble> BareAsync()
    {
        var rucio = await RucioDouble.StartAsync();
        rucio.AddRse("MOCK", null, new DoubleProtocol("davs", "storage.example", 2880, "/data"));
        rucio.AddRse("MOCK2", null, new DoubleProtocol("davs", "storage2.example", 2880, "/data"));
        return rucio;
    }

    private static (int Code, string Out, string Err) Fdr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static IEnumerable<SeenRequest> Writes(RucioDouble rucio) => rucio.Requests.Where(r => r.Method != "GET");

    [Fact]
    public async Task A_run_against_a_rucio_that_lacks_scope_attributes_and_limits_stops_before_any_write_with_one_line_per_gap()
    {
        await using var rucio = await BareAsync();
        var run = Path.Combine(_dir, "run");
        var (code, _, err) = await Task.Run(() => Fdr("run", Scenario(rucio, disposable: false), "--out", run));

        Assert.True(code == ExitCodes.TargetUnreachable, $"exit {code}\n{err}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("fdr: preflight: scope cta: does not exist; fix: rucio-admin scope add --account root --scope cta", lines);
        Assert.Contains(lines, l => l.StartsWith("fdr: preflight: RSE MOCK: has no attribute QOS (the scenario says FAST); fix: rucio-admin rse set-attribute --rse MOCK --key QOS --value FAST", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("fdr: preflight: RSE MOCK2: has no attribute QOS (the scenario says SAFE)", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Contains("; fix: ", l));
        Assert.DoesNotContain(lines, l => l.Contains("live prepare", StringComparison.Ordinal)); // not disposable: prepare is not offered
        Assert.Empty(Writes(rucio)); // nothing written to Rucio
        Assert.False(Directory.Exists(run)); // nor a run folder
    }

    [Fact]
    public async Task Writing_to_an_rse_that_is_not_deterministic_is_a_scenario_mistake_exit_2()
    {
        await using var rucio = await RucioDouble.StartAsync();
        var scenario = Scenario(rucio, disposable: false);
        rucio.AddLake(ScenarioLoader.Load(scenario).Scenario!);
        rucio.UpdateRse("MOCK", new JsonObject { ["deterministic"] = false });
        var (code, _, err) = await Task.Run(() => Fdr("run", scenario, "--out", Path.Combine(_dir, "run")));

        Assert.True(code == ExitCodes.InvalidInput, $"exit {code}\n{err}");
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("fdr: preflight: RSE MOCK: is not deterministic: replicas there need paths the harness does not choose; fix: write to deterministic RSEs only", line);
        Assert.Empty(Writes(rucio));
    }

    [Fact]
    public async Task Prepare_refuses_an_instance_the_scenario_does_not_mark_disposable_and_contacts_nothing()
    {
        await using var rucio = await BareAsync();
        var (code, _, err) = await Task.Run(() => Fdr("live", "prepare", Scenario(rucio, disposable: false)));

        Assert.Equal(ExitCodes.InvalidInput, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("target.rucio.disposable: true", line);
        Assert.Empty(rucio.Requests); // not even a ping
    }

    [Fact]
    public async Task Prepare_creates_the_scopes_attributes_and_limits_then_the_run_passes_and_a_second_prepare_changes_nothing()
    {
        await using var rucio = await BareAsync();
        var scenario = Scenario(rucio, disposable: true);

        var refused = await Task.Run(() => Fdr("run", scenario, "--out", Path.Combine(_dir, "refused")));
        Assert.Equal(ExitCodes.TargetUnreachable, refused.Code);
        Assert.Contains("fdr live prepare SCENARIO", refused.Err); // offered, since the instance is disposable

        var (code, output, err) = await Task.Run(() => Fdr("live", "prepare", scenario));
        Assert.True(code == ExitCodes.Success, $"exit {code}\n{output}\n{err}");
        Assert.Contains("cta", rucio.Scopes);
        Assert.Equal("FAST", rucio.Attributes("MOCK")["QOS"]);
        Assert.Equal("SAFE", rucio.Attributes("MOCK2")["QOS"]);
        Assert.True(rucio.AccountLimit("MOCK2") > 40_000_000, "the rule to QOS=SAFE needs a limit above its dataset's bytes");
        Assert.Null(rucio.AccountLimit("MOCK")); // no rule reaches MOCK: no limit made there
        Assert.Contains("scope cta added for account root", output);
        Assert.Contains("is ready for preflight", output);

        var again = await Task.Run(() => Fdr("live", "prepare", scenario));
        Assert.Equal(ExitCodes.Success, again.Code);
        Assert.Contains("(0 changes made)", again.Out);

        var run = Path.Combine(_dir, "run");
        var ran = await Task.Run(() => Fdr("run", scenario, "--out", run));
        Assert.True(ran.Code == ExitCodes.Success, $"exit {ran.Code}\n{ran.Out}\n{ran.Err}");
        var snapshot = rucio.Snapshot();
        Assert.Equal(40, snapshot.Replicas.Count(r => r.Rse == "MOCK"));
        Assert.Equal(2, snapshot.Rules.Count);
    }

    [Fact]
    public async Task Prepare_tells_what_it_may_not_create_and_exits_3()
    {
        await using var rucio = await RucioDouble.StartAsync();
        rucio.AddRse("MOCK", null, new DoubleProtocol("davs", "storage.example", 2880, "/data")); // MOCK2 is missing: prepare never adds an RSE
        var (code, output, err) = await Task.Run(() => Fdr("live", "prepare", Scenario(rucio, disposable: true)));

        Assert.True(code == ExitCodes.TargetUnreachable, $"exit {code}\n{output}\n{err}");
        Assert.Contains("fdr: preflight: RSE MOCK2: does not exist; fix: rucio-admin rse add MOCK2", err);
        Assert.Contains("scope cta added for account root", output); // what it may create, it did
        Assert.Equal("FAST", rucio.Attributes("MOCK")["QOS"]);
    }
}
