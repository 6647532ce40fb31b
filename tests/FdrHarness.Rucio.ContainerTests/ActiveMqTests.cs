using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.ContainerTests;

/// <summary>Hermes messages through a real ActiveMQ (built from Debian's package) into events.parquet.</summary>
public sealed class ActiveMqTests : BrokerTests
{
    internal static byte[] Body(string scope, int i) => Encoding.UTF8.GetBytes(
        $"{{\"event_type\": \"transfer-done\", \"payload\": {{\"scope\": \"{scope}\", \"name\": \"f{i:D7}\", \"request-id\": \"r{i}\", \"bytes\": {i}, " +
        $"\"src-rse\": \"ALPHA-DISK\", \"dst-rse\": \"GAMMA-SAFE\", \"activity\": \"User Subscriptions\", \"protocol\": \"davs\", \"duration\": 1.5}}, " +
        $"\"created_at\": \"2026-11-25 10:{i / 60000 % 60:D2}:{i / 1000 % 60:D2}.{i % 1000:D3}000\"}}");

    /// <summary>Publishes like Hermes (persistent, event_type header); a receipt every 500 messages keeps the broker in step.</summary>
    internal static async Task PublishAsync(int port, string destination, IEnumerable<byte[]> bodies, bool persistent = true)
    {
        await using var p = await ConnectAsync(port);
        var n = 0;
        foreach (var b in bodies)
        {
            var receipt = ++n % 500 == 0;
            await p.SendAsync(destination, b, [new("persistent", persistent ? "true" : "false"), new("event_type", "transfer-done")], receipt);
        }
        await p.SendAsync(destination, Body("other", -1), [new("persistent", "true")], receipt: true);
        await p.DisconnectAsync();
    }

    /// <summary>A STOMP connection to a broker that is up: started by its wait strategy, or seen accepting the consumer again.</summary>
    internal static Task<StompClient> ConnectAsync(int port) =>
        StompClient.ConnectAsync(new StompConnectOptions { Host = "127.0.0.1", Port = port, HeartBeatSend = TimeSpan.FromSeconds(5), HeartBeatReceive = TimeSpan.FromSeconds(5) });

    private HermesConsumer Consumer(string destination, IObservationSink sink, SeenMessages? seen = null) => new(Options(destination), sink, seen);

    private HermesConsumerOptions Options(string destination) => new()
    {
        Broker = new Uri($"stomp://127.0.0.1:{Port}"),
        Destination = destination,
        Scopes = new HashSet<string> { "cta" },
        SubscriptionName = "fdr-test-" + Guid.NewGuid().ToString("N")[..8],
        Prefetch = 200,
        HeartBeat = TimeSpan.FromSeconds(2),
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
    };

    private static void AssertExactlyOnce(string dir, int expected)
    {
        var events = new ObservationReader(dir).Events().ToList();
        Assert.Equal(expected, events.Count);
        Assert.Equal(expected, events.Select(e => e.Name).Distinct().Count());
        Assert.All(events, e => Assert.Equal("cta", e.Scope));
        Assert.All(events, e => Assert.Equal("transfer-done", e.EventType));
    }

