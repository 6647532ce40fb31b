using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FdrHarness.Rucio.Double;

public sealed record SeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body, string? ContentType);

public sealed record RucioDoubleOptions
{
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Seeds the ids the double hands out (rules, RSEs, tokens).</summary>
    public int Seed { get; init; } = 1;
    public string Account { get; init; } = "root";
    public string Username { get; init; } = "ddmlab";
    public string Password { get; init; } = "s3cret-pa55word";
    /// <summary>Keep every request in <see cref="RucioDouble.Requests"/> (off for benchmarks).</summary>
    public bool RecordRequests { get; init; } = true;
}

/// <summary>
/// An in-test Rucio 1.31.7 on 127.0.0.1: the REST calls a rehearsal makes, answered as the recorded server answered them
/// (../shared/reference/rucio-1.31.7-wire/, proven by RucioContractTests), over a catalog it keeps, with Hermes messages in
/// <see cref="Messages"/>, daemons run on demand, and faults injected deterministically.
/// </summary>
public sealed class RucioDouble : IAsyncDisposable
{
    private const string Stream = "application/x-json-stream";
    private readonly WebApplication _app;
    private readonly DoubleCatalog _catalog;
    private readonly Lock _gate = new();
    private readonly RucioDoubleOptions _options;
    private Random _faults = new(1);
    private FaultPlan? _plan;

    private RucioDouble(WebApplication app, RucioDoubleOptions options)
    {
        _app = app;
        _options = options;
        _catalog = new DoubleCatalog(Behaviour, options.Time, options.Seed);
        _catalog.AddUserpass(options.Username, options.Password, options.Account);
    }

    public Uri Url { get; private set; } = null!;
    public string Account => _options.Account;
    public string Username => _options.Username;
    public string Password => _options.Password;
    public DoubleBehaviour Behaviour { get; } = new();
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();
    /// <summary>Faults for the next requests (other than GET /auth/*), one each, before any drawn by <see cref="FaultPlan"/>.</summary>
    public ConcurrentQueue<Fault> Faults { get; } = new();
    private readonly List<(string Method, string PathStart, Fault Fault)> _targeted = [];

    /// <summary>The next request with this method and path start gets this fault (before <see cref="Faults"/> and the plan).</summary>
    public void FaultOn(string method, string pathStart, Fault fault)
    {
        lock (_gate) _targeted.Add((method, pathStart, fault));
    }

    /// <summary>Paths answered with a 307 to another origin (issue 13: no auth header may follow it).</summary>
    public ConcurrentDictionary<string, Uri> Redirects { get; } = new(StringComparer.Ordinal);
    public int AuthCalls;
    /// <summary>Requests that got an injected fault, by kind.</summary>
    public ConcurrentDictionary<Fault, int> Injected { get; } = new();

    public FaultPlan? FaultPlan
    {
        get => _plan;
        set { lock (_gate) { _plan = value; _faults = new Random(value?.Seed ?? 1); } }
    }

