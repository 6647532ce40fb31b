using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Tests;

/// <summary>
/// Random valid scenarios for property tests, one per seed: 1 to 60 RSEs under QoS names of their own, tiny quotas
/// that fill, RSEs born unavailable, every phase kind and load simulation, cramped clusters or none at all, tight
/// limits, and every chaos kind with every selector, mode and schedule. Small (tens to hundreds of files, at most a
/// few virtual hours) so that dozens run in seconds. Linked into every test project (tests/Directory.Build.props).
/// </summary>
internal static class ScenarioGenerator
{
    private static readonly string[] QosPool = ["FAST", "SAFE", "CHEAP-ANALYSIS", "TAPE", "GOLD", "SILVER", "BRONZE", "HOT", "COLD", "SCRATCH", "ARCHIVE_2"];
    private static readonly string[] Sites = ["CERN", "DESY", "CNAF", "PIC", "SARA", "LAPP", "IN2P3", "GSI", "INFN", "FNAL", "BNL", "RAL", "KIT", "NDGF"];
    private static readonly string[] Tech = ["DCACHE", "EOS", "DPM", "STORM", "ROOT", "WEBDAV"];

    public static Scenario Generate(int seed)
    {
        var g = new Gen(seed);
        var duration = TimeSpan.FromMinutes(g.Int(20, 180));
        TimeSpan Within(double from = 0, double to = 1) => TimeSpan.FromSeconds(Math.Round(duration.TotalSeconds * g.Double(from, to)));

        // RSEs: QoS classes of the scenario's own naming, some tiny (they fill), some unavailable from the start.
        var classes = g.Pick(QosPool, g.Int(1, 4));
        var rseCount = g.Chance(0.15) ? g.Int(30, 60) : g.Int(1, 12);
        var rses = new List<RseSpec>();
        for (var i = 0; i < rseCount; i++)
        {
            var quota = g.Chance(0.15) ? g.Long(50, 2_000) * 1_000_000L : g.Long(1, 200) * 10_000_000_000L;
            rses.Add(new RseSpec
            {
                Name = $"{g.One(Sites)}-{g.One(Tech)}-{i}",
                Storage = (StorageTechnology)g.Int(0, 8),
                Quota = new ByteSize(quota),
                Watermark = new ByteSize(quota / g.Int(2, 20)),
                Attributes = new Dictionary<string, string> { ["QOS"] = classes[i % classes.Length], ["tier"] = g.Int(0, 2).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                Protocols = g.Chance(0.7) ? [new StorageProtocol(g.One(["davs", "root", "https", "gsiftp"]), $"rse{i}.example", 443, "/data")] : [],
                Availability = g.Chance(0.08) ? new Availability { Write = false } : g.Chance(0.03) ? new Availability { Read = false } : new Availability(),
            });
        }
        var names = rses.Select(r => r.Name).ToArray();
        var present = classes.Where(c => rses.Any(r => r.Attributes["QOS"] == c)).ToArray();

        // An RSE expression of the scenario's RSEs matching at least `atLeast` of them.
        RseExpression Expression(int atLeast = 1)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var text = g.Int(0, 4) switch
                {
                    0 => "QOS=" + g.One(present),
                    1 => string.Join("|", g.Pick(names, g.Int(1, Math.Min(4, names.Length)))),
                    2 => "*",
                    3 when names.Length > 1 => $"*\\{g.One(names)}",
                    _ => $"QOS={g.One(present)}|{g.One(names)}",
                };
                var e = RseExpression.Parse(text);
                if (e.Evaluate(rses).Count >= atLeast) return e;
            }
            return RseExpression.Parse("*");
        }

        var experiments = new List<ExperimentSpec>();
        for (var i = 0; i < g.Int(1, 4); i++)
        {
            FileSizeDistribution size = g.Int(0, 2) switch
            {
                0 => new FixedSize { Size = new ByteSize(g.Long(1, 500) * 1_000_000L) },
                1 => new LognormalSize { Mean = new ByteSize(g.Long(1, 300) * 1_000_000L), Sigma = g.Double(0, 1.5), Max = g.Chance(0.5) ? new ByteSize(5_000_000_000L) : null },
                _ => new HistogramSize { Bins = [new HistogramBin { UpTo = new ByteSize(1_000_000), Weight = g.Int(1, 5) }, new HistogramBin { UpTo = new ByteSize(g.Long(2, 900) * 1_000_000L), Weight = g.Int(1, 5) }] },
            };
            var write = g.Int(0, 2);
            experiments.Add(new ExperimentSpec
            {
                Name = $"EXP{i}",
                Scope = g.Chance(0.3) ? $"exp.{i}" : null,
                Files = g.Int(0, 10) == 0 ? 0 : g.Int(10, 400),
                FileSize = size,
                FilesPerDataset = g.Int(1, 120),
                DatasetsPerContainer = g.Int(0, 4),
                Qos = write == 0 ? g.One(present) : null,
                WriteTo = write == 1 ? Expression() : null,
            });
        }
        var expNames = experiments.Select(e => e.Name).ToArray();

