using System.Globalization;
using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Rucio.Stomp;

public sealed record HermesConsumerOptions
{
    public required Uri Broker { get; init; }
    /// <summary>Hermes' destination, e.g. /topic/rucio.events (durable subscription) or /queue/… .</summary>
    public string Destination { get; init; } = "/topic/rucio.events";
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>The run's scopes: events of other scopes (other users of a shared instance) are acknowledged and dropped. Empty: keep all.</summary>
    public IReadOnlySet<string> Scopes { get; init; } = new HashSet<string>();
    /// <summary>Names the durable subscription on a topic, so messages published while we reconnect wait for us.</summary>
    public string SubscriptionName { get; init; } = "fdr-harness";
    /// <summary>Messages the broker may send before we acknowledged them.</summary>
    public int Prefetch { get; init; } = 2000;
    public TimeSpan HeartBeat { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>Fingerprints of messages already handed to the sink; shared across reconnects (and consumers) so redeliveries are dropped.</summary>
public sealed class SeenMessages
{
    private readonly HashSet<ulong> _seen = [];
    private readonly Lock _gate = new();

    public int Count { get { lock (_gate) return _seen.Count; } }

    /// <summary>True the first time this body is seen.</summary>
    public bool Add(ReadOnlySpan<byte> body)
    {
        var h = Fingerprint(body);
        lock (_gate) return _seen.Add(h);
    }

    // FNV-1a over the body then SplitMix: the body carries created_at to the microsecond, so equal bodies are the same event
    // whatever message-id the broker gave it (Hermes resends with a new id when a receipt was lost).
    internal static ulong Fingerprint(ReadOnlySpan<byte> body)
    {
        var h = 14695981039346656037UL;
        foreach (var b in body) h = (h ^ b) * 1099511628211UL;
        return SplitMix64.Mix(h ^ (ulong)body.Length);
    }
}

/// <summary>
/// Reads Hermes messages ({"event_type","payload","created_at"}) from a STOMP broker into <see cref="IObservationSink"/>:
/// client-individual acknowledgement, each message ACKed only after its event was handed to the sink (or it was dropped as
/// another scope's or a duplicate), reconnect and resubscribe with exponential backoff and jitter.
/// </summary>
public sealed class HermesConsumer(HermesConsumerOptions options, IObservationSink sink, SeenMessages? seen = null)
{
    private long _received, _written, _filtered, _duplicates, _malformed, _connects;
    private StompClient? _current;

    public SeenMessages Seen { get; } = seen ?? new SeenMessages();
    public long Received => Interlocked.Read(ref _received);
    public long Written => Interlocked.Read(ref _written);
    public long Filtered => Interlocked.Read(ref _filtered);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Malformed => Interlocked.Read(ref _malformed);
    /// <summary>Successful connections (1 + reconnects).</summary>
    public long Connects => Interlocked.Read(ref _connects);
    public Exception? LastError { get; private set; }

    /// <summary>Completes when the first subscription is confirmed by the broker.</summary>
    public Task Subscribed => _subscribed.Task;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Cuts the current connection (tests: a network failure); the consumer reconnects by itself.</summary>
    public void DropConnection() => _current?.Abort();

    /// <summary>Consumes until cancelled; then DISCONNECTs with a receipt so the last ACKs are in.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var attempt = 0;
        var rng = new SplitMix64((ulong)Environment.TickCount64);
        while (!ct.IsCancellationRequested)
        {
            StompClient? client = null;
            try
            {
                var durable = options.Destination.StartsWith("/topic/", StringComparison.Ordinal);
                client = await StompClient.ConnectAsync(StompConnectOptions.FromUri(options.Broker) with
                {
                    Login = options.Username,
                    Passcode = options.Password,
                    ClientId = durable ? options.SubscriptionName : null,
                    HeartBeatSend = options.HeartBeat,
                    HeartBeatReceive = options.HeartBeat,
                    Time = options.Time,
                }, ct).ConfigureAwait(false);
                _current = client;
                var extra = new List<KeyValuePair<string, string>> { new("activemq.prefetchSize", options.Prefetch.ToString(CultureInfo.InvariantCulture)) };
                if (durable) extra.Add(new("activemq.subscriptionName", options.SubscriptionName));
                await client.SubscribeAsync("hermes", options.Destination, "client-individual", extra, receipt: true, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _connects);
                attempt = 0;
                _subscribed.TrySetResult();
                await PumpAsync(client, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or StompErrorException
                                          or StompProtocolException or OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                LastError = e;
            }
            finally
            {
                _current = null;
                if (client is not null)
                {
                    if (ct.IsCancellationRequested) await client.DisconnectAsync(CancellationToken.None).ConfigureAwait(false);
                    else await client.DisposeAsync().ConfigureAwait(false);
                }
            }
            if (ct.IsCancellationRequested) break;
            // Exponential backoff with full jitter, so many consumers do not reconnect in step after a broker restart.
            var cap = Math.Min(options.ReconnectMaxDelay.TotalMilliseconds, options.ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt++, 16)));
            try { await Task.Delay(TimeSpan.FromMilliseconds(cap * (0.5 + 0.5 * rng.NextDouble())), options.Time, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task PumpAsync(StompClient client, CancellationToken ct)
    {
        var reader = client.Messages;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            while (reader.TryRead(out var m))
            {
                Interlocked.Increment(ref _received);
                Handle(m.Body);
                // Handed to the sink (or deliberately dropped): only now may the broker forget it.
                if (m["ack"] is { } ackId) client.Ack(ackId);
            }
        }
        await client.Completion.ConfigureAwait(false); // rethrows what broke the connection
        throw new IOException("the broker ended the subscription");
    }

    private void Handle(ReadOnlyMemory<byte> body)
    {
        if (!TryParse(body, out var e)) { Interlocked.Increment(ref _malformed); return; }
        if (options.Scopes.Count > 0 && !(e.Scope is { } s && options.Scopes.Contains(s)) && !(e.DatasetScope is { } d && options.Scopes.Contains(d)))
        {
            Interlocked.Increment(ref _filtered);
            return;
        }
        if (!Seen.Add(body.Span)) { Interlocked.Increment(ref _duplicates); return; }
        sink.Event(e);
        Interlocked.Increment(ref _written);
    }

    /// <summary>A Hermes message body as a <see cref="HermesEvent"/> (payload keys as Rucio writes them: request-id, src-rse, …).</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out HermesEvent e) => TryParse(new ReadOnlyMemory<byte>(body.ToArray()), out e);

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte}, out HermesEvent)"/>
    public static bool TryParse(ReadOnlyMemory<byte> body, out HermesEvent e)
    {
        e = default;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body); }
        catch (JsonException) { return false; }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event_type", out var et) || et.ValueKind != JsonValueKind.String) return false;
            var p = root.TryGetProperty("payload", out var pl) && pl.ValueKind == JsonValueKind.Object ? pl : default;
            e.EventType = NormalizeType(et.GetString()!);
            e.CreatedAt = Time(root, "created_at") ?? DateTime.UnixEpoch;
            if (p.ValueKind != JsonValueKind.Object) return true;
            e.Scope = S(p, "scope");
            e.Name = S(p, "name");
            e.DatasetScope = S(p, "datasetScope") ?? S(p, "dataset_scope");
            e.Dataset = S(p, "dataset") ?? S(p, "dataset_name");
            e.SrcRse = S(p, "src-rse") ?? S(p, "src_rse");
            e.DstRse = S(p, "dst-rse") ?? S(p, "dst_rse");
            e.Rse = S(p, "rse");
            e.RequestId = S(p, "request-id") ?? S(p, "request_id");
            e.PreviousRequestId = S(p, "previous-request-id");
            e.RuleId = S(p, "rule_id") ?? S(p, "rule-id");
            e.Activity = S(p, "activity");
            e.Bytes = L(p, "bytes") ?? L(p, "file-size");
            e.ChecksumAdler = S(p, "checksum-adler") ?? S(p, "adler32");
            e.Protocol = S(p, "protocol");
            e.Duration = D(p, "duration");
            e.Reason = S(p, "reason");
            e.RetryCount = (int?)L(p, "retry-count");
            e.TransferId = S(p, "transfer-id") ?? S(p, "external-id");
            e.ExternalHost = S(p, "external-host") ?? S(p, "transfer-endpoint");
            e.Account = S(p, "account");
            e.State = S(p, "state");
            e.Progress = D(p, "progress");
            e.SubmittedAt = Time(p, "submitted_at");
            e.StartedAt = Time(p, "started_at");
            e.TransferredAt = Time(p, "transferred_at");
            return true;
        }
    }

    /// <summary>Hermes lower-cases event types; the report uses Rucio's own spelling (transfer-done, RULE_OK).</summary>
    internal static string NormalizeType(string t) =>
        t.Contains('-', StringComparison.Ordinal) ? t.ToLowerInvariant() : t.ToUpperInvariant();

    private static string? S(JsonElement p, string k) => p.TryGetProperty(k, out var v) ? v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        _ => null,
    } : null;

    private static long? L(JsonElement p, string k) => p.TryGetProperty(k, out var v) ? v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out var l) => l,
        JsonValueKind.Number => (long)v.GetDouble(),
        JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        _ => null,
    } : null;

    private static double? D(JsonElement p, string k) => p.TryGetProperty(k, out var v) ? v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    } : null;

    private static readonly string[] TimeFormats =
        ["yyyy-MM-dd HH:mm:ss.ffffff", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss.ffffff", "yyyy-MM-ddTHH:mm:ss", "ddd, dd MMM yyyy HH:mm:ss 'UTC'"];

    private static DateTime? Time(JsonElement p, string k)
    {
        if (!p.TryGetProperty(k, out var v) || v.ValueKind != JsonValueKind.String) return null;
        var s = v.GetString()!;
        if (DateTime.TryParseExact(s, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d)
            || DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out d))
            return DateTime.SpecifyKind(d, DateTimeKind.Utc);
        return null;
    }
}