    public static async Task<RucioDouble> StartAsync(RucioDoubleOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 << 20);
        var app = builder.Build();
        var d = new RucioDouble(app, options ?? new RucioDoubleOptions());
        app.Run(d.HandleAsync);
        await app.StartAsync();
        d.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return d;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopHermes is not null)
        {
            await _stopHermes.CancelAsync();
            await _hermes!;
            _stopHermes.Dispose();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ------------------------------------------------------------------ set-up, daemons, inspection (under the lock)

    private T Locked<T>(Func<DoubleCatalog, T> f)
    {
        lock (_gate)
        {
            try { return f(_catalog); }
            finally { Signal(); }
        }
    }

    private void Locked(Action<DoubleCatalog> f)
    {
        lock (_gate)
        {
            try { f(_catalog); }
            finally { Signal(); }
        }
    }

    /// <summary>A deterministic RSE with its protocols (in order) and attributes; lfn2pfn from the attribute lfn2pfn_algorithm (default hash).</summary>
    public void AddRse(string name, IReadOnlyDictionary<string, string>? attributes = null, params DoubleProtocol[] protocols) => Locked(c =>
    {
        c.AddRse(name, null);
        foreach (var (k, v) in attributes ?? new Dictionary<string, string>()) c.SetAttribute(name, k, JsonValue.Create(v));
        foreach (var p in protocols) c.AddProtocol(name, p);
    });

    /// <summary>One more storage endpoint of an RSE (after those it has): e.g. a real storage's port found only once it runs.</summary>
    public void AddProtocol(string rse, DoubleProtocol protocol) => Locked(c => c.AddProtocol(rse, protocol));

    /// <summary>
    /// The lake a scenario declares, as an operator would have set it up: each RSE with its attributes, protocols (a bare
    /// scheme gets host {rse}.example and the scheme's usual port), availability and root's limit = its quota; each
    /// experiment's scope and the noise phases' scopes.
    /// </summary>
    public void AddLake(FdrHarness.Core.Scenarios.Model.Scenario scenario)
    {
        foreach (var r in scenario.Rses)
        {
            AddRse(r.Name, r.Attributes, [.. r.Protocols.Select(p => new DoubleProtocol(p.Scheme, p.Hostname ?? r.Name.ToLowerInvariant() + ".example",
                p.Port ?? p.Scheme switch { "root" => 1094, "gsiftp" => 2811, "srm" => 8443, "file" => 0, _ => 443 }, p.Prefix))]);
            SetAvailability(r.Name, r.Availability.Read, r.Availability.Write, r.Availability.Delete);
            SetAccountLimit(r.Name, r.Quota.Bytes > 0 ? r.Quota.Bytes : -1);
        }
        foreach (var scope in scenario.Experiments.Select(x => x.EffectiveScope)
            .Concat(scenario.Workload.OfType<FdrHarness.Core.Scenarios.Model.NoisePhase>().Select(n => n.Scope)).Distinct())
            AddScope(scope);
    }

    public void AddScope(string scope, string? account = null) => Locked(c => c.AddScope(account ?? Account, scope));
    public void SetAccountLimit(string rse, long bytes, string? account = null) => Locked(c => c.SetLimit(account ?? Account, rse, bytes));
    public void SetAvailability(string rse, bool read, bool write, bool delete) =>
        Locked(c => c.UpdateRse(rse, new JsonObject { ["availability_read"] = read, ["availability_write"] = write, ["availability_delete"] = delete }));
    public (bool Read, bool Write, bool Delete) Availability(string rse) => Locked(c => c.Availability(rse));
    /// <summary>Settings as PUT /rses/{rse} takes them (deterministic, volatile, availability_*, rse_type).</summary>
    public void UpdateRse(string rse, JsonObject settings) => Locked(c => c.UpdateRse(rse, settings));
    /// <summary>The RSE's attributes as GET /rses/{rse}/attr/ lists them.</summary>
    public IReadOnlyDictionary<string, string> Attributes(string rse) =>
        Locked(c => (IReadOnlyDictionary<string, string>)c.Attributes(rse).ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal));
    public long? AccountLimit(string rse, string? account = null) => Locked(c => c.Limit(account ?? Account, rse));
    public IReadOnlyList<string> Scopes => Locked(c => (IReadOnlyList<string>)[.. c.Scopes]);
    public string IssueToken() => Locked(c => c.IssueToken(Account, Username));
    public void ExpireTokens() => Locked(c => c.ExpireTokens());

    public int RunJudgeInjector() => Locked(c => c.RunInjector());
    public int RunJudgeCleaner() => Locked(c => c.RunCleaner());
    public int RunUndertaker() => Locked(c => c.RunUndertaker());
    /// <summary>Every queued transfer done: replicas AVAILABLE, locks and rules OK (conveyor and finisher at once).</summary>
    public int CompleteTransfers() => Locked(c => c.CompleteTransfers());
    public void RunAbacus() => Locked(c => c.RunAbacus());

    private int _delivered;

    /// <summary>
    /// The messages queued since the last call, as hermes sends them over STOMP: header event_type (lower case) and the body
    /// {"event_type": …, "payload": {…}, "created_at": "YYYY-MM-DD HH:MM:SS.ffffff"} (json.dumps spacing). Publish each with
    /// headers persistent:true and event_type to the broker's destination (/topic/rucio.events on the recorded server).
    /// </summary>
    public IReadOnlyList<(string EventType, string Body)> DrainHermes() => Locked(c =>
    {
        var fresh = c.Messages.Skip(_delivered).Select(m => (m.EventType, Wire.Dumps(new JsonObject
        {
            ["event_type"] = m.EventType, ["payload"] = m.Payload.DeepClone(), ["created_at"] = m.CreatedAt,
        }))).ToList();
        _delivered = c.Messages.Count;
        return (IReadOnlyList<(string, string)>)fresh;
    });

    // ------------------------------------------------------------------ hermes to a real broker

    private readonly SemaphoreSlim _hermesPass = new(0, 1);
    private readonly List<(string EventType, string Body)> _published = [];
    private readonly List<(string EventType, string Body)> _sent = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _publishWaiters = [];
    private CancellationTokenSource? _stopHermes;
    private Task? _hermes;

    /// <summary>
    /// Starts the double's hermes: from now on each message the double queues is sent to <paramref name="broker"/> as
    /// hermes sends it (<see cref="HermesPublisher"/>), on a pass that starts as soon as the catalog has new messages
    /// (hermes --sleep-time 2 waits up to 2 s). <see cref="DrainHermes"/> is then the publisher's: call neither beside it.
    /// A pass the broker did not confirm is sent again after a reconnect, as hermes does.
    /// </summary>
    public void PublishHermes(HermesBroker broker)
    {
        if (_hermes is not null) throw new InvalidOperationException("hermes already publishes");
        _stopHermes = new CancellationTokenSource();
        _hermes = Task.Run(() => PublishLoopAsync(broker, _stopHermes.Token));
        lock (_gate) Signal();
    }

    /// <summary>The messages the broker confirmed, once each, in the order sent.</summary>
    public IReadOnlyList<(string EventType, string Body)> HermesPublished { get { lock (_published) return [.. _published]; } }
    /// <summary>Every SEND the broker confirmed, resends included.</summary>
    public IReadOnlyList<(string EventType, string Body)> HermesSent { get { lock (_published) return [.. _sent]; } }
    /// <summary>Why the last pass failed (the publisher reconnects and sends it again); null when none did.</summary>
    public Exception? HermesError { get; private set; }

    /// <summary>Completes once the broker has confirmed <paramref name="messages"/> messages (a state to await, not a time).</summary>
    public Task HermesPublishedReached(int messages)
    {
        lock (_published)
        {
            if (_published.Count >= messages) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _publishWaiters.Add((messages, done));
            return done.Task;
        }
    }

    /// <summary>Completes once every message queued so far is on the broker.</summary>
    public Task HermesPublishedAll() => HermesPublishedReached(Locked(c => c.Messages.Count));

    private async Task PublishLoopAsync(HermesBroker broker, CancellationToken ct)
    {
        HermesPublisher? publisher = null;
        List<(string EventType, string Body)> unconfirmed = [], again = [];
        var taken = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (unconfirmed.Count == 0 && again.Count == 0) await _hermesPass.WaitAsync(ct).ConfigureAwait(false);
                var fresh = DrainHermes();
                var pass = unconfirmed.Concat(again).Concat(fresh).ToList();
                if (pass.Count == 0) continue;
                unconfirmed = [.. unconfirmed, .. fresh];
                var resend = new List<(string, string)>();
                foreach (var m in fresh)
                    if (broker.ResendEvery > 0 && ++taken % broker.ResendEvery == 0) resend.Add(m);
                try
                {
                    publisher ??= await HermesPublisher.ConnectAsync(broker, ct).ConfigureAwait(false);
                    await publisher.SendAsync(broker.Destination, pass, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    HermesError = e;
                    if (publisher is not null) await publisher.DisposeAsync().ConfigureAwait(false);
                    publisher = null;
                    again = [.. again, .. resend];
                    // hermes waits for its next pass (on the double's clock); a refused connection is not retried in a tight loop.
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _options.Time, ct).ConfigureAwait(false);
                    continue;
                }
                lock (_published)
                {
                    _published.AddRange(unconfirmed);
                    _sent.AddRange(pass);
                    for (var i = _publishWaiters.Count - 1; i >= 0; i--)
                        if (_published.Count >= _publishWaiters[i].Count)
                        {
                            _publishWaiters[i].Done.TrySetResult();
                            _publishWaiters.RemoveAt(i);
                        }
                }
                unconfirmed = [];
                again = resend;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            if (publisher is not null) await publisher.DisposeAsync().ConfigureAwait(false);
        }
    }

    public CatalogSnapshot Snapshot() => Locked(c => c.Snapshot());
    public IReadOnlyList<HermesMessage> Messages => Locked(c => (IReadOnlyList<HermesMessage>)[.. c.Messages]);

    // ------------------------------------------------------------------ HTTP

    private sealed record Reply(int Status, string? ContentType = null, string? Body = null, IReadOnlyList<string>? Lines = null)
    {
        public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    private static Reply Created() => new(201, "text/html; charset=utf-8", "Created");
    private static Reply Empty(int status = 200) => new(status, "text/html; charset=utf-8", "");
    private static Reply Json(JsonNode node) => new(200, "application/json", Wire.Dumps(node));

    private static Reply Error(int status, string cls, string message)
    {
        var r = new Reply(status, "application/octet-stream", Wire.Dumps(new JsonObject { ["ExceptionClass"] = cls, ["ExceptionMessage"] = message }));
        r.Headers["ExceptionClass"] = cls;
        r.Headers["ExceptionMessage"] = Wire.CutHeader(message);
        return r;
    }

    private async Task HandleAsync(HttpContext c)
    {
        string body;
        using (var reader = new StreamReader(c.Request.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var target = c.Features.Get<IHttpRequestFeature>()?.RawTarget ?? c.Request.Path + c.Request.QueryString;
        if (_options.RecordRequests)
            Requests.Enqueue(new SeenRequest(c.Request.Method, target,
                c.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, c.Request.ContentType));

        var path = target.Split('?')[0];
        if (Redirects.TryGetValue(path, out var to))
        {
            c.Response.StatusCode = 307;
            c.Response.Headers.Location = to.ToString();
            return;
        }

        var fault = NextFault(c.Request.Method, path);
        if (fault != Fault.None) Injected.AddOrUpdate(fault, 1, (_, n) => n + 1);
        switch (fault)
        {
            case Fault.Status500:
                await WriteAsync(c, Error(500, "DatabaseException", "An unknown Database Exception has ocurred."));
                return;
            case Fault.Status503:
                await WriteAsync(c, Error(503, "DatabaseException", "Currently there are too many requests for the Rucio servers to handle. Please try again in a few minutes."));
                return;
            case Fault.Status429:
                var tooMany = new Reply(429, "text/html", "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n</body>\r\n</html>\r\n");
                tooMany.Headers["Retry-After"] = "0";
                await WriteAsync(c, tooMany);
                return;
            case Fault.Reset:
                c.Abort();
                return;
            case Fault.Timeout:
                // Never answers: the request ends when the client gives up on it (its abort, not a timer).
                try { await new TaskCompletionSource().Task.WaitAsync(c.RequestAborted); } catch (OperationCanceledException) { }
                return;
            case Fault.HtmlPage:
                await WriteAsync(c, new Reply(200, "text/html; charset=utf-8",
                    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form method=\"post\"><input name=\"user\"></form></body></html>\n"));
                return;
        }

        Reply reply;
        try
        {
            reply = Route(c.Request.Method, target, body, c.Request.Headers);
        }
        catch (RucioError e) { reply = Error(e.Status, e.ExceptionClass, e.Message); }
        catch (RawError e) { reply = new Reply(e.Status, e.ContentType, e.Text); }
        if (fault == Fault.ResetAfterApply)
        {
            c.Abort(); // applied, but the answer is lost: the client must find out on its own
            return;
        }
        await WriteAsync(c, fault == Fault.TruncatedJson ? Truncated(reply) : reply);
    }

    /// <summary>The answer's first half (an empty answer becomes half a JSON object), as a complete 200 response.</summary>
    private static Reply Truncated(Reply reply)
    {
        var text = reply.Lines is { } lines ? string.Concat(lines.Select(l => l + "\n")) : reply.Body ?? "";
        if (text.Length < 2) text = "{\"";
        return new Reply(200, reply.ContentType ?? "application/json", text[..(text.Length / 2)]);
    }

    private Fault NextFault(string method, string path)
    {
        lock (_gate)
        {
            var i = _targeted.FindIndex(t => t.Method == method && path.StartsWith(t.PathStart, StringComparison.Ordinal));
            if (i >= 0)
            {
                var f = _targeted[i].Fault;
                _targeted.RemoveAt(i);
                return f;
            }
        }
        if (path.StartsWith("/auth/", StringComparison.Ordinal) && _plan is not { IncludeAuth: true }) return Fault.None;
        if (Faults.TryDequeue(out var queued)) return queued;
        lock (_gate)
        {
            if (_plan is not { Rate: > 0 } plan) return Fault.None;
            if (plan.Paths is { } paths && !paths.Any(p => path.StartsWith(p, StringComparison.Ordinal))) return Fault.None;
            var draw = _faults.NextDouble();
            var kind = plan.Kinds[_faults.Next(plan.Kinds.Count)];
            return draw < plan.Rate ? kind : Fault.None;
        }
    }

    private static async Task WriteAsync(HttpContext c, Reply reply)
    {
        var r = c.Response;
        r.StatusCode = reply.Status;
        if (reply.ContentType is not null) r.ContentType = reply.ContentType;
        foreach (var (k, v) in reply.Headers) r.Headers[k] = v;
        if (reply.Lines is { } lines)
        {
            if (lines.Count == 0)
            {
                r.ContentLength = 0; // an empty listing: no body, no chunking (133, 141, 146)
                return;
            }
            // Chunked, a line at a time as gunicorn streams it, flushed in batches.
            var sb = new StringBuilder();
            await r.Body.FlushAsync();
            foreach (var l in lines)
            {
                sb.Append(l).Append('\n');
                if (sb.Length < 64 * 1024) continue;
                await r.WriteAsync(sb.ToString());
                sb.Clear();
            }
            if (sb.Length > 0) await r.WriteAsync(sb.ToString());
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(reply.Body ?? "");
        r.ContentLength = bytes.Length;
        if (bytes.Length > 0) await r.Body.WriteAsync(bytes);
    }

    // ------------------------------------------------------------------ routes

    private Reply Route(string method, string target, string body, IHeaderDictionary headers)
    {
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? target : target[..q];
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(q < 0 ? "" : target[q..]);
        var seg = path.Split('/').Skip(1).Select(Uri.UnescapeDataString).ToArray();
        string? Query(string k) => query.TryGetValue(k, out var v) ? v.ToString() : null;

        switch (method, seg)
        {
            case ("GET", ["ping"]): return Json(new JsonObject { ["version"] = "1.31.7" });
            case ("GET", ["auth", "userpass"]):
            {
                Interlocked.Increment(ref AuthCalls);
                var (token, expires) = Locked(cat => cat.Authenticate(headers["X-Rucio-Account"], headers["X-Rucio-Username"], headers["X-Rucio-Password"]));
                var reply = new Reply(200, "application/octet-stream", "");
                reply.Headers["X-Rucio-Auth-Account"] = headers["X-Rucio-Account"].ToString();
                reply.Headers["X-Rucio-Auth-Token"] = token;
                reply.Headers["X-Rucio-Auth-Token-Expires"] = Wire.Date(expires);
                return reply;
            }
            case ("GET", ["auth", "validate"]):
                return new Reply(200, "application/octet-stream", Locked(cat => cat.Validate(headers["X-Rucio-Auth-Token"].FirstOrDefault())));
        }

        var account = Locked(cat => cat.AccountOf(headers["X-Rucio-Auth-Token"].FirstOrDefault()))
            ?? throw new RucioError(401, "CannotAuthenticate", "Cannot authenticate with given credentials");

        lock (_gate)
        {
            try { return Route(_catalog, method, target, path, seg, Query, body, headers, account); }
            finally { Signal(); }
        }
    }

    private readonly List<(long Replicas, TaskCompletionSource Reached)> _waiters = [];

    /// <summary>
    /// Completes once POST /replicas has added <paramref name="replicas"/> replicas in all (a state to await — a test kills
    /// a run mid-injection there — instead of a time to sleep).
    /// </summary>
    public Task ReplicasReached(long replicas)
    {
        lock (_gate)
        {
            if (_catalog.ReplicasRegistered >= replicas) return Task.CompletedTask;
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((replicas, reached));
            return reached.Task;
        }
    }

    private void Signal() // under _gate
    {
        if (_hermes is not null && _catalog.Messages.Count > _delivered && _hermesPass.CurrentCount == 0)
        {
            try { _hermesPass.Release(); }
            catch (SemaphoreFullException) { } // a pass is already due
        }
        for (var i = _waiters.Count - 1; i >= 0; i--)
            if (_catalog.ReplicasRegistered >= _waiters[i].Replicas)
            {
                _waiters[i].Reached.TrySetResult();
                _waiters.RemoveAt(i);
            }
    }

    private Reply Route(DoubleCatalog cat, string method, string target, string path, string[] seg, Func<string, string?> Query, string body, IHeaderDictionary headers,
        string account)
    {
        {
            switch (method, seg)
            {
                // accounts, scopes, limits
                case ("GET", ["accounts", "whoami"]):
                {
                    var reply = new Reply(303, "text/html; charset=utf-8", ServerTexts.Redirecting(account));
                    reply.Headers["Location"] = account;
                    return reply;
                }
                case ("POST", ["accounts", var a, "scopes", var s]): cat.AddScope(a, s); return Created();
                case ("GET", ["scopes", ""]): return new Reply(200, "application/json", Wire.Dumps(new JsonArray([.. cat.Scopes.Select(s => (JsonNode)JsonValue.Create(s))])) + "\n");
                case ("GET", ["accounts", var a, "limits", "local", var rse]):
                    cat.Rse(rse);
                    return Json(new JsonObject { [rse] = cat.Limit(a, rse) });
                case ("POST", ["accountlimits", "local", var a, var rse]):
                {
                    var p = Parameters(body);
                    cat.SetLimit(a, rse, Param(p, "bytes")!.GetValue<long>());
                    return Created();
                }
                case ("DELETE", ["accountlimits", "local", var a, var rse]): cat.DeleteLimit(a, rse); return Empty();

                // RSEs
                case ("GET", ["rses", ""]):
                    if (Query("expression") is { } expr)
                        return Lines(headers, cat.Resolve(expr, onlyWritable: false).Select(r => Wire.Dumps(new JsonObject { ["rse"] = r.Name })));
                    return Lines(headers, cat.RseList().Select(Wire.Dumps));
                case ("POST", ["rses", var rse]): cat.AddRse(rse, Parameters(body, optional: true)); return Created();
                case ("GET", ["rses", var rse]): return Json(cat.RseJson(cat.Rse(rse)));
                case ("PUT", ["rses", var rse]): cat.UpdateRse(rse, Parameters(body, optional: true)); return Created();
                case ("GET", ["rses", var rse, "attr", ""]): return new Reply(200, "application/json", Wire.Jsonify(cat.Attributes(rse)) + "\n");
                case ("POST", ["rses", var rse, "attr", var key]):
                    cat.SetAttribute(rse, key, Param(Parameters(body), "value"));
                    return Created();
                case ("GET", ["rses", var rse, "protocols"]): return new Reply(200, "application/json", Wire.Jsonify(cat.Protocols(rse)) + "\n");
                case ("GET", ["rses", var rse, "protocols", _]):
                    cat.Protocols(rse);
                    return new Reply(200, "application/json", Wire.Jsonify(cat.RseJson(cat.Rse(rse), withAvailability: false)) + "\n");
                case ("POST", ["rses", var rse, "protocols", var scheme]):
                {
                    var p = Parameters(body);
                    cat.AddProtocol(rse, new DoubleProtocol(scheme, p["hostname"]?.ToString() ?? "localhost",
                        p["port"]?.GetValue<int>() ?? 0, p["prefix"]?.ToString() ?? "", p["impl"]?.ToString() ?? "rucio.rse.protocols.gfal.Default"));
                    return Created();
                }

                // DIDs
                case ("POST", ["dids"]): cat.AddDids(List(body), account); return Created();
                case ("POST", ["dids", "attachments"]):
                {
                    var p = Parameters(body);
                    var list = (Param(p, "attachments") as JsonArray ?? []).OfType<JsonObject>().ToList();
                    foreach (var a in list) cat.CheckItems("attachments", a["dids"] as JsonArray ?? [], 500);
                    cat.Attach([.. list.Select(a => (a["scope"]?.ToString() ?? "", a["name"]?.ToString() ?? "", a["dids"] as JsonArray ?? []))],
                        p["ignore_duplicate"] is JsonValue v && v.TryGetValue<bool>(out var ignore) && ignore, account);
                    return Created();
                }
                case ("GET", ["dids", var scope, "dids", "search"]):
                    return Lines(headers, cat.Search(scope, Query("type") ?? "collection", Query("name") ?? "*").Select(n => Wire.Dumps(JsonValue.Create(n))));
                case (_, ["dids", var scope, .. var rest]) when rest.Length > 0:
                    return DidRoute(cat, method, scope, rest, body, headers, account);

                // replicas
                case ("POST", ["replicas"]):
                {
                    var p = Parameters(body);
                    var rse = Param(p, "rse")!.ToString();
                    cat.AddReplicas(rse, Param(p, "files") as JsonArray ?? [], p["ignore_availability"] is JsonValue v && v.TryGetValue<bool>(out var ia) && ia, account);
                    return Created();
                }
                case ("PUT", ["replicas"]):
                {
                    var p = Parameters(body);
                    cat.UpdateReplicas(Param(p, "rse")!.ToString(), Param(p, "files") as JsonArray ?? []);
                    return Empty();
                }
                case ("POST", ["replicas", "list"]):
                {
                    var p = Parameters(body);
                    var dids = p["dids"] as JsonArray ?? [];
                    cat.CheckItems("r_dids", dids, 400);
                    var list = cat.ListReplicas(dids.OfType<JsonObject>().Select(d => (d["scope"]?.ToString() ?? "", d["name"]?.ToString() ?? "")),
                        p["rse_expression"]?.ToString(), p["all_states"] is JsonValue v && v.TryGetValue<bool>(out var all) && all);
                    return Lines(headers, list.Select(Wire.Dumps));
                }
                case ("GET", ["replicas", var scope, .. var name]) when name.Length > 0:
                    return Lines(headers, cat.ListReplicas([(scope, string.Join('/', name))], null, false).Select(Wire.Dumps));

                // rules
                case ("POST", ["rules", ""]):
                    return new Reply(201, "text/html; charset=utf-8", Wire.Dumps(new JsonArray([.. cat.AddRules(Parameters(body)).Select(id => (JsonNode)JsonValue.Create(id))])));
                case ("GET", ["rules", ""]): return Lines(headers, cat.Rules.Select(r => Wire.Dumps(DoubleCatalog.RuleJson(r))));
                case ("GET", ["rules", var id]): return Json(DoubleCatalog.RuleJson(cat.Rule(id)));
                case ("GET", ["rules", var id, "locks"]): return Lines(headers, DoubleCatalog.LocksJson(cat.Rule(id)).Select(Wire.Dumps));
                case ("PUT", ["rules", var id]):
                {
                    var options = Param(Parameters(body), "options") as JsonObject ?? [];
                    cat.UpdateRule(cat.Rule(id), options);
                    return Empty();
                }
                case ("DELETE", ["rules", var id]):
                {
                    Parameters(body);
                    if (DoubleCatalog.NormalizeRuleId(id) is null) throw new RawError(500, ServerTexts.BadRuleIdSql);
                    cat.DeleteRule(cat.Rule(id));
                    return Empty();
                }

                // requests
                case ("GET", ["requests", "list"]):
                    return Lines(headers, cat.ListRequests(Query("src_rse"), Query("dst_rse"), Query("request_states")).Select(Wire.Dumps));
                case ("GET", ["requests", var scope, var name, var rse]): return Json(cat.RequestJson(cat.Request(scope, name, rse)));

                // Flask adds or drops the trailing slash with a 308.
                case (_, ["rules"] or ["rses"] or ["scopes"]):
                {
                    var reply = new Reply(308, "text/html; charset=utf-8", ServerTexts.Redirecting(path + "/"));
                    reply.Headers["Location"] = path + "/";
                    return reply;
                }
            }
        }
        return new Reply(404, "text/html; charset=utf-8", ServerTexts.NotFound);
    }

    /// <summary>/dids/{scope}/{name}[/dids|/rules|/files|/status|/meta[/key]]; the name may hold slashes.</summary>
    private Reply DidRoute(DoubleCatalog cat, string method, string scope, string[] rest, string body, IHeaderDictionary headers, string account)
    {
        string Name(int drop) => string.Join('/', rest[..^drop]);
        if (rest.Length >= 2 && rest[^1] == "dids")
        {
            var parent = cat.Did(scope, Name(1));
            switch (method)
            {
                case "GET": return Lines(headers, cat.Content(parent).Select(Wire.Dumps));
                case "POST":
                {
                    var p = Parameters(body);
                    if (p.Select(kv => kv.Key).FirstOrDefault(k => k is not ("scope" or "name" or "rse" or "dids")) is { } extra)
                        throw new RucioError(500, "InvalidObject", ServerTexts.AdditionalProperties(extra));
                    var dids = Param(p, "dids") as JsonArray ?? [];
                    cat.CheckItems("attachment", dids, 500);
                    cat.Attach([(scope, parent.Name, dids)], ignoreDuplicate: false, account);
                    return Created();
                }
                case "DELETE": cat.Detach(parent, Param(Parameters(body), "dids") as JsonArray ?? []); return Empty();
            }
            return new Reply(405, "text/html; charset=utf-8", ServerTexts.MethodNotAllowed);
        }
        if (rest.Length >= 2 && rest[^1] == "rules" && method == "GET")
            return Lines(headers, cat.RulesOf(cat.Did(scope, Name(1))).Select(r => Wire.Dumps(DoubleCatalog.RuleJson(r))));
        if (rest.Length >= 2 && rest[^1] == "files" && method == "GET")
            return Lines(headers, cat.FilesJson(cat.Did(scope, Name(1))).Select(Wire.Dumps));
        if (rest.Length >= 2 && rest[^1] == "status")
        {
            if (method != "PUT") return new Reply(405, "text/html; charset=utf-8", ServerTexts.MethodNotAllowed);
            var p = Parameters(body);
            cat.SetStatus(cat.Did(scope, Name(1)), p["open"] is JsonValue v && v.TryGetValue<bool>(out var open) && open);
            return Empty();
        }
        if (rest.Length >= 2 && rest[^1] == "meta" && method == "GET") return Json(cat.MetaJson(cat.Did(scope, Name(1))));
        if (rest.Length >= 3 && rest[^2] == "meta")
        {
            if (method != "POST") return new Reply(405, "text/html; charset=utf-8", ServerTexts.MethodNotAllowed);
            var p = Parameters(body);
            cat.SetMeta(scope, Name(2), rest[^1], Param(p, "value"));
            return Created();
        }
        var name = string.Join('/', rest);
        switch (method)
        {
            case "GET": return Json(cat.DidJson(cat.Did(scope, name)));
            case "POST":
            {
                var p = Parameters(body);
                var type = Param(p, "type");
                var item = new JsonObject { ["scope"] = scope, ["name"] = name, ["type"] = type?.DeepClone(), ["lifetime"] = p["lifetime"]?.DeepClone() };
                cat.AddDids([item], account);
                return Created();
            }
        }
        return new Reply(405, "text/html; charset=utf-8", ServerTexts.MethodNotAllowed);
    }

    /// <summary>A listing: application/x-json-stream, refused with 406 when the client accepts only something else.</summary>
    private static Reply Lines(IHeaderDictionary headers, IEnumerable<string> lines)
    {
        var accept = headers.Accept.ToString();
        if (accept.Length > 0 && !accept.Contains(Stream, StringComparison.Ordinal) && !accept.Contains("*/*", StringComparison.Ordinal))
            throw new RucioError(406, "UnsupportedRequestedContentType", $"The requested content type {accept} is not supported. Use ['{Stream}'].");
        return new Reply(200, Stream, Lines: [.. lines]);
    }

    /// <summary>json_parameters(): the body as a JSON object, or Rucio's 400s.</summary>
    private static JsonObject Parameters(string body, bool optional = false)
    {
        if (optional && body.Length == 0) return [];
        JsonNode? node;
        try { node = JsonNode.Parse(body); }
        catch (JsonException) { throw new RucioError(400, "ValueError", "cannot decode json parameter dictionary"); }
        return node as JsonObject ?? throw new RucioError(400, "TypeError", "body must be a json dictionary");
    }

    private static JsonArray List(string body)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(body); }
        catch (JsonException) { throw new RucioError(400, "ValueError", "cannot decode json parameter list"); }
        return node as JsonArray ?? throw new RucioError(400, "TypeError", "body must be a json list");
    }

    /// <summary>param_get(): a required key, else 400 KeyError.</summary>
    private static JsonNode? Param(JsonObject o, string key) =>
        o.TryGetPropertyValue(key, out var v) ? v : throw new RucioError(400, "KeyError", $"'{key}' not defined");
}
