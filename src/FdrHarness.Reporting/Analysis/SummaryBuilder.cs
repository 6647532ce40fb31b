using FdrHarness.Core.Figures;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Reporting.Analysis;

/// <summary>Builds the <see cref="Summary"/> of a run directory from its observation files (plus run.json and the resolved scenario for names and declared context).</summary>
public static class SummaryBuilder
{
    public static Summary Build(string runDir, ReportOptions? options = null) => Build(runDir, options, null, null);

    /// <param name="warmUp">Starts work elsewhere while this thread reads the files, when the run's sink fed the events.</param>
    /// <param name="whileEventsRead">
    /// Once this thread's files are read, while the event pass (the longest) still runs: starts work elsewhere, handed the
    /// summary as if events.parquet were empty; this thread then waits for the pass.
    /// </param>
    internal static Summary Build(string runDir, ReportOptions? options, Action? warmUp, Action<Summary>? whileEventsRead)
    {
        options ??= new ReportOptions();
        var reader = new ObservationReader(runDir);
        // events.parquet is most of the reading: its pass runs beside the other files' (each pass owns its state), unless
        // the run's sink fed it as it wrote the file.
        var fed = options.Feed?.Take(runDir, options);
        var events = fed ?? new EventPass(options.BinSeconds);
        var eventPass = fed is not null ? Task.CompletedTask : Task.Run(() => events.Run(runDir));
        // With the events done already, the other core does the plots' first use while this thread reads the other files.
        if (fed is not null) warmUp?.Invoke();
        Scenario? scenario = null;
        RunJson? info = null;
        var resources = new ResourceAnalysis();
        FaultRecord[] faults = [];
        Injections? injections = null;
        List<ResourceUsage> usage = [];
        Takeaway? takeaway = null;
        List<FaultRecovery> recoveries = [];
        IReadOnlyList<ApiLatencyRow> apiLatency = [];
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed = null;
        try
        {
            scenario = options.Scenario is { } given ? given.Value : LoadScenario(runDir);
            info = ReadRunInfo(runDir);
            resources.Run(reader, runDir);
            var faultsFile = Path.Combine(runDir, ParquetObservationSink.FaultsFile);
            if (File.Exists(faultsFile)) faults = Input.RecordColumns.Faults(faultsFile) ?? reader.Faults().ToArray();
            injections = Injections.Read(reader);
            // What needs no events, while the event pass runs.
            (usage, takeaway) = ResourcesOf(resources, scenario);
            recoveries = Faults.Recoveries(faults, resources);
            apiLatency = ApiLatency.Read(runDir);
        }
        catch (Exception e)
        {
            failed = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
        }
        if (failed is null && !eventPass.IsCompleted && whileEventsRead is not null)
            whileEventsRead(Compose(new EventPass(options.BinSeconds)));
        // The event pass's failure first (it is the file the report is about), then the others'.
        eventPass.GetAwaiter().GetResult();
        failed?.Throw();
        return Compose(events);

        Summary Compose(EventPass events)
        {
            var minTicks = Math.Min(events.MinTicks, resources.MinTicks);
            var maxTicks = Math.Max(events.MaxTicks, resources.MaxTicks);
            foreach (var f in faults) { minTicks = Math.Min(minTicks, f.Start.Ticks); maxTicks = Math.Max(maxTicks, (f.End ?? f.Start).Ticks); }
            if (minTicks == long.MaxValue) minTicks = maxTicks = 0;
            // Whole minutes: bins then fall on round times (00:10, 00:20…) as on the seed's dashboards.
            var start = new DateTime(minTicks - minTicks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
            var end = new DateTime(maxTicks, DateTimeKind.Utc);

            return new Summary
            {
                Run = new RunFacts
                {
                    Scenario = info?.Scenario ?? scenario?.Run.Name ?? Path.GetFileName(Path.GetFullPath(runDir)),
                    Seed = info?.Seed ?? scenario?.Run.Seed, Target = info?.Target ?? scenario?.Target.Kind.ToString().ToLowerInvariant() ?? "",
                    Scale = info?.Scale ?? scenario?.Run.Scale, Start = start, End = end,
                },
                Transfers = new TransferTotals
                {
                    Queued = events.Queued, Submitted = events.Submitted, Done = events.Done, Failed = events.Failed,
                    SubmissionFailed = events.SubmissionFailed, Lost = events.Lost, Retries = events.Retries,
                    BytesSubmitted = events.BytesSubmitted, BytesDone = events.BytesDone,
                    DoneOverSubmitted = Stats.Ratio(events.Done, events.Submitted),
                    Efficiency = Stats.Ratio(events.Done, events.Done + events.Failed + events.SubmissionFailed),
                },
                Events = EventStatsOf(events),
                Injected = injections is null ? null : new InjectionTotals(injections.Files, injections.Bytes),
                Experiments = ExperimentsOf(events, injections),
                Rses = RsesOf(events, injections, scenario),
                TransferMatrix = MatrixOf(events, options.LinkTarget ?? ReportOptions.DefaultLinkTarget, scenario?.Rses.Select(r => r.Name)),
                Rules = RulesOf(events),
                OverTime = OverTimeOf(events, resources, start, end, options),
                Resources = usage,
                Takeaway = takeaway!,
                Faults = recoveries,
                Incidents = resources.Incidents,
                ApiLatency = apiLatency,
            };
        }
    }

    /// <summary>The usage table per daemon and the takeaway of its recommendations (samples and scenario only).</summary>
    private static (List<ResourceUsage>, Takeaway) ResourcesOf(ResourceAnalysis resources, Scenario? scenario)
    {
        var threads = scenario?.Daemons.ToDictionary(d => d.Name, d => d.Threads) ?? [];
        var firstSample = resources.MinSampleTicks == long.MaxValue ? (DateTime?)null : new DateTime(resources.MinSampleTicks, DateTimeKind.Utc);
        var usage = new List<ResourceUsage>(resources.Daemons.Count);
        var recommendations = new List<Recommendation>(resources.Daemons.Count);
        foreach (var d in resources.Daemons.Values)
        {
            usage.Add(ResourceAnalysis.Usage(d, threads.TryGetValue(d.Daemon, out var t) ? t : null, firstSample));
            recommendations.Add(Recommendations.For(usage[^1]));
        }
        // The largest node shape, the first of equals (LINQ's OrderByDescending then First, by a loop).
        NodePool? pool = null;
        foreach (var n in scenario?.Cluster.Nodes ?? [])
            if (pool is null || n.Cpu.Cores * n.Memory.Bytes > pool.Cpu.Cores * pool.Memory.Bytes) pool = n;
        return (usage, Recommendations.Totals(recommendations, pool?.Cpu.Cores, pool?.Memory.Bytes, pool?.Count));
    }

    /// <summary>What the summary takes of run.json (<see cref="RunInfo"/>).</summary>
    private readonly record struct RunJson(string? Scenario, long Seed, string? Target, double Scale);

    /// <summary>
    /// run.json's scenario, seed, target and scale, read as a JSON document: deserializing a whole RunInfo built its
    /// generated metadata, about 200 generic methods JIT-compiled on every report, for four fields. As that deserializer
    /// reads them: a field absent is its type's default (it sets init-only properties so), and null when run.json is
    /// missing or not a RunInfo.
    /// </summary>
    private static RunJson? ReadRunInfo(string runDir)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(runDir, RunDirectory.RunFile)));
            var root = json.RootElement;
            return new RunJson(
                root.TryGetProperty("scenario", out var scenario) ? scenario.GetString() : null,
                root.TryGetProperty("seed", out var seed) ? seed.GetInt64() : 0,
                root.TryGetProperty("target", out var target) ? target.GetString() : null,
                root.TryGetProperty("scale", out var scale) ? scale.GetDouble() : 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The run's scenario.yaml, or null when the folder has none.</summary>
    public static Scenario? LoadScenario(string runDir)
    {
        var path = Path.Combine(runDir, RunDirectory.ScenarioFile);
        return File.Exists(path) ? ScenarioLoader.Load(path, ResourceBudget.Unlimited).Scenario : null;
    }

    private static string Name(Input.Symbols symbols, int id) => id < 0 ? "-" : symbols[id];

    /// <remarks>
    /// Loops and a comparison sort, not LINQ over the accumulators' (id, count) pairs (JIT-compiled per report). Ties
    /// keep the dictionaries' order, as LINQ's stable OrderBy kept it.
    /// </remarks>
    private static EventStats EventStatsOf(EventPass e)
    {
        var byType = new List<CountBy>(e.ByType.Count);
        foreach (var (type, count) in e.ByType) byType.Add(new CountBy(Name(e.Reader.Types, type), count));
        var byScope = new List<CountBy2>(e.ByScopeType.Count);
        foreach (var ((scope, type), count) in e.ByScopeType) byScope.Add(new CountBy2(Name(e.Reader.Scopes, scope), Name(e.Reader.Types, type), count));
        var byProtocol = new List<CountBy2>(e.ByProtocolType.Count);
        foreach (var ((protocol, type), count) in e.ByProtocolType) byProtocol.Add(new CountBy2(Name(e.Reader.Protocols, protocol), Name(e.Reader.Types, type), count));
        return new EventStats
        {
            Total = e.Total,
            ByType = StableSort(byType, static (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : string.CompareOrdinal(a.Key, b.Key)),
            ByScopeAndType = StableSort(byScope, ByKeyThenType),
            ByProtocolAndType = StableSort(byProtocol, ByKeyThenType),
        };
    }

    private static int ByKeyThenType(CountBy2 a, CountBy2 b) => string.CompareOrdinal(a.Key, b.Key) is var c && c != 0 ? c : string.CompareOrdinal(a.Type, b.Type);

    private static List<T> StableSort<T>(List<T> items, Comparison<T> comparison) where T : class
    {
        var order = new int[items.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => comparison(items[a], items[b]) is var c && c != 0 ? c : a.CompareTo(b));
        var sorted = new List<T>(order.Length);
        foreach (var i in order) sorted.Add(items[i]);
        return sorted;
    }

    /// <summary>Every scope of the events or the injections; injected files and bytes from the injections, the rest from the events.</summary>
    private static List<ExperimentStats> ExperimentsOf(EventPass e, Injections? injections)
    {
        var seenIn = e.Scopes.ToDictionary(kv => Name(e.Reader.Scopes, kv.Key), kv => kv.Value, StringComparer.Ordinal);
        return seenIn.Keys.Union(injections?.ByScope.Keys ?? Enumerable.Empty<string>()).Select(scope =>
        {
            var acc = seenIn.GetValueOrDefault(scope);
            (long Files, long Bytes)? injected = injections is null ? null : Injections.Of(injections.ByScope, scope);
            long seen = acc?.Files.Count ?? 0, seenBytes = acc?.Bytes ?? 0;
            return new ExperimentStats
            {
                Scope = scope, InjectedFiles = injected?.Files, InjectedBytes = injected?.Bytes,
                Datasets = acc?.Datasets ?? 0, Containers = acc?.Containers ?? 0, Files = seen, Bytes = seenBytes,
                AverageFileSize = injected is { Files: > 0 } i ? Stats.Round((double)i.Bytes / i.Files, 1)
                    : seen > 0 ? Stats.Round((double)seenBytes / seen, 1) : null,
                TransfersDone = acc?.TransfersDone ?? 0, DeletionsDone = acc?.DeletionsDone ?? 0, DidsErased = acc?.Erased ?? 0,
            };
        }).OrderByDescending(x => x.InjectedFiles ?? x.Files).ThenBy(x => x.Scope, StringComparer.Ordinal).ToList();
    }

    private static List<RseUsage> RsesOf(EventPass e, Injections? injections, Scenario? scenario)
    {
        var declared = scenario?.Rses.ToDictionary(r => r.Name) ?? [];
        var names = e.Rses.Keys.Where(k => k >= 0).Select(k => e.Reader.Rses[k]).Union(declared.Keys).Union(injections?.ByRse.Keys ?? Enumerable.Empty<string>()).Order(StringComparer.Ordinal);
        return names.Select(n =>
        {
            var id = e.Reader.Rses.Find(n);
            var acc = id >= 0 && e.Rses.TryGetValue(id, out var a) ? a : new EventPass.RseAcc();
            declared.TryGetValue(n, out var spec);
            (long Files, long Bytes)? injected = injections is null ? null : Injections.Of(injections.ByRse, n);
            return new RseUsage
            {
                Rse = n, Qos = spec?.Attributes.GetValueOrDefault("QOS"), Quota = spec?.Quota.Bytes, Watermark = spec?.Watermark.Bytes,
                InjectedFiles = injected?.Files, InjectedBytes = injected?.Bytes,
                BytesIn = acc.BytesIn, FilesIn = acc.FilesIn, BytesOut = acc.BytesOut, BytesDeleted = acc.BytesDeleted, FilesDeleted = acc.FilesDeleted,
            };
        }).ToList();
    }

    internal static TransferMatrix MatrixOf(EventPass e, double? target, IEnumerable<string>? declared = null)
    {
        // Rows and columns: every RSE the scenario declares and every RSE that took part in a transfer, in name order,
        // so an RSE without traffic shows as a row and a column of NO DATA instead of disappearing. Found by position in
        // that order, not in a dictionary keyed by (source, destination) names: LINQ and a dictionary over those pairs
        // were JIT-compiled (about 30 methods) per report.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ((src, dst), _) in e.Links)
            if (src >= 0 && dst >= 0)
            {
                names.Add(e.Reader.Rses[src]);
                names.Add(e.Reader.Rses[dst]);
            }
        foreach (var name in declared ?? []) names.Add(name);
        var rses = new List<string>(names);
        rses.Sort(StringComparer.Ordinal);
        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rses.Count; i++) at[rses[i]] = i;
        var links = new EventPass.LinkAcc?[rses.Count, rses.Count];
        foreach (var ((src, dst), acc) in e.Links)
            if (src >= 0 && dst >= 0) links[at[e.Reader.Rses[src]], at[e.Reader.Rses[dst]]] = acc;
        var cells = new List<LinkCell>(rses.Count * rses.Count);
        var (withData, belowTarget) = (0, 0);
        for (var s = 0; s < rses.Count; s++)
            for (var d = 0; d < rses.Count; d++)
            {
                var acc = links[s, d] ?? new EventPass.LinkAcc();
                var dos = Stats.Ratio(acc.Done, acc.Submitted);
                var verdict = target is not { } t ? null : acc.Submitted == 0 ? "no-data" : dos >= t ? "ok" : "below-target";
                cells.Add(new LinkCell
                {
                    Src = rses[s], Dst = rses[d], Submitted = acc.Submitted, Done = acc.Done, Failed = acc.Failed, BytesDone = acc.BytesDone,
                    DoneOverSubmitted = dos, Efficiency = Stats.Ratio(acc.Done, acc.Done + acc.Failed), Verdict = verdict,
                });
                if (acc.Submitted > 0) withData++;
                if (verdict == "below-target") belowTarget++;
            }
        return new TransferMatrix
        {
            Sources = rses, Destinations = rses, LinkTarget = target, Links = cells,
            LinksWithData = withData,
            LinksBelowTarget = belowTarget,
        };
    }

    /// <summary>Upper edges of the completion-time histogram: operators think in these steps.</summary>
    internal static readonly double[] CompletionEdges = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, double.PositiveInfinity];

    private static RuleCompletion RulesOf(EventPass e)
    {
        var seen = 0L;
        var ok = 0L;
        var notifying = 0L;
        var durations = new List<double>();
        for (var r = 0; r < e.RuleFirst.Length && r < e.Reader.Rules.Count; r++)
        {
            var first = e.RuleFirst[r];
            var done = e.RuleOk[r];
            seen++;
            if (e.NotifyingScopes.Contains(e.RuleScope[r])) notifying++;
            if (done == long.MaxValue) continue;
            ok++;
            if (first <= done) durations.Add((done - first) / (double)TimeSpan.TicksPerSecond);
        }
        seen = Math.Max(seen, e.Reader.Rules.Count);
        // Arrays and loops, not LINQ's Order and LongCount over doubles (JIT-compiled per report); the durations are
        // never NaN or -0, so the unstable sort orders them as Order does.
        var sorted = durations.ToArray();
        Array.Sort(sorted);
        var histogram = new List<HistogramBin>(CompletionEdges.Length);
        for (var i = 0; i < CompletionEdges.Length; i++)
        {
            var (edge, count) = (CompletionEdges[i], 0L);
            foreach (var d in sorted)
                if (d <= edge && (i == 0 || d > CompletionEdges[i - 1])) count++;
            histogram.Add(new HistogramBin(double.IsInfinity(edge) ? null : edge, count));
        }
        return new RuleCompletion
        {
            RulesSeen = seen, Notifying = notifying, RulesOk = ok, Measured = sorted.Length,
            CompletionSeconds = sorted.Length == 0 ? null : new Distribution(Stats.Round(sorted[0], 3), Stats.Round(Percentiles.Linear(sorted, 0.5), 3),
                Stats.Round(Percentiles.Linear(sorted, 0.9), 3), Stats.Round(Percentiles.Linear(sorted, 0.95), 3), Stats.Round(Percentiles.Linear(sorted, 0.99), 3),
                Stats.Round(sorted[^1], 3), Stats.Round(sorted.Average(), 3)),
            Histogram = histogram,
        };
    }

    private static OverTime OverTimeOf(EventPass e, ResourceAnalysis r, DateTime start, DateTime end, ReportOptions options)
    {
        var span = Math.Max((end - start).TotalSeconds, 1);
        var bin = options.BinSeconds ?? Stats.NiceBinSeconds(span);
        var bins = Math.Max(1, (int)Math.Ceiling(span / bin + 1e-9));
        if (start.AddSeconds(bins * bin) <= end) bins++;
        var s0 = start.Ticks / TimeSpan.TicksPerSecond;
        SortedDictionary<string, long[]> Binned(Dictionary<int, PerSecond> series, Input.Symbols symbols) =>
            new(series.ToDictionary(kv => Name(symbols, kv.Key), kv => kv.Value.Bin(s0, bin, bins).Select(x => (long)x).ToArray()), StringComparer.Ordinal);
        double[] Rate(PerSecond p) => p.Bin(s0, bin, bins).Select(x => Stats.Round(x / bin, 6)).ToArray();
        var backlog = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        var cpu = new SortedDictionary<string, double[]>(StringComparer.Ordinal);
        var memory = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        var cpuLimit = new SortedDictionary<string, double?[]>(StringComparer.Ordinal);
        var memoryLimit = new SortedDictionary<string, long?[]>(StringComparer.Ordinal);
        foreach (var d in r.Daemons.Values)
        {
            var (queue, c, m, cl, ml) = (new long[bins], new double[bins], new long[bins], new double?[bins], new long?[bins]);
            var has = new bool[bins];
            foreach (var t in d.Timeline)
            {
                var b = Math.Clamp((int)Math.Floor((t.Time - start).TotalSeconds / bin), 0, bins - 1);
                queue[b] = has[b] ? Math.Max(queue[b], t.Backlog) : t.Backlog;
                c[b] = Math.Max(c[b], t.Cpu);
                m[b] = Math.Max(m[b], t.Memory);
                (cl[b], ml[b]) = (t.CpuLimit, t.MemoryLimit);
                has[b] = true;
            }
            // A bin without a sample keeps the last known queue length and limits rather than dropping to zero.
            for (var b = 1; b < bins; b++)
                if (!has[b]) (queue[b], cl[b], ml[b]) = (queue[b - 1], cl[b - 1], ml[b - 1]);
            backlog[d.Daemon] = queue;
            cpu[d.Daemon] = c.Select(x => Stats.Round(x, 4)).ToArray();
            memory[d.Daemon] = m;
            cpuLimit[d.Daemon] = cl;
            memoryLimit[d.Daemon] = ml;
        }
        return new OverTime
        {
            Start = start, BinSeconds = bin, Bins = bins,
            EventsByType = Binned(e.TypeSeries, e.Reader.Types),
            EventsByScope = Binned(e.ScopeSeries, e.Reader.Scopes),
            EventsByProtocol = Binned(e.ProtocolSeries, e.Reader.Protocols),
            FilesPerSecond = Rate(e.DoneFiles), BytesPerSecond = Rate(e.DoneBytes), DeletionsPerSecond = Rate(e.Deletions),
            BacklogByDaemon = backlog, CpuByDaemon = cpu, MemoryByDaemon = memory, CpuLimitByDaemon = cpuLimit, MemoryLimitByDaemon = memoryLimit,
        };
    }
}
