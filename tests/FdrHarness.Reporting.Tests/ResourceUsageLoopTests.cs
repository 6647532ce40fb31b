using FdrHarness.Core.Figures;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// The usage table's loops over the samples give what the LINQ they replaced gave (kept here as the reference), on
/// samples out of time order, pods pending before and after running, several pods per instant, missing limits and NaN.
/// </summary>
public sealed class ResourceUsageLoopTests
{
    private static readonly DateTime T0 = new(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void UsageAsTheLinqItReplaced(int seed)
    {
        var random = new Random(seed);
        string[] states = ["Running", "Pending", "CrashLoopBackOff", "Terminated"];
        var d = new ResourceAnalysis.DaemonSamples { Daemon = "judge-evaluator" };
        for (var i = 0; i < 400; i++)
            d.Samples.Add(new PodSample
            {
                Time = T0.AddSeconds(15 * random.Next(0, 60) + (random.Next(20) == 0 ? 7 : 0)), Daemon = d.Daemon, Pod = "pod-" + random.Next(0, 5),
                State = states[random.Next(states.Length)], CpuCores = random.Next(50) == 0 ? double.NaN : random.Next(0, 8) / 4.0,
                MemoryBytes = random.Next(0, 1000) * 1024L, CpuLimit = random.Next(3) == 0 ? null : random.Next(1, 4),
                MemoryLimit = random.Next(3) == 0 ? null : random.Next(1, 4) * 1_000_000L, Restarts = random.Next(0, 4), Backlog = random.Next(0, 100),
            });
        foreach (var k in Enumerable.Range(0, 3))
            d.Incidents.Add(new PodIncident(T0.AddSeconds(15 * random.Next(0, 60)), d.Daemon, "pod-" + k, LifecycleEvents.OomKilled, null));
        ResourceAnalysis.Prepare(d);

        var expectedTimeline = d.Samples.GroupBy(s => s.Time).OrderBy(g => g.Key).Select(g => new ResourceAnalysis.Instant(g.Key,
            g.Max(s => s.CpuCores), g.Max(s => s.MemoryBytes), g.Max(s => s.Backlog), g.Max(s => s.CpuLimit), g.Max(s => s.MemoryLimit), g.Count())).ToList();
        Assert.Equal(expectedTimeline, d.Timeline);

        foreach (var runStart in new DateTime?[] { null, T0.AddMinutes(3) })
        {
            var usage = ResourceAnalysis.Usage(d, 4, runStart);
            var running = d.Samples.Where(s => s.State == "Running").ToList();
            var cpu = running.Select(s => s.CpuCores).Order().ToArray();
            var interval = d.Timeline.Zip(d.Timeline.Skip(1), (a, b) => (b.Time - a.Time).TotalSeconds).GroupBy(x => x).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            var first = runStart ?? d.Samples.Min(s => s.Time);
            var pending = new HashSet<DateTime>();
            foreach (var pod in d.Samples.GroupBy(s => s.Pod))
            {
                var samples = pod.OrderBy(s => s.Time).ToList();
                if (samples[0].Time <= first) continue;
                foreach (var s in samples)
                {
                    if (s.State == "Running") break;
                    if (s.State == "Pending") pending.Add(s.Time);
                }
            }
            long? memAtOom = null;
            foreach (var i in d.Incidents)
            {
                var before = d.Samples.Where(s => s.Time <= i.Time).ToList();
                memAtOom = Math.Max(memAtOom ?? 0, Math.Max(before.LastOrDefault(s => s.MemoryLimit is not null).MemoryLimit ?? 0, before.Count > 0 ? before.Max(s => s.MemoryBytes) : 0));
            }
            Assert.Equal(Stats.Round(Percentiles.Linear(cpu, 0.9)), usage.CpuP90);
            Assert.Equal((long)Percentiles.Linear(running.Select(s => (double)s.MemoryBytes).Order().ToArray(), 0.5), usage.MemoryP50);
            Assert.Equal(Stats.Round(pending.Count * interval, 3), usage.PendingSeconds);
            Assert.Equal(Stats.Round(d.Samples.Where(s => s.State == "CrashLoopBackOff").Select(s => s.Time).Distinct().Count() * interval, 3), usage.CrashLoopSeconds);
            Assert.Equal(memAtOom, usage.MemoryAtOom);
            Assert.Equal(d.Timeline.Max(t => t.Pods), usage.Replicas);
            Assert.Equal(d.Timeline.Max(t => t.Backlog), usage.PeakBacklog);
            Assert.Equal(d.Samples.GroupBy(s => s.Pod).Sum(g => g.Max(s => s.Restarts)), usage.Restarts);
        }
    }
}

/// <summary>The faults' recoveries by loops give what the LINQ they replaced gave (kept here as the reference).</summary>
public sealed class FaultRecoveryLoopTests
{
    private static readonly DateTime T0 = new(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RecoveriesAsTheLinqTheyReplaced(int seed)
    {
        var random = new Random(seed);
        var resources = new ResourceAnalysis();
        foreach (var daemon in new[] { "conveyor-submitter", "conveyor-poller", "reaper" })
        {
            var d = new ResourceAnalysis.DaemonSamples { Daemon = daemon };
            foreach (var minute in Enumerable.Range(0, 120).Where(_ => random.Next(4) > 0))
                d.Timeline.Add(new ResourceAnalysis.Instant(T0.AddMinutes(minute), 0, 0, random.Next(0, 50), null, null, 1));
            resources.Daemons[daemon] = d;
        }
        var faults = Enumerable.Range(0, 12).Select(i => new FaultRecord
        {
            Start = T0.AddMinutes(random.Next(0, 100)), End = random.Next(2) == 0 ? null : T0.AddMinutes(random.Next(0, 120)),
            Name = "fault-" + random.Next(0, 3), Kind = "pod_kill", Target = random.Next(2) == 0 ? "reaper" : "CERN-PROD->BNL", Detail = "n" + i,
        }).ToArray();

        var expected = faults.OrderBy(f => f.Start).ThenBy(f => f.Name, StringComparer.Ordinal).Select(f =>
        {
            var daemons = resources.Daemons.ContainsKey(f.Target) ? [f.Target] : Faults.ConveyorDaemons.Where(resources.Daemons.ContainsKey).ToArray();
            var series = daemons.SelectMany(d => resources.Daemons[d].Timeline.Select(t => (t.Time, t.Backlog)))
                .GroupBy(x => x.Time).OrderBy(g => g.Key).Select(g => (Time: g.Key, Backlog: g.Sum(x => x.Backlog))).ToList();
            return (f.Detail, Before: series.LastOrDefault(x => x.Time <= f.Start).Backlog, Peak: Math.Max(series.LastOrDefault(x => x.Time <= f.Start).Backlog,
                series.Where(x => x.Time > f.Start).Select(x => x.Backlog).DefaultIfEmpty(0).Max()));
        }).ToList();
        var actual = Faults.Recoveries(faults, resources);

        Assert.Equal(expected.Select(e => e.Detail), actual.Select(r => r.Detail));
        Assert.Equal(expected.Select(e => e.Before), actual.Select(r => r.BacklogBefore));
        Assert.True(actual.Zip(expected).All(p => p.First.BacklogPeak <= p.Second.Peak && p.First.BacklogPeak >= p.First.BacklogBefore));
    }
}
