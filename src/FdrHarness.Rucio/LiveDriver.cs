using System.Globalization;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio;

/// <summary>
/// The phases of a scenario against a live Rucio, in order: inject, replicate, qos_transition and delete run to their end;
/// noise and the retirement of replaced rules go on in the background until the run stops (<see cref="DrainAsync"/>).
/// </summary>
internal sealed class LiveDriver(Scenario scenario, RucioConnection connection, RucioClient client, LiveRunOptions options, TextWriter stdout)
{
    /// <summary>At most this many replaced rules are checked per round (polling a million would load the server we measure).</summary>
    private const int TransitionChecksPerRound = 500;

    private readonly Dictionary<string, List<string>> _rulesByPhase = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DidRef> _ruleDids = new(StringComparer.Ordinal);
    private readonly List<(string Scope, string Name)> _datasets = [];
    private readonly List<Task> _background = [];
    private long _files, _rules, _noiseFiles, _retired;

    public OperationStats LoadStats { get; } = new();
    public long FilesRegistered => Interlocked.Read(ref _files);
    public long RulesCreated => Interlocked.Read(ref _rules);
    public long NoiseFiles => Interlocked.Read(ref _noiseFiles);
    public long RulesRetired => Interlocked.Read(ref _retired);

    /// <summary>Waits for the background work (noise, rule retirement) once the run's token is cancelled.</summary>
    public async Task DrainAsync()
    {
        foreach (var t in _background)
        {
            try { await t.ConfigureAwait(false); }
            catch (OperationCanceledException) { /* the run ended */ }
        }
    }

    public async Task RunPhasesAsync(CancellationToken ct)
    {
        var start = options.Time.GetUtcNow();
        var end = start + scenario.Run.Duration;
        var index = 0;
        foreach (var phase in scenario.Workload)
        {
            index++;
            var name = phase.Name ?? $"{phase.GetType().Name.Replace("Phase", "", StringComparison.Ordinal).ToLowerInvariant()}-{index}";
            if (phase.Start is { } at && start + at - options.Time.GetUtcNow() is { Ticks: > 0 } wait)
                await Task.Delay(wait, options.Time, ct).ConfigureAwait(false);
            var experiments = scenario.Experiments.Where(e => phase.Experiments.Count == 0 || phase.Experiments.Contains(e.Name)).ToList();
            await stdout.WriteLineAsync($"phase {name}").ConfigureAwait(false);
            switch (phase)
            {
                case InjectPhase p: await InjectAsync(name, p, experiments, ct).ConfigureAwait(false); break;
                case ReplicatePhase p: await ReplicateAsync(name, p.Rule, p.Fraction, experiments, ct).ConfigureAwait(false); break;
                case QosTransitionPhase p: await TransitionAsync(name, p, ct).ConfigureAwait(false); break;
                case DeletePhase p: await DeleteAsync(p, experiments, ct).ConfigureAwait(false); break;
                case NoisePhase p: _background.Add(NoiseAsync(name, p, start, end, ct)); break;
            }
        }
    }

    private async Task<IReadOnlyList<string>> ResolveAsync(ExperimentSpec x, CancellationToken ct)
    {
        var expression = x.WriteTo?.Text ?? (x.Qos is { } q ? "QOS=" + q : null)
            ?? throw new InvalidOperationException($"experiment {x.Name} has neither write_to nor qos");
        var rses = new List<string>();
        await foreach (var r in client.ListRsesAsync(expression, ct).ConfigureAwait(false)) rses.Add(r);
        rses.Sort(StringComparer.Ordinal);
        return rses;
    }

    /// <summary>Per RSE the protocol files are written with: an HTTP/WebDAV one for upload mode when there is one.</summary>
    private async Task<Dictionary<string, RseProtocol?>> WriteProtocolsAsync(IReadOnlyList<string> rses, CancellationToken ct)
    {
        var protocols = new Dictionary<string, RseProtocol?>(StringComparer.Ordinal);
        foreach (var r in rses)
        {
            var ps = await client.GetProtocolsAsync(r, ct).ConfigureAwait(false);
            protocols[r] = ps.FirstOrDefault(p => p.Scheme is "https" or "davs" or "http" or "dav") ?? ps.FirstOrDefault();
        }
        return protocols;
    }

