using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FdrHarness.Rucio.Tests;

public enum FakeFault { None, Status500, Status503, Status429, Timeout, Reset }

public sealed record FakeSeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body, string? ContentType);

/// <summary>
/// The first in-test Rucio, kept only for the tests of LiveRun/LiveDriver until the plan executor replaces them: it keeps
/// names on a refused bulk, checks no PFN and never answers DuplicateRule, which the live driver relies on. Everything
/// else uses the Rucio double (tests/FdrHarness.Rucio.Double), which the transcripts prove.
/// </summary>
public sealed class FakeRucio : IAsyncDisposable
{
    private readonly WebApplication _app;
    public const string Token = "root-ddmlab-unknown-44b1f40d9b8842a7a675e67d7441bf98";
    public const string Password = "s3cret-pa55word";

    public ConcurrentQueue<FakeSeenRequest> Requests { get; } = new();
    /// <summary>Faults to inject, taken one per request (any path except /auth) in order.</summary>
    public ConcurrentQueue<FakeFault> Faults { get; } = new();
    /// <summary>When set, each request (except /auth) draws a fault with this probability.</summary>
    public double RandomFaultRate { get; set; }
    private readonly Random _random = new(7);
    public TimeSpan TimeoutDelay { get; set; } = TimeSpan.FromSeconds(3);
    public Func<DateTimeOffset> TokenExpires { get; set; } = () => DateTimeOffset.UtcNow.AddHours(1);
    public int AuthCalls;
    public ConcurrentDictionary<string, int> Dids { get; } = new();
    public ConcurrentDictionary<string, byte> Replicas { get; } = new();
    public ConcurrentDictionary<string, string> Rules { get; } = new(); // id -> state of deletion: "" or "deleted"
    public int Successes;
    /// <summary>The storage endpoint GET /rses/{rse}/protocols answers with.</summary>
    public (string Scheme, string Host, int Port, string Prefix) Storage { get; set; } = ("davs", "storage.example", 2880, "/data");

    private FakeRucio(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<FakeRucio> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeRucio(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Url = new Uri(address);
        return fake;
    }

    private static Task Created(HttpContext c) { c.Response.StatusCode = 201; c.Response.ContentType = "text/html; charset=utf-8"; return c.Response.WriteAsync("Created"); }

    private static Task Error(HttpContext c, int status, string cls, string msg)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/octet-stream";
        c.Response.Headers["ExceptionClass"] = cls;
        c.Response.Headers["ExceptionMessage"] = msg;
        return c.Response.WriteAsync($"{{\"ExceptionClass\": \"{cls}\", \"ExceptionMessage\": \"{msg}\"}}");
    }

    private static async Task Lines(HttpContext c, IEnumerable<string> lines)
    {
        var accept = c.Request.Headers.Accept.ToString();
        if (accept.Length > 0 && !accept.Contains("application/x-json-stream") && !accept.Contains("*/*"))
        {
            await Error(c, 406, "UnsupportedRequestedContentType", $"The requested content type {accept} is not supported. Use ['application/x-json-stream'].");
            return;
        }
        c.Response.StatusCode = 200;
        c.Response.ContentType = "application/x-json-stream";
        foreach (var l in lines)
        {
            await c.Response.WriteAsync(l + "\n");
            await c.Response.Body.FlushAsync(); // chunked, line by line, as gunicorn streams it
        }
    }

