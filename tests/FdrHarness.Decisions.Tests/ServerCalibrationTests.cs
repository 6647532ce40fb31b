using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Synthetic;
using FdrHarness.Decisions.Calibration;
using FdrHarness.Rucio.Load;

namespace FdrHarness.Decisions.Tests;

/// <summary>
/// Closed loop for the server's latency per call kind: calls with hidden lognormal latencies (a median and a sigma per
/// kind) recorded as a live run records them (OperationStats' HdrHistogram, then api-latency.csv), fitted from the file
/// alone. Tolerances: median ±5 % and inside its own 95 % interval, sigma ±15 %; a kind with too few calls is not told.
/// </summary>
public sealed class ServerCalibrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fdr-server-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly (string Operation, double MedianMs, double Sigma, int Calls)[] Hidden =
    [
        ("add_replicas", 120, 0.5, 4000),
        ("add_rule", 40, 0.8, 1500),
        ("get_did", 8, 0.3, 20000),
        ("set_metadata", 15, 0.4, 5),
    ];

    [Fact]
    public void Calibrated_from_hidden_latencies_each_call_kinds_median_and_spread_come_back()
    {
        var stats = new OperationStats();
        var rng = new SplitMix64(StableHash.Of(16, "server-latency"));
        foreach (var (op, median, sigma, calls) in Hidden)
            for (var i = 0; i < calls; i++)
                stats.Record(op, TimeSpan.FromMilliseconds(median * Math.Exp(sigma * rng.NextGaussian())), OperationResult.Ok, 200);
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, ApiLatencyFile.FileName), ApiLatencyFile.ToCsv(stats.Rows()));

        var fits = ServerCalibration.Fit(_dir);
        Assert.Equal(Hidden.Length, fits.Count);
        var problems = new List<string>();
        foreach (var (op, median, sigma, calls) in Hidden)
        {
            var f = fits.Single(x => x.Operation == op);
            if (calls < ServerCalibration.MinCalls)
            {
                Assert.Null(f.MedianMs);
                Assert.Contains("too few to tell", f.Note);
                continue;
            }
            var m = f.MedianMs!.Value;
            if (Math.Abs(m - median) > 0.05 * median) problems.Add($"{op}: median {m:0.###} ms, hidden {median}");
            if (Math.Abs(m - median) > f.MedianHalfWidthMs) problems.Add($"{op}: hidden median {median} outside {m:0.###} ± {f.MedianHalfWidthMs:0.###}");
            if (Math.Abs(f.Sigma!.Value - sigma) > 0.15 * sigma) problems.Add($"{op}: sigma {f.Sigma:0.###}, hidden {sigma}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        // Written under calibration: (not a scenario key), the overlay still loads.
        var file = Path.Combine(_dir, "calibration.yaml");
        File.WriteAllText(file, CalibrationFile.Yaml(new Calibration.Calibration("ci-smoke", [], [], 0), _dir, null, fits));
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml"), overlays: [file]);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics) + "\n" + File.ReadAllText(file));
        Assert.NotNull(loaded.Calibrations.Single()["server_latency"]);
    }

    [Fact]
    public void A_run_without_api_latency_has_no_server_fit()
    {
        Directory.CreateDirectory(_dir);
        Assert.Empty(ServerCalibration.Fit(_dir));
        Assert.Equal("", ServerCalibration.Yaml([]));
    }
}