        List<LoadSimulation> Load(bool open = false)
        {
            var steps = new List<LoadSimulation>();
            for (var k = 0; k < g.Int(1, 3); k++)
            {
                var during = TimeSpan.FromMinutes(g.Int(1, 30));
                steps.Add(g.Int(0, open ? 5 : 6) switch
                {
                    0 => new Inject { Rate = g.Double(0.2, 4), During = during },
                    1 => new RampingInject { Rate = g.Double(0.2, 4), During = during },
                    2 => new InjectRandom { MinRate = 0, MaxRate = g.Double(1, 6), During = during },
                    3 => new IterationsForInject { Rate = g.Double(0.5, 4), Iterations = g.Int(10, 300) },
                    4 => new Pause { During = TimeSpan.FromMinutes(g.Int(1, 5)) },
                    5 => new Inject { Rate = g.Double(1, 10), Interval = TimeSpan.FromSeconds(g.Int(2, 30)), During = during },
                    _ => new KeepConstant { Copies = g.Int(1, 4), During = during },
                });
            }
            return steps;
        }

        RuleSpec Rule(int maxCopies = 2)
        {
            var expression = Expression();
            var candidates = expression.Evaluate(rses).Count;
            return new RuleSpec
            {
                Copies = g.Int(1, Math.Max(1, Math.Min(maxCopies, candidates))),
                RseExpression = expression,
                Grouping = (RuleGrouping)g.Int(0, 2),
                Lifetime = g.Chance(0.3) ? Within(0.05, 0.6) : null,
                Activity = g.One(["User Subscriptions", "Data rebalancing", "Functional Test", "T0 Export"]),
                Asynchronous = g.Chance(0.3),
                SourceReplicaExpression = g.Chance(0.2) ? Expression() : null,
                Notify = (NotifyMode)g.Int(0, 3),
            };
        }

        var workload = new List<Phase>
        {
            new InjectPhase { Name = "inject", Start = g.Chance(0.7) ? TimeSpan.Zero : Within(0, 0.2), Load = Load(open: true) },
        };
        var replicates = new List<string>();
        for (var k = 0; k < g.Int(0, 3); k++)
        {
            var name = $"rep-{k}";
            replicates.Add(name);
            workload.Add(new ReplicatePhase
            {
                Name = name,
                Start = g.Chance(0.8) ? Within(0, 0.5) : null,
                After = null,
                Experiments = g.Chance(0.5) ? g.Pick(expNames, g.Int(1, expNames.Length)) : [],
                Level = (RuleLevel)g.Int(0, 2),
                Fraction = g.Chance(0.5) ? 1 : g.Double(0.1, 1),
                Rule = Rule(),
                Load = g.Chance(0.2) ? Load() : [],
            });
        }
        if (replicates.Count > 0 && g.Chance(0.6))
            workload.Add(new QosTransitionPhase
            {
                Name = "move",
                From = g.One(replicates.ToArray()),
                Start = Within(0.2, 0.8),
                Rule = Rule(maxCopies: 1),
                RemoveOld = g.Chance(0.8),
                Fraction = g.Double(0.2, 1),
                Load = g.Chance(0.2) ? Load() : [],
            });
        if (g.Chance(0.6))
            workload.Add(replicates.Count > 0 && g.Chance(0.6)
                ? new DeletePhase { Name = "lifecycle", Start = Within(0.3, 0.9), RulesOf = g.Pick(replicates.ToArray(), g.Int(1, replicates.Count)), RuleLifetime = g.Chance(0.7) ? Within(0, 0.2) : null, Fraction = g.Double(0.2, 1) }
                : new DeletePhase { Name = "expire", After = g.Chance(0.5) ? "inject" : null, Start = null, Experiments = g.Pick(expNames, 1), DidLifetime = TimeSpan.FromMinutes(g.Int(1, 40)), Fraction = g.Double(0.3, 1) });
        if (names.Length > 1 && g.Chance(0.6))
            workload.Add(new NoisePhase
            {
                Name = "noise",
                Start = g.Chance(0.5) ? Within(0, 0.5) : null,
                Every = TimeSpan.FromMinutes(g.Chance(0.2) ? g.Double(0.05, 1) : g.Int(5, 60)),
                Lifetime = TimeSpan.FromMinutes(g.Int(2, 60)),
                FileSize = new ByteSize(g.Long(1, 200) * 1_000_000L),
                Rses = rseCount > 8 || g.Chance(0.5) ? RseExpression.Parse(string.Join("|", g.Pick(names, Math.Min(names.Length, g.Int(2, 6))))) : null,
                During = g.Chance(0.3) ? Within(0.1, 0.8) : null,
            });

