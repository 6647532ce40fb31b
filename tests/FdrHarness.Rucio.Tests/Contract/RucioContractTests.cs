using FdrHarness.Rucio.Double;

namespace FdrHarness.Rucio.Tests.Contract;

/// <summary>The replay of every transcript, run once for all the cases of <see cref="RucioContractTests"/>.</summary>
public sealed class ContractFixture : IAsyncLifetime
{
    internal Dictionary<string, List<string>> Results { get; private set; } = [];
    internal string? Reference { get; } = ContractReplay.FindReference();

    public async Task InitializeAsync()
    {
        if (Reference is not null) Results = await ContractReplay.RunAsync(Reference);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The double is a claim about Rucio 1.31.7; these tests hold it to the recorded transcripts. Every file of
/// ../shared/reference/rucio-1.31.7-wire/ is a case, found when the tests run: a transcript added later is replayed
/// without code (its set-up, when its `# state:` needs one, goes in Contract/transcripts.setup).
/// </summary>
public sealed class RucioContractTests(ContractFixture fixture) : IClassFixture<ContractFixture>
{
    private const string Missing = "(reference folder missing)";

    public static IEnumerable<object[]> Transcripts()
    {
        var dir = ContractReplay.FindReference();
        if (dir is null) return [[Missing]];
        return Directory.EnumerateFiles(dir, "*.txt").Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });
    }

    [Theory]
    [MemberData(nameof(Transcripts))]
    public async Task Transcript_replays_as_recorded(string file)
    {
        Assert.True(fixture.Reference is not null && file != Missing,
            $"no shared/reference/{ContractReplay.Folder} in any directory above {AppContext.BaseDirectory}: the contract of the Rucio double cannot be checked (on CI the checkout's parent holds shared/)");
        var transcript = Transcript.Load(Path.Combine(fixture.Reference!, file));
        if (transcript.IsStomp)
        {
            var problems = await HermesReplay.RunAsync(transcript, ReplaySetup.Load(ContractReplay.SetupFile).GetValueOrDefault(file));
            Assert.True(problems.Count == 0, $"{file}:\n" + string.Join("\n", problems));
            return;
        }
        Assert.True(transcript.Exchanges.Count > 0, $"{file}: no exchange found in it");
        var mismatches = fixture.Results[file];
        Assert.True(mismatches.Count == 0, $"{file}: the double answered otherwise than recorded:\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public void The_reference_transcripts_are_found_next_to_the_checkout()
    {
        Assert.NotNull(fixture.Reference);
        Assert.True(Directory.EnumerateFiles(fixture.Reference!, "*.txt").Count() >= 98);
    }

    // The replay bites: each behaviour switched off makes the transcripts that show it fail, and only through them.

    [Fact]
    public async Task Contract_fails_when_POST_dids_keeps_the_new_names_of_a_refused_bulk()
    {
        var results = await ContractReplay.RunAsync(fixture.Reference!, b => b.AllOrNothing = false);
        Assert.Contains(results["100_add_dids_bulk_one_exists.txt"], m => m.Contains("exchange 2 (GET /dids/user.root/c1.new1)", StringComparison.Ordinal));
        Assert.Contains(results["133_attachments_one_target_missing.txt"], m => m.Contains("exchange 2 (GET /dids/user.root/c5.ds2/dids)", StringComparison.Ordinal));
        Assert.Empty(results["101_add_dids_bulk_new_lifetime.txt"]);
    }

    [Fact]
    public async Task Contract_fails_when_a_duplicate_rule_is_created_again()
    {
        var results = await ContractReplay.RunAsync(fixture.Reference!, b => b.DuplicateRules = false);
        Assert.Contains(results["141_add_rule_duplicate.txt"], m => m.Contains("exchange 1 (POST /rules/)", StringComparison.Ordinal) && m.Contains("status 201, recorded 409", StringComparison.Ordinal));
        Assert.Contains(results["97_rule_dup.txt"], m => m.Contains("status 201, recorded 409", StringComparison.Ordinal));
        Assert.Empty(results["140_add_rule_ok.txt"]);
    }

    [Fact]
    public async Task Contract_fails_when_pfns_are_not_checked()
    {
        var results = await ContractReplay.RunAsync(fixture.Reference!, b => b.CheckPfns = false);
        Assert.Contains(results["118_add_replicas_https_port.txt"], m => m.Contains("exchange 1 (POST /replicas)", StringComparison.Ordinal) && m.Contains("status 201, recorded 400", StringComparison.Ordinal));
        Assert.Contains(results["112_add_replicas_pfn_scope_name.txt"], m => m.Contains("status 201, recorded 400", StringComparison.Ordinal));
        Assert.Empty(results["111_add_replicas_no_pfn.txt"]);
    }

    [Fact]
    public async Task Contract_fails_without_the_1000_item_limit()
    {
        var results = await ContractReplay.RunAsync(fixture.Reference!, b => b.MaxItems = int.MaxValue);
        Assert.Contains(results["183_bulk_1000_item_limit.txt"], m => m.Contains("exchange 4 (POST /dids/user.root/c10.lim/dids)", StringComparison.Ordinal));
        Assert.Empty(results["181_list_content_1200.txt"]);
    }
}
