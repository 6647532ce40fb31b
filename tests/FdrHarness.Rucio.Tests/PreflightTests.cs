using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Double;

namespace FdrHarness.Rucio.Tests;

public sealed class PreflightTests
{
    private static readonly PreflightRequest Complete = new()
    {
        WriteExpressions = ["QOS=FAST"],
        Upload = true,
        ExplicitPaths = true,
        Scopes = ["cta", "virgo"],
        Rules = [("QOS=SAFE", 1, 1_000_000_000), ("QOS=FAST", 2, 1_000_000_000)],
        Attributes = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["MOCK"] = new Dictionary<string, string> { ["QOS"] = "FAST" } },
        OutageRses = ["MOCK2"],
    };

    [Fact]
    public async Task A_lake_that_has_everything_has_no_gap_and_nothing_is_written()
    {
        await using var server = await DoubleWorld.StartAsync();
        using var client = DoubleWorld.Client(server);
        Assert.Empty(await Preflight.CheckAsync(client, Complete));
        Assert.All(server.Requests, r => Assert.Equal("GET", r.Method)); // reads only
    }

    [Fact]
    public async Task Every_gap_is_one_line_with_its_fix()
    {
        await using var server = await DoubleWorld.StartAsync();
        server.AddRse("NOPROTO", new Dictionary<string, string> { ["QOS"] = "FAST" });
        server.AddRse("RO", new Dictionary<string, string> { ["QOS"] = "FAST" }, DoubleWorld.Davs);
        server.SetAvailability("RO", true, false, true);
        server.AddRse("ROOTONLY", new Dictionary<string, string> { ["QOS"] = "FAST", ["lfn2pfn_algorithm"] = "ligo" }, new DoubleProtocol("root", "r.example", 1094, "//data"));
        server.AddRse("CHEAP-1", new Dictionary<string, string> { ["QOS"] = "CHEAP" }, DoubleWorld.Davs);
        foreach (var r in new[] { "NOPROTO", "ROOTONLY" }) server.SetAccountLimit(r, 1_000_000_000_000);
        server.SetAccountLimit("CHEAP-1", 10); // smaller than a rule's data
        using var client = DoubleWorld.Client(server);

        var gaps = await Preflight.CheckAsync(client, Complete with
        {
            Scopes = ["cta", "atlas"],
            Rules = [("QOS=FAST", 1, 1_000_000_000), ("QOS=CHEAP", 1, 1_000_000_000), ("QOS=SAFE", 2, 1_000_000_000), ("QOS=GOLD", 1, 1)],
            Attributes = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["MOCK"] = new Dictionary<string, string> { ["QOS"] = "SAFE" },
                ["GONE"] = new Dictionary<string, string> { ["QOS"] = "FAST" },
            },
            OutageRses = ["NOSUCH"],
        });
        var lines = gaps.Select(g => g.Line).ToList();
        string[] expected =
        [
            "scope atlas: does not exist; fix: rucio-admin scope add --account root --scope atlas",
            "RSE NOPROTO: has no protocol to upload to; fix: rucio-admin rse add-protocol",
            "RSE RO: is not available for writing; fix: rucio-admin rse update --rse RO --setting availability_write --value True",
            "RSE ROOTONLY: derives paths with lfn2pfn 'ligo', which the harness cannot reproduce",
            "RSE ROOTONLY: has no http/https/dav/davs protocol to upload to (only root)",
            "RSE MOCK: has QOS=FAST (the scenario says SAFE); fix: rucio-admin rse set-attribute --rse MOCK --key QOS --value SAFE",
            "RSE GONE: does not exist; fix: rucio-admin rse add GONE",
            "account root on RSE CHEAP-1: has a limit of 10 bytes, not more than the 1000000000 bytes one rule to 'QOS=CHEAP' holds; fix: rucio-admin account set-limits root CHEAP-1 1000000000000",
            "RSE expression 'QOS=SAFE': selects 1 RSEs, fewer than the 2 copies of its rules (InsufficientTargetRSEs)",
            "RSE expression 'QOS=GOLD': rules replicate there, but RSE Expression resulted in an empty set",
            "RSE NOSUCH: does not exist, so its outage cannot be rehearsed",
        ];
        foreach (var e in expected) Assert.Contains(lines, l => l.StartsWith(e, StringComparison.Ordinal));
        Assert.Equal(expected.Length, lines.Count);
        Assert.All(lines, l => Assert.Contains("; fix: ", l));
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
    }

    [Fact]
    public async Task An_rse_without_an_account_limit_is_a_gap_for_the_rules_that_reach_it()
    {
        await using var server = await DoubleWorld.StartAsync();
        server.AddRse("NOLIMIT", new Dictionary<string, string> { ["QOS"] = "SAFE" }, DoubleWorld.Davs);
        using var client = DoubleWorld.Client(server);
        var gap = Assert.Single(await Preflight.CheckAsync(client, new PreflightRequest { Rules = [("QOS=SAFE", 1, 5_000_000)] }));
        Assert.Equal("account root on RSE NOLIMIT", gap.Subject);
        Assert.Contains("has no account limit", gap.Problem);
        Assert.Equal("rucio-admin account set-limits root NOLIMIT 1000000000000", gap.Fix);
    }
}

