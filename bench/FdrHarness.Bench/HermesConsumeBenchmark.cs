using System.Diagnostics;
using System.Globalization;
using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Rucio.Stomp;
using MathNet.Numerics.Statistics;

/// <summary>
/// hermes-consume: Hermes messages from ActiveMQ into a counting sink, beside the broker's ceiling. Each run, on fresh
/// queues of the same size:
///   1. the harness's <see cref="HermesConsumer"/> on a queue filled first (the broker serves only the consumer, as after
///      a Hermes burst) — the headline figure;
///   2. <see cref="RawStompReader"/> on a queue filled first, acknowledging every message as the consumer does — the ceiling;
///   3. the harness's consumer while the publisher is still sending (the broker serves both on the same two cores).
/// One warm-up pass first, not counted. Prints each run and the medians; CPU seconds of this process and of the broker
/// (--broker-pid) per 100 k messages.
/// </summary>
internal static class HermesConsumeBenchmark
{
    private const int Target = 20_000;

    public static int Run(string[] args)
    {
        var o = new Options(args);
        var host = o.Text("host", "127.0.0.1");
        var port = (int)o.Long("port", 61613);
        var n = (int)o.Long("events", 100_000); // more would hit the broker's memory limit (-Xmx512m) and its producer flow control
        var runs = (int)o.Long("runs", 5);
        var prefetch = (int)o.Long("prefetch", 5000);
        var brokerPid = (int)o.Long("broker-pid", 0);
        var persistent = o.Long("persistent", 0) == 1;
        Console.WriteLine($"hermes-consume: {runs} runs of {n:N0} Hermes messages ({(persistent ? "persistent" : "non-persistent")}) through ActiveMQ at {host}:{port}, prefetch {prefetch}, {Environment.ProcessorCount} cores, load {Machine.LoadAverage(3)}");

        // Warm-up, not counted: a freshly started broker's JIT makes its first 100 k deliveries about half as fast (and ours too).
        var warmUp = $"/queue/fdr.bench.{Environment.ProcessId}.warm-up";
        Publish(host, port, warmUp, n, persistent).GetAwaiter().GetResult();
        Console.WriteLine($"warm-up (not counted): harness {ConsumeWithHarness(host, port, warmUp, n, prefetch, publishing: null).Rate:N0} events/s");

        var filled = new List<double>();
        var ceiling = new List<double>();
        var concurrent = new List<double>();
        for (var r = 1; r <= runs; r++)
        {
            var queue = $"/queue/fdr.bench.{Environment.ProcessId}.{r}";

            Publish(host, port, queue + ".harness", n, persistent).GetAwaiter().GetResult();
            var cpu = Cpu.Start(brokerPid);
            var (rate, consumer) = ConsumeWithHarness(host, port, queue + ".harness", n, prefetch, publishing: null);
            filled.Add(rate);
            Console.WriteLine($"run {r}: harness, queue filled first:   {rate,8:N0} events/s  {cpu.Report(n)}  (duplicates {consumer.Duplicates}, connections {consumer.Connects}{Error(consumer)})");

            Publish(host, port, queue + ".raw", n, persistent).GetAwaiter().GetResult();
            cpu = Cpu.Start(brokerPid);
            var raw = n / RawStompReader.Consume(host, port, queue + ".raw", n, prefetch).TotalSeconds;
            ceiling.Add(raw);
            Console.WriteLine($"run {r}: raw reader (ceiling):         {raw,8:N0} events/s  {cpu.Report(n)}");

            cpu = Cpu.Start(brokerPid);
            (rate, consumer) = ConsumeWithHarness(host, port, queue + ".live", n, prefetch, publishing: () => Publish(host, port, queue + ".live", n, persistent));
            concurrent.Add(rate);
            Console.WriteLine($"run {r}: harness, while publishing:    {rate,8:N0} events/s  {cpu.Report(n)}  (duplicates {consumer.Duplicates}, connections {consumer.Connects}{Error(consumer)})");
        }

        double filledMedian = Statistics.Median(filled), ceilingMedian = Statistics.Median(ceiling), concurrentMedian = Statistics.Median(concurrent);
        Console.WriteLine($"medians of {runs}, load {Machine.LoadAverage(3)}: harness {filledMedian:N0} events/s (queue filled first), raw reader {ceilingMedian:N0} (ceiling), " +
                          $"harness/raw = {filledMedian / ceilingMedian:0.00}; harness while publishing {concurrentMedian:N0}");
        var ok = filledMedian >= Target;
        Console.WriteLine(ok ? $"PASS: >= {Target:N0} events/s" : $"BELOW TARGET: {Target:N0} events/s");
        return ok ? 0 : 1;
    }

