using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

/// <summary>The catalog operations against the Rucio double: each refusal the recorded server makes, handled.</summary>
public sealed class CatalogTests : IAsyncLifetime
{
    private RucioDouble _server = null!;
    private RucioClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await DoubleWorld.StartAsync();
        _client = DoubleWorld.Client(_server);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private RucioCatalog Catalog(CatalogOptions? o = null) => new(_client, o);

    private int Count(string method, string path, int? status = null) =>
        _server.Requests.Count(r => r.Method == method && r.PathAndQuery == path);

    private static NewReplica File(string scope, string name, long bytes = 100) => new(scope, name, bytes, "0cc737eb");

    [Theory]
    [InlineData("hash", "user.root", "c3.a", "user/root/2f/e4/c3.a")] // transcripts 111, 114, 182
    [InlineData("hash", "test", "c3.t", "test/e4/fe/c3.t")]
    [InlineData("hash", "user.root", "c3.c", "user/root/f8/50/c3.c")] // 113
    [InlineData("hash", "user.root", "c3.h2", "user/root/4d/7a/c3.h2")] // 118
    [InlineData("hash", "user.root", "c6.f1", "user/root/09/09/c6.f1")] // 182
    [InlineData("identity", "user.root", "c3.a", "user/root/c3.a")]
    [InlineData("identity", "group.phys", "x.1", "group/phys/x.1")]
    [InlineData("identity", "cta.raw", "x.1", "cta.raw/x.1")]
    public void Lfn2pfn_derives_the_paths_the_recorded_server_derived(string algorithm, string scope, string name, string path) =>
        Assert.Equal(path, Lfn2Pfn.Path(algorithm, scope, name));

    [Fact]
    public void Pfns_keep_the_port_and_the_scheme_and_upload_urls_speak_http()
    {
        Assert.Equal("https://hash.example:443/data/user/root/2f/e4/c3.a", new RseProtocol("https", "hash.example", 443, "/data", null).PfnOf("user/root/2f/e4/c3.a"));
        Assert.Equal("root://two.example:1094//eos/data/user/root/09/09/c6.f1", new RseProtocol("root", "two.example", 1094, "//eos/data", null).PfnOf("user/root/09/09/c6.f1"));
        Assert.Equal("davs://s.example:2880/data/cta/x", new RseProtocol("davs", "s.example", 2880, "data", null).PfnOf("cta/x"));
        Assert.Equal(new Uri("https://s.example:2880/data/cta/x"), RseProtocol.TransportUrl("davs://s.example:2880/data/cta/x"));
        Assert.Throws<NotSupportedException>(() => Lfn2Pfn.Path("ligo", "s", "n"));
    }

    [Fact]
    public async Task Explicit_pfns_are_exactly_the_ones_Rucio_derives_on_hash_and_identity_rses()
    {
        var catalog = Catalog();
        var davs = await catalog.RegisterReplicasAsync("MOCK", [File("cta", "cta.f1"), File("user.root", "u.f1")], PfnMode.Explicit);
        var https = await catalog.RegisterReplicasAsync("SAFE-1", [File("cta", "cta.f2")], PfnMode.Explicit);
        Assert.All(davs.Concat(https), r => Assert.Equal(Outcome.Done, r.Outcome));
        var sent = string.Join("\n", _server.Requests.Where(r => r.PathAndQuery == "/replicas").Select(r => r.Body));
        Assert.Contains($"\"pfn\":\"davs://storage.example:2880/data/{Lfn2Pfn.Path("hash", "cta", "cta.f1")}\"", sent);
        Assert.Contains($"\"pfn\":\"davs://storage.example:2880/data/{Lfn2Pfn.Path("hash", "user.root", "u.f1")}\"", sent);
        Assert.Contains("\"pfn\":\"https://safe.example:443/rucio/cta/cta.f2\"", sent); // identity, and :443 kept
        Assert.Contains(("cta:cta.f2", "SAFE-1"), _server.Snapshot().Replicas);

        var derived = await catalog.RegisterReplicasAsync("MOCK", [File("cta", "cta.f3") with { Pfn = "davs://wrong/x" }]);
        Assert.Equal(Outcome.Done, Assert.Single(derived).Outcome);
        Assert.DoesNotContain("\"pfn\"", _server.Requests.Last(r => r.PathAndQuery == "/replicas").Body); // Rucio derives it
    }