public sealed class ScenarioPreflightTests
{
    [Fact]
    public void The_rules_checked_are_those_every_phase_asks_for()
    {
        var scenario = Core.Scenarios.ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml")).Scenario!;
        var request = PreflightRequest.ForScenario(scenario, Core.Scenarios.Model.InjectionMode.Register);

        var replicate = scenario.Workload.OfType<Core.Scenarios.Model.ReplicatePhase>().ToList();
        var noise = scenario.Workload.OfType<Core.Scenarios.Model.NoisePhase>().Single();
        Assert.NotEmpty(replicate);
        foreach (var r in replicate) Assert.Contains(request.Rules, x => x.Expression == r.Rule.RseExpression.Text && x.Copies == r.Rule.Copies);
        // Noise: a 1-copy rule on each RSE it sends to, holding one noise file.
        var noiseRses = scenario.Rses.Select(r => r.Name).Where(n => noise.Rses is null || noise.Rses.Evaluate(scenario.Rses).Contains(n)).Order().ToList();
        Assert.Equal(noiseRses, request.Rules.Where(x => x.Bytes == noise.FileSize.Bytes).Select(x => x.Expression).Order().ToList());
        Assert.Equal(replicate.Count + noiseRses.Count + scenario.Workload.OfType<Core.Scenarios.Model.QosTransitionPhase>().Count(), request.Rules.Count);
    }

    [Fact]
    public async Task The_escape_rehearsal_on_a_lake_set_up_as_it_declares_has_no_gap()
    {
        var escape = Core.Scenarios.ScenarioLoader.Load(RepoPaths.Scenario("escape-fdr-2020.yaml")).Scenario!;
        var scenario = escape with { Chaos = [.. escape.Chaos, new Core.Scenarios.Model.RseOutage { Rse = "DESY-DCACHE", From = TimeSpan.FromHours(4), During = TimeSpan.FromHours(1) }] };
        await using var server = await Double.RucioDouble.StartAsync();
        server.AddLake(scenario);
        using var client = DoubleWorld.Client(server);
        var request = PreflightRequest.ForScenario(scenario, Core.Scenarios.Model.InjectionMode.Register);
        Assert.Contains("cta", request.Scopes);
        Assert.Contains(request.Rules, r => r.Expression == "QOS=SAFE");
        Assert.Contains(request.OutageRses, r => r == "DESY-DCACHE");
        var gaps = await Preflight.CheckAsync(client, request);
        Assert.True(gaps.Count == 0, string.Join("\n", gaps.Select(g => g.Line)));

        // The same lake missing a scope, a limit and an attribute: each is one line.
        await using var bare = await Double.RucioDouble.StartAsync();
        bare.AddLake(scenario with
        {
            Experiments = [.. scenario.Experiments.Where(x => x.EffectiveScope != "cta")],
            Rses = [.. scenario.Rses.Select(r => r.Name == "EULAKE-1" ? r with { Attributes = new Dictionary<string, string>() } : r)],
        });
        using var bareClient = DoubleWorld.Client(bare);
        var lines = (await Preflight.CheckAsync(bareClient, request)).Select(g => g.Line).ToList();
        Assert.Contains("scope cta: does not exist; fix: rucio-admin scope add --account root --scope cta", lines);
        Assert.Contains(lines, l => l.StartsWith("RSE EULAKE-1: has no attribute QOS (the scenario says SAFE)", StringComparison.Ordinal));
    }
}