    private static string Error(HermesConsumer c) => c.LastError is { } e ? ", last error: " + e.Message : "";

    /// <summary>Consumes <paramref name="n"/> events; the rate counts from the first event to the last (connection set-up excluded).</summary>
    private static (double Rate, HermesConsumer Consumer) ConsumeWithHarness(string host, int port, string destination, int n, int prefetch, Func<Task>? publishing)
    {
        var consumer = new HermesConsumer(new HermesConsumerOptions
        {
            Broker = new Uri($"stomp://{host}:{port}"),
            Destination = destination,
            Scopes = new HashSet<string> { "cta" },
            Prefetch = prefetch,
        }, new EventCountingSink());
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync(stop.Token);
        consumer.Subscribed.Wait(TimeSpan.FromMinutes(1));
        var publisher = publishing?.Invoke();
        var sw = Stopwatch.StartNew();
        while (consumer.Written == 0 && sw.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(1);
        var first = sw.Elapsed;
        while (consumer.Written < n && sw.Elapsed < TimeSpan.FromMinutes(5)) Thread.Sleep(1);
        var elapsed = sw.Elapsed - first;
        stop.Cancel();
        run.GetAwaiter().GetResult();
        publisher?.GetAwaiter().GetResult();
        return (consumer.Written / elapsed.TotalSeconds, consumer);
    }

    /// <summary>Hermes' message body; non-persistent by default: KahaDB's fsync per message would measure the disk, not the consumer.</summary>
    private static async Task Publish(string host, int port, string destination, int n, bool persistent)
    {
        await using var p = await StompClient.ConnectAsync(new StompConnectOptions { Host = host, Port = port });
        for (var i = 0; i < n; i++)
        {
            var body = Encoding.UTF8.GetBytes(
                $"{{\"event_type\": \"transfer-done\", \"payload\": {{\"scope\": \"cta\", \"name\": \"f{i:D8}\", \"request-id\": \"r{i}\", \"bytes\": {i}, \"src-rse\": \"ALPHA-DISK\", \"dst-rse\": \"GAMMA-SAFE\", \"activity\": \"User Subscriptions\"}}, \"created_at\": \"2026-11-25 10:00:00.{i % 1_000_000:D6}\"}}");
            await p.SendAsync(destination, body, [new("persistent", persistent ? "true" : "false"), new("event_type", "transfer-done")],
                receipt: (i + 1) % 2000 == 0 || i == n - 1);
        }
        await p.DisconnectAsync();
    }

    /// <summary>CPU seconds used by this process and by the broker's JVM (from /proc) since Start.</summary>
    private sealed class Cpu
    {
        private readonly int _brokerPid;
        private readonly TimeSpan _self;
        private readonly double _broker;

        private Cpu(int brokerPid)
        {
            _brokerPid = brokerPid;
            _self = Process.GetCurrentProcess().TotalProcessorTime;
            _broker = BrokerSeconds(brokerPid);
        }

        public static Cpu Start(int brokerPid) => new(brokerPid);

        public string Report(int n)
        {
            var per = 100_000.0 / n;
            var self = (Process.GetCurrentProcess().TotalProcessorTime - _self).TotalSeconds * per;
            var broker = _brokerPid > 0 ? $", broker {(BrokerSeconds(_brokerPid) - _broker) * per:0.00}" : "";
            return $"CPU s per 100 k: bench {self:0.00}{broker}";
        }

        // utime + stime (fields 14 and 15 of /proc/PID/stat) in clock ticks of 1/100 s.
        private static double BrokerSeconds(int pid)
        {
            if (pid <= 0) return 0;
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
    }
}