    private static string RuleJson(string id, string state, string? expires) =>
        $"{{\"id\": \"{id}\", \"account\": \"root\", \"scope\": \"user.root\", \"name\": \"ds1\", \"did_type\": \"DATASET\", \"state\": \"{state}\", \"error\": null, \"rse_expression\": \"QOS=FAST\", \"copies\": 1, \"expires_at\": {(expires is null ? "null" : $"\"{expires}\"")}, \"locks_ok_cnt\": 2, \"locks_replicating_cnt\": 0, \"locks_stuck_cnt\": 0, \"activity\": \"User Subscriptions\", \"grouping\": \"DATASET\", \"notification\": \"NO\"}}";

    private async Task HandleAsync(HttpContext c)
    {
        var req = c.Request;
        string body;
        using (var reader = new StreamReader(req.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var path = req.Path.Value ?? "";
        // The raw request target: Kestrel's Path has %20 decoded already, and the wire form is what we check.
        var pq = c.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? path + req.QueryString.Value;
        Requests.Enqueue(new FakeSeenRequest(req.Method, pq,
            req.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, req.ContentType));

        if (!path.StartsWith("/auth", StringComparison.Ordinal))
        {
            var fault = Faults.TryDequeue(out var f) ? f : FakeFault.None;
            if (fault == FakeFault.None && RandomFaultRate > 0)
                lock (_random) if (_random.NextDouble() < RandomFaultRate) fault = (FakeFault)(1 + _random.Next(5));
            switch (fault)
            {
                case FakeFault.Status500: await Error(c, 500, "DatabaseException", "Database exception."); return;
                case FakeFault.Status503: await Error(c, 503, "RSETemporaryUnavailable", "RSE MOCK temporarily unavailable"); return;
                case FakeFault.Status429: c.Response.Headers.RetryAfter = "0"; await Error(c, 429, "TooManyRequests", "slow down"); return;
                case FakeFault.Timeout:
                    await Task.Delay(TimeoutDelay, c.RequestAborted).ContinueWith(_ => { });
                    if (!c.RequestAborted.IsCancellationRequested) await Error(c, 504, "GatewayTimeout", "upstream timed out");
                    return;
                case FakeFault.Reset: c.Abort(); return;
            }
        }

        switch (req.Method, path)
        {
            case ("GET", "/ping"):
                c.Response.ContentType = "application/json";
                await c.Response.WriteAsync("{\"version\":\"1.31.7\"}");
                return;
            case ("GET", "/auth/userpass"):
                Interlocked.Increment(ref AuthCalls);
                if (req.Headers["X-Rucio-Password"] != Password || req.Headers["X-Rucio-Account"] != "root")
                {
                    await Error(c, 401, "IdentityNotFound", "Cannot authenticate. Username/Password pair does not exist.");
                    return;
                }
                c.Response.ContentType = "application/octet-stream";
                c.Response.Headers["X-Rucio-Auth-Account"] = "root";
                c.Response.Headers["X-Rucio-Auth-Token"] = Token + "-" + AuthCalls;
                c.Response.Headers["X-Rucio-Auth-Token-Expires"] = TokenExpires().UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
                return;
        }

        if (!req.Headers.TryGetValue("X-Rucio-Auth-Token", out var token) || !token.ToString().StartsWith(Token, StringComparison.Ordinal))
        {
            await Error(c, 401, "CannotAuthenticate", "Cannot authenticate with given credentials");
            return;
        }

        switch (req.Method)
        {
            case "GET" when path == "/rses/":
                var expr = req.Query["expression"].ToString();
                if (expr == "QOS=NOPE") { await Error(c, 400, "InvalidRSEExpression", "RSE Expression resulted in an empty set."); return; }
                await Lines(c, expr == "QOS=EMPTYLIST" ? [] : ["{\"rse\": \"MOCK\"}", "{\"rse\": \"MOCK2\"}"]);
                return;
            case "GET" when path.EndsWith("/protocols", StringComparison.Ordinal):
                c.Response.ContentType = "application/json";
                await c.Response.WriteAsync($"{{\"rse\": \"MOCK\", \"protocols\": [{{\"scheme\": \"{Storage.Scheme}\", \"hostname\": \"{Storage.Host}\", \"port\": {Storage.Port}, \"prefix\": \"{Storage.Prefix}\", \"impl\": \"rucio.rse.protocols.gfal.Default\"}}]}}");
                return;
            case "POST" when path == "/dids":
                if (body.Contains("\"FILE\"")) { await Error(c, 409, "UnsupportedOperation", "Only collection (dataset/container) can be registered."); return; }
                var dup = false;
                foreach (var name in System.Text.Json.JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!))
                    if (!Dids.TryAdd(name, 1)) dup = true;
                if (dup) { await Error(c, 409, "DataIdentifierAlreadyExists", "Data Identifier already exists!"); return; }
                Interlocked.Increment(ref Successes);
                await Created(c);
                return;
            case "POST" when path == "/replicas":
                foreach (var f in System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("files").EnumerateArray())
                    Replicas.TryAdd(f.GetProperty("name").GetString()!, 0);
                Interlocked.Increment(ref Successes);
                await Created(c);
                return;
            case "POST" when path == "/dids/attachments" || path.EndsWith("/dids", StringComparison.Ordinal):
                Interlocked.Increment(ref Successes);
                await Created(c);
                return;
            case "POST" when path == "/rules/":
                if (body.Contains("QOS=NOPE")) { await Error(c, 409, "InvalidRSEExpression", "RSE Expression resulted in an empty set."); return; }
                var id = Guid.NewGuid().ToString("N");
                Rules[id] = "";
                Interlocked.Increment(ref Successes);
                c.Response.StatusCode = 201;
                c.Response.ContentType = "text/html; charset=utf-8";
                await c.Response.WriteAsync($"[\"{id}\"]");
                return;
            case "GET" when path.StartsWith("/rules/", StringComparison.Ordinal):
            {
                var rid = path["/rules/".Length..];
                if (!Rules.TryGetValue(rid, out var st) || st == "cleaned") { await Error(c, 404, "RuleNotFound", $"No rule with the id {rid} found"); return; }
                c.Response.ContentType = "application/json";
                await c.Response.WriteAsync(RuleJson(rid, "OK", st == "deleted" ? "Wed, 25 Nov 2026 11:59:12 UTC" : null));
                return;
            }
            case "DELETE" when path.StartsWith("/rules/", StringComparison.Ordinal):
            {
                var rid = path["/rules/".Length..];
                if (body.Length == 0) { await Error(c, 400, "ValueError", "cannot decode json parameter dictionary"); return; }
                if (!Rules.TryGetValue(rid, out var st) || st == "cleaned") { await Error(c, 404, "RuleNotFound", $"No rule with the id {rid} found"); return; }
                Rules[rid] = "deleted"; // soft: still visible until judge-cleaner
                c.Response.StatusCode = 200;
                c.Response.ContentType = "text/html; charset=utf-8";
                return;
            }
            case "PUT" when path.StartsWith("/rules/", StringComparison.Ordinal):
            case "PUT" when path.EndsWith("/status", StringComparison.Ordinal):
                c.Response.StatusCode = 200;
                c.Response.ContentType = "text/html; charset=utf-8";
                return;
            case "POST" when path.Contains("/meta/", StringComparison.Ordinal) || path.StartsWith("/accountlimits/", StringComparison.Ordinal):
                await Created(c);
                return;
            case "GET" when path == "/requests/metrics":
                await Lines(c, ["{\"src_rse\": \"MOCK\", \"dst_rse\": \"MOCK2\", \"activity\": \"User Subscriptions\", \"files_done_1h\": 4}"]);
                return;
            case "GET" when path.StartsWith("/dids/", StringComparison.Ordinal) && path.EndsWith("/dids", StringComparison.Ordinal):
                await Lines(c, ["{\"scope\": \"user.root\", \"name\": \"file1\", \"type\": \"FILE\", \"bytes\": 1024, \"adler32\": \"0cc737eb\", \"md5\": null}",
                                "{\"scope\": \"user.root\", \"name\": \"file2\", \"type\": \"FILE\", \"bytes\": 2048, \"adler32\": \"deadbeef\", \"md5\": \"d41d8cd98f00b204e9800998ecf8427e\"}"]);
                return;
        }
        await Error(c, 404, "NotFound", $"no route {req.Method} {path}");
    }

    public void CleanRule(string id) => Rules[id] = "cleaned";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
