using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FdrHarness.Rucio.Double;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Rucio.Tests.Contract;

/// <summary>
/// Replays the recorded transcripts against the double and lists, per transcript, where the double answered otherwise:
/// status, content type, framing (chunked or Content-Length), ExceptionClass and ExceptionMessage (headers and body), and
/// the body's JSON kind, keys, values and stream lines. Volatile values are not compared as values: 32-hex ids must map
/// one to one between recording and replay, dates must be dates, tokens must be there.
/// Transcripts without a `# state:` line (the first pass) are one story on one server, the others (second pass) another:
/// each pass runs in numeric order on a fresh double, so a transcript starts where the earlier ones left off, as recorded.
/// </summary>
internal static class ContractReplay
{
    public const string Folder = "rucio-1.31.7-wire";

    /// <summary>../shared/reference/rucio-1.31.7-wire next to the checkout, found by walking up from the test's directory.</summary>
    public static string? FindReference()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference", Folder);
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static string SetupFile => Path.Combine(RepoPaths.Root, "tests", "FdrHarness.Rucio.Tests", "Contract", "transcripts.setup");

    public static IReadOnlyList<Transcript> LoadAll(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*.txt").Select(Transcript.Load).OrderBy(t => t.Number).ThenBy(t => t.Name, StringComparer.Ordinal)];

    /// <summary>Every HTTP transcript replayed; the result maps each file name to its mismatches (empty: as recorded).</summary>
    public static async Task<Dictionary<string, List<string>>> RunAsync(string dir, Action<DoubleBehaviour>? change = null)
    {
        var all = LoadAll(dir);
        var setup = ReplaySetup.Load(SetupFile);
        var results = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await RunPassAsync([.. all.Where(t => !t.IsStomp && t.State is null)], setup.GetValueOrDefault("first pass"), setup, change, results);
        await RunPassAsync([.. all.Where(t => !t.IsStomp && t.State is not null)], setup.GetValueOrDefault("second pass"), setup, change, results);
        return results;
    }

    private sealed class Pass(RucioDouble server, HttpClient http, FakeTimeProvider clock)
    {
        public RucioDouble Server { get; } = server;
        public HttpClient Http { get; } = http;
        public FakeTimeProvider Clock { get; } = clock;
        public string Token { get; set; } = "";
        public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Reverse { get; } = new(StringComparer.Ordinal);
    }

    private static async Task RunPassAsync(List<Transcript> transcripts, TranscriptSetup? prologue, Dictionary<string, TranscriptSetup> setup,
        Action<DoubleBehaviour>? change, Dictionary<string, List<string>> results)
    {
        if (transcripts.Count == 0) return;
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 39, 0, TimeSpan.Zero));
        await using var server = await RucioDouble.StartAsync(new RucioDoubleOptions { Time = clock, RecordRequests = false });
        // The recorded server ran on sqlite: POST /replicas failed from 997 files on.
        server.Behaviour.SqliteReplicaLimit = 996;
        change?.Invoke(server.Behaviour);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.Url };
        var pass = new Pass(server, http, clock);
        pass.Token = await AuthenticateAsync(pass);
        var errors = new List<string>();
        if (prologue is not null)
            foreach (var step in prologue.Before.GetValueOrDefault(0) ?? []) await StepAsync(pass, step, errors, "set-up of the pass");
        var prologueErrors = errors;
        foreach (var t in transcripts)
        {
            var mine = results[t.Name] = [.. prologueErrors];
            var s = setup.GetValueOrDefault(t.Name) ?? new TranscriptSetup();
            try { await ReplayAsync(pass, t, s, mine); }
            catch (Exception e) when (e is HttpRequestException or FormatException or JsonException or KeyNotFoundException)
            {
                mine.Add($"replay stopped: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private static async Task<string> AuthenticateAsync(Pass pass)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/auth/userpass");
        req.Headers.Add("X-Rucio-Account", pass.Server.Account);
        req.Headers.Add("X-Rucio-Username", pass.Server.Username);
        req.Headers.Add("X-Rucio-Password", pass.Server.Password);
        using var r = await pass.Http.SendAsync(req);
        return r.Headers.GetValues("X-Rucio-Auth-Token").Single();
    }

    private static async Task ReplayAsync(Pass pass, Transcript t, TranscriptSetup s, List<string> errors)
    {
        string? tokenAbove = null;
        foreach (var step in s.Before.GetValueOrDefault(0) ?? []) await StepAsync(pass, step, errors, "set-up");
        foreach (var x in t.Exchanges)
        {
            foreach (var step in s.Before.GetValueOrDefault(x.Index) ?? []) await StepAsync(pass, step, errors, $"set-up before exchange {x.Index}");
            var request = x.Request ?? s.Requests.GetValueOrDefault(x.Index) ?? s.Requests.GetValueOrDefault(0);
            if (request is null)
            {
                errors.Add($"exchange {x.Index}: the transcript shows no request and transcripts.setup names none ('request {x.Index}:')");
                continue;
            }
            var where = $"exchange {x.Index} ({request.Method} {Shorten(request.Target, 80)}{(x.AcceptVariant is { } a ? ", " + a : "")})";
            using var message = Build(pass, request, s.Flags, tokenAbove);
            if (x.AcceptVariant is { } variant && variant.StartsWith("Accept:", StringComparison.OrdinalIgnoreCase))
                message.Headers.TryAddWithoutValidation("Accept", variant["Accept:".Length..].Trim());
            using var response = await pass.Http.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            Compare(pass, where, x.Response, response, body, errors);
            if (response.Headers.TryGetValues("X-Rucio-Auth-Token", out var tok)) tokenAbove = tok.First();
        }
    }

    private static HttpRequestMessage Build(Pass pass, WireRequest request, IReadOnlySet<string> flags, string? tokenAbove)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), MapIds(pass, request.Target));
        var explicitToken = false;
        foreach (var (k, v) in request.Headers)
        {
            var value = v.Replace("<password>", pass.Server.Password, StringComparison.Ordinal)
                .Replace("<the token above>", tokenAbove ?? "", StringComparison.Ordinal)
                .Replace("<a valid token>", pass.Token, StringComparison.Ordinal);
            if (k.Equals("X-Rucio-Auth-Token", StringComparison.OrdinalIgnoreCase)) explicitToken = true;
            message.Headers.TryAddWithoutValidation(k, value);
        }
        if (!explicitToken && flags.Contains("bad-token")) message.Headers.TryAddWithoutValidation("X-Rucio-Auth-Token", "root-ddmlab-unknown-ffffffffffffffffffffffffffffffff");
        else if (!explicitToken && !flags.Contains("no-token")) message.Headers.TryAddWithoutValidation("X-Rucio-Auth-Token", pass.Token);
        if (request.Body is { } body)
        {
            message.Content = new StringContent(MapIds(pass, body), Encoding.UTF8);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return message;
    }

    private static async Task StepAsync(Pass pass, SetupStep step, List<string> errors, string where)
    {
        switch (step)
        {
            case SetupRequest { Request: var r }:
            {
                using var m = Build(pass, r, new HashSet<string>(), tokenAbove: null);
                using var response = await pass.Http.SendAsync(m);
                if (!response.IsSuccessStatusCode)
                    errors.Add($"{where}: {r.Method} {Shorten(r.Target, 80)} answered {(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync(), 300)}");
                break;
            }
            case SetupDirective { Name: "injector" }: pass.Server.RunJudgeInjector(); break;
            case SetupDirective { Name: "cleaner" }: pass.Server.RunJudgeCleaner(); break;
            case SetupDirective { Name: "undertaker" }: pass.Server.RunUndertaker(); break;
            case SetupDirective { Name: "transfers" }: pass.Server.CompleteTransfers(); break;
            case SetupDirective { Name: "abacus" }: pass.Server.RunAbacus(); break;
            case SetupDirective { Name: "clock", Argument: var by }:
                pass.Clock.Advance(Duration(by!));
                pass.Token = await AuthenticateAsync(pass); // the replay's own token would have run out
                break;
            case SetupDirective { Name: "expire-tokens" }:
                pass.Server.ExpireTokens();
                pass.Token = await AuthenticateAsync(pass);
                break;
            case SetupDirective d: errors.Add($"{where}: unknown directive !{d.Name}"); break;
        }
    }

    private static TimeSpan Duration(string text)
    {
        var t = text.TrimStart('+');
        var n = double.Parse(t[..^1], CultureInfo.InvariantCulture);
        return t[^1] switch { 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), 's' => TimeSpan.FromSeconds(n), _ => throw new FormatException(text) };
    }

    // ------------------------------------------------------------------ comparison

    private static readonly Regex Volatile = new(
        @"(?<id>\b[0-9a-f]{32}\b)|(?<date>[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} UTC)|(?<py>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6})|(?<repr>datetime\.datetime\([\d, ]+\))",
        RegexOptions.Compiled);

    private static string MapIds(Pass pass, string text) => Volatile.Replace(text, m => m.Groups["id"].Success && pass.Ids.TryGetValue(m.Value, out var v) ? v : m.Value);

    private static void Compare(Pass pass, string where, WireResponse want, HttpResponseMessage got, string body, List<string> errors)
    {
        var before = errors.Count;
        void Fail(string what) => errors.Add($"{where}: {what}");

        if ((int)got.StatusCode != want.Status) Fail($"status {(int)got.StatusCode}, recorded {want.Status}");
        var wantType = Norm(want.Header("Content-Type"));
        var gotType = Norm(got.Content.Headers.ContentType?.ToString());
        if (wantType != gotType) Fail($"Content-Type '{gotType}', recorded '{wantType}'");

        var chunked = string.Equals(want.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase);
        if (chunked != (got.Headers.TransferEncodingChunked == true)) Fail(chunked ? "not chunked, recorded chunked" : "chunked, recorded with Content-Length");
        if (!chunked && want.Header("Content-Length") is { } len && !body.Contains("datetime.datetime(", StringComparison.Ordinal)
            && long.Parse(len, CultureInfo.InvariantCulture) is var wantLength && got.Content.Headers.ContentLength != wantLength && want.CutTotal is null)
            Fail($"Content-Length {got.Content.Headers.ContentLength}, recorded {wantLength}");

        foreach (var h in new[] { "ExceptionClass", "Location" })
        {
            var w = want.Header(h);
            var g = got.Headers.TryGetValues(h, out var gv) ? gv.First() : null;
            if (w != g) Fail($"header {h} '{g}', recorded '{w}'");
        }
        var wantMessage = want.Header("ExceptionMessage");
        var gotMessage = got.Headers.TryGetValues("ExceptionMessage", out var mv) ? mv.First().Trim() : null;
        if ((wantMessage is null) != (gotMessage is null)) Fail($"header ExceptionMessage '{gotMessage}', recorded '{wantMessage}'");
        else if (wantMessage is not null) CompareText(pass, "header ExceptionMessage", wantMessage, gotMessage!, Fail);
        foreach (var h in new[] { "X-Rucio-Auth-Token", "X-Rucio-Auth-Token-Expires" })
            if ((want.Header(h) is null) != !got.Headers.Contains(h)) Fail($"header {h} {(want.Header(h) is null ? "sent, not recorded" : "missing")}");

        if (want.CutPrefix is { } prefix)
        {
            if (!Mask(body).StartsWith(Mask(prefix), StringComparison.Ordinal))
                Fail($"body does not begin as recorded:\n  recorded «{Shorten(prefix, 300)}»\n  replayed «{Shorten(body, 300)}»");
        }
        else if (wantType == "application/x-json-stream") CompareLines(pass, want, body, Fail);
        else if (TryJson(want.Body) is { } wantJson && want.Body.Length > 0)
        {
            if (TryJson(body) is { } gotJson) CompareJson(pass, "body", wantJson, gotJson, Fail);
            else Fail($"body is not JSON: «{Shorten(body, 300)}»");
        }
        else CompareText(pass, "body", want.Body.TrimEnd('\n'), body.TrimEnd('\n'), Fail);

        if (errors.Count > before && errors.Count - before > 12) errors.RemoveRange(before + 12, errors.Count - before - 12);
    }

    private static void CompareLines(Pass pass, WireResponse want, string body, Action<string> fail)
    {
        var wantLines = want.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var gotLines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (gotLines.Length != wantLines.Length + want.MoreLines)
            fail($"{gotLines.Length} stream lines, recorded {wantLines.Length + want.MoreLines}");
        for (var i = 0; i < Math.Min(wantLines.Length, gotLines.Length); i++)
        {
            if (TryJson(wantLines[i]) is not { } w) { fail($"recorded line {i + 1} is not JSON"); continue; }
            if (TryJson(gotLines[i]) is not { } g) { fail($"line {i + 1} is not JSON: «{Shorten(gotLines[i], 200)}»"); continue; }
            CompareJson(pass, $"line {i + 1}", w, g, fail);
        }
    }

    private sealed class JsonHolder(JsonNode? node) { public JsonNode? Node { get; } = node; }

    private static JsonHolder? TryJson(string text)
    {
        try { return new JsonHolder(JsonNode.Parse(text)); }
        catch (JsonException) { return null; }
    }

    private static void CompareJson(Pass pass, string path, JsonHolder want, JsonHolder got, Action<string> fail) => CompareJson(pass, path, want.Node, got.Node, fail);

    private static void CompareJson(Pass pass, string path, JsonNode? want, JsonNode? got, Action<string> fail)
    {
        var wk = want?.GetValueKind() ?? JsonValueKind.Null;
        var gk = got?.GetValueKind() ?? JsonValueKind.Null;
        if (wk != gk && !(wk is JsonValueKind.True or JsonValueKind.False && gk is JsonValueKind.True or JsonValueKind.False))
        {
            fail($"{path}: {gk} {Shorten(got?.ToJsonString() ?? "null", 120)}, recorded {wk} {Shorten(want?.ToJsonString() ?? "null", 120)}");
            return;
        }
        switch (want)
        {
            case JsonObject wo:
            {
                var go = (JsonObject)got!;
                var gotKeys = go.Select(kv => kv.Key).ToList();
                foreach (var (k, wv) in wo)
                {
                    var key = MapIds(pass, k);
                    var match = gotKeys.FirstOrDefault(g => g == key) ?? (Volatile.IsMatch(k) ? gotKeys.FirstOrDefault(g => Mask(g) == Mask(k) && !wo.ContainsKey(g)) : null);
                    if (match is null) { fail($"{path}: key '{k}' missing"); continue; }
                    gotKeys.Remove(match);
                    if (match != k) CompareText(pass, $"{path} key", k, match, fail);
                    CompareJson(pass, $"{path}.{k}", wv, go[match], fail);
                }
                foreach (var extra in gotKeys) fail($"{path}: key '{extra}' not recorded");
                break;
            }
            case JsonArray wa:
            {
                var ga = (JsonArray)got!;
                if (wa.Count != ga.Count) fail($"{path}: {ga.Count} items, recorded {wa.Count}");
                for (var i = 0; i < Math.Min(wa.Count, ga.Count); i++) CompareJson(pass, $"{path}[{i}]", wa[i], ga[i], fail);
                break;
            }
            case JsonValue wv when wk == JsonValueKind.String:
                CompareText(pass, path, wv.GetValue<string>(), got!.GetValue<string>(), fail);
                break;
            case JsonValue:
                if (want.ToJsonString() != got!.ToJsonString()) fail($"{path}: {got.ToJsonString()}, recorded {want.ToJsonString()}");
                break;
        }
    }

    /// <summary>Text equal but for volatile parts: ids pair up one to one with what was recorded, dates are dates.</summary>
    private static void CompareText(Pass pass, string path, string want, string got, Action<string> fail)
    {
        var wm = Volatile.Matches(want);
        var gm = Volatile.Matches(got);
        if (Mask(want) != Mask(got) || wm.Count != gm.Count)
        {
            fail($"{path}:\n  recorded «{Shorten(want, 400)}»\n  replayed «{Shorten(got, 400)}»");
            return;
        }
        for (var i = 0; i < wm.Count; i++)
        {
            if (!wm[i].Groups["id"].Success) continue;
            var (w, g) = (wm[i].Value, gm[i].Value);
            if (pass.Ids.TryGetValue(w, out var known))
            {
                if (known != g) fail($"{path}: id {g} where the recording had {w} (replayed before as {known})");
            }
            else if (pass.Reverse.TryGetValue(g, out var other) && other != w) fail($"{path}: id {g} stands for both {other} and {w} of the recording");
            else
            {
                pass.Ids[w] = g;
                pass.Reverse[g] = w;
            }
        }
    }

    private static string Mask(string s) => Volatile.Replace(s, m => m.Groups["id"].Success ? "<id>" : "<date>");

    private static string Norm(string? contentType) => (contentType ?? "").Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..n] + "…";
}