    [Fact]
    public async Task Consumer_killed_mid_stream_and_restarted_loses_and_duplicates_nothing()
    {
        const int n = 6000;
        var dir = Directory.CreateTempSubdirectory("fdr-amq-kill").FullName;
        var destination = "/topic/rucio.events";
        var sink = new ParquetObservationSink(dir);
        var seen = new SeenMessages();
        var options = Options(destination); // the second consumer takes over the same durable subscription
        var first = new HermesConsumer(options, sink, seen);
        using var stop1 = new CancellationTokenSource();
        var run1 = first.RunAsync(stop1.Token);
        await first.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));

        // In scope, another experiment's scope, and Hermes resending 200 bodies (lost receipts on its side).
        var bodies = Enumerable.Range(0, n).Select(i => Body("cta", i))
            .Concat(Enumerable.Range(0, 500).Select(i => Body("atlas", i)))
            .Concat(Enumerable.Range(0, 200).Select(i => Body("cta", i * 7)));
        var publishing = PublishAsync(Port, destination, bodies);

        await Engine.When([first], () => first.Written >= n / 3, TimeSpan.FromSeconds(60), () => $"first consumer wrote {first.Written}");
        first.DropConnection();  // the kill: no DISCONNECT, un-acked messages stay with the broker
        await stop1.CancelAsync();
        await run1;

        var second = new HermesConsumer(options, sink, seen);
        using var stop2 = new CancellationTokenSource();
        var run2 = second.RunAsync(stop2.Token);
        await publishing;
        // Everything published has come through: the run's events, the other scope's 500 (+1 end marker) and the 200 resends.
        await Engine.When([first, second], () => first.Written + second.Written == n && first.Filtered + second.Filtered >= 501 && first.Duplicates + second.Duplicates >= 200,
            TimeSpan.FromSeconds(120),
            () => $"written {first.Written}+{second.Written} of {n}, filtered {first.Filtered}+{second.Filtered}, duplicates {first.Duplicates}+{second.Duplicates}");
        await stop2.CancelAsync();
        await run2;
        await sink.CompleteAsync();

        AssertExactlyOnce(dir, n);
    }

    [Fact]
    public async Task A_large_backlog_drains_on_one_connection()
    {
        // 100 k messages waiting, each acknowledged on its own: with ActiveMQ's default 64 KiB socket buffers the ACKs
        // overflow its receive buffer while it writes, the kernel drops segments and the connection stalls until the
        // heart-beat watchdog reconnects (image 6 gives the STOMP connector 4 MiB). Non-persistent: the disk is not tested.
        const int n = 100_000;
        var dir = Directory.CreateTempSubdirectory("fdr-amq-backlog").FullName;
        var destination = "/queue/fdr.backlog";
        await PublishAsync(Port, destination, Enumerable.Range(0, n).Select(i => Body("cta", i)), persistent: false);
        var sink = new ParquetObservationSink(dir);
        var consumer = new HermesConsumer(Options(destination) with { Prefetch = 5000, HeartBeat = TimeSpan.FromSeconds(10) }, sink);
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync(stop.Token);

        await Engine.When([consumer], () => consumer.Written == n, TimeSpan.FromSeconds(120),
            () => $"written {consumer.Written} of {n}, connects {consumer.Connects}, last error {consumer.LastError?.Message}");
        await stop.CancelAsync();
        await run;
        await sink.CompleteAsync();
        Assert.Equal(1, consumer.Connects);
        Assert.Equal(0, consumer.Duplicates);
        AssertExactlyOnce(dir, n);
    }

    [Fact]
    public async Task Broker_restarted_mid_stream_loses_and_duplicates_nothing()
    {
        const int n = 6000;
        var dir = Directory.CreateTempSubdirectory("fdr-amq-restart").FullName;
        var destination = "/topic/rucio.events";
        var sink = new ParquetObservationSink(dir);
        var consumer = Consumer(destination, sink);
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync(stop.Token);
        await consumer.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));

        await PublishAsync(Port, destination, Enumerable.Range(0, n / 2).Select(i => Body("cta", i)));
        await Engine.When([consumer], () => consumer.Written >= n / 6, TimeSpan.FromSeconds(60), () => $"wrote {consumer.Written}");
        await Broker.StopAsync();   // persistent messages and the durable subscription survive in the container's KahaDB
        await Broker.StartAsync();
        // The restarted container's log already holds "started" from its first start: the broker is up once it takes
        // the consumer's subscription again.
        await Engine.When([consumer], () => consumer.Connects >= 2, TimeSpan.FromSeconds(120),
            () => $"connects {consumer.Connects}, last error {consumer.LastError?.Message}");
        await PublishAsync(Port, destination, Enumerable.Range(n / 2, n / 2).Select(i => Body("cta", i)));

        await Engine.When([consumer], () => consumer.Written == n, TimeSpan.FromSeconds(120),
            () => $"written {consumer.Written} of {n}, duplicates {consumer.Duplicates}, connects {consumer.Connects}, last error {consumer.LastError?.Message}");
        await stop.CancelAsync();
        await run;
        await sink.CompleteAsync();
        Assert.True(consumer.Connects >= 2, "the consumer reconnected after the restart");
        AssertExactlyOnce(dir, n);
    }

    /// <summary>A Hermes body created at <paramref name="createdAt"/> (UTC), as hermes formats it.</summary>
    private static byte[] BodyAt(string name, DateTime createdAt, string scope = "cta") => Encoding.UTF8.GetBytes(
        $"{{\"event_type\": \"transfer-done\", \"payload\": {{\"scope\": \"{scope}\", \"name\": \"{name}\", \"request-id\": \"r-{name}\", \"bytes\": 1, " +
        $"\"src-rse\": \"ALPHA-DISK\", \"dst-rse\": \"GAMMA-SAFE\"}}, \"created_at\": \"{createdAt:yyyy-MM-dd HH:mm:ss.ffffff}\"}}");

    private static async Task SendAllAsync(StompClient publisher, IEnumerable<byte[]> bodies)
    {
        foreach (var b in bodies) await publisher.SendAsync("/topic/rucio.events", b, [new("persistent", "true"), new("event_type", "transfer-done")]);
        await publisher.SendAsync("/topic/rucio.events", BodyAt("receipt-marker", DateTime.UnixEpoch, "other"), [new("persistent", "true")], receipt: true);
    }

    [Fact]
    public async Task Two_runs_of_one_scenario_read_only_their_own_events_and_the_drain_keeps_the_last_ones()
    {
        var destination = "/topic/rucio.events";
        var startA = new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc);
        var startB = startA.AddHours(1);
        await using var publisher = await ConnectAsync(Port);

        // Run A of the scenario: its own durable subscription, its window.
        var dirA = Directory.CreateTempSubdirectory("fdr-amq-run-a").FullName;
        var sinkA = new ParquetObservationSink(dirA);
        var a = new HermesConsumer(Options(destination) with
        {
            SubscriptionName = HermesConsumer.SubscriptionNameFor("20261125-100000-cta-daily"),
            WindowStart = startA,
            DrainTime = TimeSpan.FromSeconds(10),
        }, sinkA);
        var runA = a.RunAsync(CancellationToken.None);
        await a.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));
        await SendAllAsync(publisher, Enumerable.Range(0, 300).Select(i => BodyAt($"a{i:D4}", startA.AddMilliseconds(i))));
        await Engine.When([a], () => a.Written == 300, TimeSpan.FromSeconds(60), () => $"run A wrote {a.Written} of 300");

        // The last events of A: one on the broker as the run ends, one that hermes sends while A is already finishing.
        await SendAllAsync(publisher, [BodyAt("a-at-the-end", startA.AddMinutes(9))]);
        var finishingA = a.FinishAsync(startA.AddMinutes(10), unsubscribe: true);
        await SendAllAsync(publisher, [BodyAt("a-during-the-drain", startA.AddMinutes(10).AddSeconds(-1))]);
        await finishingA.WaitAsync(TimeSpan.FromSeconds(60));
        await runA;
        await sinkA.CompleteAsync();
        Assert.True(a.Unsubscribed);
        var eventsA = new ObservationReader(dirA).Events().Select(e => e.Name!).ToList();
        Assert.Equal(302, eventsA.Count);
        Assert.Contains("a-at-the-end", eventsA);
        Assert.Contains("a-during-the-drain", eventsA);

        // Hermes keeps sending A's late events after A ended: nobody's subscription keeps them now.
        await SendAllAsync(publisher, Enumerable.Range(0, 100).Select(i => BodyAt($"a-late{i:D3}", startA.AddMinutes(10).AddSeconds(2))));

        // Run B of the same scenario: another subscription; A's leftovers never reach it, an old event on the topic is out of its window.
        var dirB = Directory.CreateTempSubdirectory("fdr-amq-run-b").FullName;
        var sinkB = new ParquetObservationSink(dirB);
        var b = new HermesConsumer(Options(destination) with
        {
            SubscriptionName = HermesConsumer.SubscriptionNameFor("20261125-110000-cta-daily"),
            WindowStart = startB,
            DrainTime = TimeSpan.FromSeconds(1),
        }, sinkB);
        var runB = b.RunAsync(CancellationToken.None);
        await b.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));
        await SendAllAsync(publisher, [BodyAt("a-straggler", startA.AddMinutes(5)), .. Enumerable.Range(0, 200).Select(i => BodyAt($"b{i:D4}", startB.AddMilliseconds(i)))]);
        await Engine.When([b], () => b.Written == 200 && b.OutOfWindow == 1, TimeSpan.FromSeconds(60),
            () => $"run B wrote {b.Written} of 200, {b.OutOfWindow} out of its window");
        await b.FinishAsync(startB.AddMinutes(10), unsubscribe: true);
        await runB;
        await sinkB.CompleteAsync();
        // 201 events and the receipt marker: not one of the 100 published while A was gone and B not yet there.
        Assert.Equal(202, b.Received);
        Assert.All(new ObservationReader(dirB).Events(), e => Assert.StartsWith("b", e.Name));
        Assert.Equal(200, new ObservationReader(dirB).Events().Count());

        // A's subscription is gone: subscribing under its name again finds nothing the broker kept for it.
        var again = new HermesConsumer(Options(destination) with { SubscriptionName = HermesConsumer.SubscriptionNameFor("20261125-100000-cta-daily"), DrainTime = TimeSpan.Zero },
            new ParquetObservationSink(Directory.CreateTempSubdirectory("fdr-amq-run-a-again").FullName));
        var runAgain = again.RunAsync(CancellationToken.None);
        await again.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));
        await SendAllAsync(publisher, [BodyAt("marker", startB)]);
        await Engine.When([again], () => again.Written >= 1 && again.Filtered >= 1, TimeSpan.FromSeconds(60), () => $"received {again.Received}");
        Assert.Equal(2, again.Received); // the marker and its receipt marker; had A's subscription survived, its 100 late events would have come first
        await again.FinishAsync(startB, unsubscribe: true);
        await runAgain;
        await publisher.DisconnectAsync();
    }
}
