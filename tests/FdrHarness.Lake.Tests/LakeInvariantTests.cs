using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Tests;

/// <summary>The invariants, on every scenario in scenarios/ and on random small scenarios.</summary>
public class LakeInvariantTests
{
    /// <summary>Every scenario in scenarios/, scaled down to at most about 20,000 files to keep the tests quick.</summary>
    public static TheoryData<string> ScenarioFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Fact]
    public void The_scenarios_folder_has_the_two_reference_scenarios()
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Select(Path.GetFileName).ToList();
        Assert.Contains("ci-smoke.yaml", files);
        Assert.Contains("escape-fdr-2020.yaml", files);
    }

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public void Scenario_keeps_the_invariants(string file)
    {
        var s = TestScenarios.Load(file);
        var files = s.Experiments.Sum(e => e.Files) * s.Run.Scale;
        AssertInvariants(files > 20_000 ? s with { Run = s.Run with { Scale = s.Run.Scale * 20_000 / files } } : s);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Random_scenario_keeps_the_invariants(int seed) => AssertInvariants(TestScenarios.Random(seed));

    [Fact]
    public void Ci_smoke_moves_data_end_to_end()
    {
        var sink = new RecordingSink();
        var r = EmbeddedLake.Run(TestScenarios.Load("ci-smoke.yaml"), sink);
        Assert.True(r.FilesInjected > 2000);
        Assert.True(r.TransfersDone > 1000);
        Assert.True(r.Deletions > 0);
        Assert.True(r.RulesOk + r.RulesRemoved > 0);
        Assert.True(sink.Count("RULE_OK") > 0);
        Assert.True(sink.Count("CREATE_DTS") > 0);
        Assert.True(sink.Count("CREATE_CNT") > 0);
        Assert.True(sink.Count("ERASE") > 0);
        Assert.True(sink.Faults >= 2);
        // The pod kill of judge-evaluator: the Deployment replaced the pod.
        Assert.Contains(sink.Lifecycles, e => e.Daemon == "judge-evaluator" && e.Event == "killed");
        Assert.True(sink.Lifecycles.Count(e => e.Daemon == "judge-evaluator" && e.Event == "started") >= 2);
    }

    [Fact]
    public void Escape_chaos_kills_the_servers_and_rolls_them_with_new_limits()
    {
        var (_, sink) = AssertInvariants(TestScenarios.Load("escape-fdr-2020.yaml", 0.01));
        var killed = sink.Lifecycles.Where(e => e.Event == "killed").ToList();
        Assert.Equal(2, killed.Count(e => e.Daemon == "rucio-server" && e.Reason == "chaos:manual-server-restart"));
        Assert.Equal(2, killed.Count(e => e.Daemon == "rucio-server" && e.Reason == "rolling restart: limits changed"));
        Assert.Equal(1, killed.Count(e => e.Daemon == "rucio-server-auth" && e.Reason == "rolling restart: limits changed"));
        Assert.Equal(3, sink.Faults);
        // Every deleted pod was replaced: as many pods start as were created.
        Assert.Equal(sink.Lifecycles.Count(e => e.Event == "scheduled"), sink.Lifecycles.Count(e => e.Event == "started"));
    }

    internal static (LakeResult Result, RecordingSink Sink) AssertInvariants(Scenario scenario)
    {
        var sink = new RecordingSink();
        var r = EmbeddedLake.Run(scenario, sink);

        // Every injected file is accounted for: still present (maybe replicated) or deleted.
        Assert.Equal(r.FilesInjected, r.FilesPresent + r.FilesDeleted);
        Assert.True(r.FilesReplicated <= r.FilesPresent);

        // submitted = done + failed + active, in the counters and in the events.
        Assert.Equal(r.TransfersSubmitted, r.TransfersDone + r.TransfersFailed + r.TransfersActive);
        Assert.Equal(r.TransfersSubmitted, sink.Count("transfer-submitted"));
        Assert.Equal(r.TransfersDone, sink.Count("transfer-done"));
        Assert.Equal(r.TransfersFailed, sink.Count("transfer-failed"));
        Assert.Equal(r.TransfersQueued, sink.Count("transfer-queued"));
        Assert.Equal(0, sink.RetriesWithoutPrevious);
        Assert.Equal(0, sink.BadRequestIds);

        // Every OOMKill is followed by a restart of that pod, its deletion, or the end of the run.
        foreach (var pod in sink.Lifecycles.GroupBy(e => e.Pod))
        {
            var events = pod.ToList();
            for (var i = 0; i < events.Count; i++)
            {
                if (events[i].Event != "oom-killed") continue;
                var next = events.Skip(i + 1).FirstOrDefault(e => e.Event is "restarted" or "killed" or "deleted" or "oom-killed");
                Assert.True(next.Event is null or "restarted" or "killed" or "deleted", $"{pod.Key}: OOMKilled at {events[i].Time:O} then {next.Event}");
            }
        }
        Assert.Equal(sink.Lifecycles.Count(e => e.Event == "oom-killed"), r.Daemons.Sum(d => d.OomKills));

        // RSE usage never over quota unnoticed; deletion-done bytes are the bytes the catalog removed.
        Assert.Equal(0, r.QuotaExceededUnnoticed);
        Assert.Equal(r.BytesOfReplicasRemoved, sink.DeletionDoneBytes);
        Assert.Equal(r.BytesDeleted, sink.DeletionDoneBytes);

        // No rule is OK with a lock that is not.
        Assert.Equal(0, r.RulesOkWithLockNotOk);
        Assert.Equal(r.Events, sink.Events);
        return (r, sink);
    }
}
