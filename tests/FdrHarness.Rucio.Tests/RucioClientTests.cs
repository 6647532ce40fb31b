using System.Net;
using System.Text;
using System.Text.Json;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

/// <summary>The REST client against the Rucio double (whose answers RucioContractTests holds to the recorded server).</summary>
public sealed class RucioClientTests : IAsyncLifetime
{
    private RucioDouble _server = null!;

    public async Task InitializeAsync() => _server = await DoubleWorld.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private RucioClient Client(bool resume = true, int retries = 4, TimeSpan? attemptTimeout = null, TimeProvider? time = null, string? password = null) =>
        DoubleWorld.Client(_server, resume, retries, attemptTimeout, time, password);

    private Double.SeenRequest Last(string method, string pathStart) =>
        _server.Requests.Last(r => r.Method == method && r.PathAndQuery.StartsWith(pathStart, StringComparison.Ordinal));

    private int Count(string method, string pathStart) =>
        _server.Requests.Count(r => r.Method == method && r.PathAndQuery.StartsWith(pathStart, StringComparison.Ordinal));

    [Fact]
    public async Task Ping_and_userpass_auth_send_the_headers_Rucio_expects()
    {
        using var c = Client();
        Assert.Equal("1.31.7", await c.PingAsync());
        Assert.False(Last("GET", "/ping").Headers.ContainsKey("X-Rucio-Auth-Token"));

        var rses = new List<string>();
        await foreach (var r in c.ListRsesAsync("QOS=FAST")) rses.Add(r);
        Assert.Equal(["MOCK", "MOCK2"], rses);

        var auth = Last("GET", "/auth/userpass");
        Assert.Equal("root", auth.Headers["X-Rucio-Account"]);
        Assert.Equal("ddmlab", auth.Headers["X-Rucio-Username"]);
        Assert.Equal(_server.Password, auth.Headers["X-Rucio-Password"]);
        Assert.Equal("def", auth.Headers["X-Rucio-VO"]);
        var list = Last("GET", "/rses/");
        Assert.Equal("/rses/?expression=QOS%3DFAST", list.PathAndQuery);
        Assert.StartsWith("root-ddmlab-unknown-", list.Headers["X-Rucio-Auth-Token"]);
        Assert.Equal("application/x-json-stream", list.Headers["Accept"]);
        Assert.Equal("def", list.Headers["X-Rucio-VO"]);
    }

    [Fact]
    public async Task Wrong_password_is_a_typed_error_without_the_password_in_it()
    {
        using var c = Client(password: "wrong-password-123");
        var e = await Assert.ThrowsAsync<RucioAuthenticationException>(() => c.AuthenticateNowAsync());
        Assert.Equal("IdentityNotFound", e.ExceptionClass);
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.DoesNotContain("wrong-password-123", e.ToString());
    }