    private async Task InjectAsync(string phaseName, InjectPhase phase, List<ExperimentSpec> experiments, CancellationToken ct)
    {
        var seed = scenario.Run.Seed;
        var generators = experiments.Select(x => new SyntheticFileGenerator(seed, x, scenario.Run.Scale)).ToList();
        var targets = new List<(SyntheticFileGenerator Gen, IReadOnlyList<string> Rses, Dictionary<string, RseProtocol?> Protocols)>();
        foreach (var g in generators)
        {
            var rses = await ResolveAsync(g.Experiment, ct).ConfigureAwait(false);
            targets.Add((g, rses, await WriteProtocolsAsync(rses, ct).ConfigureAwait(false)));
        }
        var total = generators.Sum(g => g.Count);
        var offsets = new long[generators.Count + 1];
        for (var i = 0; i < generators.Count; i++) offsets[i + 1] = offsets[i] + generators[i].Count;
        var upload = connection.Injection == InjectionMode.Upload;
        var engine = new LoadEngine(options.Time, LoadStats, new LoadEngineOptions
        {
            Operation = phaseName + (upload ? ":upload" : ":register"),
            BatchSize = Math.Max(1, connection.BatchSize),
            Concurrency = Math.Max(1, connection.Concurrency),
        });
        var lastPrint = options.Time.GetTimestamp();
        var result = await engine.RunAsync(LoadEngine.Plan(phase.Load, scenario.Run.Scale, seed, total), async (op, token) =>
        {
            // A batch may span two experiments: one call group per experiment part.
            for (var k = 0; k < generators.Count; k++)
            {
                var from = Math.Max(op.First, offsets[k]);
                var to = Math.Min(op.First + op.Count, offsets[k + 1]);
                if (from >= to) continue;
                var (g, rses, protocols) = targets[k];
                await RegisterAsync(g, rses, protocols, from - offsets[k], to - from, upload, token).ConfigureAwait(false);
            }
            return OperationResult.Ok;
        }, ct, r =>
        {
            if (options.Time.GetElapsedTime(lastPrint) < TimeSpan.FromSeconds(10)) return;
            lastPrint = options.Time.GetTimestamp();
            stdout.WriteLine($"  {phaseName}: {r.Items}/{total} files, {r.Failed} failed calls, {r.Late} late, {r.Dropped} dropped");
        }).ConfigureAwait(false);
        await stdout.WriteLineAsync($"  {phaseName}: {result.Items}/{total} files in {result.Ok} calls; {result.Failed} failed, {result.Late} late, {result.Dropped} dropped").ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
    }

    private async Task RegisterAsync(SyntheticFileGenerator g, IReadOnlyList<string> rses, Dictionary<string, RseProtocol?> protocols,
        long first, long count, bool upload, CancellationToken ct)
    {
        var scope = g.Scope;
        var files = g.Enumerate(first, count).ToList();
        // Datasets (and containers) this batch writes into; 409 on the ones another batch created is fine (resume mode).
        var newDatasets = files.Select(f => (f.Dataset, f.Container)).Distinct().ToList();
        var dids = new List<NewDid>();
        foreach (var c in newDatasets.Select(d => d.Container).OfType<string>().Distinct()) dids.Add(new NewDid(scope, c, DidType.Container));
        foreach (var d in newDatasets) dids.Add(new NewDid(scope, d.Dataset, DidType.Dataset));
        await client.AddDidsAsync(dids, ct).ConfigureAwait(false);
        lock (_datasets) foreach (var d in newDatasets) if (!_datasets.Contains((scope, d.Dataset))) _datasets.Add((scope, d.Dataset));

        foreach (var group in files.GroupBy(f => rses[(int)(f.Index % rses.Count)]))
        {
            var proto = protocols.GetValueOrDefault(group.Key);
            var replicas = new List<NewReplica>();
            foreach (var f in group)
            {
                var pfn = proto?.UrlOf($"{scope}/{f.Name}");
                if (upload)
                {
                    if (pfn is null) throw new InvalidOperationException($"RSE {group.Key} has no protocol to upload to");
                    // The content must hash to the adler32 we register, or Rucio's own checks fail later.
                    if (g.Content.ComputeAdler32(f) != f.Adler32) throw new InvalidOperationException($"adler32 mismatch for {scope}:{f.Name}");
                    var file = f;
                    await client.PutAsync(pfn, (s, t) => g.Content.WriteToAsync(s, file, t), f.Bytes, ct).ConfigureAwait(false);
                }
                replicas.Add(new NewReplica(scope, f.Name, f.Bytes, f.Adler32Hex, Pfn: pfn?.ToString()));
            }
            await client.AddReplicasAsync(group.Key, replicas, ct: ct).ConfigureAwait(false);
        }
        var attachments = files.GroupBy(f => f.Dataset)
            .Select(d => new Attachment(scope, d.Key, [.. d.Select(f => new DidRef(scope, f.Name))])).ToList();
        foreach (var c in newDatasets.Where(d => d.Container is not null).GroupBy(d => d.Container!))
            attachments.Add(new Attachment(scope, c.Key, [.. c.Select(d => new DidRef(scope, d.Dataset))]));
        await client.AttachManyAsync(attachments, ct).ConfigureAwait(false);
        Interlocked.Add(ref _files, files.Count);
    }

