using System.Diagnostics;
using System.Globalization;
using MathNet.Numerics.Statistics;

/// <summary>
/// main-job --base OLD/fdr.dll [--new NEW/fdr.dll] [--scenario S] [--runs N] [--verb run|report|calibrate]: the main job
/// run by two builds side by side, alternating (A B A B ...) so both see the same load, each measured by /usr/bin/time
/// (wall, user and system CPU, peak RSS); medians and the ratio old/new; the outputs compared byte for byte. report
/// rebuilds each build's own run's report; calibrate fits one run (made by the new build) with both builds, whose
/// calibration files are expected to differ when the fit changed.
/// </summary>
/// <remarks>Copy a build's bin/Release/net10.0 folder aside before changing the code; that copy is --base.</remarks>
internal static class MainJobBenchmark
{
    // The files a speed change must leave byte-identical.
    private static readonly string[] Outputs = ["events.parquet", "samples.parquet", "lifecycle.parquet", "faults.parquet", "summary.json", "transfer-matrix.csv"];

    public static int Run(string[] args)
    {
        string? Arg(string name)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var baseDll = Arg("base");
        if (baseDll is null || !File.Exists(baseDll))
        {
            Console.Error.WriteLine("usage: FdrHarness.Bench main-job --base OLD/fdr.dll [--new NEW/fdr.dll] [--scenario S] [--runs N] [--verb run|report|calibrate]");
            return 2;
        }
        var newDll = Arg("new") ?? "src/FdrHarness.Cli/bin/Release/net10.0/fdr.dll";
        var scenario = Arg("scenario") ?? "scenarios/escape-fdr-2020.yaml";
        var runs = int.Parse(Arg("runs") ?? "5", CultureInfo.InvariantCulture);
        var verb = Arg("verb") ?? "run";
        var root = Directory.CreateTempSubdirectory("fdr-main-job-").FullName;
        var builds = new[] { ("base", baseDll), ("new", newDll) };
        var figures = builds.ToDictionary(b => b.Item1, _ => new List<Figure>());
        try
        {
            var shared = Path.Combine(root, "run");
            if (verb == "report")
                foreach (var (name, dll) in builds) Measure(dll, ["run", scenario, "--out", Path.Combine(root, name)]);
            else if (verb == "calibrate")
                Measure(newDll, ["run", scenario, "--out", shared]);
            for (var r = 0; r < runs; r++)
            {
                foreach (var (name, dll) in builds)
                {
                    var dir = Path.Combine(root, name);
                    if (verb == "run" && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                    var f = Measure(dll, verb switch
                    {
                        "run" => ["run", scenario, "--out", dir],
                        "calibrate" => ["calibrate", shared, "--out", Path.Combine(root, name + "-calibration.yaml")],
                        _ => ["report", dir],
                    });
                    figures[name].Add(f);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {name,-4} run {r + 1}: {f.Wall:0.00} s wall, {f.Cpu:0.00} s CPU, {f.RssMiB:0} MiB peak RSS (load {Machine.LoadAverage()})"));
                }
            }
            var a = Median(figures["base"]);
            var b = Median(figures["new"]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fdr {verb} {(verb == "report" ? "" : scenario)}, medians of {runs} alternated runs:"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  base {a.Wall:0.00} s wall, {a.Cpu:0.00} s CPU, {a.RssMiB:0} MiB"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  new  {b.Wall:0.00} s wall, {b.Cpu:0.00} s CPU, {b.RssMiB:0} MiB"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  base/new: {a.Wall / b.Wall:0.00}× wall, {a.Cpu / b.Cpu:0.00}× CPU"));
            // Each pair ran back to back, so its ratio holds whatever speed the machine had then: the host's speed drifts
            // by a third within minutes here, which moves both medians but much less each pair's ratio.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per pair base/new: wall {PairRatios(figures, f => f.Wall)}; CPU {PairRatios(figures, f => f.Cpu)}"));
            if (verb == "calibrate") return 0;
            var differ = Outputs.Where(o => !SameBytes(Path.Combine(root, "base", o), Path.Combine(root, "new", o))).ToList();
            Console.WriteLine(differ.Count == 0 ? $"  outputs identical ({string.Join(", ", Outputs)})" : $"  OUTPUTS DIFFER: {string.Join(", ", differ)}");
            return differ.Count == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private readonly record struct Figure(double Wall, double Cpu, double RssMiB);

    /// <summary>
    /// The median of the pairs' base/new ratios, its 95 % confidence interval and their range: the interval is the k-th
    /// smallest and k-th largest ratio, k the largest with P(Binomial(n, ½) &lt; k) ≤ 2.5 % (distribution-free; none
    /// below 6 pairs).
    /// </summary>
    private static string PairRatios(Dictionary<string, List<Figure>> figures, Func<Figure, double> of)
    {
        var r = figures["base"].Zip(figures["new"], (x, y) => of(x) / of(y)).Order().ToArray();
        var k = 0;
        while (MathNet.Numerics.Distributions.Binomial.CDF(0.5, r.Length, k) <= 0.025) k++;
        var interval = k == 0 ? "no 95 % interval with so few pairs" : $"95 % interval {r[k - 1]:0.00}-{r[^k]:0.00}×";
        return string.Create(CultureInfo.InvariantCulture, $"{r.Median():0.00}× ({interval}, range {r[0]:0.00}-{r[^1]:0.00}×)");
    }

    private static Figure Median(List<Figure> f) => new(f.Select(x => x.Wall).Median(), f.Select(x => x.Cpu).Median(), f.Select(x => x.RssMiB).Median());

    private static Figure Measure(string dll, string[] args)
    {
        var times = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["-f", "%e %U %S %M", "-o", times, "dotnet", dll, .. args]) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            // fdr run exits 99 when the scenario's thresholds fail: still a measured run.
            if (p.ExitCode is not (0 or 99)) throw new InvalidOperationException($"dotnet {dll} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
            var w = File.ReadAllLines(times).Last().Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            return new Figure(w[0], w[1] + w[2], w[3] / 1024);
        }
        finally
        {
            File.Delete(times);
        }
    }

    private static bool SameBytes(string a, string b) =>
        File.Exists(a) && File.Exists(b) && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
}