        // Daemons: some listed with tight limits (OOMKills, CrashLoopBackOff), requests that may not fit the nodes.
        var daemons = new List<DaemonSpec>();
        foreach (var name in RucioDaemons.All)
        {
            if (g.Chance(0.4)) continue;
            var memLimit = g.Chance(0.3) ? g.Long(60, 700) << 20 : g.Long(1, 8) << 30;
            var cpuLimit = g.Int(1, 40) * 100;
            var limits = g.Chance(0.15) ? new Resources() : new Resources { Cpu = g.Chance(0.9) ? new CpuQuantity(cpuLimit) : null, Memory = g.Chance(0.9) ? new ByteSize(memLimit) : null };
            var requests = g.Chance(0.3) ? new Resources() : new Resources
            {
                Cpu = limits.Cpu is { } c ? new CpuQuantity(Math.Max(1, c.Millicores * g.Int(1, 10) / 10)) : new CpuQuantity(g.Int(1, 20) * 100),
                Memory = limits.Memory is { } m ? new ByteSize(Math.Max(1, m.Bytes * g.Int(1, 10) / 10)) : new ByteSize(g.Long(64, 2048) << 20),
            };
            daemons.Add(new DaemonSpec { Name = name, Replicas = g.Int(0, 10) == 0 ? 0 : g.Int(1, 3), Threads = g.Int(1, 5), Requests = requests, Limits = limits });
        }
        var daemonNames = daemons.Select(d => d.Name).ToArray();

        var cluster = g.Int(0, 3) switch
        {
            0 => new ClusterSpec(), // none: the lake's default cluster
            1 => new ClusterSpec { Nodes = [new NodePool { Name = "small", Count = g.Int(1, 2), Cpu = new CpuQuantity(g.Int(1, 4) * 1000), Memory = new ByteSize(g.Long(2, 6) << 30) }] },
            _ => new ClusterSpec { Nodes = [new NodePool { Count = g.Int(1, 10), Cpu = new CpuQuantity(8000), Memory = new ByteSize(16L << 30) }] },
        };

        Schedule Schedule() => g.Int(0, 2) switch
        {
            0 => new Schedule { At = Within(0, 0.95) },
            1 => new Schedule { Every = TimeSpan.FromMinutes(g.Int(3, 40)) },
            _ => new Schedule { Every = TimeSpan.FromMinutes(g.Int(2, 30)), From = Within(0, 0.3), Until = Within(0.5, 1) },
        };