    [Fact]
    public async Task One_existing_dataset_in_a_bulk_no_longer_loses_the_others()
    {
        await _client.Strict.AddDidsAsync([new NewDid("cta", "cta.ds.003", DidType.Dataset)]);
        var wanted = Enumerable.Range(0, 10).Select(i => new NewDid("cta", $"cta.ds.{i:D3}", DidType.Dataset)).ToList();

        // Without listing first: the bulk is refused whole (409), halved until the existing name is alone, which GET shows.
        var results = await Catalog(new CatalogOptions { ListBeforeCreate = false }).EnsureCollectionsAsync(wanted);
        Assert.Equal(Outcome.AlreadyDone, results.Single(r => r.Item.Name == "cta.ds.003").Outcome);
        Assert.Equal(9, results.Count(r => r.Outcome == Outcome.Done));
        Assert.All(wanted, d => Assert.Contains($"cta:{d.Name}", _server.Snapshot().Dids.Keys));
        Assert.True(Count("GET", "/dids/cta/cta.ds.003") == 1, "the conflict was confirmed by looking the name up");

        // Listing first finds them all without a single refused call.
        var before = _server.Requests.Count(r => r.PathAndQuery == "/dids");
        var again = await Catalog().EnsureCollectionsAsync([.. wanted, new NewDid("cta", "cta.ds.010", DidType.Dataset)]);
        Assert.Equal(10, again.Count(r => r.Outcome == Outcome.AlreadyDone));
        Assert.Equal("cta.ds.010", Assert.Single(again, r => r.Outcome == Outcome.Done).Item.Name);
        Assert.Equal(before + 1, _server.Requests.Count(r => r.PathAndQuery == "/dids"));
    }

    [Fact]
    public async Task A_name_Rucio_refuses_is_isolated_and_the_rest_created()
    {
        await _client.Strict.AddReplicasAsync("MOCK", [File("cta", "cta.ds.005")]); // a file holds the name
        await _client.Strict.AddDidsAsync([new NewDid("cta", "cta.cnt", DidType.Container)]);
        var wanted = Enumerable.Range(0, 8).Select(i => new NewDid("cta", $"cta.ds.{i:D3}", DidType.Dataset)).Append(new NewDid("cta", "cta.cnt", DidType.Dataset)).ToList();
        var results = await Catalog(new CatalogOptions { ListBeforeCreate = false }).EnsureCollectionsAsync(wanted);
        var refused = results.Where(r => r.Outcome == Outcome.Failed).OrderBy(r => r.Item.Name).ToList();
        Assert.Equal(["cta.cnt", "cta.ds.005"], refused.Select(r => r.Item.Name));
        Assert.Contains("exists as a CONTAINER, not a DATASET", refused[0].Reason);
        Assert.Contains("exists as a FILE", refused[1].Reason);
        Assert.All(refused, r => Assert.False(r.Transient));
        Assert.Equal(7, results.Count(r => r.Outcome == Outcome.Done));
    }

    [Fact]
    public async Task An_answer_lost_after_the_work_is_found_again()
    {
        _server.FaultOn("POST", "/dids", Fault.ResetAfterApply); // created, but the client never hears so; its retry gets 409
        var wanted = Enumerable.Range(0, 6).Select(i => new NewDid("cta", $"cta.lost.{i}", DidType.Dataset)).ToList();
        var results = await Catalog(new CatalogOptions { ListBeforeCreate = false }).EnsureCollectionsAsync(wanted);
        Assert.All(results, r => Assert.Equal(Outcome.AlreadyDone, r.Outcome));
        Assert.Equal(6, _server.Snapshot().Dids.Keys.Count(k => k.StartsWith("cta:cta.lost.", StringComparison.Ordinal)));

        _server.FaultOn("POST", "/rules/", Fault.ResetAfterApply);
        var rule = await Catalog().EnsureRuleAsync(new RuleRequest { Dids = [new DidRef("cta", "cta.lost.0")], RseExpression = "QOS=SAFE" });
        Assert.Equal(Outcome.AlreadyDone, rule.Outcome);
        var created = Assert.Single(_server.Snapshot().Rules);
        Assert.Equal([created.Id], rule.RuleIds);
    }