    [Fact]
    public async Task Token_from_a_file_is_sent_and_never_appears_in_errors()
    {
        var token = _server.IssueToken();
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, token + "\n");
        using var c = new RucioClient(new RucioClientOptions
        {
            Url = _server.Url,
            Auth = new RucioAuth { Method = AuthMethod.Token, TokenFile = file },
            MaxRetries = 0,
        });
        // Rucio quotes the id it was given: "Badly formatted rule id (<the token>)".
        var e = await Assert.ThrowsAsync<RucioServerException>(() => c.GetRuleAsync(token));
        Assert.Equal("RucioException", e.ExceptionClass);
        Assert.DoesNotContain(token, e.Message);
        Assert.Contains("Badly formatted rule id (***)", e.Message);
        Assert.Equal(token, Last("GET", "/rules/").Headers["X-Rucio-Auth-Token"]);
        Assert.Equal(0, _server.AuthCalls);
        File.Delete(file);
    }

    [Fact]
    public async Task Token_is_renewed_before_it_expires()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await DoubleWorld.StartAsync(new RucioDoubleOptions { Time = time });
        using var c = DoubleWorld.Client(server, time: time);
        await c.AuthenticateNowAsync();
        Assert.Equal(1, server.AuthCalls);
        await c.AddDidsAsync([new NewDid("user.root", "ds-a", DidType.Dataset)]);
        Assert.Equal(1, server.AuthCalls);
        time.Advance(TimeSpan.FromMinutes(56)); // 4 minutes left: inside the 5-minute margin
        await c.AddDidsAsync([new NewDid("user.root", "ds-b", DidType.Dataset)]);
        Assert.Equal(2, server.AuthCalls);
        var tokens = server.Requests.Where(r => r.PathAndQuery == "/dids").Select(r => r.Headers["X-Rucio-Auth-Token"]).ToList();
        Assert.NotEqual(tokens[0], tokens[1]);
    }

    [Fact]
    public async Task An_expired_token_is_replaced_once_and_the_call_succeeds()
    {
        using var c = Client();
        await c.AuthenticateNowAsync();
        _server.ExpireTokens(); // the server's clock passed the hour: 401 CannotAuthenticate
        Assert.True(await c.AddDidsAsync([new NewDid("user.root", "ds-x", DidType.Dataset)]));
        Assert.Equal(2, _server.AuthCalls);
        Assert.Equal(1, c.Stats.Summary("add_dids")!.Retries);
    }

    [Fact]
    public async Task Expires_header_in_Rucio_format_parses()
    {
        var d = RucioClient.ParseExpires("Wed, 25 Nov 2026 11:58:34 UTC");
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 58, 34, TimeSpan.Zero), d);
        Assert.Null(RucioClient.ParseExpires("garbage"));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Replica_registration_body_is_the_transcripts()
    {
        using var c = Client();
        Assert.True(await c.AddReplicasAsync("MOCK",
        [
            new NewReplica("user.root", "file1", 1024, "0cc737eb"),
            new NewReplica("user.root", "file2", 2048, "deadbeef", "d41d8cd98f00b204e9800998ecf8427e"),
        ]));
        var r = Last("POST", "/replicas");
        Assert.Equal("/replicas", r.PathAndQuery);
        Assert.Equal("""{"rse":"MOCK","files":[{"scope":"user.root","name":"file1","bytes":1024,"adler32":"0cc737eb"},{"scope":"user.root","name":"file2","bytes":2048,"adler32":"deadbeef","md5":"d41d8cd98f00b204e9800998ecf8427e"}]}""", r.Body);
        Assert.Equal("application/json", r.ContentType);
        Assert.Contains(("user.root:file2", "MOCK"), _server.Snapshot().Replicas);
    }

    [Fact]
    public async Task Replica_bodies_longer_than_estimated_grow_and_pooled_buffers_carry_nothing_over()
    {
        using var c = Client();
        // Names that the writer escapes (non-ASCII, '+', '<') make the body several times the size estimated for them.
        var long1 = Enumerable.Range(0, 300).Select(i => new NewReplica("user.root", $"é+<{i}>" + new string('ü', 40), i, "0cc737eb")).ToList();
        var short1 = new List<NewReplica> { new("user.root", "short", 1, "0cc737eb") };
        foreach (var files in new[] { long1, short1, long1, short1 })
        {
            Assert.True(await c.AddReplicasAsync("MOCK", files));
            var body = Last("POST", "/replicas").Body;
            Assert.Equal(Encoding.UTF8.GetString(RucioClient.ReplicasBody("MOCK", files, false).Span), body);
            using var doc = JsonDocument.Parse(body!);
            Assert.Equal(files.Select(f => f.Name), doc.RootElement.GetProperty("files").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        }
        Assert.Contains(("user.root:" + long1[299].Name, "MOCK"), _server.Snapshot().Replicas);
    }

    [Fact]
    public async Task A_409_is_success_for_the_legacy_client_and_an_exception_for_its_strict_view()
    {
        using var c = Client();
        Assert.True(await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset), new NewDid("user.root", "cont1", DidType.Container)]));
        Assert.Equal("""[{"scope":"user.root","name":"ds1","type":"DATASET"},{"scope":"user.root","name":"cont1","type":"CONTAINER"}]""", Last("POST", "/dids").Body);
        Assert.False(await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset)])); // 409: "already there" (legacy)
        Assert.Equal(2, c.Stats.Summary("add_dids")!.Ok);
        Assert.Equal(1, c.Stats.Summary("add_dids")!.StatusCodes[409]);

        // The strict view shares the token and statistics, and reports the 409: one existing name refused the whole call.
        var e = await Assert.ThrowsAsync<RucioDuplicateException>(() => c.Strict.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset, 86400), new NewDid("user.root", "ds-new", DidType.Dataset)]));
        Assert.Equal("DataIdentifierAlreadyExists", e.ExceptionClass);
        Assert.Equal(1, _server.AuthCalls);
        Assert.DoesNotContain("user.root:ds-new", _server.Snapshot().Dids.Keys);
        Assert.Same(c.Strict, c.Strict.Strict);
    }

    [Fact]
    public async Task Attachments_close_lifetime_and_limits_use_Rucio_paths()
    {
        using var c = Client();
        await c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "file1", 1, "00000001"), new NewReplica("user.root", "file2", 1, "00000001")]);
        await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset), new NewDid("user.root", "cont1", DidType.Container), new NewDid("user.root", "ds 1/x", DidType.Dataset)]);
        await c.AttachAsync("user.root", "ds1", [new DidRef("user.root", "file1"), new DidRef("user.root", "file2")]);
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"file1"},{"scope":"user.root","name":"file2"}]}""", Last("POST", "/dids/user.root/ds1/dids").Body);
        await c.AttachManyAsync([new Attachment("user.root", "cont1", [new DidRef("user.root", "ds1")])]);
        Assert.Equal("""{"attachments":[{"scope":"user.root","name":"cont1","dids":[{"scope":"user.root","name":"ds1"}]}],"ignore_duplicate":true}""", Last("POST", "/dids/attachments").Body);
        await c.SetDidLifetimeAsync("user.root", "ds 1/x", TimeSpan.FromMinutes(20));
        var lt = Last("POST", "/dids/user.root/ds");
        Assert.Equal("/dids/user.root/ds%201%2Fx/meta/lifetime", lt.PathAndQuery);
        Assert.Equal("""{"value":1200}""", lt.Body);
        Assert.NotNull(_server.Snapshot().ExpiredAt["user.root:ds 1/x"]);
        await c.SetAccountLimitAsync("MOCK", 1_000_000_000);
        Assert.Equal("""{"bytes":1000000000}""", Last("POST", "/accountlimits/local/root/MOCK").Body);
        Assert.Equal(1_000_000_000, await c.GetAccountLimitAsync("MOCK"));
        await c.CloseAsync("user.root", "ds1");
        Assert.Equal("""{"open":false}""", Last("PUT", "/dids/user.root/ds1/status").Body);
        var ds = await c.GetDidAsync("user.root", "ds1");
        Assert.Equal(("DATASET", false, 2L, 2L), (ds.Type, ds.Open, ds.Bytes, ds.Length));
        Assert.Contains(("user.root:cont1", "user.root:ds1"), _server.Snapshot().Contents);
    }

    [Fact]
    public async Task Rules_create_read_soft_delete_and_vanish()
    {
        using var c = Client();
        await c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "f1", 10, "00000001"), new NewReplica("user.root", "f2", 10, "00000001")]);
        await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset)]);
        await c.AttachAsync("user.root", "ds1", [new DidRef("user.root", "f1"), new DidRef("user.root", "f2")]);
        var ids = await c.AddRuleAsync(new RuleRequest { Dids = [new DidRef("user.root", "ds1")], RseExpression = "MOCK" });
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"ds1"}],"account":"root","copies":1,"rse_expression":"MOCK","grouping":"DATASET","lifetime":null}""", Last("POST", "/rules/").Body);
        var id = Assert.Single(ids);
        Assert.Equal(32, id.Length);

        var state = await c.GetRuleAsync(id);
        Assert.Equal(("OK", 2L, "root", "MOCK", 1, "ds1"), (state.State, state.LocksOk, state.Account, state.RseExpression, state.Copies, state.Name));
        Assert.Null(state.ExpiresAt);

        Assert.True(await c.DeleteRuleAsync(id));
        Assert.Equal("""{"purge_replicas":false}""", Last("DELETE", "/rules/").Body); // an empty body is a 400 ValueError
        state = await c.GetRuleAsync(id); // soft delete: still there, now expiring
        Assert.NotNull(state.ExpiresAt);

        Assert.True(await c.SetRuleLifetimeAsync(id, TimeSpan.Zero));
        Assert.Equal(1, _server.RunJudgeCleaner());
        var e = await Assert.ThrowsAsync<RucioNotFoundException>(() => c.GetRuleAsync(id));
        Assert.Equal("RuleNotFound", e.ExceptionClass);
        Assert.False(await c.DeleteRuleAsync(id)); // legacy client: gone already is fine
        await Assert.ThrowsAsync<RucioNotFoundException>(() => c.Strict.DeleteRuleAsync(id));
    }

    [Fact]
    public async Task Every_rule_option_goes_on_the_wire()
    {
        using var c = Client();
        await c.AddDidsAsync([new NewDid("user.root", "ds2", DidType.Dataset)]);
        var ids = await c.AddRuleAsync(new RuleRequest
        {
            Dids = [new DidRef("user.root", "ds2")], Copies = 2, RseExpression = "QOS=FAST", Grouping = "ALL", LifetimeSeconds = 3600,
            Weight = 1, Locked = false, SourceReplicaExpression = "QOS=FAST", Activity = "Functional Test", Notify = "C",
            PurgeReplicas = true, IgnoreAvailability = false, Comment = "fdr", Asynchronous = true, DelayInjection = 60, Priority = 4,
        });
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"ds2"}],"account":"root","copies":2,"rse_expression":"QOS=FAST","grouping":"ALL","lifetime":3600,"weight":1,"locked":false,"source_replica_expression":"QOS=FAST","activity":"Functional Test","notify":"C","purge_replicas":true,"ignore_availability":false,"comment":"fdr","asynchronous":true,"delay_injection":60,"priority":4}""", Last("POST", "/rules/").Body);
        Assert.Equal("INJECT", (await c.GetRuleAsync(ids[0])).State);
        var e = await Assert.ThrowsAsync<RucioRequestException>(() => c.AddRuleAsync(new RuleRequest { Dids = [new DidRef("user.root", "ds2")], RseExpression = "QOS=NOPE" }));
        Assert.Equal((HttpStatusCode)409, e.Status);
        Assert.Equal("InvalidRSEExpression", e.ExceptionClass);
        await c.SetRuleLifetimeAsync(ids[0], TimeSpan.FromHours(1));
        Assert.Equal("""{"options":{"lifetime":3600}}""", Last("PUT", "/rules/").Body);
    }

    [Fact]
    public async Task Listings_stream_and_bad_expressions_protocols_and_rses_read_as_Rucio_gives_them()
    {
        using var c = Client();
        var e = await Assert.ThrowsAsync<RucioRequestException>(async () => { await foreach (var _ in c.ListRsesAsync("QOS=NOPE")) { } });
        Assert.Equal("InvalidRSEExpression", e.ExceptionClass);
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);

        await c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "file1", 1024, "0cc737eb"), new NewReplica("user.root", "file2", 2048, "deadbeef")]);
        await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset), new NewDid("user.root", "empty", DidType.Dataset)]);
        await c.AttachAsync("user.root", "ds1", [new DidRef("user.root", "file1"), new DidRef("user.root", "file2")]);
        var content = new List<string>();
        await foreach (var d in c.ListContentAsync("user.root", "ds1")) content.Add(d.GetProperty("adler32").GetString()!);
        Assert.Equal(["0cc737eb", "deadbeef"], content);
        var none = new List<ContentEntry>();
        await foreach (var d in c.ListChildrenAsync("user.root", "empty")) none.Add(d); // 200 with Content-Length 0
        Assert.Empty(none);

        var p = Assert.Single(await c.GetProtocolsAsync("MOCK"));
        Assert.Equal(("davs", 2880, "/data"), (p.Scheme, p.Port, p.Prefix));
        var rse = await c.GetRseAsync("SAFE-1");
        Assert.Equal(("identity", true, true), (rse.Lfn2PfnAlgorithm, rse.Deterministic, rse.Availability.Write));
        Assert.Equal("SAFE", (await c.GetRseAttributesAsync("SAFE-1"))["QOS"]);
        Assert.Equal(["cta", "user.root", "virgo"], (await c.ListScopesAsync()).Order(StringComparer.Ordinal));

        var replicas = new List<ReplicaEntry>();
        await foreach (var r in c.ListReplicasAsync([new DidRef("user.root", "ds1")])) replicas.Add(r);
        Assert.Equal(["file1", "file2"], replicas.Select(r => r.Name));
        Assert.Equal("AVAILABLE", replicas[0].States["MOCK"]);
        Assert.Equal(Lfn2Pfn.Path("hash", "user.root", "file1"), "user/root/" + replicas[0].Pfns["MOCK"][0].Split("/root/")[1]);
        var names = new List<string>();
        await foreach (var n in c.SearchDidsAsync("user.root", "collection", "*")) names.Add(n);
        Assert.Equal(["ds1", "empty"], names);
    }

    [Fact]
    public async Task Json_lines_parse_across_chunk_boundaries()
    {
        var text = "{\"rse\": \"A\"}\n\n{\"rse\": \"B\"}\r\n\"ds1\"\n{\"rse\": \"C\"}";
        var items = new List<string>();
        await foreach (var e in JsonLines.ReadAsync(new TrickleStream(System.Text.Encoding.UTF8.GetBytes(text), 3)))
            items.Add(e.ValueKind == System.Text.Json.JsonValueKind.String ? e.GetString()! : e.GetProperty("rse").GetString()!);
        Assert.Equal(["A", "B", "ds1", "C"], items);
    }

    [Fact]
    public async Task The_whole_message_is_read_from_the_body_not_the_cut_header()
    {
        using var c = Client();
        var name = "c9." + new string('x', 150);
        var e = await Assert.ThrowsAsync<RucioNotFoundException>(() => c.GetDidAsync("user.root", name));
        Assert.Equal($"Data identifier 'user.root:{name}' not found", e.ServerMessage); // the header holds 125 characters and "..."
        Assert.True(e.ServerMessage.Length > 128);
    }

    [Fact]
    public async Task A_bare_500_is_an_error_with_its_text_and_Rucios_deterministic_500s_are_not_retried()
    {
        using var c = Client(retries: 3);
        // Files with and without pfn in one request: a KeyError, answered as a bare text/html 500.
        var e = await Assert.ThrowsAsync<RucioServerException>(() => c.AddReplicasAsync("MOCK",
            [new NewReplica("user.root", "a", 1, "00000001"), new NewReplica("user.root", "b", 1, "00000001", Pfn: "davs://storage.example:2880/data/user/root/x/b")]));
        Assert.Equal(("Http500", "'pfn'"), (e.ExceptionClass, e.ServerMessage));

        // A pfn whose scheme the RSE has no protocol for: RSEProtocolNotSupported, the same however often asked.
        var before = Count("POST", "/replicas");
        var d = await Assert.ThrowsAsync<RucioServerException>(() => c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "c", 1, "00000001", Pfn: "https://storage.example:2880/data/x/c")]));
        Assert.Equal("RSEProtocolNotSupported", d.ExceptionClass);
        Assert.StartsWith("No protocol for provided settings found : {'availability_delete': True", d.ServerMessage);
        Assert.Equal(before + 1, Count("POST", "/replicas"));
        Assert.False(RucioErrorMapping.IsTransient(d));
    }

    [Fact]
    public async Task Auth_headers_never_follow_a_redirect_to_another_origin()
    {
        await using var other = await RucioDouble.StartAsync();
        using var c = Client(retries: 0);
        // An API call redirected elsewhere: the request arrives there, its token does not.
        _server.Redirects["/rses/"] = new Uri(other.Url, "/rses/");
        await Assert.ThrowsAsync<RucioAuthenticationException>(async () => { await foreach (var _ in c.ListRsesAsync("QOS=FAST")) { } });
        var seen = other.Requests.Where(r => r.PathAndQuery.StartsWith("/rses/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(seen);
        Assert.All(seen, r => Assert.False(r.Headers.ContainsKey("X-Rucio-Auth-Token"), "the token went to another origin"));

        // The login itself redirected elsewhere: neither the password nor the username leave the origin.
        _server.Redirects["/auth/userpass"] = new Uri(other.Url, "/auth/userpass");
        using var fresh = Client(retries: 0);
        await Assert.ThrowsAsync<RucioAuthenticationException>(() => fresh.AuthenticateNowAsync());
        var login = Assert.Single(other.Requests, r => r.PathAndQuery == "/auth/userpass");
        Assert.False(login.Headers.ContainsKey("X-Rucio-Password"));
        Assert.False(login.Headers.ContainsKey("X-Rucio-Username"));
        Assert.DoesNotContain(other.Requests, r => r.Headers.Values.Any(v => v.Contains(_server.Password, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_redirect_within_the_origin_keeps_the_token()
    {
        using var c = Client();
        await c.AddDidsAsync([new NewDid("user.root", "target", DidType.Dataset)]);
        _server.Redirects["/dids/user.root/moved"] = new Uri(_server.Url, "/dids/user.root/target");
        var did = await c.GetDidAsync("user.root", "moved");
        Assert.Equal("target", did.Name);
        Assert.True(Last("GET", "/dids/user.root/target").Headers.ContainsKey("X-Rucio-Auth-Token"));
    }

    [Theory]
    [InlineData(Fault.Status500, 500)]
    [InlineData(Fault.Status503, 503)]
    [InlineData(Fault.Status429, 429)]
    [InlineData(Fault.Timeout, 0)]
    [InlineData(Fault.Reset, 0)]
    [InlineData(Fault.ResetAfterApply, 0)]
    public async Task Each_fault_is_retried_and_the_call_succeeds(Fault fault, int status)
    {
        using var c = Client(attemptTimeout: TimeSpan.FromSeconds(1));
        _server.Faults.Enqueue(fault);
        _server.Faults.Enqueue(fault);
        Assert.True(await c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "f", 1, "00000001")]));
        var s = c.Stats.Summary("add_replicas")!;
        Assert.Equal((1L, 1L, 0L), (s.Count, s.Ok, s.Failed));
        // Two injected faults, two retries (a timeout may add one more on a loaded machine: still accounted as retried).
        if (fault == Fault.Timeout) Assert.InRange(s.Retries, 2, 4); else Assert.Equal(2, s.Retries);
        if (status != 0) Assert.Equal(2, s.StatusCodes[status]);
        Assert.Equal(1, s.StatusCodes[201]);
        Assert.Contains(("user.root:f", "MOCK"), _server.Snapshot().Replicas);
    }

    [Fact]
    public async Task Persistent_503_fails_after_the_retries_with_the_servers_words()
    {
        using var c = Client(retries: 3);
        for (var i = 0; i < 10; i++) _server.Faults.Enqueue(Fault.Status503);
        var e = await Assert.ThrowsAsync<RucioServerException>(() => c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "f", 1, "00000001")]));
        Assert.Equal("DatabaseException", e.ExceptionClass);
        Assert.StartsWith("Currently there are too many requests", e.ServerMessage);
        var s = c.Stats.Summary("add_replicas")!;
        Assert.Equal((1L, 0L, 1L, 3L), (s.Count, s.Ok, s.Failed, s.Retries));
        Assert.Equal(4, s.StatusCodes[503]);
    }

    [Fact]
    public async Task Bulk_registration_under_random_faults_accounts_for_every_call()
    {
        _server.FaultPlan = new FaultPlan { Rate = 0.3, Seed = 5 };
        using var c = Client(retries: 2, attemptTimeout: TimeSpan.FromSeconds(5));
        // 40 bulk calls of 50 files, 8 at a time; a call that still fails after the client's retries is counted, not thrown.
        long ok = 0, failed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (call, ct) =>
        {
            var files = Enumerable.Range(call * 50, 50).Select(i => new NewReplica("user.root", $"f{i}", i, "00000001")).ToList();
            try
            {
                await c.AddReplicasAsync("MOCK", files, ct: ct);
                Interlocked.Increment(ref ok);
            }
            catch (Exception e) when (e is RucioServerException or RucioUnreachableException)
            {
                // A 5xx or a dropped connection that outlasted the retries: the call failed, and the client's stats say so too.
                Interlocked.Increment(ref failed);
            }
        });
        var s = c.Stats.Summary("add_replicas")!;
        Assert.Equal(40, ok + failed);
        Assert.Equal(40, s.Count);
        Assert.Equal(s.Count, s.Ok + s.Failed);
        Assert.True(s.Retries > 0);
        Assert.Equal(ok, s.Ok);
        // What the client calls ok is what the server stored (an answer lost after the work may add more, never fewer).
        Assert.True(_server.Snapshot().Replicas.Count >= ok * 50);
    }

    [Fact]
    public async Task Unreachable_server_is_reported_with_the_url_and_the_reason()
    {
        using var c = new RucioClient(new RucioClientOptions { Url = new Uri("http://127.0.0.1:9"), MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
        var e = await Assert.ThrowsAsync<RucioUnreachableException>(() => c.PingAsync());
        Assert.Contains("127.0.0.1:9", e.Message);
        Assert.Contains("refused", e.Reason, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A stream that returns at most n bytes per read: responses arrive in fragments.</summary>
internal sealed class TrickleStream(byte[] data, int n) : Stream
{
    private int _pos;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => data.Length;
    public override long Position { get => _pos; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count)
    {
        var k = Math.Min(Math.Min(n, count), data.Length - _pos);
        Array.Copy(data, _pos, buffer, offset, k);
        _pos += k;
        return k;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

public sealed class HermesOfTheDoubleTests
{
    [Fact]
    public async Task Messages_come_out_as_hermes_sends_them_once_each()
    {
        await using var server = await DoubleWorld.StartAsync();
        using var client = DoubleWorld.Client(server);
        var c = client.Strict;
        await c.AddDidsAsync([new NewDid("user.root", "h11.ds1", DidType.Dataset), new NewDid("user.root", "h11.cnt", DidType.Container)]);
        await c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "h11.f1", 500, "0cc737eb")]); // no message
        await c.AttachManyAsync([new Attachment("user.root", "h11.cnt", [new DidRef("user.root", "h11.ds1")])]);
        var frames = server.DrainHermes();
        Assert.Equal(["create_dts", "create_cnt", "register_cnt"], frames.Select(f => f.EventType));
        Assert.Matches("""^\{"event_type": "create_dts", "payload": \{"account": "root", "scope": "user.root", "name": "h11.ds1", "expired_at": null\}, "created_at": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"\}$""", frames[0].Body);
        Assert.Contains("\"childname\": \"h11.ds1\", \"childtype\": \"DATASET\"", frames[2].Body);
        Assert.Empty(server.DrainHermes());
        await c.CloseAsync("user.root", "h11.ds1");
        Assert.Equal("close", Assert.Single(server.DrainHermes()).EventType);
    }
}
