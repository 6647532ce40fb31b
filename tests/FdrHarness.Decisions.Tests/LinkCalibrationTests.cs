using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Calibration;
using FdrHarness.Lake;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

/// <summary>
/// Closed loop for the links' bandwidth and concurrency ceiling: ci-smoke run with hidden link values, fitted from its
/// events.parquet alone, compared with the hidden ones. Tolerances: bandwidth ±5 % (the lake's durations are whole
/// milliseconds and the order of transfers started at one instant is not recorded), the ceiling exact where the link was
/// saturated; a link never saturated tells no ceiling and says so.
/// </summary>
public sealed class LinkCalibrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fdr-links-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static LinkOverride Link(string src, string dst, string? bandwidth = null, int? maxActive = null) => new()
    {
        Source = RseExpression.Parse(src), Destination = RseExpression.Parse(dst),
        Bandwidth = bandwidth is null ? null : Bandwidth.TryParse(bandwidth, out var b, out _) ? b : throw new ArgumentException(bandwidth),
        MaxActive = maxActive,
    };

    /// <summary>ci-smoke with its links' bandwidths and ceilings moved: slow, narrow links into GAMMA-SAFE, fast ones into DELTA-SAFE.</summary>
    private static Scenario Hidden(Scenario s) => s with
    {
        Links = s.Links with
        {
            Overrides = [.. s.Links.Overrides, Link("*", "GAMMA-SAFE", "120 MB/s", 6), Link("*", "DELTA-SAFE", "900 MB/s", 20), Link("ALPHA-DISK", "BETA-DISK", "300 MB/s")],
        },
    };

    private List<LinkFit> RunAndFit(Scenario hidden)
    {
        Directory.CreateDirectory(_dir);
        using (var sink = new ParquetObservationSink(_dir))
            EmbeddedLake.Run(hidden, sink);
        return LinkCalibration.Fit(new ObservationReader(_dir));
    }

    [Fact]
    public void Calibrated_from_a_run_with_hidden_link_values_the_bandwidths_and_ceilings_match_the_hidden_ones()
    {
        var scenario = Load("ci-smoke.yaml");
        var hidden = Hidden(scenario);
        var links = RunAndFit(hidden);
        var problems = new List<string>();
        var (bandwidths, ceilings, unsaturated) = (0, 0, 0);
        foreach (var l in links)
        {
            var truth = LinkCalibration.InScenario(hidden, l.Source, l.Destination);
            if (l.Bandwidth is { } b)
            {
                bandwidths++;
                if (Math.Abs(b - truth.Bandwidth) > 0.05 * truth.Bandwidth)
                    problems.Add($"{l.Source}->{l.Destination}: bandwidth {b / 1e6:0.0} MB/s, hidden {truth.Bandwidth / 1e6:0.0}");
                // The interval is honest: it holds the hidden value.
                if (Math.Abs(b - truth.Bandwidth) > l.BandwidthHalfWidth + 0.001 * truth.Bandwidth)
                    problems.Add($"{l.Source}->{l.Destination}: hidden {truth.Bandwidth / 1e6:0.0} MB/s outside {b / 1e6:0.0} ± {l.BandwidthHalfWidth / 1e6:0.00}");
            }
            else if (l.DoneTransfers >= LinkCalibration.MinTransfers) problems.Add($"{l.Source}->{l.Destination}: {l.DoneTransfers} done transfers but no bandwidth");
            else Assert.Contains("too few to tell", l.BandwidthNote);
            if (l.MaxActive is { } m)
            {
                ceilings++;
                if (m != truth.MaxActive) problems.Add($"{l.Source}->{l.Destination}: max_active {m}, hidden {truth.MaxActive}");
            }
            else
            {
                unsaturated++;
                Assert.Contains("never saturated", l.MaxActiveNote);
                Assert.True(l.PeakActive <= truth.MaxActive, $"{l.Source}->{l.Destination}: {l.PeakActive} active above the ceiling {truth.MaxActive}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The loop must have exercised all three: bandwidths told on the 4 busy links (ci-smoke's other 8 carry 3-4
        // transfers: too few), ceilings where they were reached, and links never saturated.
        Assert.True(bandwidths >= 4, $"only {bandwidths} bandwidths told");
        Assert.True(ceilings >= 2, $"only {ceilings} ceilings told");
        Assert.True(unsaturated >= 1, "every link was saturated");

        // The overlay writes what the run contradicts the scenario on, and merged over the unperturbed scenario gives the hidden links back.
        var file = Path.Combine(_dir, "calibration.yaml");
        File.WriteAllText(file, CalibrationFile.Yaml(new Calibration.Calibration(scenario.Run.Name, [], links, 0), _dir, scenario));
        var text = File.ReadAllText(file);
        Assert.Contains("never saturated", text);
        var loaded = ScenarioLoader.Load(RepoPaths.Scenario("ci-smoke.yaml"), overlays: [file]);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics) + "\n" + text);
        foreach (var l in links.Where(l => l.Bandwidth is not null))
        {
            var truth = LinkCalibration.InScenario(hidden, l.Source, l.Destination);
            var merged = LinkCalibration.InScenario(loaded.Scenario!, l.Source, l.Destination);
            Assert.True(Math.Abs(merged.Bandwidth - truth.Bandwidth) <= 0.05 * truth.Bandwidth, $"{l.Source}->{l.Destination}: merged {merged.Bandwidth / 1e6:0.0} MB/s, hidden {truth.Bandwidth / 1e6:0.0}\n{text}");
            if (l.MaxActive is not null) Assert.Equal(truth.MaxActive, merged.MaxActive);
        }
    }

    [Fact]
    public void On_a_run_of_the_scenarios_own_links_every_told_value_is_the_scenarios_and_none_is_written()
    {
        var scenario = Load("ci-smoke.yaml");
        var links = RunAndFit(scenario);
        Assert.Contains(links, l => l.Bandwidth is not null);
        foreach (var l in links)
        {
            Assert.Null(LinkCalibration.BandwidthToWrite(l, scenario));
            Assert.Null(LinkCalibration.MaxActiveToWrite(l, scenario));
        }
        var yaml = CalibrationFile.Yaml(new Calibration.Calibration(scenario.Run.Name, [], links, 0), _dir, scenario);
        Assert.Contains("within it: kept", yaml);
        Assert.DoesNotContain(CalibrationFile.Overrides(new Calibration.Calibration(scenario.Run.Name, [], links, 0), scenario), o => o.Bandwidth is not null || o.MaxActive is not null);
    }
}
