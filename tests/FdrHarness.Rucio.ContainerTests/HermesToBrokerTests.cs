using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FdrHarness.Core;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Stomp;
using FdrHarness.Rucio.Tests;

namespace FdrHarness.Rucio.ContainerTests;

/// <summary>The double's hermes publishing to a real ActiveMQ, and a live run reading its events from there.</summary>
public sealed class HermesToBrokerTests : BrokerTests
{
    /// <summary>The header names, in order, of the MESSAGE subscriber B (ack:client-individual) received in transcript 190.</summary>
    private static List<string> RecordedHeaderNames()
    {
        string? file = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && file is null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference", "rucio-1.31.7-wire", "190_hermes_frames.txt");
            if (File.Exists(candidate)) file = candidate;
        }
        Assert.True(file is not null, "../shared/reference/rucio-1.31.7-wire/190_hermes_frames.txt not found above the test's directory");
        var lines = File.ReadAllLines(file!);
        var start = Array.FindIndex(lines, l => l.StartsWith("<<< MESSAGE as received by B", StringComparison.Ordinal));
        Assert.True(start >= 0 && lines[start + 1] == "MESSAGE", "transcript 190 has B's MESSAGE");
        return [.. lines.Skip(start + 2).TakeWhile(l => l.Length > 0).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)])];
    }

    private static async Task<HttpResponseMessage> PostAsync(RucioDouble rucio, string path, string json)
    {
        using var http = new HttpClient { BaseAddress = rucio.Url };
        using var m = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8) };
        m.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        m.Headers.TryAddWithoutValidation("X-Rucio-Auth-Token", rucio.IssueToken());
        return await http.SendAsync(m);
    }

    [Fact]
    public async Task The_double_sends_each_message_as_hermes_does_and_subscribers_get_the_recorded_frame()
    {
        await using var subscriber = await ActiveMqTests.ConnectAsync(Port);
        await subscriber.SubscribeAsync("B-sub", "/topic/rucio.events", "client-individual");
        await using var rucio = await RucioDouble.StartAsync();
        rucio.AddScope("user.root");
        rucio.PublishHermes(new HermesBroker("127.0.0.1", Port));

        using (var created = await PostAsync(rucio, "/dids", """[{"scope": "user.root", "name": "h11.ds1", "type": "DATASET"}, {"scope": "user.root", "name": "h11.cnt", "type": "CONTAINER"}]"""))
            Assert.Equal(201, (int)created.StatusCode);
        await rucio.HermesPublishedReached(2).WaitAsync(TimeSpan.FromSeconds(60));

        var recorded = RecordedHeaderNames();
        foreach (var (type, body) in rucio.HermesPublished)
        {
            var m = await subscriber.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Null(m.Error);
            // Header for header what the recorded server's subscriber got: nothing more (no receipt, no content-type), nothing less.
            Assert.Equal(recorded, m.Headers.Select(h => h.Key).ToList());
            Assert.Equal(type, m["event_type"]);
            Assert.Equal(type, type.ToLowerInvariant());
            Assert.Equal("true", m["persistent"]);
            Assert.Equal("/topic/rucio.events", m["destination"]);
            Assert.Equal(Encoding.UTF8.GetByteCount(body).ToString(CultureInfo.InvariantCulture), m["content-length"]);
            Assert.Equal(body, m.BodyText);
            subscriber.Ack(m["ack"]!);
        }
        Assert.Equal(["create_dts", "create_cnt"], rucio.HermesPublished.Select(p => p.EventType));
        Assert.StartsWith("""{"event_type": "create_dts", "payload": {"account": "root", "scope": "user.root", "name": "h11.ds1", "expired_at": null}, "created_at": """,
            rucio.HermesPublished[0].Body, StringComparison.Ordinal);
    }

    private const string Yaml = """
        run: {name: hermes-events, seed: 5, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}, SAFE: {}}
        rses:
          MOCK:  {storage: dcache, protocols: ["davs://storage.example:2880/data"], quota: 1 TB, attributes: {QOS: FAST}}
          MOCK2: {storage: dcache, protocols: ["davs://storage2.example:2880/data"], quota: 1 TB, attributes: {QOS: SAFE}}
        experiments:
          CTA: {files: 200, file_size: 1 MB, files_per_dataset: 50, datasets_per_container: 2, qos: FAST}
        workload:
          - inject: {name: inject, load: [{inject: {rate: 200, interval: 1s, during: 1s}}]}
          - replicate: {name: pin, after: inject, rule: {rse_expression: QOS=FAST, notify: Y}}
          - replicate: {name: to-safe, after: pin, rule: {rse_expression: QOS=SAFE, lifetime: 1h}}
          - delete: {name: cleanup, after: to-safe}
        target:
          kind: rucio
          rucio:
            url: http://127.0.0.1:1
            account: root
            batch_size: 50
            concurrency: 4
            auth: {method: userpass, username: ddmlab, password_env: DOUBLE_PW}
            broker: {url: "stomp://127.0.0.1:PORT"}
        """;

    /// <summary>A Hermes body read here, apart from HermesConsumer: type, scope, name, rule and request ids, created_at.</summary>
    private static (string Type, string? Scope, string Key) Read(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var p = root.GetProperty("payload");
        string? S(string k) => p.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var type = root.GetProperty("event_type").GetString()!;
        var scope = S("scope");
        return (type, scope, $"{type}|{scope}|{S("name")}|{S("rule_id") ?? S("rule-id")}|{S("request-id")}|{root.GetProperty("created_at").GetString()}");
    }

    [Fact]
    public async Task A_live_run_keeps_exactly_the_events_the_double_published_for_its_scopes_once_each()
    {
        var parsed = ScenarioLoader.Parse(Yaml.Replace("PORT", Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.True(parsed.Ok, string.Join("\n", parsed.Diagnostics));
        var scenario = parsed.Scenario!;
        await using var rucio = await RucioDouble.StartAsync(new RucioDoubleOptions { RecordRequests = false });
        rucio.AddLake(scenario);
        rucio.AddScope("atlas");
        // Every 5th message goes twice, as hermes sends again what a failed pass left in its table.
        rucio.PublishHermes(new HermesBroker("127.0.0.1", Port) { ResendEvery = 5 });

        // Another user of the instance, while the run registers (it has subscribed by then): events of scope atlas.
        var otherUser = Task.Run(async () =>
        {
            await rucio.ReplicasReached(1);
            using var dids = await PostAsync(rucio, "/dids", """
                [{"scope": "atlas", "name": "other.ds1", "type": "DATASET"}, {"scope": "atlas", "name": "other.ds2", "type": "DATASET"},
                 {"scope": "atlas", "name": "other.cnt", "type": "CONTAINER"}]
                """);
            Assert.Equal(201, (int)dids.StatusCode);
            using var attach = await PostAsync(rucio, "/dids/atlas/other.cnt/dids", """{"dids": [{"scope": "atlas", "name": "other.ds1"}]}""");
            Assert.Equal(201, (int)attach.StatusCode);
        });

        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = rucio.Url,
            Env = n => n == "DOUBLE_PW" ? rucio.Password : null,
            WaitForDuration = false,
        });
        await otherUser.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + "\n" + run.Stderr);
        // Every message the double queued reached the broker (none is left behind unpublished).
        await rucio.HermesPublishedAll().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(rucio.Messages.Count, rucio.HermesPublished.Count);

        var scopes = new HashSet<string>(StringComparer.Ordinal) { "cta" };
        var published = rucio.HermesPublished.Select(m => Read(m.Body)).ToList();
        var sent = rucio.HermesSent.Select(m => Read(m.Body)).ToList();
        var expected = published.Where(m => m.Scope is { } s && scopes.Contains(s)).Select(m => m.Key).Order(StringComparer.Ordinal).ToList();
        var otherScopes = sent.Count(m => !(m.Scope is { } s && scopes.Contains(s)));
        var resentInScope = sent.Count(m => m.Scope is { } s && scopes.Contains(s)) - expected.Count;

        // The run produced what the test is about: transfers queued, rules OK, and the double resent some of them.
        var types = published.Where(m => m.Scope == "cta").GroupBy(m => m.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(200, types.GetValueOrDefault("transfer-queued")); // the to-safe rules: one per file
        Assert.Equal(4, types.GetValueOrDefault("rule_ok"));           // the pin rules, notify Y, OK at once: one per dataset
        Assert.Equal(4, types.GetValueOrDefault("datasetlock_ok"));
        Assert.True(resentInScope > 0 && otherScopes > 0, $"resent {resentInScope}, of other scopes {otherScopes}");

        // events.parquet, read back: exactly the run's scope's messages, each once.
        var events = new ObservationReader(run.Directory).Events().ToList();
        var got = events.Select(e => $"{e.EventType.ToLowerInvariant()}|{e.Scope}|{e.Name}|{e.RuleId}|{e.RequestId}|{e.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Count, got.Count);
        Assert.Equal(expected, got);
        Assert.DoesNotContain(events, e => e.Scope == "atlas");
        // The consumer's own account agrees: the other scope's frames dropped, each resend dropped once.
        Assert.Contains($"events: {expected.Count} written, {otherScopes} of other scopes, {resentInScope} redeliveries dropped", run.Stdout, StringComparison.Ordinal);
    }
}
