using System.Globalization;
using System.Text;
using System.Threading.Channels;
using FdrHarness.Core.Observations;
using FdrHarness.Rucio.Stomp;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Rucio.Tests;

[Collection(StompCollection.Name)]
public sealed class HermesConsumerTests
{
    [Fact]
    public void Transfer_done_message_becomes_a_HermesEvent()
    {
        var body = """
        {"event_type": "transfer-done", "created_at": "2026-11-25 10:58:34.123456",
         "payload": {"activity": "User Subscriptions", "request-id": "abc", "previous-request-id": null, "duration": 12.5,
                     "checksum-adler": "0cc737eb", "file-size": 1024, "bytes": 1024, "protocol": "davs", "scope": "cta", "name": "f1",
                     "dataset": "ds1", "datasetScope": "cta", "src-rse": "ALPHA-DISK", "dst-rse": "GAMMA-SAFE", "reason": "",
                     "transfer-id": "fts-1", "external-host": "https://fts:8446", "account": "root", "retry-count": "2",
                     "submitted_at": "2026-11-25 10:58:00", "started_at": "2026-11-25 10:58:10", "transferred_at": "2026-11-25 10:58:30"}}
        """u8;
        Assert.True(HermesConsumer.TryParse(body, out var e));
        Assert.Equal("transfer-done", e.EventType);
        Assert.Equal(new DateTime(2026, 11, 25, 10, 58, 34, DateTimeKind.Utc).AddTicks(1234560), e.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, e.CreatedAt.Kind);
        Assert.Equal(("cta", "f1", "ALPHA-DISK", "GAMMA-SAFE"), (e.Scope, e.Name, e.SrcRse, e.DstRse));
        Assert.Equal(1024, e.Bytes);
        Assert.Equal(12.5, e.Duration);
        Assert.Equal(2, e.RetryCount);
        Assert.Null(e.PreviousRequestId);
        Assert.Equal("fts-1", e.TransferId);
        Assert.Equal(new DateTime(2026, 11, 25, 10, 58, 30, DateTimeKind.Utc), e.TransferredAt);
    }

    [Theory]
    [InlineData("rule_ok", "RULE_OK")]
    [InlineData("RULE_PROGRESS", "RULE_PROGRESS")]
    [InlineData("datasetlock_ok", "DATASETLOCK_OK")]
    [InlineData("TRANSFER-SUBMITTED", "transfer-submitted")]
    [InlineData("deletion-done", "deletion-done")]
    public void Event_types_take_Rucios_spelling(string wire, string expected) =>
        Assert.Equal(expected, HermesConsumer.NormalizeType(wire));

    [Fact]
    public void Malformed_bodies_are_refused()
    {
        Assert.False(HermesConsumer.TryParse("not json"u8, out _));
        Assert.False(HermesConsumer.TryParse("{\"payload\": {}}"u8, out _));
    }

