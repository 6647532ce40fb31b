using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Load;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace FdrHarness.Rucio.Rest;

/// <summary>
/// The REST calls a rehearsal makes against Rucio, in Rucio's wire format (1.31 … 41). Every call is retried with
/// exponential backoff and jitter on 5xx, 429 (honouring Retry-After), timeouts and broken connections; errors come back
/// as typed <see cref="RucioException"/>s built from ExceptionClass/ExceptionMessage, with secrets redacted.
/// </summary>
public sealed class RucioClient : IDisposable
{
    private const string StreamType = "application/x-json-stream";
    private static readonly ResiliencePropertyKey<string> OpKey = new("fdr.operation");

    private readonly RucioClientOptions _o;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly AuthState _auth;
    private readonly bool _ownsTransport;
    private RucioClient? _strict;

    private sealed record TokenState(string Token, DateTimeOffset? Expires, DateTimeOffset RenewAt);

    /// <summary>The token and the gate that serialises getting one; shared by a client and its <see cref="Strict"/> view.</summary>
    private sealed class AuthState
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public volatile TokenState? Token;
    }

    /// <summary>
    /// The same connection, token and statistics, answering every refusal as an exception: a 409 is never taken for
    /// "already there" (a bulk POST /dids refused for one existing name created none of the others). The catalog operations
    /// (src/FdrHarness.Rucio/Catalog) use this view.
    /// </summary>
    public RucioClient Strict => !_o.Resume ? this : _strict ??= new RucioClient(this, _o with { Resume = false });

    private RucioClient(RucioClient parent, RucioClientOptions options)
    {
        _o = options;
        _http = parent._http;
        _pipeline = parent._pipeline;
        _auth = parent._auth;
        Stats = parent.Stats;
        Redactor = parent.Redactor;
        _ownsTransport = false;
    }

    public RucioClient(RucioClientOptions options, OperationStats? stats = null)
    {
        _o = options;
        _auth = new AuthState();
        _ownsTransport = true;
        Stats = stats ?? new OperationStats();
        _http = new HttpClient(new SameOriginRedirectHandler(CreateHandler(options)), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("fdr-harness", "0.1"));
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.Time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.MaxRetries) is 0 ? 1 : options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    args.Context.Properties.TryGetValue(OpKey, out var op);
                    Stats.Retry(op ?? "?", args.Outcome.Result is { } r ? (int)r.StatusCode : 0);
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>Per-operation latency (from the call's start), outcomes, retries and status codes.</summary>
    public OperationStats Stats { get; }

    public Redactor Redactor { get; } = new();

    public Uri Url => _o.Url;

    /// <summary>The account the calls act as (rules, limits, scopes).</summary>
    public string Account => _o.Account;

    // ---------------------------------------------------------------- transport

    private static SocketsHttpHandler CreateHandler(RucioClientOptions o)
    {
        var h = new SocketsHttpHandler
        {
            ConnectTimeout = o.ConnectTimeout,
            MaxConnectionsPerServer = o.MaxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AllowAutoRedirect = false, // SameOriginRedirectHandler follows them without carrying secrets across origins
        };
        if (o.Auth.Method == AuthMethod.X509 && o.Auth.Certificate is { } cert)
            h.SslOptions.ClientCertificates = [LoadClientCertificate(cert, o.Auth.Key, ReadSecret(o.Auth.PasswordEnv, o.Auth.PasswordFile, o.Env))];
        if (o.CaBundle is { } bundle)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(bundle);
            h.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        return h;
    }

    /// <summary>A client certificate from PEM (cert + key, or both in one file) or PKCS#12 (.p12/.pfx, password from env/file).</summary>
    internal static X509Certificate2 LoadClientCertificate(string certificate, string? key, string? password)
    {
        var head = File.ReadAllBytes(certificate);
        var isPem = Encoding.ASCII.GetString(head, 0, Math.Min(head.Length, 4096)).Contains("-----BEGIN", StringComparison.Ordinal);
        if (!isPem) return X509CertificateLoader.LoadPkcs12(head, password);
        var pem = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(certificate, key ?? certificate)
            : X509Certificate2.CreateFromEncryptedPemFile(certificate, password, key ?? certificate);
        // An ephemeral PEM key cannot be used by every TLS stack; a PKCS#12 round trip makes it persistable.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    internal static string? ReadSecret(string? envName, string? file, Func<string, string?> env)
    {
        if (!string.IsNullOrEmpty(envName) && env(envName) is { Length: > 0 } v) return v.Trim();
        if (!string.IsNullOrEmpty(file) && File.Exists(file)) return File.ReadAllText(file).Trim();
        return null;
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> o) => o.Exception switch
    {
        null => o.Result is { } r && (((int)r.StatusCode >= 500 && !RucioErrorMapping.IsDeterministic(Header(r, "ExceptionClass")))
            || r.StatusCode == HttpStatusCode.TooManyRequests),
        HttpRequestException or TimeoutRejectedException or IOException or SocketException => true,
        _ => false,
    };

    private TimeSpan? RetryAfter(HttpResponseMessage? r)
    {
        if (r?.Headers.RetryAfter is not { } ra) return null; // Polly's own backoff
        var wait = ra.Delta ?? (ra.Date is { } d ? d - _o.Time.GetUtcNow() : TimeSpan.Zero);
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        return wait > _o.RetryMaxDelay ? _o.RetryMaxDelay : wait;
    }

    /// <summary>
    /// One call: built anew for every attempt (a request cannot be sent twice), retried by the pipeline, mapped to an
    /// exception when it finally fails. The caller disposes the response.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(string op, HttpMethod method, string path, ReadOnlyMemory<byte>? body,
        bool stream, bool withToken, CancellationToken ct, Action<HttpRequestMessage>? extra = null, Uri? baseUrl = null)
    {
        var started = Stopwatch.GetTimestamp();
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OpKey, op);
        var reauthenticated = false;
        try
        {
            while (true)
            {
                var token = withToken ? await TokenAsync(ct).ConfigureAwait(false) : null;
                HttpResponseMessage response;
                try
                {
                    response = await _pipeline.ExecuteAsync(static async (ctx, s) =>
                    {
                        using var req = s.self.Build(s.method, s.path, s.body, s.stream, s.token, s.extra, s.baseUrl);
                        return await s.self._http.SendAsync(req, s.stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, ctx.CancellationToken).ConfigureAwait(false);
                    }, context, (self: this, method, path, body, stream, token, extra, baseUrl)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or IOException or SocketException && !ct.IsCancellationRequested)
                {
                    Stats.Record(op, Stopwatch.GetElapsedTime(started), OperationResult.Failed, failure: CallFailure.NoAnswer);
                    throw new RucioUnreachableException(baseUrl ?? _o.Url, Redactor.Redact(Reason(e)), null);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Stopped by the run (cut off at its end, Ctrl-C) before an answer came: a call that did not succeed.
                    Stats.Record(op, Stopwatch.GetElapsedTime(started), OperationResult.Failed, failure: CallFailure.Cancelled);
                    throw;
                }

                if (response.IsSuccessStatusCode)
                {
                    Stats.Record(op, Stopwatch.GetElapsedTime(started), OperationResult.Ok, (int)response.StatusCode);
                    return response;
                }

                var error = await ErrorAsync(response, op, ct).ConfigureAwait(false);
                response.Dispose();
                // An expired or revoked token: get a new one once, then give up.
                if (error is RucioAuthenticationException && withToken && !reauthenticated)
                {
                    reauthenticated = true;
                    _auth.Token = null;
                    Stats.Retry(op, (int)error.Status);
                    continue;
                }
                if (error is RucioDuplicateException && _o.Resume)
                {
                    Stats.Record(op, Stopwatch.GetElapsedTime(started), OperationResult.Ok, (int)error.Status);
                    return new HttpResponseMessage(HttpStatusCode.Conflict) { Content = new ByteArrayContent([]) };
                }
                Stats.Record(op, Stopwatch.GetElapsedTime(started), OperationResult.Failed, (int)error.Status);
                throw error;
            }
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    internal static string Reason(Exception e)
    {
        // The innermost socket error says it best: "Connection refused", "Name or service not known".
        for (var x = e; x is not null; x = x.InnerException)
            if (x is SocketException se) return se.Message;
        return e switch
        {
            TimeoutRejectedException => "no answer within the timeout",
            HttpRequestException { HttpRequestError: var k } when k != HttpRequestError.Unknown => $"{e.Message} ({k})",
            _ => e.Message,
        };
    }

    private HttpRequestMessage Build(HttpMethod method, string path, ReadOnlyMemory<byte>? body, bool stream, string? token,
        Action<HttpRequestMessage>? extra, Uri? baseUrl)
    {
        var root = (baseUrl ?? _o.Url).ToString().TrimEnd('/');
        var req = new HttpRequestMessage(method, root + path);
        req.Headers.TryAddWithoutValidation("Accept", stream ? StreamType : "*/*");
        req.Headers.TryAddWithoutValidation("X-Rucio-AppID", "fdr");
        if (!string.IsNullOrEmpty(_o.Vo)) req.Headers.TryAddWithoutValidation("X-Rucio-VO", _o.Vo);
        if (token is not null) req.Headers.TryAddWithoutValidation("X-Rucio-Auth-Token", token);
        if (body is { } b)
        {
            var content = new ReadOnlyMemoryContent(b);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            req.Content = content;
        }
        extra?.Invoke(req);
        return req;
    }

    /// <summary>
    /// The refusal as Rucio states it: ExceptionClass and ExceptionMessage from the JSON body (the header keeps only the
    /// first 125 characters of the message), the headers when the body is not JSON, the bare text of a non-JSON 500
    /// ('pfn', an SQL error) otherwise. At most 1 MiB of the body is read.
    /// </summary>
    private async Task<RucioException> ErrorAsync(HttpResponseMessage r, string op, CancellationToken ct)
    {
        string? cls = null, msg = null;
        var text = await ReadBoundedAsync(r, 1 << 20, ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("ExceptionClass", out var c) && c.ValueKind == JsonValueKind.String) cls = c.GetString();
                if (doc.RootElement.TryGetProperty("ExceptionMessage", out var m) && m.ValueKind == JsonValueKind.String) msg = m.GetString();
            }
        }
        catch (JsonException)
        {
            // not JSON: a bare Python repr, an SQL error or a proxy's page
        }
        cls ??= Header(r, "ExceptionClass");
        msg ??= Header(r, "ExceptionMessage");
        if (msg is null && text.Trim() is { Length: > 0 } bare) msg = OneLine(bare, 300);
        cls ??= "Http" + (int)r.StatusCode;
        return RucioErrorMapping.Map(r.StatusCode, Redactor.Redact(cls), Redactor.Redact(OneLine(msg ?? r.ReasonPhrase ?? "", 2000)), op);
    }

    private static string OneLine(string s, int max)
    {
        var line = s.ReplaceLineEndings(" ").Trim();
        return line.Length <= max ? line : line[..max] + "…";
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage r, int max, CancellationToken ct)
    {
        await using var stream = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[max];
        var n = 0;
        while (n < max && await stream.ReadAsync(buffer.AsMemory(n, max - n), ct).ConfigureAwait(false) is var k and > 0) n += k;
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;

    // ---------------------------------------------------------------- auth

    /// <summary>The token to send: from a file/variable (re-read when refused), or obtained by userpass/x509 and renewed before it expires.</summary>
    private async ValueTask<string> TokenAsync(CancellationToken ct)
    {
        var t = _auth.Token;
        if (t is not null && _o.Time.GetUtcNow() < t.RenewAt) return t.Token;
        await _auth.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            t = _auth.Token;
            if (t is not null && _o.Time.GetUtcNow() < t.RenewAt) return t.Token;
            t = await AuthenticateAsync(ct).ConfigureAwait(false);
            _auth.Token = t;
            return t.Token;
        }
        finally
        {
            _auth.Gate.Release();
        }
    }

    /// <summary>When the current token will be renewed (null before the first call).</summary>
    public DateTimeOffset? TokenRenewAt => _auth.Token?.RenewAt;

    private async Task<TokenState> AuthenticateAsync(CancellationToken ct)
    {
        var a = _o.Auth;
        var now = _o.Time.GetUtcNow();
        if (a.Method == AuthMethod.Token)
        {
            var token = ReadSecret(a.TokenEnv, a.TokenFile, _o.Env)
                ?? throw new RucioAuthenticationException(HttpStatusCode.Unauthorized, "NoToken",
                    $"no token in {(a.TokenEnv is null ? "" : "$" + a.TokenEnv)}{(a.TokenFile is null ? "" : " " + a.TokenFile)}".Trim(), "auth");
            Redactor.Add(token);
            // A token from IAM is renewed by whoever writes the file; re-read it every minute.
            return new TokenState(token, null, now + TimeSpan.FromMinutes(1));
        }

        string path;
        Action<HttpRequestMessage> headers;
        if (a.Method == AuthMethod.Userpass)
        {
            var password = ReadSecret(a.PasswordEnv, a.PasswordFile, _o.Env)
                ?? throw new RucioAuthenticationException(HttpStatusCode.Unauthorized, "NoPassword", "no password in the configured variable or file", "auth");
            Redactor.Add(password);
            path = "/auth/userpass";
            headers = r =>
            {
                r.Headers.TryAddWithoutValidation("X-Rucio-Account", _o.Account);
                r.Headers.TryAddWithoutValidation("X-Rucio-Username", a.Username ?? _o.Account);
                r.Headers.TryAddWithoutValidation("X-Rucio-Password", password);
            };
        }
        else
        {
            path = "/auth/x509";
            headers = r => r.Headers.TryAddWithoutValidation("X-Rucio-Account", _o.Account);
        }

        using var response = await SendAsync("auth", HttpMethod.Get, path, null, false, false, ct, headers, _o.AuthUrl ?? _o.Url).ConfigureAwait(false);
        var tok = Header(response, "X-Rucio-Auth-Token")
            ?? throw new RucioAuthenticationException(response.StatusCode, "NoToken", "the auth server answered without X-Rucio-Auth-Token", "auth");
        Redactor.Add(tok);
        var expires = ParseExpires(Header(response, "X-Rucio-Auth-Token-Expires"));
        var lifetime = (expires ?? now + TimeSpan.FromHours(1)) - now;
        // Renew RenewBefore ahead, or at half the lifetime when the token is shorter-lived than that.
        var margin = lifetime > 2 * _o.RenewBefore ? _o.RenewBefore : lifetime / 2;
        return new TokenState(tok, expires, now + lifetime - margin);
    }

    /// <summary>"Wed, 25 Nov 2026 11:58:34 UTC" (Rucio writes UTC where RFC 1123 says GMT).</summary>
    internal static DateTimeOffset? ParseExpires(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var v = value.Trim();
        if (v.EndsWith(" UTC", StringComparison.Ordinal)) v = v[..^4] + " GMT";
        return DateTimeOffset.TryParseExact(v, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;
    }

    // ---------------------------------------------------------------- calls

    private static string Seg(string s) => Uri.EscapeDataString(s);

    private static ReadOnlyMemory<byte> Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return buffer.WrittenMemory;
    }

    private async Task<bool> CreateAsync(string op, HttpMethod method, string path, ReadOnlyMemory<byte>? body, CancellationToken ct,
        Action<HttpRequestMessage>? extra = null)
    {
        using var r = await SendAsync(op, method, path, body, false, true, ct, extra).ConfigureAwait(false);
        return r.StatusCode != HttpStatusCode.Conflict; // false: it was there already (resume)
    }

    private async IAsyncEnumerable<JsonElement> ListAsync(string op, string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var r = await SendAsync(op, HttpMethod.Get, path, null, true, true, ct).ConfigureAwait(false);
        await using var s = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await foreach (var e in ReadLinesAsync(op, s, ct).ConfigureAwait(false)) yield return e;
    }

    /// <summary>
    /// A streamed listing's lines; a line that is not JSON (an HTML page, a cut answer) or a stream that breaks off makes
    /// the call a failed one in the statistics (it was counted as answered when its status came).
    /// </summary>
    private async IAsyncEnumerable<JsonElement> ReadLinesAsync(string op, Stream s, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var lines = JsonLines.ReadAsync(s, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            bool more;
            try { more = await lines.MoveNextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is JsonException or IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                Stats.Unreadable(op);
                if (e is JsonException) throw;
                throw new InvalidDataException($"the answer to {op} broke off: {Reason(e)}", e);
            }
            if (!more) yield break;
            yield return lines.Current;
        }
    }

    /// <summary>
    /// A JSON answer, read by <paramref name="read"/>. An answer with a success status that is not the JSON Rucio sends (cut
    /// off, an HTML page, another shape) is a failed call in the statistics, and an error the caller counts
    /// (<see cref="JsonException"/> or <see cref="InvalidDataException"/>), never an unexpected exception.
    /// </summary>
    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage r, string op, Func<JsonElement, T> read, CancellationToken ct)
    {
        try
        {
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
            return read(doc.RootElement);
        }
        catch (JsonException)
        {
            Stats.Unreadable(op);
            throw;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            Stats.Unreadable(op);
            throw new InvalidDataException($"the answer to {op} is not in the shape Rucio sends: {e.Message}", e);
        }
    }

    /// <summary>GET /ping (no token): the server's version.</summary>
    public async Task<string> PingAsync(CancellationToken ct = default)
    {
        using var r = await SendAsync("ping", HttpMethod.Get, "/ping", null, false, false, ct).ConfigureAwait(false);
        return await ReadJsonAsync(r, "ping", e => e.TryGetProperty("version", out var v) ? v.GetString() ?? "" : "", ct).ConfigureAwait(false);
    }

    /// <summary>Authenticates now (also done lazily by every call).</summary>
    public async Task AuthenticateNowAsync(CancellationToken ct = default) => await TokenAsync(ct).ConfigureAwait(false);

    /// <summary>GET /rses/?expression=…: the RSE names an expression resolves to.</summary>
    public async IAsyncEnumerable<string> ListRsesAsync(string expression, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in ListAsync("list_rses", "/rses/?expression=" + Seg(expression), ct).ConfigureAwait(false))
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("rse", out var n) && n.GetString() is { } s) yield return s;
    }

    /// <summary>GET /rses/{rse}/protocols: a JSON array in the order the protocols were added; an RSE without any is a 404.</summary>
    public async Task<IReadOnlyList<RseProtocol>> GetProtocolsAsync(string rse, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_protocols", HttpMethod.Get, $"/rses/{Seg(rse)}/protocols", null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync<IReadOnlyList<RseProtocol>>(r, "get_protocols",
            e => e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().Select(ToProtocol)] : [], ct).ConfigureAwait(false);
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>POST /dids: datasets and containers in bulk (Rucio refuses files here: they come from POST /replicas).</summary>
    public Task<bool> AddDidsAsync(IReadOnlyList<NewDid> dids, CancellationToken ct = default) =>
        CreateAsync("add_dids", HttpMethod.Post, "/dids", Json(w =>
        {
            w.WriteStartArray();
            foreach (var d in dids)
            {
                w.WriteStartObject();
                w.WriteString("scope", d.Scope);
                w.WriteString("name", d.Name);
                w.WriteString("type", d.Type == DidType.Dataset ? "DATASET" : "CONTAINER");
                if (d.LifetimeSeconds is { } l) w.WriteNumber("lifetime", l);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }), ct);

    /// <summary>
    /// POST /replicas: registers files (their DIDs are created by this call) with their replicas on one RSE. The body is
    /// written into a buffer from the shared pool, given back once Rucio answered the call's only attempt with success
    /// (it has read the body then); a buffer that an attempt given up on (timeout, reset) may still be reading is left to
    /// the garbage collector instead.
    /// </summary>
    public async Task<bool> AddReplicasAsync(string rse, IReadOnlyList<NewReplica> files, bool ignoreAvailability = false, CancellationToken ct = default)
    {
        var body = WriteReplicasPooled(rse, files, ignoreAvailability);
        var attempts = 0;
        var created = await CreateAsync("add_replicas", HttpMethod.Post, "/replicas", body.Written, ct, _ => attempts++).ConfigureAwait(false);
        if (created && attempts == 1) body.Return();
        return created;
    }

    private static PooledBody WriteReplicasPooled(string rse, IReadOnlyList<NewReplica> files, bool ignoreAvailability)
    {
        var span = AsSpan(files);
        var body = new PooledBody(ReplicasBodySize(rse, span));
        WriteReplicas(body, rse, span, ignoreAvailability);
        return body;
    }

    /// <summary>POST /replicas with a body built ahead by <see cref="ReplicasBody"/> (serialisation off the request path).</summary>
    public Task<bool> AddReplicasAsync(ReadOnlyMemory<byte> body, CancellationToken ct = default) =>
        CreateAsync("add_replicas", HttpMethod.Post, "/replicas", body, ct);

    /// <summary>The JSON body of POST /replicas (public for benchmarks that replay it with other tools).</summary>
    public static ReadOnlyMemory<byte> ReplicasBody(string rse, IReadOnlyList<NewReplica> files, bool ignoreAvailability)
    {
        var span = AsSpan(files);
        var buffer = new ArrayBufferWriter<byte>(ReplicasBodySize(rse, span));
        WriteReplicas(buffer, rse, span, ignoreAvailability);
        return buffer.WrittenMemory;
    }

    private static readonly JsonEncodedText RseProperty = JsonEncodedText.Encode("rse"), FilesProperty = JsonEncodedText.Encode("files"),
        ScopeProperty = JsonEncodedText.Encode("scope"), NameProperty = JsonEncodedText.Encode("name"), BytesProperty = JsonEncodedText.Encode("bytes"),
        Adler32Property = JsonEncodedText.Encode("adler32"), Md5Property = JsonEncodedText.Encode("md5"), PfnProperty = JsonEncodedText.Encode("pfn"),
        IgnoreAvailabilityProperty = JsonEncodedText.Encode("ignore_availability");

    /// <summary>The files as one span, read in place when they are held in an array, a List or a window on one.</summary>
    private static ReadOnlySpan<NewReplica> AsSpan(IReadOnlyList<NewReplica> files) => files switch
    {
        NewReplica[] a => a,
        List<NewReplica> l => CollectionsMarshal.AsSpan(l),
        Catalog.Window<NewReplica> w when w.TryGetSpan(out var span) => span,
        _ => files.ToArray(),
    };

    /// <summary>The body's size when no character needs escaping (the buffer grows when one does).</summary>
    private static int ReplicasBodySize(string rse, ReadOnlySpan<NewReplica> files)
    {
        long size = 64 + rse.Length;
        foreach (ref readonly var f in files)
        {
            // {"scope":"","name":"","bytes":,"adler32":""},  and ,"md5":"" ,"pfn":""
            size += 47 + 20 + f.Scope.Length + f.Name.Length + f.Adler32.Length + (f.Md5 is { } m ? 9 + m.Length : 0) + (f.Pfn is { } p ? 9 + p.Length : 0);
        }
        return (int)Math.Min(size, 1 << 30);
    }

    private static void WriteReplicas(IBufferWriter<byte> buffer, string rse, ReadOnlySpan<NewReplica> files, bool ignoreAvailability)
    {
        using var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        w.WriteStartObject();
        w.WriteString(RseProperty, rse);
        w.WriteStartArray(FilesProperty);
        foreach (ref readonly var f in files)
        {
            w.WriteStartObject();
            w.WriteString(ScopeProperty, f.Scope);
            w.WriteString(NameProperty, f.Name);
            w.WriteNumber(BytesProperty, f.Bytes);
            w.WriteString(Adler32Property, f.Adler32);
            if (f.Md5 is not null) w.WriteString(Md5Property, f.Md5);
            if (f.Pfn is not null) w.WriteString(PfnProperty, f.Pfn);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (ignoreAvailability) w.WriteBoolean(IgnoreAvailabilityProperty, true);
        w.WriteEndObject();
    }

    /// <summary>A request body written into a buffer rented from <see cref="ArrayPool{T}.Shared"/>.</summary>
    private sealed class PooledBody(int sizeHint) : IBufferWriter<byte>
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, sizeHint));
        private int _written;

        public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _written);

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            var at = Ensure(sizeHint); // first: it may change the buffer
            return _buffer.AsMemory(at);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            var at = Ensure(sizeHint);
            return _buffer.AsSpan(at);
        }

        private int Ensure(int sizeHint)
        {
            sizeHint = Math.Max(sizeHint, 1);
            if (_buffer.Length - _written < sizeHint)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
                _buffer.AsSpan(0, _written).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            return _written;
        }

        /// <summary>Gives the buffer back; the body must not be read any more.</summary>
        public void Return()
        {
            var b = _buffer;
            _buffer = [];
            _written = 0;
            ArrayPool<byte>.Shared.Return(b);
        }
    }

    /// <summary>POST /dids/{scope}/{name}/dids: attach children to one dataset or container.</summary>
    public Task<bool> AttachAsync(string scope, string name, IReadOnlyList<DidRef> children, string? rse = null, CancellationToken ct = default) =>
        CreateAsync("attach", HttpMethod.Post, $"/dids/{Seg(scope)}/{Seg(name)}/dids", Json(w =>
        {
            w.WriteStartObject();
            WriteDids(w, "dids", children);
            if (rse is not null) w.WriteString("rse", rse);
            w.WriteEndObject();
        }), ct);

    /// <summary>POST /dids/attachments: many attachments in one call; duplicates ignored so a resumed run can repeat them.</summary>
    public Task<bool> AttachManyAsync(IReadOnlyList<Attachment> attachments, CancellationToken ct = default) =>
        CreateAsync("attach_many", HttpMethod.Post, "/dids/attachments", Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("attachments");
            foreach (var a in attachments)
            {
                w.WriteStartObject();
                w.WriteString("scope", a.Scope);
                w.WriteString("name", a.Name);
                WriteDids(w, "dids", a.Dids);
                if (a.Rse is not null) w.WriteString("rse", a.Rse);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("ignore_duplicate", true);
            w.WriteEndObject();
        }), ct);

    private static void WriteDids(Utf8JsonWriter w, string property, IReadOnlyList<DidRef> dids)
    {
        w.WriteStartArray(property);
        foreach (var d in dids)
        {
            w.WriteStartObject();
            w.WriteString("scope", d.Scope);
            w.WriteString("name", d.Name);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>PUT /dids/{scope}/{name}/status {"open": false}.</summary>
    public Task<bool> CloseAsync(string scope, string name, CancellationToken ct = default) =>
        CreateAsync("close_did", HttpMethod.Put, $"/dids/{Seg(scope)}/{Seg(name)}/status", Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("open", false);
            w.WriteEndObject();
        }), ct);

    /// <summary>POST /dids/{scope}/{name}/meta/lifetime: the undertaker deletes the DID when it runs out.</summary>
    public Task<bool> SetDidLifetimeAsync(string scope, string name, TimeSpan lifetime, CancellationToken ct = default) =>
        CreateAsync("set_did_lifetime", HttpMethod.Post, $"/dids/{Seg(scope)}/{Seg(name)}/meta/lifetime", Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("value", (long)lifetime.TotalSeconds);
            w.WriteEndObject();
        }), ct);

    /// <summary>POST /accountlimits/local/{account}/{rse}: a rule needs one on its RSEs (-1: unlimited).</summary>
    public Task<bool> SetAccountLimitAsync(string rse, long bytes, CancellationToken ct = default) =>
        CreateAsync("set_account_limit", HttpMethod.Post, $"/accountlimits/local/{Seg(_o.Account)}/{Seg(rse)}", Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("bytes", bytes);
            w.WriteEndObject();
        }), ct);

    /// <summary>POST /rules/: the new rule ids (empty when resuming and the rule existed already).</summary>
    public async Task<IReadOnlyList<string>> AddRuleAsync(RuleRequest rule, CancellationToken ct = default)
    {
        var body = RuleBody(rule, _o.Account);
        using var r = await SendAsync("add_rule", HttpMethod.Post, "/rules/", body, false, true, ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.Conflict) return [];
        return await ReadJsonAsync<IReadOnlyList<string>>(r, "add_rule", e => [.. e.EnumerateArray().Select(x => x.GetString() ?? "")], ct).ConfigureAwait(false);
    }

    internal static ReadOnlyMemory<byte> RuleBody(RuleRequest rule, string account) => Json(w =>
    {
        w.WriteStartObject();
        WriteDids(w, "dids", rule.Dids);
        w.WriteString("account", account);
        w.WriteNumber("copies", rule.Copies);
        w.WriteString("rse_expression", rule.RseExpression);
        w.WriteString("grouping", rule.Grouping);
        if (rule.LifetimeSeconds is { } l) w.WriteNumber("lifetime", l); else w.WriteNull("lifetime");
        if (rule.Weight is { } wt) w.WriteNumber("weight", wt);
        if (rule.Locked is { } lk) w.WriteBoolean("locked", lk);
        if (rule.SourceReplicaExpression is { } sre) w.WriteString("source_replica_expression", sre);
        if (rule.Activity is { } act) w.WriteString("activity", act);
        if (rule.Notify is { } n) w.WriteString("notify", n);
        if (rule.PurgeReplicas is { } pr) w.WriteBoolean("purge_replicas", pr);
        if (rule.IgnoreAvailability is { } ia) w.WriteBoolean("ignore_availability", ia);
        if (rule.Comment is { } c) w.WriteString("comment", c);
        if (rule.Asynchronous is { } asy) w.WriteBoolean("asynchronous", asy);
        if (rule.DelayInjection is { } di) w.WriteNumber("delay_injection", di);
        if (rule.Priority is { } p) w.WriteNumber("priority", p);
        if (rule.Meta is { } m) w.WriteString("meta", m);
        w.WriteEndObject();
    });

    /// <summary>GET /rules/{id}. A deleted rule stays visible (soft delete) until judge-cleaner removes it; then 404.</summary>
    public async Task<RuleState> GetRuleAsync(string ruleId, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_rule", HttpMethod.Get, "/rules/" + Seg(ruleId), null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync(r, "get_rule", e => ToRule(e, ruleId), ct).ConfigureAwait(false);
    }

    /// <summary>PUT /rules/{id} {"options": {"lifetime": s}}: the rule expires and judge-cleaner removes it.</summary>
    public Task<bool> SetRuleLifetimeAsync(string ruleId, TimeSpan lifetime, CancellationToken ct = default) =>
        CreateAsync("set_rule_lifetime", HttpMethod.Put, "/rules/" + Seg(ruleId), Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("options");
            w.WriteNumber("lifetime", (long)lifetime.TotalSeconds);
            w.WriteEndObject();
            w.WriteEndObject();
        }), ct);

    /// <summary>DELETE /rules/{id} with a JSON body (an empty body is a 400). Soft: the rule lingers until judge-cleaner runs.</summary>
    public async Task<bool> DeleteRuleAsync(string ruleId, bool purgeReplicas = false, CancellationToken ct = default)
    {
        try
        {
            return await CreateAsync("delete_rule", HttpMethod.Delete, "/rules/" + Seg(ruleId), Json(w =>
            {
                w.WriteStartObject();
                w.WriteBoolean("purge_replicas", purgeReplicas);
                w.WriteEndObject();
            }), ct).ConfigureAwait(false);
        }
        catch (RucioNotFoundException) when (_o.Resume)
        {
            return false; // gone already: deleted by an earlier attempt and cleaned
        }
    }

    /// <summary>GET /requests/metrics: Rucio's own transfer matrix (files/bytes done and failed per link and activity).</summary>
    public async IAsyncEnumerable<JsonElement> RequestMetricsAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        using var r = await SendAsync("request_metrics", HttpMethod.Get, "/requests/metrics", null, true, true, ct).ConfigureAwait(false);
        await using var s = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        if (r.Content.Headers.ContentType?.MediaType == StreamType)
        {
            await foreach (var e in ReadLinesAsync("request_metrics", s, ct).ConfigureAwait(false)) yield return e;
            yield break;
        }
        using var doc = await JsonDocument.ParseAsync(s, cancellationToken: ct).ConfigureAwait(false);
        if (doc.RootElement.ValueKind == JsonValueKind.Array)
            foreach (var e in doc.RootElement.EnumerateArray()) yield return e.Clone();
        else yield return doc.RootElement.Clone();
    }

    /// <summary>GET /dids/{scope}/{name}/dids: a collection's content, streamed.</summary>
    public IAsyncEnumerable<JsonElement> ListContentAsync(string scope, string name, CancellationToken ct = default) =>
        ListAsync("list_content", $"/dids/{Seg(scope)}/{Seg(name)}/dids", ct);

    /// <summary>GET /dids/{scope}/{name}/dids, typed: the direct children of a dataset or container.</summary>
    public async IAsyncEnumerable<ContentEntry> ListChildrenAsync(string scope, string name, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in ListContentAsync(scope, name, ct).ConfigureAwait(false))
            yield return new ContentEntry(Str(e, "scope") ?? "", Str(e, "name") ?? "", Str(e, "type") ?? "", Long(e, "bytes"), Str(e, "adler32"));
    }

    /// <summary>GET /dids/{scope}/{name}: 404 RucioNotFoundException when it does not exist.</summary>
    public async Task<DidInfo> GetDidAsync(string scope, string name, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_did", HttpMethod.Get, $"/dids/{Seg(scope)}/{Seg(name)}", null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync(r, "get_did", e => new DidInfo(Str(e, "scope") ?? scope, Str(e, "name") ?? name, Str(e, "type") ?? "",
            e.TryGetProperty("open", out var o) && o.ValueKind is JsonValueKind.True or JsonValueKind.False ? o.GetBoolean() : null,
            Str(e, "expired_at"), Long(e, "bytes"), Long(e, "length")), ct).ConfigureAwait(false);
    }

    /// <summary>GET /dids/{scope}/dids/search?type=…&amp;name=…: names matching a wildcard pattern (type all, collection, dataset, container, file).</summary>
    public async IAsyncEnumerable<string> SearchDidsAsync(string scope, string type, string pattern, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in ListAsync("search_dids", $"/dids/{Seg(scope)}/dids/search?type={Seg(type)}&name={Seg(pattern)}", ct).ConfigureAwait(false))
            if (e.ValueKind == JsonValueKind.String) yield return e.GetString()!;
    }

    /// <summary>GET /dids/{scope}/{name}/rules: every rule on a DID (how a 409 DuplicateRule, which carries no id, is resolved).</summary>
    public async IAsyncEnumerable<RuleState> ListDidRulesAsync(string scope, string name, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in ListAsync("list_did_rules", $"/dids/{Seg(scope)}/{Seg(name)}/rules", ct).ConfigureAwait(false))
            yield return ToRule(e, "");
    }

    /// <summary>POST /replicas/list (at most 1,000 DIDs): one entry per file, datasets expanded, unknown DIDs left out.</summary>
    public async IAsyncEnumerable<ReplicaEntry> ListReplicasAsync(IReadOnlyList<DidRef> dids, string? rseExpression = null, bool allStates = false,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var body = Json(w =>
        {
            w.WriteStartObject();
            WriteDids(w, "dids", dids);
            if (rseExpression is not null) w.WriteString("rse_expression", rseExpression);
            if (allStates) w.WriteBoolean("all_states", true);
            w.WriteEndObject();
        });
        using var r = await SendAsync("list_replicas", HttpMethod.Post, "/replicas/list", body, true, true, ct).ConfigureAwait(false);
        await using var s = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await foreach (var e in ReadLinesAsync("list_replicas", s, ct).ConfigureAwait(false))
        {
            var states = new Dictionary<string, string>(StringComparer.Ordinal);
            if (e.TryGetProperty("states", out var st) && st.ValueKind == JsonValueKind.Object)
                foreach (var p in st.EnumerateObject()) states[p.Name] = p.Value.GetString() ?? "";
            var pfns = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (e.TryGetProperty("rses", out var rs) && rs.ValueKind == JsonValueKind.Object)
                foreach (var p in rs.EnumerateObject()) pfns[p.Name] = [.. p.Value.EnumerateArray().Select(x => x.GetString() ?? "")];
            yield return new ReplicaEntry(Str(e, "scope") ?? "", Str(e, "name") ?? "", Long(e, "bytes"), Str(e, "adler32"), states, pfns);
        }
    }

    /// <summary>GET /rses/{rse}: determinism, lfn2pfn algorithm, availability and protocols.</summary>
    public async Task<RseInfo> GetRseAsync(string rse, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_rse", HttpMethod.Get, "/rses/" + Seg(rse), null, false, true, ct).ConfigureAwait(false);
        static bool B(JsonElement e, string k) => !e.TryGetProperty(k, out var v) || v.ValueKind != JsonValueKind.False;
        return await ReadJsonAsync(r, "get_rse", e => new RseInfo(Str(e, "rse") ?? rse, B(e, "deterministic"), Str(e, "lfn2pfn_algorithm") ?? "hash",
            new RseAvailability(B(e, "availability_read"), B(e, "availability_write"), B(e, "availability_delete")),
            e.TryGetProperty("protocols", out var ps) && ps.ValueKind == JsonValueKind.Array ? [.. ps.EnumerateArray().Select(ToProtocol)] : []), ct).ConfigureAwait(false);
    }

    /// <summary>PUT /rses/{rse} with availability_read/_write/_delete (what is null is left alone): Rucio's own RSE outage.</summary>
    public Task<bool> SetRseAvailabilityAsync(string rse, bool? read, bool? write, bool? delete, CancellationToken ct = default) =>
        CreateAsync("set_rse_availability", HttpMethod.Put, "/rses/" + Seg(rse), Json(w =>
        {
            w.WriteStartObject();
            if (read is { } r) w.WriteBoolean("availability_read", r);
            if (write is { } wr) w.WriteBoolean("availability_write", wr);
            if (delete is { } d) w.WriteBoolean("availability_delete", d);
            w.WriteEndObject();
        }), ct);

    /// <summary>GET /rses/{rse}/attr/: attribute values as text (true/false for booleans); the RSE's own name is one of them.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetRseAttributesAsync(string rse, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_rse_attributes", HttpMethod.Get, $"/rses/{Seg(rse)}/attr/", null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync<IReadOnlyDictionary<string, string>>(r, "get_rse_attributes", e =>
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                    result[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            return result;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>POST /rses/{rse}/attr/{key} {"value": …}.</summary>
    public Task<bool> SetRseAttributeAsync(string rse, string key, string value, CancellationToken ct = default) =>
        CreateAsync("set_rse_attribute", HttpMethod.Post, $"/rses/{Seg(rse)}/attr/{Seg(key)}", Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("value", value);
            w.WriteEndObject();
        }), ct);

    /// <summary>GET /accounts/{account}/limits/local/{rse}: the byte limit, null when none is set (a rule there is refused).</summary>
    public async Task<long?> GetAccountLimitAsync(string rse, CancellationToken ct = default)
    {
        using var r = await SendAsync("get_account_limit", HttpMethod.Get, $"/accounts/{Seg(_o.Account)}/limits/local/{Seg(rse)}", null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync<long?>(r, "get_account_limit", e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(rse, out var v) && v.ValueKind == JsonValueKind.Number
            ? (long)v.GetDouble() : null, ct).ConfigureAwait(false);
    }

    /// <summary>GET /scopes/: every scope of the instance.</summary>
    public async Task<IReadOnlyList<string>> ListScopesAsync(CancellationToken ct = default)
    {
        using var r = await SendAsync("list_scopes", HttpMethod.Get, "/scopes/", null, false, true, ct).ConfigureAwait(false);
        return await ReadJsonAsync<IReadOnlyList<string>>(r, "list_scopes",
            e => e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().Select(x => x.GetString() ?? "")] : [], ct).ConfigureAwait(false);
    }

    /// <summary>POST /accounts/{account}/scopes/{scope}.</summary>
    public Task<bool> AddScopeAsync(string scope, CancellationToken ct = default) =>
        CreateAsync("add_scope", HttpMethod.Post, $"/accounts/{Seg(_o.Account)}/scopes/{Seg(scope)}", null, ct);

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (long)v.GetDouble() : null;

    private static RseProtocol ToProtocol(JsonElement e)
    {
        int Wan(string op) => e.TryGetProperty("domains", out var d) && d.TryGetProperty("wan", out var w) && w.TryGetProperty(op, out var v)
            && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 1;
        return new RseProtocol(Str(e, "scheme") ?? "", Str(e, "hostname") ?? "",
            e.TryGetProperty("port", out var port) && port.ValueKind == JsonValueKind.Number ? port.GetInt32() : 0,
            Str(e, "prefix") ?? "/", Str(e, "impl"), Wan("read"), Wan("write"));
    }

    private static RuleState ToRule(JsonElement e, string fallbackId)
    {
        static long N(JsonElement e, string k) => e.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        var raw = e.Clone();
        return new RuleState(Str(raw, "id") ?? fallbackId, Str(raw, "state") ?? "", N(raw, "locks_ok_cnt"), N(raw, "locks_replicating_cnt"),
            N(raw, "locks_stuck_cnt"), Str(raw, "expires_at"), raw);
    }

    /// <summary>HTTP PUT of content to a storage URL (upload mode); the same retries, no Rucio token.</summary>
    public async Task PutAsync(Uri url, Func<Stream, CancellationToken, ValueTask> writeBody, long length, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OpKey, "upload");
        try
        {
            using var r = await _pipeline.ExecuteAsync(static async (ctx, s) =>
            {
                using var req = new HttpRequestMessage(HttpMethod.Put, s.url) { Content = new PushContent(s.writeBody, s.length) };
                return await s.self._http.SendAsync(req, ctx.CancellationToken).ConfigureAwait(false);
            }, context, (self: this, url, writeBody, length)).ConfigureAwait(false);
            var ok = r.IsSuccessStatusCode;
            Stats.Record("upload", Stopwatch.GetElapsedTime(started), ok ? OperationResult.Ok : OperationResult.Failed, (int)r.StatusCode);
            if (!ok) throw RucioErrorMapping.Map(r.StatusCode, "Http" + (int)r.StatusCode, r.ReasonPhrase ?? "", "upload " + url);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or IOException && !ct.IsCancellationRequested)
        {
            Stats.Record("upload", Stopwatch.GetElapsedTime(started), OperationResult.Failed, failure: CallFailure.NoAnswer);
            throw new RucioUnreachableException(url, Reason(e), null);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private sealed class PushContent(Func<Stream, CancellationToken, ValueTask> write, long length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => write(stream, default).AsTask();
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            write(stream, cancellationToken).AsTask();
        protected override bool TryComputeLength(out long l) { l = length; return true; }
    }

    public void Dispose()
    {
        if (!_ownsTransport) return;
        _http.Dispose();
        _auth.Gate.Dispose();
    }
}
