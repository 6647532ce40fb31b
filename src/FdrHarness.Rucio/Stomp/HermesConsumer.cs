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
    /// <summary>
    /// Names the durable subscription on a topic (and the connection's client-id), so messages published while we reconnect
    /// wait for us. One per run (<see cref="HermesConsumer.SubscriptionNameFor"/>): a run that reused another's would read
    /// the events the broker kept for that one. The default is new for every options instance, shared with nobody.
    /// </summary>
    public string SubscriptionName { get; init; } = "fdr-" + Guid.NewGuid().ToString("N")[..12];
    /// <summary>The run's start (UTC): events created before it (less <see cref="ClockSkew"/>) are dropped as another run's. Null: no lower bound.</summary>
    public DateTime? WindowStart { get; init; }
    /// <summary>How far Rucio's clock (created_at) may be from ours when events are placed in the run's window.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>After <see cref="HermesConsumer.FinishAsync"/>: events created later than the run's end plus this are dropped.</summary>
    public TimeSpan EndGrace { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// The longest <see cref="HermesConsumer.FinishAsync"/> keeps reading after the run's end: hermes sends what Rucio wrote in
    /// its messages table on its next pass (0.1–2 s later with --sleep-time 2), sometimes out of order. Longer than hermes' pass.
    /// </summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>
    /// The drain ends earlier once no message has come for this long after the run's end (the broker has nothing left
    /// for us: hermes' last pass is delivered). Longer than hermes' pass; at least <see cref="DrainTime"/> turns it off.
    /// </summary>
    public TimeSpan DrainQuiet { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>No MESSAGE and no heart-beat from the broker for this long is reported (<see cref="Warn"/>, <see cref="HermesConsumer.IsSilent"/>). Zero: never.</summary>
    public TimeSpan SilenceThreshold { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>One line per warning (silence, frames that could not be read, a durable subscription left behind); never credentials.</summary>
    public Action<string>? Warn { get; init; }
    /// <summary>Messages the broker may send before we acknowledged them.</summary>
    public int Prefetch { get; init; } = 2000;
    public TimeSpan HeartBeat { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>See <see cref="StompConnectOptions.MaxHeaderBytes"/>, <see cref="StompConnectOptions.MaxFrameBytes"/>, <see cref="StompConnectOptions.MaxQueuedBytes"/>.</summary>
    public int MaxHeaderBytes { get; init; } = StompFrameReader.DefaultMaxHeaderBytes;
    public int MaxFrameBytes { get; init; } = StompFrameReader.DefaultMaxFrameBytes;
    public long MaxQueuedBytes { get; init; } = 64L * 1024 * 1024;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Tests: opens the byte stream to the broker instead of TCP.</summary>
    internal Func<CancellationToken, ValueTask<Stream>>? Transport { get; init; }
    internal Action? Throttled { get; init; }
}

/// <summary>
/// Fingerprints of the latest messages handed to the sink; shared across reconnects (and consumers) so redeliveries are
/// dropped. At most <paramref name="capacity"/> are kept, the oldest forgotten first: a broker redelivers what was not yet
/// acknowledged (at most the prefetch, 2,000) and hermes resends within seconds, so a day's millions of events need not
/// all be remembered (about 40 bytes each).
/// </summary>
public sealed class SeenMessages(int capacity = SeenMessages.DefaultCapacity)
{
    public const int DefaultCapacity = 1 << 18;

    private readonly HashSet<ulong> _seen = [];
    private readonly Queue<ulong> _order = new();
    private readonly Lock _gate = new();
    private readonly int _capacity = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count { get { lock (_gate) return _seen.Count; } }

    /// <summary>True the first time this body is seen (among the latest <c>capacity</c>).</summary>
    public bool Add(ReadOnlySpan<byte> body)
    {
        var h = Fingerprint(body);
        lock (_gate)
        {
            if (!_seen.Add(h)) return false;
            _order.Enqueue(h);
            if (_order.Count > _capacity) _seen.Remove(_order.Dequeue());
            return true;
        }
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
/// another scope's, outside the run's window, a duplicate or unreadable), reconnect and resubscribe with exponential backoff
/// and jitter. <see cref="FinishAsync"/> ends a run: drain, then remove the run's durable subscription.
/// Nothing a broker sends crashes it or grows its memory past the limits: unreadable frames and bodies are counted
/// (<see cref="InvalidFrames"/>, <see cref="Malformed"/>, <see cref="ProtocolErrors"/>), silence is reported (<see cref="IsSilent"/>).
/// </summary>
public sealed class HermesConsumer(HermesConsumerOptions options, IObservationSink sink, SeenMessages? seen = null)
{
    private long _received, _written, _filtered, _outOfWindow, _duplicates, _malformed, _connects, _protocolErrors, _silences;
    private long _invalidBefore; // invalid frames of connections already closed
    private long _invalidMessages;
    private long _lastHeard, _lastMessageTicks;
    private long _windowStart = options.WindowStart is { } s ? Math.Max(0, s.Ticks - options.ClockSkew.Ticks) : 0;
    private long _windowEnd = DateTime.MaxValue.Ticks;
    private volatile bool _silent, _unsubscribe, _unsubscribed;
    private int _started;
    private StompClient? _current;
    private readonly CancellationTokenSource _finish = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SeenMessages Seen { get; } = seen ?? new SeenMessages();
    /// <summary>MESSAGE frames received, whatever became of them.</summary>
    public long Received => Interlocked.Read(ref _received);
    public long Written => Interlocked.Read(ref _written);
    /// <summary>Events of other scopes.</summary>
    public long Filtered => Interlocked.Read(ref _filtered);
    /// <summary>Events of the run's scopes created outside the run's window (before its start, or after its end + grace).</summary>
    public long OutOfWindow => Interlocked.Read(ref _outOfWindow);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    /// <summary>Bodies that are not a Hermes message (not JSON, not UTF-8, no event_type).</summary>
    public long Malformed => Interlocked.Read(ref _malformed);
    /// <summary>Frames that could not be read whole (invalid bytes or lines in their headers, over <see cref="HermesConsumerOptions.MaxFrameBytes"/>), dropped.</summary>
    public long InvalidFrames => Interlocked.Read(ref _invalidBefore) + (_current?.InvalidFrames ?? 0);
    /// <summary>Connections dropped because the broker broke STOMP beyond one frame (headers over the limit, garbage where a frame should start).</summary>
    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);
    /// <summary>The most bytes any connection held unparsed (tests: bounded by the frame and header limits).</summary>
    internal long PeakBufferedBytes => Math.Max(Interlocked.Read(ref _peakBefore), _current?.PeakBufferedBytes ?? 0);
    private long _peakBefore;

    /// <summary>Successful connections (1 + reconnects).</summary>
    public long Connects => Interlocked.Read(ref _connects);
    public Exception? LastError { get; private set; }

    /// <summary>Nothing (no MESSAGE, no heart-beat) has come from the broker for <see cref="HermesConsumerOptions.SilenceThreshold"/>.</summary>
    public bool IsSilent => _silent;
    /// <summary>Times the broker fell silent (each reported once, with a warning line).</summary>
    public long SilentPeriods => Interlocked.Read(ref _silences);
    /// <summary>Raised when the broker falls silent, with how long it has been.</summary>
    public event Action<TimeSpan>? Silenced;
    /// <summary>How long since the broker last sent a MESSAGE or a heart-beat (or since <see cref="RunAsync"/> started).</summary>
    public TimeSpan QuietFor => options.Time.GetElapsedTime(LastHeard);
    /// <summary>When the last MESSAGE arrived (the consumer's clock); null before the first.</summary>
    public DateTimeOffset? LastMessageAt => Interlocked.Read(ref _lastMessageTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;
    /// <summary>The run's durable subscription was removed from the broker by <see cref="FinishAsync"/>.</summary>
    public bool Unsubscribed => _unsubscribed;

    /// <summary>
    /// Raised on the consumer's thread after its counters changed: a MESSAGE frame handled (written or dropped, counted,
    /// ACKed), a subscription confirmed (<see cref="Connects"/>).
    /// </summary>
    public event Action? Changed;

    /// <summary>Completes when the first subscription is confirmed by the broker.</summary>
    public Task Subscribed => _subscribed.Task;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool Durable => options.Destination.StartsWith("/topic/", StringComparison.Ordinal);
    private string BrokerName => $"{options.Broker.Host}:{(options.Broker.IsDefaultPort || options.Broker.Port <= 0 ? 61613 : options.Broker.Port)}";

    private long LastHeard => Math.Max(Volatile.Read(ref _lastHeard), _current?.LastHeardTimestamp ?? 0);

    /// <summary>A durable subscription name for one run, from its unique id (the run directory's name): "fdr-" and the id's letters, digits, '-', '_' and '.'.</summary>
    public static string SubscriptionNameFor(string runId)
    {
        var safe = new string([.. runId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        if (safe.Trim('_').Length == 0) throw new ArgumentException($"a run id with no letter or digit: '{StompClient.Printable(runId)}'", nameof(runId));
        return "fdr-" + safe;
    }

    /// <summary>Cuts the current connection (tests: a network failure); the consumer reconnects by itself.</summary>
    public void DropConnection() => _current?.Abort();

    /// <summary>
    /// Consumes until cancelled (an interrupted run: DISCONNECT with a receipt so the last ACKs are in; the durable
    /// subscription stays for a resume) or until <see cref="FinishAsync"/>.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("RunAsync runs once per consumer");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _finish.Token);
        Volatile.Write(ref _lastHeard, options.Time.GetTimestamp());
        var watching = options.SilenceThreshold > TimeSpan.Zero ? WatchSilenceAsync(stop.Token) : Task.CompletedTask;
        try
        {
            await ConsumeAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            if (Durable && !_unsubscribed)
                Warning($"durable subscription '{options.SubscriptionName}' left on the broker {BrokerName}: it keeps Rucio's events until removed");
            _stopped.TrySetResult();
        }
    }

    /// <summary>
    /// The run has ended at <paramref name="runEndUtc"/>: keep reading so that late messages arrive (events created after
    /// the end + <see cref="HermesConsumerOptions.EndGrace"/> are dropped) until none has come for
    /// <see cref="HermesConsumerOptions.DrainQuiet"/> since the end, at most <see cref="HermesConsumerOptions.DrainTime"/>,
    /// then stop <see cref="RunAsync"/>; with <paramref name="unsubscribe"/> (the run finished normally) remove the run's
    /// durable subscription so the broker stops keeping events for it. Cancelling <paramref name="ct"/> cuts the drain short
    /// and keeps the subscription.
    /// </summary>
    public async Task FinishAsync(DateTime runEndUtc, bool unsubscribe, CancellationToken ct = default)
    {
        var end = runEndUtc.Ticks > DateTime.MaxValue.Ticks - options.EndGrace.Ticks ? DateTime.MaxValue.Ticks : (runEndUtc + options.EndGrace).Ticks;
        Volatile.Write(ref _windowEnd, end);
        _unsubscribe = unsubscribe;
        if (Volatile.Read(ref _started) == 0) return;
        try { await DrainAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { _unsubscribe = false; }
        await _finish.CancelAsync().ConfigureAwait(false);
        await _stopped.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Waits on the run's clock until no message has come for the quiet time (each message arriving sets the quiet timer
    /// again, see <see cref="Take"/>), or the drain time has passed, whichever is first.
    /// </summary>
    private async Task DrainAsync(CancellationToken ct)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var bound = options.Time.CreateTimer(static d => ((TaskCompletionSource)d!).TrySetResult(), drained, options.DrainTime, Timeout.InfiniteTimeSpan);
        using var quiet = options.Time.CreateTimer(static d => ((TaskCompletionSource)d!).TrySetResult(), drained, options.DrainQuiet, Timeout.InfiniteTimeSpan);
        _drainQuiet = quiet;
        try { await drained.Task.WaitAsync(ct).ConfigureAwait(false); }
        finally { _drainQuiet = null; }
    }

    private volatile ITimer? _drainQuiet;

    private async Task ConsumeAsync(CancellationToken stop)
    {
        var attempt = 0;
        var rng = new SplitMix64((ulong)Environment.TickCount64);
        while (!stop.IsCancellationRequested)
        {
            StompClient? client = null;
            var subscribed = false;
            try
            {
                client = await StompClient.ConnectAsync(StompConnectOptions.FromUri(options.Broker) with
                {
                    Login = options.Username,
                    Passcode = options.Password,
                    ClientId = Durable ? options.SubscriptionName : null,
                    HeartBeatSend = options.HeartBeat,
                    HeartBeatReceive = options.HeartBeat,
                    Time = options.Time,
                    MaxHeaderBytes = options.MaxHeaderBytes,
                    MaxFrameBytes = options.MaxFrameBytes,
                    MaxQueuedBytes = options.MaxQueuedBytes,
                    Transport = options.Transport,
                    Throttled = options.Throttled,
                }, stop).ConfigureAwait(false);
                _current = client;
                var extra = new List<KeyValuePair<string, string>> { new("activemq.prefetchSize", options.Prefetch.ToString(CultureInfo.InvariantCulture)) };
                if (Durable) extra.Add(new("activemq.subscriptionName", options.SubscriptionName));
                await client.SubscribeAsync(SubscriptionId, options.Destination, "client-individual", extra, receipt: true, stop).ConfigureAwait(false);
                subscribed = true;
                Interlocked.Increment(ref _connects);
                attempt = 0;
                _subscribed.TrySetResult();
                Changed?.Invoke();
                await PumpAsync(client, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (StompProtocolException e)
            {
                LastError = e;
                Counted(ref _protocolErrors, "connections dropped for a STOMP protocol error", e.Message);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or StompErrorException
                                          or OperationCanceledException or System.Threading.Channels.ChannelClosedException
                                          or System.Security.Authentication.AuthenticationException)
            {
                LastError = e;
            }
            finally
            {
                if (client is not null) await CloseAsync(client, subscribed, stop.IsCancellationRequested).ConfigureAwait(false);
            }
            if (stop.IsCancellationRequested) break;
            // Exponential backoff with full jitter, so many consumers do not reconnect in step after a broker restart.
            var cap = Math.Min(options.ReconnectMaxDelay.TotalMilliseconds, options.ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt++, 16)));
            try { await Task.Delay(TimeSpan.FromMilliseconds(cap * (0.5 + 0.5 * rng.NextDouble())), options.Time, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private const string SubscriptionId = "hermes";

    private async Task CloseAsync(StompClient client, bool subscribed, bool stopping)
    {
        try
        {
            if (_finish.IsCancellationRequested && _unsubscribe && subscribed && Durable && !client.Completion.IsCompleted)
            {
                // ActiveMQ removes a durable subscription only while it is inactive: first end this consumer, then remove it.
                // Messages that arrived before the first receipt are written (not acknowledged: the subscription goes).
                await client.UnsubscribeAsync(SubscriptionId, ct: CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), options.Time).ConfigureAwait(false);
                while (client.Messages.TryRead(out var m)) Take(client, m, ack: false);
                await client.UnsubscribeAsync(SubscriptionId, options.SubscriptionName, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), options.Time).ConfigureAwait(false);
                _unsubscribed = true;
            }
        }
        catch (Exception e) when (e is IOException or StompErrorException or TimeoutException or OperationCanceledException)
        {
            Warning($"could not remove durable subscription '{options.SubscriptionName}': {StompClient.Printable(e.Message)}");
        }
        finally
        {
            _current = null;
            Interlocked.Add(ref _invalidBefore, client.InvalidFrames);
            if (client.PeakBufferedBytes > Interlocked.Read(ref _peakBefore)) Interlocked.Exchange(ref _peakBefore, client.PeakBufferedBytes);
            Volatile.Write(ref _lastHeard, Math.Max(Volatile.Read(ref _lastHeard), client.LastHeardTimestamp));
            if (stopping) await client.DisconnectAsync(CancellationToken.None).ConfigureAwait(false);
            else await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task PumpAsync(StompClient client, CancellationToken stop)
    {
        var reader = client.Messages;
        try
        {
            while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
                while (reader.TryRead(out var m)) Take(client, m, ack: true);
        }
        catch (OperationCanceledException) when (_finish.IsCancellationRequested)
        {
            // The run's end: what has arrived is still written.
            while (reader.TryRead(out var m)) Take(client, m, ack: true);
            throw;
        }
        await client.Completion.ConfigureAwait(false); // rethrows what broke the connection
        throw new IOException("the broker ended the subscription");
    }

    private void Take(StompClient client, StompFrame m, bool ack)
    {
        Interlocked.Increment(ref _received);
        if (_drainQuiet is { } quiet) // draining: not quiet yet
        {
            try { quiet.Change(options.DrainQuiet, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { /* the drain has just ended */ }
        }
        Volatile.Write(ref _lastHeard, options.Time.GetTimestamp());
        Interlocked.Exchange(ref _lastMessageTicks, options.Time.GetUtcNow().UtcTicks);
        if (m.Error is { } error) Counted(ref _invalidMessages, "messages that could not be read, acknowledged and dropped", error);
        else Handle(m.Body);
        // Handed to the sink (or deliberately dropped): only now may the broker forget it.
        if (ack && m["ack"] is { } ackId) client.Ack(ackId);
        Changed?.Invoke();
    }

    private void Handle(ReadOnlyMemory<byte> body)
    {
        if (!TryParse(body, out var e))
        {
            Counted(ref _malformed, "messages whose body is not a Hermes event, acknowledged and dropped", Preview(body.Span));
            return;
        }
        if (options.Scopes.Count > 0 && !(e.Scope is { } s && options.Scopes.Contains(s)) && !(e.DatasetScope is { } d && options.Scopes.Contains(d)))
        {
            Interlocked.Increment(ref _filtered);
            return;
        }
        var t = e.CreatedAt.Ticks;
        if (t < Volatile.Read(ref _windowStart) || t > Volatile.Read(ref _windowEnd))
        {
            Interlocked.Increment(ref _outOfWindow);
            return;
        }
        if (!Seen.Add(body.Span)) { Interlocked.Increment(ref _duplicates); return; }
        sink.Event(e);
        Interlocked.Increment(ref _written);
    }

    private async Task WatchSilenceAsync(CancellationToken ct)
    {
        // A periodic timer: a tick that comes while a check runs is kept, so no period goes unchecked.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(options.SilenceThreshold.Ticks / 4, TimeSpan.TicksPerMillisecond)), options.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var quiet = QuietFor;
                if (quiet >= options.SilenceThreshold)
                {
                    if (_silent) continue;
                    _silent = true;
                    Interlocked.Increment(ref _silences);
                    var why = LastError is { } e ? $" (last error: {StompClient.Printable(e.Message)})" : "";
                    Warning($"no message and no heart-beat from the broker {BrokerName} for {quiet.TotalSeconds:0} s{why}");
                    Silenced?.Invoke(quiet);
                }
                else if (_silent)
                {
                    _silent = false;
                    Warning($"the broker {BrokerName} is sending again");
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    // A warning on the 1st, 10th, 100th … occurrence: a broker sending garbage all day gives a handful of lines.
    private void Counted(ref long counter, string what, string detail) => Reported(Interlocked.Increment(ref counter), what, detail);

    private void Reported(long n, string what, string detail)
    {
        for (var p = 1L; p <= n && p > 0; p *= 10)
            if (p == n) { Warning($"{what}: {n} so far (latest: {StompClient.Printable(detail)})"); return; }
    }

    private void Warning(string line) => options.Warn?.Invoke("hermes: " + line);

    private static string Preview(ReadOnlySpan<byte> body) =>
        System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 80)]) + (body.Length > 80 ? "…" : "");

    /// <summary>A Hermes message body as a <see cref="HermesEvent"/> (payload keys as Rucio writes them: request-id, src-rse, …).</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out HermesEvent e) => TryParse(new ReadOnlyMemory<byte>(body.ToArray()), out e);

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte}, out HermesEvent)"/>
    public static bool TryParse(ReadOnlyMemory<byte> body, out HermesEvent e)
    {
        e = default;
        // Bytes a broker passed on unchecked: not JSON, not UTF-8 (GetString throws InvalidOperationException), too deep.
        try { return TryRead(body, out e); }
        catch (Exception x) when (x is JsonException or InvalidOperationException or ArgumentException or FormatException) { return false; }
    }

    private static bool TryRead(ReadOnlyMemory<byte> body, out HermesEvent e)
    {
        e = default;
        using (var doc = JsonDocument.Parse(body))
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