        var chaos = new List<ChaosAction>();
        for (var k = 0; k < g.Int(0, 6); k++)
        {
            var name = $"chaos-{k}";
            switch (g.Int(0, 3))
            {
                case 0:
                    var selector = g.Int(0, 3) switch
                    {
                        0 when daemonNames.Length > 0 => new PodSelector { Daemon = g.One(daemonNames) },
                        1 => new PodSelector { Labels = new Dictionary<string, string> { [g.One(["app", "rucio-daemon"])] = g.One(RucioDaemons.All.ToArray()) } },
                        2 => new PodSelector { Labels = new Dictionary<string, string> { ["app"] = g.One(RucioDaemons.All.ToArray()) }, Namespaces = [g.One(["rucio", "monitoring"])] },
                        _ => new PodSelector { Pods = ["no-such-pod", $"{g.One(RucioDaemons.All.ToArray())}-abc"] },
                    };
                    var mode = (SelectionMode)g.Int(0, 4);
                    chaos.Add(new PodKill
                    {
                        Name = name,
                        Selector = selector,
                        Mode = mode,
                        Value = mode switch
                        {
                            SelectionMode.Fixed => g.Int(1, 3),
                            SelectionMode.FixedPercent or SelectionMode.RandomMaxPercent => g.Int(1, 100),
                            _ => null,
                        },
                        Schedule = Schedule(),
                    });
                    break;
                case 1 when daemonNames.Length > 0:
                    var limit = g.Chance(0.5) ? new Resources { Memory = new ByteSize(g.Long(100, 4000) << 20) } : new Resources { Cpu = new CpuQuantity(g.Int(1, 40) * 100), Memory = g.Chance(0.5) ? new ByteSize(g.Long(100, 4000) << 20) : null };
                    var patchLimits = g.Chance(0.8) ? limit : null;
                    var patchRequests = g.Chance(0.4) ? new Resources { Memory = new ByteSize(g.Long(50, 2000) << 20) } : g.Chance(0.25) ? new Resources { Cpu = new CpuQuantity(100) } : null;
                    // Some merge into a request above its limit: the API server refuses those.
                    chaos.Add(new LimitChange { Name = name, Daemon = g.One(daemonNames), At = Within(0, 0.9), Limits = patchLimits ?? (patchRequests is null ? limit : null), Requests = patchRequests });
                    break;
                case 2:
                    RseOperation[] ops = [RseOperation.Read, RseOperation.Write, RseOperation.Delete];
                    chaos.Add(new RseOutage { Name = name, Rse = g.One(names), From = Within(0, 0.8), During = Within(0.02, 0.4), Unavailable = g.Pick(ops, g.Int(1, 3)) });
                    break;
                default:
                    chaos.Add(new LinkDegradation
                    {
                        Name = name,
                        Source = Expression(),
                        Destination = Expression(),
                        From = Within(0, 0.8),
                        During = Within(0.02, 0.4),
                        BandwidthFactor = g.Double(0.01, 1),
                        FailureProbability = g.Chance(0.5) ? g.Double(0, 1) : null,
                    });
                    break;
            }
        }

        return new Scenario
        {
            Run = new RunSettings
            {
                Name = $"generated-{seed}",
                Seed = g.Long(1, 1_000_000),
                Duration = duration,
                ObservationInterval = TimeSpan.FromSeconds(g.One([5, 15, 30, 60, 120, 300])),
            },
            Cluster = cluster,
            QosClasses = classes.Select(c => new QosClass { Name = c }).ToArray(),
            Rses = rses,
            Links = new LinkSettings
            {
                Defaults = new LinkProperties { Bandwidth = new Bandwidth(g.Long(10, 2000) * 1e6), MaxActive = g.Int(1, 100), FailureProbability = g.Double(0, 0.4) },
                Overrides = g.Chance(0.5) ? [new LinkOverride { Source = Expression(), Destination = Expression(), FailureProbability = g.Double(0, 1), MaxActive = g.Int(1, 10) }] : [],
            },
            Experiments = experiments,
            Workload = workload,
            Daemons = daemons,
            Chaos = chaos,
        };
    }

    /// <summary>Draws from a named stream of the seed (never seed + i).</summary>
    private sealed class Gen(int seed)
    {
        private SplitMix64 _rng = new(StableHash.Of((ulong)(uint)seed, "scenario-generator"));

        public int Int(int lo, int hi) => lo + _rng.NextBelow(hi - lo + 1);
        public long Long(long lo, long hi) => lo + (long)(_rng.NextDouble() * (hi - lo + 1));
        public double Double(double lo, double hi) => lo + _rng.NextDouble() * (hi - lo);
        public bool Chance(double p) => _rng.NextDouble() < p;
        public T One<T>(T[] items) => items[_rng.NextBelow(items.Length)];

        /// <summary>n distinct items in their original order.</summary>
        public T[] Pick<T>(T[] items, int n)
        {
            var idx = Enumerable.Range(0, items.Length).ToList();
            var chosen = new List<int>();
            for (var i = 0; i < Math.Min(n, items.Length); i++)
            {
                var j = _rng.NextBelow(idx.Count);
                chosen.Add(idx[j]);
                idx.RemoveAt(j);
            }
            chosen.Sort();
            return chosen.Select(i => items[i]).ToArray();
        }
    }
}