    [Fact]
    public void Same_body_is_seen_once()
    {
        var seen = new SeenMessages();
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));
        Assert.False(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":2}")));
    }

    [Fact]
    public void The_fingerprints_kept_are_the_latest_up_to_the_capacity()
    {
        var seen = new SeenMessages(capacity: 3);
        foreach (var i in new[] { 1, 2, 3 }) Assert.True(seen.Add(Encoding.UTF8.GetBytes($"{{\"a\":{i}}}")));
        Assert.False(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));  // a redelivery among the latest: dropped
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":4}")));   // the oldest (1) is forgotten to make room
        Assert.Equal(3, seen.Count);
        Assert.False(seen.Add(Encoding.UTF8.GetBytes("{\"a\":2}")));
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));
        for (var i = 0; i < 10_000; i++) seen.Add(Encoding.UTF8.GetBytes($"{{\"b\":{i}}}"));
        Assert.Equal(3, seen.Count);                                     // whatever a broker sends
    }

    // ---- The consumer against a scripted broker (in-memory pipes, fake clock: nothing waits on the wall clock) ----

    private static readonly DateTime T0 = new(2026, 12, 2, 0, 42, 0, DateTimeKind.Utc);
    private const string Password = "s3cret-passcode";

    /// <summary>A Hermes body as hermes 1.31.7 writes it (190_hermes_frames.txt).</summary>
    private static string Body(string type, string name, DateTime createdAt, string scope = "user.root") =>
        $"{{\"event_type\": \"{type}\", \"payload\": {{\"account\": \"root\", \"scope\": \"{scope}\", \"name\": \"{name}\", \"expired_at\": null}}, " +
        $"\"created_at\": \"{createdAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}\"}}";

    private sealed class RecordingSink : IObservationSink
    {
        public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

        private readonly List<HermesEvent> _events = [];
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
        public ManualResetEventSlim Gate { get; } = new(true);

        public List<HermesEvent> Events { get { lock (_events) return [.. _events]; } }

        public Task WhenCount(int n)
        {
            lock (_events)
            {
                if (_events.Count >= n) return Task.CompletedTask;
                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((n, tcs));
                return tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }
        }

        public void Event(in HermesEvent e)
        {
            Gate.Wait();
            lock (_events)
            {
                _events.Add(e);
                foreach (var w in _waiters.Where(w => _events.Count >= w.Count).ToList()) { w.Done.TrySetResult(); _waiters.Remove(w); }
            }
        }

        public void Sample(in PodSample s) { }
        public void Lifecycle(in PodLifecycleEvent e) { }
        public void Fault(in FaultRecord f) { }
        public void Injection(in InjectionRecord r) { }
    }

    /// <summary>A consumer wired to a <see cref="ScriptedBroker"/> on a fake clock; warnings go to a channel.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(T0));
        public ScriptedBroker Broker { get; }
        public RecordingSink Sink { get; } = new();
        public Channel<string> Warnings { get; } = Channel.CreateUnbounded<string>();
        public HermesConsumer Consumer { get; }
        public Task Run { get; }
        private readonly CancellationTokenSource _stop = new();

        public Rig(Func<HermesConsumerOptions, HermesConsumerOptions>? tune = null, ScriptedBroker? broker = null)
        {
            Broker = broker ?? new ScriptedBroker();
            var options = new HermesConsumerOptions
            {
                Broker = new Uri("stomp://broker.test:61613"),
                Username = "fdr",
                Password = Password,
                Scopes = new HashSet<string> { "user.root" },
                SubscriptionName = HermesConsumer.SubscriptionNameFor("20261202-004200-cta-daily"),
                WindowStart = T0,
                HeartBeat = TimeSpan.Zero,
                ReconnectBaseDelay = TimeSpan.Zero,
                ReconnectMaxDelay = TimeSpan.Zero,
                Time = Time,
                Warn = line => Warnings.Writer.TryWrite(line),
                Transport = Broker.Transport,
            };
            Consumer = new HermesConsumer(tune?.Invoke(options) ?? options, Sink);
            Run = Consumer.RunAsync(_stop.Token);
        }

        /// <summary>The next connection, once the consumer has subscribed on it.</summary>
        public async Task<(BrokerConnection Connection, StompFrame Connect, StompFrame Subscribe)> ConnectedAsync()
        {
            var c = await Broker.NextConnectionAsync();
            var connect = await c.NextCommandAsync();
            var subscribe = await c.NextCommandAsync();
            await Consumer.Subscribed.WaitAsync(TimeSpan.FromSeconds(30));
            return (c, connect, subscribe);
        }

        public async Task<string> NextWarningAsync() => await Warnings.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        public List<string> AllWarnings()
        {
            var lines = new List<string>();
            while (Warnings.Reader.TryRead(out var l)) lines.Add(l);
            return lines;
        }

        public async ValueTask DisposeAsync()
        {
            Sink.Gate.Set();
            await _stop.CancelAsync();
            await Run.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Subscription_names_come_from_the_run_id()
    {
        Assert.Equal("fdr-20261202-004200-cta-daily", HermesConsumer.SubscriptionNameFor("20261202-004200-cta-daily"));
        Assert.Equal("fdr-a_b_c", HermesConsumer.SubscriptionNameFor("a:b\nc"));   // nothing that would need escaping in CONNECT
        Assert.Throws<ArgumentException>(() => HermesConsumer.SubscriptionNameFor(":\n"));
        Assert.NotEqual(new HermesConsumerOptions { Broker = new Uri("stomp://b") }.SubscriptionName,
            new HermesConsumerOptions { Broker = new Uri("stomp://b") }.SubscriptionName); // the default is shared with nobody
    }

    [Fact]
    public async Task Each_run_has_its_own_durable_subscription_and_removes_it_when_it_ends_normally()
    {
        await using var first = new Rig();
        var (c1, connect1, subscribe1) = await first.ConnectedAsync();
        await using var second = new Rig(o => o with { SubscriptionName = HermesConsumer.SubscriptionNameFor("20261202-011500-cta-daily") });
        var (c2, connect2, subscribe2) = await second.ConnectedAsync();

        // One scenario, two runs: two client-ids and two durable subscriptions.
        Assert.Equal("fdr-20261202-004200-cta-daily", connect1["client-id"]);
        Assert.Equal("fdr-20261202-004200-cta-daily", subscribe1["activemq.subscriptionName"]);
        Assert.Equal("fdr-20261202-011500-cta-daily", connect2["client-id"]);
        Assert.Equal("fdr-20261202-011500-cta-daily", subscribe2["activemq.subscriptionName"]);
        Assert.Equal(("SUBSCRIBE", "/topic/rucio.events", "client-individual"), (subscribe1.Command, subscribe1["destination"], subscribe1["ack"]));

        // The first ends normally: drain, then the subscription is ended and removed (ActiveMQ wants both, in this order).
        var finishing = first.Consumer.FinishAsync(T0.AddMinutes(5), unsubscribe: true);
        first.Time.Advance(TimeSpan.FromSeconds(15));
        var end = await c1.NextCommandAsync();
        Assert.Equal(("UNSUBSCRIBE", "hermes", null), (end.Command, end["id"], end["activemq.subscriptionName"]));
        var remove = await c1.NextCommandAsync();
        Assert.Equal(("UNSUBSCRIBE", "hermes", "fdr-20261202-004200-cta-daily"), (remove.Command, remove["id"], remove["activemq.subscriptionName"]));
        Assert.Equal("DISCONNECT", (await c1.NextCommandAsync()).Command);
        await finishing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(first.Consumer.Unsubscribed);
        Assert.DoesNotContain(first.AllWarnings(), l => l.Contains("left on the broker", StringComparison.Ordinal));

        // The second is cut short (it may be resumed): its subscription stays, and the operator is told.
        var cut = second.Consumer.FinishAsync(T0.AddMinutes(40), unsubscribe: false);
        second.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("DISCONNECT", (await c2.NextCommandAsync()).Command);
        await cut.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(second.Consumer.Unsubscribed);
        Assert.Contains("hermes: durable subscription 'fdr-20261202-011500-cta-daily' left on the broker broker.test:61613: it keeps Rucio's events until removed",
            second.AllWarnings());
    }

    [Fact]
    public async Task Only_the_runs_scopes_and_time_window_are_kept()
    {
        await using var rig = new Rig(o => o with { ClockSkew = TimeSpan.FromSeconds(10), EndGrace = TimeSpan.FromSeconds(30) });
        var (c, _, _) = await rig.ConnectedAsync();
        var end = T0.AddMinutes(10);
        await c.SendMessageAsync(Body("create_dts", "previous-run", T0.AddHours(-1)));          // the last run's, still on the topic
        await c.SendMessageAsync(Body("create_dts", "other-scope", T0.AddMinutes(1), scope: "atlas"));
        await c.SendMessageAsync(Body("create_dts", "within-skew", T0.AddSeconds(-5)));
        await c.SendMessageAsync(Body("create_dts", "during", T0.AddMinutes(1)));
        await rig.Sink.WhenCount(2);

        var finishing = rig.Consumer.FinishAsync(end, unsubscribe: true);
        await c.SendMessageAsync(Body("create_dts", "after-end-within-grace", end.AddSeconds(20)));
        await c.SendMessageAsync(Body("create_dts", "after-grace", end.AddSeconds(40)));
        await c.SendMessageAsync(Body("create_dts", "late-delivery", end.AddSeconds(-1)));
        await rig.Sink.WhenCount(4);
        rig.Time.Advance(TimeSpan.FromSeconds(15));
        await finishing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["within-skew", "during", "after-end-within-grace", "late-delivery"], rig.Sink.Events.Select(e => e.Name));
        Assert.Equal((7, 4, 1, 2), (rig.Consumer.Received, rig.Consumer.Written, rig.Consumer.Filtered, rig.Consumer.OutOfWindow));
    }

    [Fact]
    public async Task Messages_hermes_sends_after_the_end_are_drained_until_the_broker_is_quiet_then_the_consumer_stops()
    {
        await using var rig = new Rig(o => o with { DrainTime = TimeSpan.FromSeconds(20), DrainQuiet = TimeSpan.FromSeconds(5) });
        var (c, _, _) = await rig.ConnectedAsync();
        var end = T0.AddMinutes(3);
        var finishing = rig.Consumer.FinishAsync(end, unsubscribe: true);

        // Hermes' next pass, 0.1–2 s after the last calls: out of created_at order (action 6 of the transcript).
        var ack1 = await c.SendMessageAsync(Body("datasetlock_ok", "h11.ds2", end.AddMilliseconds(-20)));
        var ack2 = await c.SendMessageAsync(Body("rule_ok", "h11.ds2", end.AddMilliseconds(-22)));
        await rig.Sink.WhenCount(2);
        rig.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(finishing.IsCompleted);     // not quiet for long enough: hermes may still be between passes
        // A pass later, one more: the quiet time starts again from it.
        var ack3 = await c.SendMessageAsync(Body("rule_ok", "h11.ds3", end.AddMilliseconds(-5)));
        await rig.Sink.WhenCount(3);
        rig.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(finishing.IsCompleted);
        rig.Time.Advance(TimeSpan.FromSeconds(0.1)); // 5 s without a message: the broker has nothing left for the run
        await finishing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["DATASETLOCK_OK", "RULE_OK", "RULE_OK"], rig.Sink.Events.Select(e => e.EventType));
        // All acknowledged before the subscription was removed.
        var sent = new List<StompFrame>();
        await foreach (var f in c.FromClient.ReadAllAsync()) sent.Add(f);
        Assert.Equal(["ACK", "ACK", "ACK", "UNSUBSCRIBE", "UNSUBSCRIBE", "DISCONNECT"], sent.Select(f => f.Command));
        Assert.Equal([ack1, ack2, ack3], sent.Where(f => f.Command == "ACK").Select(f => f["id"]));
        await rig.Run.WaitAsync(TimeSpan.FromSeconds(30)); // RunAsync has ended by itself
    }

    [Fact]
    public async Task A_broker_that_keeps_sending_is_drained_for_the_drain_time_at_most()
    {
        await using var rig = new Rig(o => o with { DrainTime = TimeSpan.FromSeconds(12), DrainQuiet = TimeSpan.FromSeconds(5) });
        var (c, _, _) = await rig.ConnectedAsync();
        var end = T0.AddMinutes(3);
        var finishing = rig.Consumer.FinishAsync(end, unsubscribe: true);
        // Events keep coming every 4 s (rules completing after the run): never quiet for 5 s.
        for (var i = 1; i <= 2; i++)
        {
            rig.Time.Advance(TimeSpan.FromSeconds(4));
            await c.SendMessageAsync(Body("rule_ok", "late" + i, end.AddSeconds(4 * i)));
            await rig.Sink.WhenCount(i);
            Assert.False(finishing.IsCompleted);
        }
        rig.Time.Advance(TimeSpan.FromSeconds(4)); // 12 s after the end: the bound, though the last message came 4 s ago
        await finishing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["late1", "late2"], rig.Sink.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task Lower_and_upper_case_event_types_are_written_in_the_spelling_of_the_lake()
    {
        await using var rig = new Rig();
        var (c, _, _) = await rig.ConnectedAsync();
        string[] wire = ["rule_ok", "RULE_OK", "datasetlock_ok", "transfer-done", "TRANSFER-DONE", "create_dts", "Transfer-Queued", "erase"];
        for (var i = 0; i < wire.Length; i++) await c.SendMessageAsync(Body(wire[i], "f" + i, T0.AddSeconds(i)), eventType: wire[i]);
        await rig.Sink.WhenCount(wire.Length);
        // What the embedded lake emits (Lake/Catalog/RuleOperations.cs, Lake/Transfers/Conveyor.cs, Lake/Workload/Workload.cs).
        Assert.Equal(["RULE_OK", "RULE_OK", "DATASETLOCK_OK", "transfer-done", "transfer-done", "CREATE_DTS", "transfer-queued", "ERASE"],
            rig.Sink.Events.Select(e => e.EventType));
    }

    [Fact]
    public async Task Malformed_bodies_are_counted_acknowledged_and_dropped()
    {
        await using var rig = new Rig();
        var (c, _, _) = await rig.ConnectedAsync();
        var acks = new List<string>
        {
            await c.SendMessageAsync("not json"),
            await c.SendMessageAsync("{\"payload\": {}}"),
            await c.SendMessageAsync(new string('[', 5000) + new string(']', 5000)),
            await c.SendMessageAsync(""),
        };
        // A body whose bytes are not UTF-8 inside a JSON string.
        byte[] bad = [.. "{\"event_type\": \"transfer-done\", \"payload\": {\"scope\": \"user.root\", \"name\": \""u8, 0xC3, 0x28, .. "\"}, \"created_at\": \"2026-12-02 00:43:00\"}"u8];
        var frame = StompCodec.Encode(new StompFrame("MESSAGE", [new("ack", "bad-utf8"), new("subscription", "hermes")], bad));
        await c.SendRawAsync(frame);
        acks.Add("bad-utf8");
        acks.Add(await c.SendMessageAsync(Body("transfer-done", "good", T0.AddSeconds(1))));
        await rig.Sink.WhenCount(1);

        Assert.Equal("good", Assert.Single(rig.Sink.Events).Name);
        Assert.Equal((6, 5, 1L), (rig.Consumer.Received, rig.Consumer.Malformed, rig.Consumer.Connects));
        var sentAcks = new List<string>();
        while (sentAcks.Count < acks.Count && await c.FromClient.WaitToReadAsync())
            if (c.FromClient.TryRead(out var f) && f.Command == "ACK") sentAcks.Add(f["id"]!);
        Assert.Equal(acks, sentAcks);
        Assert.Equal("hermes: messages whose body is not a Hermes event, acknowledged and dropped: 1 so far (latest: not json)", await rig.NextWarningAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_oversized_frame_is_skipped_as_it_streams_without_being_buffered(bool withLength)
    {
        const int limit = 64 * 1024, body = 20 * 1024 * 1024;
        await using var rig = new Rig(o => o with { MaxFrameBytes = limit });
        var (c, _, _) = await rig.ConnectedAsync();
        var head = "MESSAGE\nsubscription:hermes\nack:ID\\cbig\n" + (withLength ? $"content-length:{body}\n" : "") + "\n";
        var sending = Task.Run(async () =>
        {
            await c.SendRawAsync(Encoding.UTF8.GetBytes(head));
            var chunk = Enumerable.Repeat((byte)'x', 64 * 1024).ToArray();
            for (var sent = 0; sent < body; sent += chunk.Length) await c.SendRawAsync(chunk);
            await c.SendRawAsync("\0\n"u8.ToArray());
            await c.SendMessageAsync(Body("transfer-done", "after", T0.AddSeconds(1)));
        });
        await rig.Sink.WhenCount(1);
        await sending;

        Assert.Equal("after", Assert.Single(rig.Sink.Events).Name);
        Assert.Equal((1L, 1L, 0L), (rig.Consumer.InvalidFrames, rig.Consumer.Connects, rig.Consumer.ProtocolErrors));
        Assert.True(c.BytesReadByClient > body, "the body went through the consumer");
        // Memory: never more than the frame limit and one 64 KiB read held at once, for a 20 MiB frame.
        Assert.InRange(rig.Consumer.PeakBufferedBytes, 1, limit + 64 * 1024);
        var warning = await rig.NextWarningAsync();
        Assert.StartsWith("hermes: messages that could not be read, acknowledged and dropped: 1 so far (latest: a ", warning);
        Assert.Contains("over the 65536-byte frame limit", warning);
        // Acknowledged, so the broker does not send it again on every reconnect.
        var acked = false;
        while (!acked && await c.FromClient.WaitToReadAsync())
            acked = c.FromClient.TryRead(out var f) && f.Command == "ACK" && f["id"] == "ID:big";
        Assert.True(acked);
    }

    [Fact]
    public async Task An_oversized_header_is_acknowledged_and_dropped_on_the_same_connection_never_a_reconnect_loop()
    {
        const int limit = 16 * 1024;
        await using var rig = new Rig(o => o with { MaxHeaderBytes = limit });
        var (c, _, _) = await rig.ConnectedAsync();
        // Dropping the connection for it would have the broker send it again on the next one, for ever.
        await c.SendRawAsync(Encoding.UTF8.GetBytes("MESSAGE\nsubscription:hermes\nack:ID\\cfat\nx-fat:" + new string('a', 200_000) + "\n\n{}\0\n"));
        await c.SendMessageAsync(Body("transfer-done", "after-the-fat-one", T0.AddSeconds(1)));
        await rig.Sink.WhenCount(1);

        Assert.Equal("after-the-fat-one", Assert.Single(rig.Sink.Events).Name);
        Assert.Equal((1L, 1L, 0L), (rig.Consumer.Connects, rig.Consumer.InvalidFrames, rig.Consumer.ProtocolErrors));
        Assert.InRange(rig.Consumer.PeakBufferedBytes, 1, limit + 64 * 1024 + 1024);
        Assert.Equal($"hermes: messages that could not be read, acknowledged and dropped: 1 so far (latest: command and headers over the {limit}-byte limit)",
            await rig.NextWarningAsync());
        var acked = false;
        while (!acked && await c.FromClient.WaitToReadAsync())
            acked = c.FromClient.TryRead(out var f) && f.Command == "ACK" && f["id"] == "ID:fat";
        Assert.True(acked);
    }

    [Fact]
    public async Task Garbage_bytes_are_counted_and_the_consumer_carries_on_on_the_same_connection()
    {
        await using var rig = new Rig();
        var (c, _, _) = await rig.ConnectedAsync();
        var garbage = new byte[4096];
        new Random(13).NextBytes(garbage);
        await c.SendRawAsync((byte[])[.. garbage, 0, (byte)'\n']);
        // A MESSAGE with bytes that are not UTF-8 in a header (the DecoderFallbackException of issue 13).
        await c.SendRawAsync((byte[])[.. "MESSAGE\nsubscription:hermes\nack:garbled\nevent_type:"u8, 0xFF, 0xFE, .. "\ncontent-length:2\n\n{}\0\n"u8]);
        await c.SendMessageAsync(Body("transfer-done", "after", T0.AddSeconds(1)));
        await rig.Sink.WhenCount(1);

        Assert.Equal("after", Assert.Single(rig.Sink.Events).Name);
        Assert.Equal((1L, 0L), (rig.Consumer.Connects, rig.Consumer.ProtocolErrors));
        Assert.True(rig.Consumer.InvalidFrames >= 2, $"invalid frames counted: {rig.Consumer.InvalidFrames}");
        Assert.False(rig.Run.IsCompleted);
    }

    [Fact]
    public async Task A_broker_that_sends_nothing_is_reported_and_then_heard_again()
    {
        await using var rig = new Rig(o => o with { SilenceThreshold = TimeSpan.FromSeconds(60) });
        var silenced = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Consumer.Silenced += q => silenced.TrySetResult(q);
        var (c, _, _) = await rig.ConnectedAsync();   // CONNECTED and the receipt do not count: no heart-beat, no message

        rig.Time.Advance(TimeSpan.FromSeconds(75));
        Assert.True(await silenced.Task.WaitAsync(TimeSpan.FromSeconds(30)) >= TimeSpan.FromSeconds(60));
        var warning = await rig.NextWarningAsync();
        Assert.Equal("hermes: no message and no heart-beat from the broker broker.test:61613 for 75 s", warning);
        Assert.DoesNotContain(Password, warning, StringComparison.Ordinal);
        Assert.True(rig.Consumer.IsSilent);
        Assert.Equal(1, rig.Consumer.SilentPeriods);
        Assert.Null(rig.Consumer.LastMessageAt);

        await c.SendMessageAsync(Body("transfer-done", "at-last", T0.AddSeconds(70)));
        await rig.Sink.WhenCount(1);
        rig.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("hermes: the broker broker.test:61613 is sending again", await rig.NextWarningAsync());
        Assert.False(rig.Consumer.IsSilent);
        Assert.Equal(new DateTimeOffset(T0).AddSeconds(75), rig.Consumer.LastMessageAt);
    }

    [Fact]
    public async Task A_broker_that_never_answers_CONNECT_is_reported_as_silent()
    {
        await using var rig = new Rig(o => o with { SilenceThreshold = TimeSpan.FromSeconds(60) }, new ScriptedBroker { AnswerConnect = false });
        var first = await rig.Broker.NextConnectionAsync();
        Assert.Equal("CONNECT", (await first.NextCommandAsync()).Command);

        rig.Time.Advance(TimeSpan.FromSeconds(75));
        // With the connect timeout's error when it was seen first (both fire within this one step of the clock).
        Assert.StartsWith("hermes: no message and no heart-beat from the broker broker.test:61613 for 75 s", await rig.NextWarningAsync());
        await rig.Broker.NextConnectionAsync();       // it gave up on the first after the connect timeout and tried again
        Assert.Equal("no CONNECTED from the broker within 10 s", rig.Consumer.LastError?.Message);
        Assert.True(rig.Consumer.IsSilent);
        Assert.Equal(0, rig.Consumer.Connects);
    }

    [Fact]
    public async Task A_broker_ignoring_the_prefetch_cannot_fill_the_memory_of_a_slow_consumer()
    {
        const long budget = 64 * 1024;
        const int n = 5000;
        var throttled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var rig = new Rig(o => o with { MaxQueuedBytes = budget, Throttled = () => throttled.TrySetResult() });
        var (c, _, _) = await rig.ConnectedAsync();
        rig.Sink.Gate.Reset();   // the sink stalls (a slow disk)
        var flooding = Task.Run(async () =>
        {
            for (var i = 0; i < n; i++) await c.SendMessageAsync(Body("transfer-done", $"f{i:D5}", T0.AddMilliseconds(i)));
        });
        await throttled.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var read = c.BytesReadByClient;
        Assert.InRange(read, budget, budget + 64 * 1024 + 2048);   // the budget, one read, the message stuck in the sink
        Assert.False(flooding.IsCompleted);                         // ~3 MB cannot have gone through 130 KB of buffers
        rig.Sink.Gate.Set();
        await rig.Sink.WhenCount(n);
        await flooding.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((n, 1L), (rig.Consumer.Written, rig.Consumer.Connects));
    }
}