    [Fact]
    public async Task Attaching_skips_what_is_there_and_a_dataset_already_in_its_container_is_no_error()
    {
        var s = _client.Strict;
        await s.AddReplicasAsync("MOCK", [File("cta", "f1"), File("cta", "f2"), File("cta", "f3")]);
        await s.AddDidsAsync([new NewDid("cta", "ds1", DidType.Dataset), new NewDid("cta", "ds2", DidType.Dataset), new NewDid("cta", "cnt", DidType.Container)]);
        await s.AttachManyAsync([new Attachment("cta", "cnt", [new DidRef("cta", "ds1")]), new Attachment("cta", "ds1", [new DidRef("cta", "f1")])]);

        var results = await Catalog().AttachAsync(
        [
            new Attachment("cta", "cnt", [new DidRef("cta", "ds1"), new DidRef("cta", "ds2")]),
            new Attachment("cta", "ds1", [new DidRef("cta", "f1"), new DidRef("cta", "f2")]),
            new Attachment("cta", "ds2", [new DidRef("cta", "f3")]),
        ]);
        Assert.Equal(["cta:cnt<-cta:ds1", "cta:ds1<-cta:f1"], Names(results, Outcome.AlreadyDone));
        Assert.Equal(["cta:cnt<-cta:ds2", "cta:ds1<-cta:f2", "cta:ds2<-cta:f3"], Names(results, Outcome.Done));
        var contents = _server.Snapshot().Contents;
        Assert.Equal(5, contents.Count(c => c.Parent.StartsWith("cta:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DuplicateContent_after_a_lost_answer_is_isolated_and_confirmed_by_the_listing()
    {
        var s = _client.Strict;
        await s.AddDidsAsync([.. Enumerable.Range(0, 4).Select(i => new NewDid("cta", $"ds{i}", DidType.Dataset)), new NewDid("cta", "cnt", DidType.Container)]);
        // The call is applied and its answer lost; the client's retry meets DuplicateContent, even with ignore_duplicate.
        _server.FaultOn("POST", "/dids/attachments", Fault.ResetAfterApply);
        var results = await Catalog().AttachAsync([new Attachment("cta", "cnt", [.. Enumerable.Range(0, 4).Select(i => new DidRef("cta", $"ds{i}"))])]);
        Assert.All(results, r => Assert.Equal(Outcome.AlreadyDone, r.Outcome));
        Assert.Equal(4, _server.Snapshot().Contents.Count(c => c.Parent == "cta:cnt"));
        Assert.Contains(_server.Requests, r => r.PathAndQuery == "/dids/attachments");
    }

    [Fact]
    public async Task A_missing_child_or_parent_fails_alone()
    {
        var s = _client.Strict;
        await s.AddReplicasAsync("MOCK", [.. Enumerable.Range(0, 5).Select(i => File("cta", $"f{i}"))]);
        await s.AddDidsAsync([new NewDid("cta", "ds", DidType.Dataset)]);
        var results = await Catalog().AttachAsync(
        [
            new Attachment("cta", "ds", [new DidRef("cta", "f0"), new DidRef("cta", "f1"), new DidRef("cta", "nosuch"), new DidRef("cta", "f3"), new DidRef("cta", "f4")]),
            new Attachment("cta", "nosuch-ds", [new DidRef("cta", "f2")]),
        ]);
        Assert.Equal(["cta:ds<-cta:nosuch", "cta:nosuch-ds<-cta:f2"], Names(results, Outcome.Failed));
        Assert.All(results.Where(r => r.Outcome == Outcome.Failed), r => Assert.Contains("DataIdentifierNotFound", r.Reason));
        Assert.Equal(4, results.Count(r => r.Outcome == Outcome.Done));
        Assert.Equal(4, _server.Snapshot().Contents.Count(c => c.Parent == "cta:ds"));
    }

    [Fact]
    public async Task A_duplicate_rule_is_found_again_and_refusals_carry_Rucios_reason()
    {
        await _client.Strict.AddDidsAsync([new NewDid("cta", "ds", DidType.Dataset), new NewDid("cta", "ds2", DidType.Dataset)]);
        var catalog = Catalog();
        var rule = new RuleRequest { Dids = [new DidRef("cta", "ds")], RseExpression = "QOS=SAFE", Copies = 1, LifetimeSeconds = 3600 };
        var first = await catalog.EnsureRuleAsync(rule);
        var second = await catalog.EnsureRuleAsync(rule with { Grouping = "NONE" }); // grouping and lifetime are not part of the uniqueness
        Assert.Equal((Outcome.Done, Outcome.AlreadyDone), (first.Outcome, second.Outcome));
        Assert.Equal(first.RuleIds, second.RuleIds);
        Assert.Single(_server.Snapshot().Rules);

        _server.AddRse("NOLIMIT", new Dictionary<string, string> { ["QOS"] = "CHEAP" }, DoubleWorld.Davs);
        var results = await catalog.EnsureRulesAsync(
        [
            rule with { Dids = [new DidRef("cta", "ds2")], RseExpression = "QOS=CHEAP" },
            rule with { Dids = [new DidRef("cta", "ds2")], RseExpression = "QOS=NONE" },
            rule with { Dids = [new DidRef("cta", "nosuch")] },
            rule with { Dids = [new DidRef("cta", "ds2")], RseExpression = "QOS=FAST", Copies = 3 },
        ]);
        Assert.Equal(["InsufficientAccountLimit", "InvalidRSEExpression", "DataIdentifierNotFound", "InsufficientTargetRSEs"],
            results.Select(r => r.Reason!.Split(' ')[1].TrimEnd(':')));
        Assert.All(results, r => Assert.False(r.Ok || r.Transient));
        await Assert.ThrowsAsync<ArgumentException>(() => catalog.EnsureRuleAsync(rule with { Dids = [new DidRef("cta", "ds"), new DidRef("cta", "ds2")] }));
    }

    [Fact]
    public async Task Lifetimes_and_deletions_are_idempotent()
    {
        await _client.Strict.AddDidsAsync([new NewDid("cta", "ds", DidType.Dataset)]);
        var catalog = Catalog();
        var rule = await catalog.EnsureRuleAsync(new RuleRequest { Dids = [new DidRef("cta", "ds")], RseExpression = "MOCK" });
        var id = rule.RuleIds[0];
        Assert.Equal(Outcome.Done, (await catalog.SetDidLifetimeAsync(new DidRef("cta", "ds"), TimeSpan.FromHours(2))).Outcome);
        Assert.NotNull(_server.Snapshot().ExpiredAt["cta:ds"]);
        Assert.Equal(Outcome.Done, (await catalog.DeleteRuleAsync(id)).Outcome);
        Assert.Equal(Outcome.Done, (await catalog.DeleteRuleAsync(id)).Outcome); // soft: still there, deleted again
        Assert.NotNull((await catalog.ReadRuleStatesAsync([id]))[id]!.ExpiresAt);
        Assert.Equal(Outcome.Done, (await catalog.SetRuleLifetimeAsync(id, TimeSpan.Zero)).Outcome);
        _server.RunJudgeCleaner();
        Assert.Null((await catalog.ReadRuleStatesAsync([id]))[id]);
        Assert.Equal(Outcome.AlreadyDone, (await catalog.DeleteRuleAsync(id)).Outcome);
        Assert.Equal(Outcome.AlreadyDone, (await catalog.SetRuleLifetimeAsync(id, TimeSpan.Zero)).Outcome);
        var missing = await catalog.SetDidLifetimeAsync(new DidRef("cta", "nosuch"), TimeSpan.FromHours(1));
        Assert.Equal(Outcome.Failed, missing.Outcome);
        Assert.Contains("DataIdentifierNotFound", missing.Reason);
    }

    [Fact]
    public async Task Sqlites_997_file_limit_is_split_around()
    {
        _server.Behaviour.SqliteReplicaLimit = 996;
        using var client = DoubleWorld.Client(_server, retries: 1);
        var files = Enumerable.Range(0, 1000).Select(i => File("cta", $"big.{i:D4}")).ToList();
        var results = await new RucioCatalog(client, new CatalogOptions { ReplicaChunk = 1000 }).RegisterReplicasAsync("MOCK", files);
        Assert.All(results, r => Assert.Equal(Outcome.Done, r.Outcome));
        Assert.Equal(1000, _server.Snapshot().Replicas.Count(r => r.Did.StartsWith("cta:big.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_chunk_split_to_single_files_gives_one_result_per_file_in_the_order_given()
    {
        _server.Behaviour.SqliteReplicaLimit = 1; // every call of more than one file refused: halved down to single files
        using var client = DoubleWorld.Client(_server, retries: 1);
        var files = Enumerable.Range(0, 37).Select(i => File("cta", $"one.{i:D2}", 100 + i)).ToArray();
        var results = await new RucioCatalog(client, new CatalogOptions { ReplicaChunk = 8, Concurrency = 3 }).RegisterReplicasAsync("MOCK", files);
        Assert.Equal(files, results.Select(r => r.Item));
        Assert.Equal(files, Enumerable.Range(0, results.Count).Select(i => results[i].Item));
        Assert.All(results, r => Assert.Equal((Outcome.Done, null, false), (r.Outcome, r.Reason, r.Transient)));
        Assert.True(results.AllOk);
        Assert.Empty(results.Failures);
        Assert.Equal(37, _server.Snapshot().Replicas.Count(r => r.Did.StartsWith("cta:one.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Run_results_read_per_item_and_replace_the_transient_failures_when_retried()
    {
        string[] items = ["a", "b", "c", "d", "e", "f"];
        var results = new ItemResults<string>(
        [
            new(new Window<string>(items, 0, 2), Outcome.Done),
            new(new Window<string>(items, 2, 0), Outcome.Done), // empty: left out
            new(new Window<string>(items, 2, 1), Outcome.Failed, "500 Boom", Transient: true),
            new(new Window<string>(items, 3, 1), Outcome.Failed, "400 InvalidPath"),
            new(new Window<string>(items, 0, 6).Slice(4, 2), Outcome.Failed, "503 Busy", Transient: true),
        ]);
        Assert.Equal(6, results.Count);
        Assert.Equal(items, results.Select(r => r.Item));
        Assert.Equal(results.ToList(), Enumerable.Range(0, 6).Select(i => results[i]));
        Assert.Equal(new ItemResult<string>("d", Outcome.Failed, "400 InvalidPath"), results[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => results[6]);
        Assert.False(results.AllOk);
        Assert.Equal(["c", "d", "e", "f"], results.Failures.Select(r => r.Item));
        Assert.Equal(results.Where(r => !r.Ok), results.Failures);
        Assert.True(results.AnyToRetry);
        Assert.Equal(["c", "e", "f"], results.ToRetry());

        var again = results.Retried(new ItemResults<string>([new(Window<string>.Of(results.ToRetry()), Outcome.Done)]));
        Assert.False(again.AnyToRetry);
        Assert.Equal("d", Assert.Single(again.Failures).Item);
        Assert.Equal(["a:Done", "b:Done", "d:Failed", "c:Done", "e:Done", "f:Done"], again.Select(r => $"{r.Item}:{r.Outcome}"));
        Assert.Empty(ItemResults<string>.Empty);
        Assert.True(ItemResults<string>.Empty.AllOk);
    }

    [Fact]
    public async Task An_rse_outage_is_Rucios_availability_recorded_and_restored()
    {
        await _client.Strict.AddReplicasAsync("MOCK", [File("cta", "f1")]);
        await _client.Strict.AddDidsAsync([new NewDid("cta", "ds", DidType.Dataset)]);
        await _client.Strict.AttachAsync("cta", "ds", [new DidRef("cta", "f1")]);
        var catalog = Catalog();
        var change = await catalog.SetRseAvailabilityAsync("MOCK2", read: null, write: false, delete: null);
        Assert.Equal(new RseAvailability(true, true, true), change.Before);
        Assert.Equal(new RseAvailability(true, false, true), change.After);
        Assert.Equal((true, false, true), _server.Availability("MOCK2"));
        Assert.Equal("""{"availability_write":false}""", _server.Requests.Last(r => r.Method == "PUT").Body);

        // Writing there is refused (503), and rules pass it over.
        using var patient = DoubleWorld.Client(_server, retries: 1);
        var refused = Assert.Single(await new RucioCatalog(patient).RegisterReplicasAsync("MOCK2", [File("cta", "f2")]));
        Assert.Equal((Outcome.Failed, true), (refused.Outcome, refused.Transient));
        Assert.Contains("503 ResourceTemporaryUnavailable: MOCK2 is temporary unavailable for writing", refused.Reason);
        var rule = await catalog.EnsureRuleAsync(new RuleRequest { Dids = [new DidRef("cta", "ds")], RseExpression = "QOS=FAST", Copies = 2 });
        Assert.Contains("InsufficientTargetRSEs", rule.Reason);

        await catalog.RestoreRseAvailabilityAsync(change);
        Assert.Equal((true, true, true), _server.Availability("MOCK2"));
        Assert.Equal(Outcome.Done, Assert.Single(await catalog.RegisterReplicasAsync("MOCK2", [File("cta", "f2")])).Outcome);
    }

    [Fact]
    public async Task Read_back_gives_contents_rules_states_and_replicas()
    {
        var catalog = Catalog();
        await catalog.RegisterReplicasAsync("MOCK", [File("cta", "f1", 10), File("cta", "f2", 20)]);
        await catalog.EnsureCollectionsAsync([new NewDid("cta", "ds", DidType.Dataset)]);
        await catalog.AttachAsync([new Attachment("cta", "ds", [new DidRef("cta", "f1"), new DidRef("cta", "f2")])]);
        var rule = await catalog.EnsureRuleAsync(new RuleRequest { Dids = [new DidRef("cta", "ds")], RseExpression = "SAFE-1" });

        Assert.Equal(["f1", "f2"], (await catalog.ReadContentAsync(new DidRef("cta", "ds")))!.Select(c => c.Name));
        Assert.Null(await catalog.ReadContentAsync(new DidRef("cta", "nosuch")));
        Assert.Equal(rule.RuleIds, (await catalog.ReadRulesAsync(new DidRef("cta", "ds"))).Select(r => r.Id));
        var state = (await catalog.ReadRuleStatesAsync(rule.RuleIds))[rule.RuleIds[0]]!;
        Assert.Equal(("REPLICATING", 2L), (state.State, state.LocksReplicating));
        _server.CompleteTransfers();
        Assert.Equal("OK", (await catalog.ReadRuleStatesAsync(rule.RuleIds))[rule.RuleIds[0]]!.State);
        var replicas = await catalog.ReadReplicasAsync([new DidRef("cta", "ds")]);
        Assert.Equal(["f1", "f2"], replicas.Select(r => r.Name));
        Assert.All(replicas, r => Assert.Equal(["MOCK", "SAFE-1"], r.States.Keys.Order(StringComparer.Ordinal)));
        Assert.Equal("DATASET", (await catalog.ReadDidAsync(new DidRef("cta", "ds")))!.Type);
    }

    private static List<string> Names(IEnumerable<ItemResult<Attached>> results, Outcome outcome) =>
        [.. results.Where(r => r.Outcome == outcome).Select(r => $"{r.Item.Parent.Scope}:{r.Item.Parent.Name}<-{r.Item.Child.Scope}:{r.Item.Child.Name}").Order(StringComparer.Ordinal)];
}
