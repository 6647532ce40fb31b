using System.Diagnostics;
using System.Globalization;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using MathNet.Numerics.Statistics;

// Micro-benchmarks of FdrHarness.Core, one verb each: dotnet run -c Release --project bench/FdrHarness.Bench -- <verb> [options]
return args.Length == 0 ? Usage() : args[0] switch
{
    "synthetic" => SyntheticBench.Run(new Options(args.AsSpan(1).ToArray())),
    "lake" => LakeBenchmark.Run(args.AsSpan(1).ToArray()),
    "lake-scaling" => LakeScalingBenchmark.Run(args.AsSpan(1).ToArray()),
    "lake-invariants" => LakeInvariantsBench.Run(new Options(args.AsSpan(1).ToArray())),
    "sink" => SinkBench.Run(new Options(args.AsSpan(1).ToArray())),
    "rucio-register" => RucioBenchmarks.Register(args.AsSpan(1).ToArray()),
    "http-sink" => RucioBenchmarks.ServeSink(),
    "rucio-catalog" => CatalogBenchmark.Run(args.AsSpan(1).ToArray()),
    "rucio-double" => CatalogBenchmark.ServeDouble(),
    "hermes-consume" => HermesConsumeBenchmark.Run(args.AsSpan(1).ToArray()),
    "validate" when args.Length > 1 => ValidateBench.Run(args[1], new Options(args.AsSpan(2).ToArray())),
    "main-job" => MainJobBenchmark.Run(args.AsSpan(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FdrHarness.Bench <verb> [options]");
    Console.Error.WriteLine("  synthetic [--files N] [--runs R] [--seed S]   synthetic file generation vs a System.Random baseline");
    Console.Error.WriteLine("  lake <scenario.yaml> [--scale F] [--seed N] [--limits takeaway]   the embedded data lake with a counting sink");
    Console.Error.WriteLine("  lake-scaling <scenario.yaml> [--scales 0.1,0.2,0.5,1,2,5,10] [--runs N] [--scale-capacity]   the lake at each scale (quotas scaled too; daemons, links and nodes with --scale-capacity), each run in a fresh process: medians and the log-log fit of wall on events (slope, R²)");
    Console.Error.WriteLine("  lake-invariants [--scenarios N] [--from SEED]   generated scenarios run into Parquet files and every invariant recomputed (the Lake tests' property test, more seeds)");
    Console.Error.WriteLine("  sink [--events N] [--runs R] [--row-group N] [--compression 0|1|2]   Parquet observation sink: events/s, bytes/event (compression: none, snappy, zstd)");
    Console.Error.WriteLine("  rucio-register [--files N] [--batch N] [--concurrency N] [--wrk-seconds S] [--runs R]   POST /replicas through the catalog operations (the live target's path) to a local HTTP sink (its own process), then wrk with the same body");
    Console.Error.WriteLine("  http-sink   the sink alone: prints its port, answers 201 to every request until stdin closes");
    Console.Error.WriteLine("  rucio-catalog [--files N] [--chunk N] [--concurrency N] [--pairs P] [--aa 0|1] [--margin 0.02] [--repeat K] [--targets rucio-double,http-sink]   replica registration through the catalog operations beside a plain loop of the same bulk calls, in pairs with A/A control pairs, against the Rucio double and the HTTP sink (each in its own process)");
    Console.Error.WriteLine("  rucio-double   the Rucio double alone (RSE MOCK, scope cta): prints its port, serves until stdin closes");
    Console.Error.WriteLine("  validate <scenario.yaml> [--runs R]   read, bind, budget and validate a scenario in-process (what fdr validate does after start-up): median and slowest");
    Console.Error.WriteLine("  hermes-consume [--host H] [--port P] [--events N] [--runs R] [--prefetch N] [--broker-pid PID] [--persistent 0|1]   Hermes messages from ActiveMQ beside a raw reader (scripts/bench-rucio.sh starts the broker)");
    Console.Error.WriteLine("  main-job --base OLD/fdr.dll [--new NEW/fdr.dll] [--scenario S] [--runs N] [--verb run|report|calibrate]   the main job (or fdr report, fdr calibrate) by two builds side by side (alternated): medians of wall, CPU, peak RSS, the ratio, outputs compared byte for byte");
    return 2;
}

/// <summary>--name value pairs.</summary>
internal sealed class Options(string[] args)
{
    public long Long(string name, long fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1].Replace("_", ""), CultureInfo.InvariantCulture) : fallback;
    }

    public string Text(string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

internal static class SyntheticBench
{
    // Shaped like the ESCAPE FDR (2020): files injected per experiment and plausible size distributions.
    private static readonly ExperimentSpec[] Escape =
    [
        Spec("CTA", 508_900, new LognormalSize { Mean = ByteSize.Parse("10 MB"), Sigma = 1.0 }),
        Spec("LSST", 164_800, new LognormalSize { Mean = ByteSize.Parse("18.5 MB"), Sigma = 0.8 }),
        Spec("SKA", 127_700, new LognormalSize { Mean = ByteSize.Parse("300 MB"), Sigma = 1.2, Max = ByteSize.Parse("20 GB") }, perContainer: 50),
        Spec("EGO-VIRGO", 14_900, new FixedSize { Size = ByteSize.Parse("86.4 KB") }),
        Spec("ATLAS", 3_308, new LognormalSize { Mean = ByteSize.Parse("235 MB"), Sigma = 0.7 }),
        Spec("MAGIC", 1_289, new FixedSize { Size = ByteSize.Parse("573 MB") }, perDataset: 100, perContainer: 10),
        Spec("LOFAR", 426, new LognormalSize { Mean = ByteSize.Parse("2 GB"), Sigma = 0.5 }),
        Spec("CMS", 385, new LognormalSize { Mean = ByteSize.Parse("2.5 GB"), Sigma = 0.5 }),
        Spec("FAIR", 142, new FixedSize { Size = ByteSize.Parse("1 GB") }),
    ];

    private static ExperimentSpec Spec(string name, long files, FileSizeDistribution size, int perDataset = 1000, int perContainer = 0) =>
        new() { Name = name, Files = files, FileSize = size, FilesPerDataset = perDataset, DatasetsPerContainer = perContainer };

    public static int Run(Options options)
    {
        var files = options.Long("files", 1_000_000);
        var runs = (int)options.Long("runs", 7);
        var seed = options.Long("seed", 2020);
        var scale = files / (double)Escape.Sum(e => e.Files);
        Console.WriteLine($"synthetic: {files:N0} files requested (scale {scale:0.####} of ESCAPE's {Escape.Sum(e => e.Files):N0}), {runs} runs, seed {seed}, {Environment.ProcessorCount} cores, single thread");

        // Untimed: build the shared content (1 MiB pattern + prefix checksums) and the vocabularies once per run, as a real run does.
        SyntheticFileGenerator[] Ours() => SyntheticFileGenerator.ForExperiments(seed, Escape, scale).ToArray();
        var content = Ours()[0].Content;

        // Warm-up (tiered JIT), then alternate so both see the same machine state.
        Measure(() => Digest(Ours()));
        Measure(() => Baseline(seed, scale, content, full: false).Digest);
        var ours = new List<double>();
        var enumerated = new List<double>();
        var baseline = new List<double>();
        long count = 0;
        for (var r = 0; r < runs; r++)
        {
            var gens = Ours();
            ours.Add(Measure(() => Digest(gens)));
            gens = Ours();
            enumerated.Add(Measure(() => DigestEnumerated(gens)));
            baseline.Add(Measure(() => Baseline(seed, scale, content, full: false).Digest));
            count = gens.Sum(g => g.Count);
        }
        double Rate(List<double> seconds) => count / Statistics.Median(seconds);

        // Untimed verification: full hashes of every field.
        var first = FullChecksum(Ours());
        var second = FullChecksum(SyntheticFileGenerator.ForExperiments(seed, Escape, scale).ToArray());
        var basic = Baseline(seed, scale, content, full: true);
        var random = new SyntheticFileGenerator(seed, Escape[0], scale, content);
        var sample = random.GetFile(random.Count / 2);
        var spot = random.Enumerate(random.Count / 2, 1).Single() == sample;

        Console.WriteLine($"  ours (Fill, 4096-file chunks)   median {Rate(ours),13:N0} files/s  ({Statistics.Median(ours) * 1000:0.0} ms per run)");
        Console.WriteLine($"  ours (IEnumerable)              median {Rate(enumerated),13:N0} files/s  ({Statistics.Median(enumerated) * 1000:0.0} ms per run)");
        Console.WriteLine($"  baseline (System.Random, $\"\")   median {Rate(baseline),13:N0} files/s  ({Statistics.Median(baseline) * 1000:0.0} ms per run)");
        Console.WriteLine($"  ratio ours/baseline             {Rate(ours) / Rate(baseline):0.00}x (IEnumerable {Rate(enumerated) / Rate(baseline):0.00}x)");
        Console.WriteLine($"  files: ours {first.Count:N0}, baseline {basic.Count:N0} {(first.Count == basic.Count ? "(same count)" : "(COUNTS DIFFER)")}");
        Console.WriteLine($"  checksum ours run 1 {first.Hash:x16}, run 2 {second.Hash:x16} {(first == second ? "(identical)" : "(DIFFERENT)")}; baseline {basic.Digest:x16}");
        Console.WriteLine($"  GetFile({random.Count / 2}) equals the streamed file: {spot} ({sample.Name}, {sample.Bytes} B, adler32 {sample.Adler32Hex})");
        return first == second && first.Count == basic.Count && spot ? 0 : 1;
    }

    private static double Measure(Func<ulong> work)
    {
        var sw = Stopwatch.StartNew();
        var digest = work();
        sw.Stop();
        GC.KeepAlive(digest);
        return sw.Elapsed.TotalSeconds;
    }

    // Cheap fold of every field so nothing is optimised away; the same for both sides.
    private static ulong Fold(ulong d, string name, string dataset, string? container, long bytes, uint adler) =>
        d * 31 + (ulong)name.Length + (ulong)dataset.Length + (ulong)(container?.Length ?? 0) + (ulong)bytes + adler + name[^1];

    private static ulong Digest(SyntheticFileGenerator[] generators)
    {
        ulong d = 0;
        var buffer = new SyntheticFile[4096];
        foreach (var g in generators)
        {
            int n;
            for (long next = 0; (n = g.Fill(next, buffer)) > 0; next += n)
                foreach (ref readonly var f in buffer.AsSpan(0, n))
                    d = Fold(d, f.Name, f.Dataset, f.Container, f.Bytes, f.Adler32);
        }
        return d;
    }

    private static ulong DigestEnumerated(SyntheticFileGenerator[] generators)
    {
        ulong d = 0;
        foreach (var g in generators)
            foreach (var f in g)
                d = Fold(d, f.Name, f.Dataset, f.Container, f.Bytes, f.Adler32);
        return d;
    }

    private readonly record struct Checksum(long Count, ulong Hash);

    private static ulong Hash(ulong h, string? s) => StableHash.Of(h, s ?? "");

    private static Checksum FullChecksum(SyntheticFileGenerator[] generators)
    {
        ulong h = 0;
        long count = 0;
        foreach (var g in generators)
            foreach (var f in g)
            {
                h = Hash(Hash(Hash(Hash(h, f.Scope), f.Name), f.Dataset), f.Container);
                h = StableHash.Combine(StableHash.Combine(h, (ulong)f.Bytes), f.Adler32);
                count++;
            }
        return new(count, h);
    }

    private readonly record struct BaselineResult(long Count, ulong Digest);

    /// <summary>
    /// What one would write first: a seeded System.Random per experiment, Box–Muller lognormal sizes, names and
    /// dataset names by string interpolation for every file, and the same O(log n) checksum math for the content.
    /// </summary>
    private static BaselineResult Baseline(long seed, double scale, SyntheticContent content, bool full)
    {
        ulong d = 0;
        long count = 0;
        foreach (var e in Escape)
        {
            var scope = e.EffectiveScope;
            var random = new Random(unchecked((int)StableHash.Of((ulong)seed, scope)));
            var scopeKey = content.ScopeKey(scope);
            var n = (long)Math.Round(e.Files * scale, MidpointRounding.AwayFromZero);
            string[] tiers = ["raw", "DL1", "calexp"];
            for (long i = 0; i < n; i++)
            {
                long bytes;
                if (e.FileSize is LognormalSize l)
                {
                    var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    var mu = Math.Log(l.Mean.Bytes) - l.Sigma * l.Sigma / 2;
                    bytes = Math.Clamp((long)Math.Round(Math.Exp(mu + l.Sigma * z)), l.Min.Bytes, l.Max?.Bytes ?? long.MaxValue / 4);
                }
                else
                {
                    bytes = ((FixedSize)e.FileSize).Size.Bytes;
                }
                var datasetIndex = i / e.FilesPerDataset;
                var tier = tiers[random.Next(tiers.Length)];
                var name = scope switch
                {
                    "cta" => $"cta.run{5000 + i / 300:D6}.LST{random.Next(1, 5)}.{tier}.subrun{i % 300:D4}.h5",
                    "lsst" => $"{tier}_LSSTCam_{"ugrizy"[random.Next(6)]}_{135000 + i / 189:D8}_R{i % 189 / 9:D2}_S{i % 9:D2}_w_2022_{random.Next(1, 53):D2}.fits",
                    "ska" => $"SKA1-Low_EoR{random.Next(2)}_eb{82000 + i / 512:D7}_{tier}_ch{i % 512:D4}.fits",
                    "ego-virgo" => $"V-V1Online-{1250000000 + i * 4096}-4096.gwf",
                    "atlas" => $"data18_13TeV.{303770 + i / 2000:D8}.physics_Main.daq.RAW._lb{i % 2000 / 4 + 1:D4}._SFO-{i % 4 + 1}._0001.data",
                    "magic" => $"20190103_M{random.Next(1, 3)}_{5050417 + i / 500:D8}.{i % 500 + 1:D3}_Y_Mrk421-W0.40+035.root",
                    "lofar" => $"L{712157 + i / 244:D6}_SAP000_SB{i % 244:D3}_uv.MS_{random.Next():x8}.tar",
                    "cms" => $"Run2018B_EGamma_MINIAOD_UL2018-v1_{i:X8}-{random.Next(65536):X4}-{random.Next(65536):X4}-{random.Next(65536):X4}-{random.NextInt64(1L << 48):X12}.root",
                    _ => $"{scope}_run{2263 + i / 200:D5}_{i % 200:D4}.root",
                };
                var dataset = $"{scope}.fdr.{tier}.ds{datasetIndex:D6}";
                var container = e.DatasetsPerContainer > 0 ? $"{scope}.fdr.cont{datasetIndex / e.DatasetsPerContainer:D5}" : null;
                var adler = content.ComputeAdler32(scopeKey, i, bytes);
                d = full
                    ? StableHash.Combine(StableHash.Combine(Hash(Hash(Hash(Hash(d, scope), name), dataset), container), (ulong)bytes), adler)
                    : Fold(d, name, dataset, container, bytes, adler);
                count++;
            }
        }
        return new(count, d);
    }
}

internal static class ValidateBench
{
    public static int Run(string path, Options options)
    {
        var runs = (int)options.Long("runs", 20);
        var first = Stopwatch.StartNew();
        var result = FdrHarness.Core.Scenarios.ScenarioLoader.Load(path);
        first.Stop();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            FdrHarness.Core.Scenarios.ScenarioLoader.Load(path);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validate {path}: {(result.Ok ? "valid" : $"refused, {result.Diagnostics.Count} diagnostics")}; first (JIT included) {first.Elapsed.TotalMilliseconds:0} ms, then median {times[times.Count / 2]:0.0} ms, slowest {times[^1]:0.0} ms over {runs} runs"));
        return 0;
    }
}