    private async Task ReplicateAsync(string phaseName, RuleSpec rule, double fraction, List<ExperimentSpec> experiments, CancellationToken ct)
    {
        var scopes = experiments.Select(e => e.EffectiveScope).ToHashSet(StringComparer.Ordinal);
        List<(string Scope, string Name)> targets;
        lock (_datasets) targets = [.. _datasets.Where(d => scopes.Contains(d.Scope))];
        targets = [.. targets.Take((int)Math.Ceiling(targets.Count * Math.Clamp(fraction, 0, 1)))];
        var ids = new List<string>();
        _rulesByPhase[phaseName] = ids;
        using var gate = new SemaphoreSlim(Math.Max(1, connection.Concurrency));
        var failed = 0;
        await Task.WhenAll(targets.Select(async d =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var created = await client.AddRuleAsync(Request(rule, new DidRef(d.Scope, d.Name)), ct).ConfigureAwait(false);
                lock (ids) ids.AddRange(created);
                lock (_ruleDids) foreach (var id in created) _ruleDids[id] = new DidRef(d.Scope, d.Name);
                Interlocked.Add(ref _rules, created.Count);
            }
            catch (RucioException) { Interlocked.Increment(ref failed); }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        await stdout.WriteLineAsync($"  {phaseName}: {ids.Count} rules on {targets.Count} datasets, {failed} refused").ConfigureAwait(false);
    }

    private static RuleRequest Request(RuleSpec rule, DidRef did) => new()
    {
        Dids = [did],
        Copies = rule.Copies,
        RseExpression = rule.RseExpression.Text,
        Grouping = rule.Grouping.ToString().ToUpperInvariant(),
        LifetimeSeconds = rule.Lifetime is { } l ? (long)l.TotalSeconds : null,
        Activity = rule.Activity,
        Asynchronous = rule.Asynchronous ? true : null,
        SourceReplicaExpression = rule.SourceReplicaExpression?.Text,
        Notify = rule.Notify.ToString(),
        Priority = rule.Priority,
    };

    /// <summary>A new rule on each DID of the replaced phase's rules; the old rule goes once the new one is OK (in the background).</summary>
    private async Task TransitionAsync(string phaseName, QosTransitionPhase q, CancellationToken ct)
    {
        var old = _rulesByPhase.GetValueOrDefault(q.From) ?? [];
        old = [.. old.Take((int)Math.Ceiling(old.Count * Math.Clamp(q.Fraction, 0, 1)))];
        var ids = new List<string>();
        _rulesByPhase[phaseName] = ids;
        var replaced = new List<(string New, string Old)>();
        using var gate = new SemaphoreSlim(Math.Max(1, connection.Concurrency));
        var failed = 0;
        await Task.WhenAll(old.Select(async oldId =>
        {
            DidRef did;
            lock (_ruleDids) did = _ruleDids[oldId];
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var created = await client.AddRuleAsync(Request(q.Rule, did), ct).ConfigureAwait(false);
                lock (ids)
                {
                    ids.AddRange(created);
                    if (q.RemoveOld) replaced.AddRange(created.Select(n => (n, oldId)));
                }
                lock (_ruleDids) foreach (var id in created) _ruleDids[id] = did;
                Interlocked.Add(ref _rules, created.Count);
            }
            catch (RucioException) { Interlocked.Increment(ref failed); }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        await stdout.WriteLineAsync($"  {phaseName}: {ids.Count} rules replacing {old.Count} of {q.From}, {failed} refused"
            + (q.RemoveOld ? "; each old rule is removed once its new one is OK" : "")).ConfigureAwait(false);
        if (replaced.Count > 0) _background.Add(RetireReplacedAsync(phaseName, replaced, ct));
    }

    /// <summary>Removes each replaced rule once its successor is OK, checking a bounded number of successors per round.</summary>
    private async Task RetireReplacedAsync(string phaseName, List<(string New, string Old)> pending, CancellationToken ct)
    {
        while (pending.Count > 0)
        {
            await Task.Delay(options.RulePoll, options.Time, ct).ConfigureAwait(false);
            var done = new List<(string, string)>();
            foreach (var pair in pending.Take(TransitionChecksPerRound))
            {
                try
                {
                    var state = await client.GetRuleAsync(pair.New, ct).ConfigureAwait(false);
                    if (state.State != "OK") continue;
                    await client.DeleteRuleAsync(pair.Old, false, ct).ConfigureAwait(false);
                    done.Add(pair);
                }
                catch (RucioNotFoundException) { done.Add(pair); } // either rule is gone already: nothing left to do
                catch (RucioException) { /* counted in the API statistics; tried again next round */ }
            }
            foreach (var d in done) pending.Remove(d);
            Interlocked.Add(ref _retired, done.Count);
            if (done.Count > 0)
                await stdout.WriteLineAsync($"  {phaseName}: {done.Count} replaced rules removed, {pending.Count} waiting for their new rule").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// ESCAPE's functional-test noise: every period, per ordered pair of the RSEs, a file written at the source and a
    /// one-copy rule to the destination, both with the phase's lifetime. Names carry the run's start so a later run never
    /// meets a name Rucio remembers as deleted.
    /// </summary>
    private async Task NoiseAsync(string phaseName, NoisePhase n, DateTimeOffset runStart, DateTimeOffset runEnd, CancellationToken ct)
    {
        var rses = new List<string>();
        await foreach (var r in client.ListRsesAsync(n.Rses?.Text ?? "*", ct).ConfigureAwait(false)) rses.Add(r);
        rses.Sort(StringComparer.Ordinal);
        var protocols = await WriteProtocolsAsync(rses, ct).ConfigureAwait(false);
        var pairs = (from src in rses from dst in rses where src != dst select (src, dst)).ToList();
        var first = options.Time.GetUtcNow();
        var until = n.During is { } d && first + d < runEnd ? first + d : runEnd;
        var tag = runStart.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        var content = new SyntheticContent(scenario.Run.Seed);
        var upload = connection.Injection == InjectionMode.Upload;
        var index = 0L;
        for (var round = 0; first + n.Every * round < until; round++)
        {
            var wait = first + n.Every * round - options.Time.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, options.Time, ct).ConfigureAwait(false);
            var written = 0;
            foreach (var (src, dst) in pairs)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"fdr-noise.{src}.{dst}.{tag}.r{round:D3}");
                var adler = content.ComputeAdler32(n.Scope, index, n.FileSize.Bytes);
                var file = new SyntheticFile(n.Scope, name, "", null, n.FileSize.Bytes, adler, index++);
                try
                {
                    var pfn = protocols[src]?.UrlOf($"{n.Scope}/{name}");
                    if (upload && pfn is not null) await client.PutAsync(pfn, (s, t) => content.WriteToAsync(s, file, t), file.Bytes, ct).ConfigureAwait(false);
                    await client.AddReplicasAsync(src, [new NewReplica(n.Scope, name, file.Bytes, file.Adler32Hex, Pfn: pfn?.ToString())], ct: ct).ConfigureAwait(false);
                    await client.SetDidLifetimeAsync(n.Scope, name, n.Lifetime, ct).ConfigureAwait(false);
                    var rule = new RuleSpec { RseExpression = RseExpression.Parse(dst), Grouping = RuleGrouping.None, Lifetime = n.Lifetime, Activity = n.Activity };
                    var created = await client.AddRuleAsync(Request(rule, new DidRef(n.Scope, name)), ct).ConfigureAwait(false);
                    Interlocked.Add(ref _rules, created.Count);
                    written++;
                }
                catch (RucioException) { /* counted in the API statistics; the next pair goes on */ }
            }
            Interlocked.Add(ref _noiseFiles, written);
            await stdout.WriteLineAsync($"  {phaseName}: round {round}, {written} of {pairs.Count} noise files and rules").ConfigureAwait(false);
        }
    }

    private async Task DeleteAsync(DeletePhase p, List<ExperimentSpec> experiments, CancellationToken ct)
    {
        var ruleIds = (p.RulesOf.Count == 0 ? _rulesByPhase.Values : p.RulesOf.Select(n => _rulesByPhase.GetValueOrDefault(n) ?? []))
            .SelectMany(x => x).ToList();
        foreach (var id in ruleIds.Take((int)Math.Ceiling(ruleIds.Count * Math.Clamp(p.Fraction, 0, 1))))
        {
            try
            {
                if (p.RuleLifetime is { } lt) await client.SetRuleLifetimeAsync(id, lt, ct).ConfigureAwait(false);
                else if (p.DidLifetime is null) await client.DeleteRuleAsync(id, false, ct).ConfigureAwait(false);
            }
            catch (RucioException) { /* counted in the API statistics */ }
        }
        if (p.DidLifetime is { } didLifetime)
        {
            var scopes = experiments.Select(e => e.EffectiveScope).ToHashSet(StringComparer.Ordinal);
            List<(string Scope, string Name)> targets;
            lock (_datasets) targets = [.. _datasets.Where(d => scopes.Contains(d.Scope))];
            foreach (var d in targets.Take((int)Math.Ceiling(targets.Count * Math.Clamp(p.Fraction, 0, 1))))
            {
                try { await client.SetDidLifetimeAsync(d.Scope, d.Name, didLifetime, ct).ConfigureAwait(false); }
                catch (RucioException) { /* counted in the API statistics */ }
            }
        }
    }

    /// <summary>After the phases: keep reading events (or polling rule states without a broker) until the run's end.</summary>
    public async Task ObserveUntilAsync(DateTime endUtc, HermesConsumer? consumer, CancellationToken ct)
    {
        var rules = _rulesByPhase.Values.SelectMany(x => x).ToList();
        while (options.Time.GetUtcNow().UtcDateTime < endUtc)
        {
            var left = endUtc - options.Time.GetUtcNow().UtcDateTime;
            await Task.Delay(left < options.RulePoll ? left : options.RulePoll, options.Time, ct).ConfigureAwait(false);
            if (consumer is not null)
            {
                await stdout.WriteLineAsync($"  events: {consumer.Written} written").ConfigureAwait(false);
                continue;
            }
            var states = new SortedDictionary<string, int>(StringComparer.Ordinal);
            long ok = 0, replicating = 0, stuck = 0;
            var sample = rules.Take(200).ToList(); // polling a million rules would load the server we measure
            foreach (var id in sample)
            {
                try
                {
                    var s = await client.GetRuleAsync(id, ct).ConfigureAwait(false);
                    states[s.State] = states.GetValueOrDefault(s.State) + 1;
                    // A rule's locks are its files' transfer requests: replicating = queued or in FTS, stuck = given up for now.
                    (ok, replicating, stuck) = (ok + s.LocksOk, replicating + s.LocksReplicating, stuck + s.LocksStuck);
                }
                catch (RucioNotFoundException) { states["CLEANED"] = states.GetValueOrDefault("CLEANED") + 1; }
            }
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  rules ({sample.Count} of {rules.Count}): {string.Join(", ", states.Select(kv => $"{kv.Key} {kv.Value}"))}; files {ok} ok, {replicating} replicating, {stuck} stuck")).ConfigureAwait(false);
        }
    }
}
