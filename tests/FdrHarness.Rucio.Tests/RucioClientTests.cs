using System.Net;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

public sealed class RucioClientTests : IAsyncLifetime
{
    private FakeRucio _server = null!;

    public async Task InitializeAsync() => _server = await FakeRucio.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private RucioClient Client(Action<RucioClientOptions>? _ = null, bool resume = true, int retries = 4, TimeSpan? attemptTimeout = null, TimeProvider? time = null,
        string password = FakeRucio.Password) =>
        new(new RucioClientOptions
        {
            Url = _server.Url,
            Account = "root",
            Vo = "def",
            Auth = new RucioAuth { Method = AuthMethod.Userpass, Username = "ddmlab", PasswordEnv = "PW" },
            Env = n => n == "PW" ? password : null,
            Resume = resume,
            MaxRetries = retries,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(20),
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(10),
            Time = time ?? TimeProvider.System,
        });

    private SeenRequest Last(string method, string pathStart) =>
        _server.Requests.Last(r => r.Method == method && r.PathAndQuery.StartsWith(pathStart, StringComparison.Ordinal));

    [Fact]
    public async Task Ping_and_userpass_auth_send_the_headers_Rucio_expects()
    {
        using var c = Client();
        Assert.Equal("1.31.7", await c.PingAsync());
        var ping = Last("GET", "/ping");
        Assert.False(ping.Headers.ContainsKey("X-Rucio-Auth-Token"));

        var rses = new List<string>();
        await foreach (var r in c.ListRsesAsync("QOS=FAST")) rses.Add(r);
        Assert.Equal(["MOCK", "MOCK2"], rses);

        var auth = Last("GET", "/auth/userpass");
        Assert.Equal("root", auth.Headers["X-Rucio-Account"]);
        Assert.Equal("ddmlab", auth.Headers["X-Rucio-Username"]);
        Assert.Equal(FakeRucio.Password, auth.Headers["X-Rucio-Password"]);
        Assert.Equal("def", auth.Headers["X-Rucio-VO"]);
        var list = Last("GET", "/rses/");
        Assert.Equal("/rses/?expression=QOS%3DFAST", list.PathAndQuery);
        Assert.StartsWith(FakeRucio.Token, list.Headers["X-Rucio-Auth-Token"]);
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
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, FakeRucio.Token + "\n");
        using var c = new RucioClient(new RucioClientOptions
        {
            Url = _server.Url,
            Auth = new RucioAuth { Method = AuthMethod.Token, TokenFile = file },
            MaxRetries = 0,
        });
        var e = await Assert.ThrowsAsync<RucioNotFoundException>(() => c.GetRuleAsync(FakeRucio.Token));
        Assert.Equal("RuleNotFound", e.ExceptionClass);
        Assert.DoesNotContain(FakeRucio.Token, e.Message);
        Assert.Contains("***", e.Message);
        Assert.Equal(FakeRucio.Token, Last("GET", "/rules/").Headers["X-Rucio-Auth-Token"]);
        Assert.Equal(0, _server.AuthCalls);
        File.Delete(file);
    }

    [Fact]
    public async Task Token_is_renewed_before_it_expires()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        _server.TokenExpires = () => time.GetUtcNow().AddHours(1);
        using var c = Client(time: time);
        await c.AuthenticateNowAsync();
        Assert.Equal(1, _server.AuthCalls);
        await c.AddDidsAsync([new NewDid("user.root", "ds-a", DidType.Dataset)]);
        Assert.Equal(1, _server.AuthCalls);
        time.Advance(TimeSpan.FromMinutes(56)); // 4 minutes left: inside the 5-minute margin
        await c.AddDidsAsync([new NewDid("user.root", "ds-b", DidType.Dataset)]);
        Assert.Equal(2, _server.AuthCalls);
        Assert.EndsWith("-2", Last("POST", "/dids").Headers["X-Rucio-Auth-Token"]);
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
    }

    [Fact]
    public async Task Datasets_and_containers_bulk_then_duplicate_is_success_when_resuming()
    {
        using var c = Client();
        Assert.True(await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset), new NewDid("user.root", "cont1", DidType.Container)]));
        Assert.Equal("""[{"scope":"user.root","name":"ds1","type":"DATASET"},{"scope":"user.root","name":"cont1","type":"CONTAINER"}]""", Last("POST", "/dids").Body);
        Assert.False(await c.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset)])); // 409 → already there
        Assert.Equal(2, c.Stats.Summary("add_dids")!.Ok);
        Assert.Equal(1, c.Stats.Summary("add_dids")!.StatusCodes[409]);

        using var strict = Client(resume: false);
        var e = await Assert.ThrowsAsync<RucioDuplicateException>(() => strict.AddDidsAsync([new NewDid("user.root", "ds1", DidType.Dataset, 86400)]));
        Assert.Equal("DataIdentifierAlreadyExists", e.ExceptionClass);
        Assert.Equal("""[{"scope":"user.root","name":"ds1","type":"DATASET","lifetime":86400}]""", Last("POST", "/dids").Body);
    }

    [Fact]
    public async Task Attachments_close_lifetime_and_limits_use_Rucio_paths()
    {
        using var c = Client();
        await c.AttachAsync("user.root", "ds1", [new DidRef("user.root", "file1"), new DidRef("user.root", "file2")]);
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"file1"},{"scope":"user.root","name":"file2"}]}""", Last("POST", "/dids/user.root/ds1/dids").Body);
        await c.AttachManyAsync([new Attachment("user.root", "cont1", [new DidRef("user.root", "ds1")])]);
        Assert.Equal("""{"attachments":[{"scope":"user.root","name":"cont1","dids":[{"scope":"user.root","name":"ds1"}]}],"ignore_duplicate":true}""", Last("POST", "/dids/attachments").Body);
        await c.SetDidLifetimeAsync("user.root", "ds 1/x", TimeSpan.FromMinutes(20));
        var lt = Last("POST", "/dids/user.root/");
        Assert.Equal("/dids/user.root/ds%201%2Fx/meta/lifetime", lt.PathAndQuery);
        Assert.Equal("""{"value":1200}""", lt.Body);
        await c.SetAccountLimitAsync("MOCK", 1_000_000_000);
        Assert.Equal("""{"bytes":1000000000}""", Last("POST", "/accountlimits/local/root/MOCK").Body);
        await c.CloseAsync("user.root", "ds1");
        Assert.Equal("""{"open":false}""", Last("PUT", "/dids/user.root/ds1/status").Body);
    }

    [Fact]
    public async Task Rules_create_read_soft_delete_and_vanish()
    {
        using var c = Client();
        var ids = await c.AddRuleAsync(new RuleRequest { Dids = [new DidRef("user.root", "ds1")], RseExpression = "QOS=FAST" });
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"ds1"}],"account":"root","copies":1,"rse_expression":"QOS=FAST","grouping":"DATASET","lifetime":null}""", Last("POST", "/rules/").Body);
        var id = Assert.Single(ids);
        Assert.Equal(32, id.Length);

        var state = await c.GetRuleAsync(id);
        Assert.Equal("OK", state.State);
        Assert.Equal(2, state.LocksOk);
        Assert.Null(state.ExpiresAt);

        Assert.True(await c.DeleteRuleAsync(id));
        var del = Last("DELETE", "/rules/");
        Assert.Equal("""{"purge_replicas":false}""", del.Body); // an empty body is a 400 ValueError
        state = await c.GetRuleAsync(id); // soft delete: still there, now expiring
        Assert.NotNull(state.ExpiresAt);

        _server.CleanRule(id); // judge-cleaner ran
        var e = await Assert.ThrowsAsync<RucioNotFoundException>(() => c.GetRuleAsync(id));
        Assert.Equal("RuleNotFound", e.ExceptionClass);
        Assert.False(await c.DeleteRuleAsync(id)); // resuming: gone already is fine
    }

    [Fact]
    public async Task Every_rule_option_goes_on_the_wire()
    {
        using var c = Client();
        await c.AddRuleAsync(new RuleRequest
        {
            Dids = [new DidRef("user.root", "ds2")], Copies = 2, RseExpression = "QOS=SAFE", Grouping = "ALL", LifetimeSeconds = 3600,
            Weight = 1, Locked = false, SourceReplicaExpression = "QOS=FAST", Activity = "Functional Test", Notify = "C",
            PurgeReplicas = true, IgnoreAvailability = false, Comment = "fdr", Asynchronous = true, DelayInjection = 60, Priority = 4,
        });
        Assert.Equal("""{"dids":[{"scope":"user.root","name":"ds2"}],"account":"root","copies":2,"rse_expression":"QOS=SAFE","grouping":"ALL","lifetime":3600,"weight":1,"locked":false,"source_replica_expression":"QOS=FAST","activity":"Functional Test","notify":"C","purge_replicas":true,"ignore_availability":false,"comment":"fdr","asynchronous":true,"delay_injection":60,"priority":4}""", Last("POST", "/rules/").Body);
        var e = await Assert.ThrowsAsync<RucioRequestException>(() => c.AddRuleAsync(new RuleRequest { Dids = [new DidRef("user.root", "ds1")], RseExpression = "QOS=NOPE" }));
        Assert.Equal((HttpStatusCode)409, e.Status);
        Assert.Equal("InvalidRSEExpression", e.ExceptionClass);
        await c.SetRuleLifetimeAsync("abc", TimeSpan.FromHours(1));
        Assert.Equal("""{"options":{"lifetime":3600}}""", Last("PUT", "/rules/abc").Body);
    }

    [Fact]
    public async Task Streams_empty_listings_bad_expressions_protocols_and_metrics()
    {
        using var c = Client();
        var none = new List<string>();
        await foreach (var r in c.ListRsesAsync("QOS=EMPTYLIST")) none.Add(r);
        Assert.Empty(none);
        var e = await Assert.ThrowsAsync<RucioRequestException>(async () => { await foreach (var _ in c.ListRsesAsync("QOS=NOPE")) { } });
        Assert.Equal("InvalidRSEExpression", e.ExceptionClass);
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);

        var content = new List<string>();
        await foreach (var d in c.ListContentAsync("user.root", "ds1")) content.Add(d.GetProperty("adler32").GetString()!);
        Assert.Equal(["0cc737eb", "deadbeef"], content);

        var p = Assert.Single(await c.GetProtocolsAsync("MOCK"));
        Assert.Equal(new Uri("https://storage.example:2880/data/user.root/f1"), p.UrlOf("user.root/f1"));

        var metrics = new List<long>();
        await foreach (var m in c.RequestMetricsAsync()) metrics.Add(m.GetProperty("files_done_1h").GetInt64());
        Assert.Equal([4L], metrics);
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

    [Theory]
    [InlineData(Fault.Status500, 500)]
    [InlineData(Fault.Status503, 503)]
    [InlineData(Fault.Status429, 429)]
    [InlineData(Fault.Timeout, 0)]
    [InlineData(Fault.Reset, 0)]
    public async Task Each_fault_is_retried_and_the_call_succeeds(Fault fault, int status)
    {
        _server.TimeoutDelay = TimeSpan.FromSeconds(20);
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
    }

    [Fact]
    public async Task Persistent_503_fails_after_the_retries_with_the_servers_words()
    {
        using var c = Client(retries: 3);
        for (var i = 0; i < 10; i++) _server.Faults.Enqueue(Fault.Status503);
        var e = await Assert.ThrowsAsync<RucioServerException>(() => c.AddReplicasAsync("MOCK", [new NewReplica("user.root", "f", 1, "00000001")]));
        Assert.Equal("RSETemporaryUnavailable", e.ExceptionClass);
        var s = c.Stats.Summary("add_replicas")!;
        Assert.Equal((1L, 0L, 1L, 3L), (s.Count, s.Ok, s.Failed, s.Retries));
        Assert.Equal(4, s.StatusCodes[503]);
    }

    [Fact]
    public async Task Bulk_registration_under_random_faults_accounts_for_every_call()
    {
        _server.TimeoutDelay = TimeSpan.FromSeconds(2);
        _server.RandomFaultRate = 0.3;
        using var c = Client(retries: 2, attemptTimeout: TimeSpan.FromMilliseconds(300));
        var stats = new OperationStats();
        var engine = new LoadEngine(TimeProvider.System, stats, new LoadEngineOptions { Operation = "register", BatchSize = 50, Concurrency = 8 });
        var result = await engine.RunAsync([new Core.Planning.LoadTick(TimeSpan.Zero, 2000)], async (op, ct) =>
        {
            var files = Enumerable.Range((int)op.First, (int)op.Count).Select(i => new NewReplica("user.root", $"f{i}", i, "00000001")).ToList();
            await c.AddReplicasAsync("MOCK", files, ct: ct);
            return OperationResult.Ok;
        }, CancellationToken.None);
        var s = c.Stats.Summary("add_replicas")!;
        Assert.Equal(40, result.Started);
        Assert.Equal(40, result.Ok + result.Failed);
        Assert.Equal(40, s.Count);
        Assert.Equal(s.Count, s.Ok + s.Failed);
        Assert.True(s.Retries > 0);
        Assert.Equal(result.Ok, s.Ok);
        // What the client calls ok is what the server stored (a 409 or a lost answer may add more, never fewer).
        Assert.True(_server.Replicas.Count >= result.Ok * 50);
        Assert.Equal(40, stats.Summary("register")!.Count);
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
