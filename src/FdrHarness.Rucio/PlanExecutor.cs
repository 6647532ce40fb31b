using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio;

/// <summary>
/// A plan's operations against a live Rucio on wall-clock time: each starts at its instant (late when no slot is free,
/// latency measured from the instant — no coordinated omission), in bulk calls of at most the connection's batch size.
/// An operation that depends on another (a rule on a dataset, a lifetime on a rule) waits for it; dependencies are
/// always dispatched first because the plan is in time order. An operation that fails after the client's retries is
/// tried again, with backoff, until the run's end; what never succeeds is counted and listed, never lost silently.
/// </summary>
internal sealed partial class PlanExecutor
{
    /// <summary>At most this many replaced rules are checked per round (polling a million would load the server we measure).</summary>
    private const int TransitionChecksPerRound = 500;

    private readonly RunPlan _plan;
    private readonly PlanShard _shard;
    private readonly RucioConnection _connection;
    private readonly RucioClient _client;
    private readonly RucioCatalog _catalog;
    private readonly LiveRunOptions _options;
    private readonly TextWriter _log;
    private readonly IObservationSink _sink;
    private readonly DateTimeOffset _start;
    private readonly ConcurrentDictionary<(int Experiment, long Dataset), DatasetWork> _datasets = new();
    private readonly ConcurrentDictionary<(int Experiment, long Container), Task> _containers = new();
    private readonly TaskCompletionSource<string?>[] _rules;
    private readonly ConcurrentDictionary<string, RseAvailabilityChange> _outages = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _lost = new();
    private readonly List<Task> _background = [];
    private readonly ConcurrentDictionary<string, long> _cutOff = new(StringComparer.Ordinal);
    private readonly RunJournal _journal;
    private readonly IReadOnlyDictionary<string, JournalEntry> _done;
    private long _filesRegistered, _rulesCreated, _rulesRetired, _noiseFiles, _failed, _notStarted;
    // What Rucio confirmed holding, per observation interval, DID and RSE: written once the end's read-back has checked it.
    private readonly InjectionTally _injected;
    private readonly ConcurrentDictionary<long, bool> _noiseInjected = new();

    /// <param name="shard">The part of the plan this process carries out (the whole plan unless --shard); the other shards carry out theirs against the same Rucio.</param>
    /// <param name="journal">Where each unit of work's outcome is written as it ends.</param>
    /// <param name="resumed">A killed run's journal: its done work is not done again, only its effects taken up (rule ids,
    /// files counted, datasets complete, outages to put back).</param>
    public PlanExecutor(RunPlan plan, PlanShard shard, RucioConnection connection, RucioClient client, LiveRunOptions options, TextWriter log, IObservationSink sink,
        DateTimeOffset start, RunJournal journal, RunJournal.Contents? resumed = null)
    {
        _journal = journal;
        _done = resumed?.Work.Where(w => w.Value.Outcome == JournalEntry.Done).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal)
            ?? new Dictionary<string, JournalEntry>(StringComparer.Ordinal);
        TakeUpOutages();
        _plan = plan;
        _shard = shard;
        _connection = connection;
        _client = client;
        _catalog = new RucioCatalog(client, new CatalogOptions { Concurrency = 1, Rounds = 1 });
        _options = options;
        _log = log;
        _sink = sink;
        _start = start;
        _injected = new InjectionTally(plan.Scenario.Run.ObservationInterval > TimeSpan.Zero ? plan.Scenario.Run.ObservationInterval : TimeSpan.FromMinutes(1));
        _rules = new TaskCompletionSource<string?>[plan.RuleCount];
        for (var i = 0; i < _rules.Length; i++) _rules[i] = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Latency (from the intended instant) and outcome of every operation, by kind.</summary>
    public OperationStats Operations { get; } = new();
    public long FilesRegistered => Interlocked.Read(ref _filesRegistered);
    public long RulesCreated => Interlocked.Read(ref _rulesCreated);
    public long RulesRetired => Interlocked.Read(ref _rulesRetired);
    public long NoiseFiles => Interlocked.Read(ref _noiseFiles);
    /// <summary>Operations that never succeeded within the run.</summary>
    public long Failed => Interlocked.Read(ref _failed);
    /// <summary>Work stopped while running when the run was cut off (or interrupted), by kind.</summary>
    public IReadOnlyDictionary<string, long> CutOff => _cutOff;
    /// <summary>The plan's operations never started because the run was cut off (or interrupted) first.</summary>
    public long NotStarted => Interlocked.Read(ref _notStarted);
    /// <summary>What never made it, one line each (the first thousand are kept).</summary>
    public IReadOnlyCollection<string> Lost => _lost;
    /// <summary>The rule ids Rucio gave, by the plan's rule number (null: never created).</summary>
    public IEnumerable<(int Rule, string Id)> RuleIds =>
        _rules.Select((t, i) => (i, t.Task.IsCompletedSuccessfully ? t.Task.Result : null)).Where(x => x.Item2 is not null).Select(x => (x.i, x.Item2!));
    /// <summary>The plan's rule numbers whose rule the shard's delete phases remove or give a lifetime.</summary>
    public IEnumerable<int> RulesToExpire => _shard.Operations().OfType<SetRuleLifetime>().Select(o => o.Rule).Distinct();
    /// <summary>The DIDs the shard's delete phases give a lifetime.</summary>
    public IEnumerable<DidRef> DidsToExpire => _shard.Operations().OfType<SetDidLifetime>()
        .Select(o => new DidRef(_plan.ScopeOf(o.Did), _plan.NameOf(o.Did))).Distinct();
    /// <summary>The datasets the run wrote into.</summary>
    public IEnumerable<(int Experiment, long Dataset)> Datasets => _datasets.Keys;

    /// <summary>The operation's position in the plan, from a unit of work's name ("position.part").</summary>
    private static long Position(string work) => long.Parse(work.AsSpan(0, work.IndexOf('.', StringComparison.Ordinal)), CultureInfo.InvariantCulture);

    /// <summary>Units of work a resume found done and did not do again.</summary>
    public long Skipped { get; private set; }

    /// <summary>Every operation at its instant; returns once all have finished, been given up, or the run is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var slots = new SemaphoreSlim(Math.Max(1, _connection.Concurrency));
        var running = new List<Task>();
        var lastPrint = _options.Time.GetTimestamp();
        long dispatched = 0;
        try
        {
            long position = -1; // in the shard's operations: the same on a resume of the same shard
            foreach (var operation in _shard.Operations())
            {
                position++;
                var intended = _start + operation.At;
                var parts = Split(operation, position).ToList();
                if (parts.Count > 0 && parts.All(w => _done.ContainsKey(w.Key)))
                {
                    // Done before the kill: its effects only, at once (later work waits on them).
                    foreach (var work in parts)
                    {
                        work.Prepare?.Invoke();
                        work.Replay?.Invoke(_done[work.Key]);
                    }
                    Skipped += parts.Count;
                    continue;
                }
                var wait = intended - _options.Time.GetUtcNow();
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _options.Time, ct).ConfigureAwait(false);
                if (operation is ChaosFiring firing) Chaos(firing, position);
                foreach (var work in parts)
                {
                    work.Prepare?.Invoke();
                    if (_done.TryGetValue(work.Key, out var done))
                    {
                        work.Replay?.Invoke(done);
                        Skipped++;
                        continue;
                    }
                    await slots.WaitAsync(ct).ConfigureAwait(false);
                    running.Add(RunOneAsync(work, intended, slots, ct));
                }
                dispatched++;
                if (running.Count > 4096) running.RemoveAll(t => t.IsCompleted);
                if (_options.Time.GetElapsedTime(lastPrint) >= TimeSpan.FromSeconds(10))
                {
                    lastPrint = _options.Time.GetTimestamp();
                    await _log.WriteLineAsync(Progress()).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            Interlocked.Exchange(ref _notStarted, _shard.Operations().LongCount() - dispatched);
            throw;
        }
        finally
        {
            try { await Task.WhenAll(running).ConfigureAwait(false); }
            catch (OperationCanceledException) { /* the run was stopped */ }
        }
        await _log.WriteLineAsync(Progress()).ConfigureAwait(false);
    }

    /// <summary>Waits for the background work (rule retirement) once the run's token is cancelled.</summary>
    public async Task DrainAsync()
    {
        Task[] background;
        lock (_background) background = [.. _background];
        foreach (var t in background)
        {
            try { await t.ConfigureAwait(false); }
            catch (OperationCanceledException) { /* the run ended */ }
        }
    }

    private string Progress() => string.Create(CultureInfo.InvariantCulture,
        $"  {FilesRegistered:N0} of {_shard.Counts.Files:N0} files registered, {RulesCreated:N0} of {_shard.Counts.Rules:N0} rules, {NoiseFiles:N0} noise files, {Failed:N0} operations failed");

    /// <summary>
    /// One unit of work: its name in the journal (the operation's position, then the part), a kind for the statistics,
    /// what to do (answering what the journal keeps of it), what to mark before it is queued, what to mark when it is
    /// given up, and what to take up when a resume finds it done.
    /// </summary>
    private sealed record Work(string Key, string Kind, Func<CancellationToken, Task<JournalEntry?>> Run, Action? Prepare = null, Action? GiveUp = null,
        Action<JournalEntry>? Replay = null);

    private static string Part(long position, int part) => string.Create(CultureInfo.InvariantCulture, $"{position}.{part}");

    private IEnumerable<Work> Split(PlannedOperation operation, long position)
    {
        switch (operation)
        {
            case InjectFiles inject:
                var batch = Math.Max(1, _connection.BatchSize);
                for (var i = 0; i < inject.Files.Count; i += batch)
                {
                    var files = inject.Files.Skip(i).Take(batch).ToArray();
                    yield return new Work(Part(position, i / batch), _plan.Phases[inject.Phase].Name + (Upload ? ":upload" : ":register"),
                        async t => new JournalEntry { Registered = await RegisterAsync(files, t).ConfigureAwait(false) },
                        () => Expect(files), () => Finished(files, registered: false),
                        done =>
                        {
                            Interlocked.Add(ref _filesRegistered, done.Registered ?? 0);
                            Finished(files, registered: true);
                            // Done before a kill: its files are known only when all went in (the journal keeps a count).
                            if (done.Registered == files.Length) Injected(files, (_start + inject.At).UtcDateTime, _ => true);
                        });
                }
                break;
            case AddRule add:
                yield return new Work(Part(position, 0), _plan.Phases[add.Phase].Name + ":add_rule",
                    async t => new JournalEntry { Rule = add.Rule, RuleId = await AddRuleAsync(add, t).ConfigureAwait(false) },
                    GiveUp: () => _rules[add.Rule].TrySetResult(null), Replay: done => Created(add, done.RuleId));
                break;
            case SetRuleLifetime lifetime:
                yield return new Work(Part(position, 0), _plan.Phases[lifetime.Phase].Name + ":rule_lifetime", async t =>
                {
                    await SetRuleLifetimeAsync(lifetime, t).ConfigureAwait(false);
                    return null;
                });
                break;
            case SetDidLifetime lifetime:
                yield return new Work(Part(position, 0), _plan.Phases[lifetime.Phase].Name + ":did_lifetime", async t =>
                {
                    await SetDidLifetimeAsync(lifetime, t).ConfigureAwait(false);
                    return null;
                });
                break;
            case NoiseRound noise:
                for (var i = 0; i < noise.Files.Count; i++)
                {
                    var file = noise.Files[i];
                    yield return new Work(Part(position, i), _plan.Phases[noise.Phase].Name + ":noise", async t =>
                    {
                        await NoiseAsync(noise.Phase, file, t).ConfigureAwait(false);
                        return null;
                    }, Replay: _ => Interlocked.Increment(ref _noiseFiles));
                }
                break;
        }
    }

    private bool Upload => _connection.Injection == InjectionMode.Upload;

    private async Task RunOneAsync(Work work, DateTimeOffset intended, SemaphoreSlim slots, CancellationToken ct)
    {
        try
        {
            if (_options.Time.GetUtcNow() - intended > LateAfter) Operations.Late(work.Kind);
            var (ok, entry) = await WithRetriesAsync(work, ct).ConfigureAwait(false);
            Operations.Record(work.Kind, _options.Time.GetUtcNow() - intended, ok ? OperationResult.Ok : OperationResult.Failed);
            _journal.Add(entry with { Work = work.Key, Kind = work.Kind });
        }
        finally
        {
            slots.Release();
        }
    }

    private static readonly TimeSpan LateAfter = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The client already retried 5xx, 429 and timeouts; what still fails (an answer Rucio would give again, or a
    /// server that is down for minutes) is tried again later, with backoff, until the run's end.
    /// </summary>
    private async Task<(bool Ok, JournalEntry Entry)> WithRetriesAsync(Work work, CancellationToken ct)
    {
        var delay = _options.OperationRetryDelay;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var done = await work.Run(ct).ConfigureAwait(false) ?? new JournalEntry();
                return (true, done with { Outcome = JournalEntry.Done });
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                _cutOff.AddOrUpdate(work.Kind, 1, (_, n) => n + 1);
                work.GiveUp?.Invoke();
                throw;
            }
            catch (Exception e) when (e is RucioException or RucioUnreachableException or HttpRequestException or JsonException or InvalidDataException
                                          or IOException or OperationCanceledException or TransientFailure or NotApplied)
            {
                // What Rucio refuses for the request itself will not change: no retry.
                if (e is NotApplied or RucioRequestException or RucioNotFoundException || (e is RucioException r && !RucioErrorMapping.IsTransient(r))
                    || attempt >= _options.OperationRetries)
                {
                    Interlocked.Increment(ref _failed);
                    if (_lost.Count < 1000) _lost.Enqueue($"{work.Kind}: {OneLine(e.Message)}");
                    work.GiveUp?.Invoke();
                    return (false, new JournalEntry { Outcome = JournalEntry.Failed, Reason = OneLine(e.Message) });
                }
            }
            try { await Task.Delay(delay, _options.Time, ct).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                _cutOff.AddOrUpdate(work.Kind, 1, (_, n) => n + 1);
                work.GiveUp?.Invoke();
                throw;
            }
            delay = delay * 2 > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : delay * 2;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    // --- injection ---

    /// <summary>Per dataset: the files planned so far and finished, and the completion a rule or lifetime waits for.</summary>
    private sealed class DatasetWork
    {
        public int Expected;
        public int Finished;
        public int Registered;
        public Task? Created;
        public readonly TaskCompletionSource Complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private DatasetWork DatasetOf(int experiment, long dataset) => _datasets.GetOrAdd((experiment, dataset), _ => new DatasetWork());

    /// <summary>Counts the files of each dataset before their call is queued, so a dataset is complete only when all have finished.</summary>
    private void Expect(PlannedFile[] files)
    {
        foreach (var f in files) Interlocked.Increment(ref DatasetOf(f.Experiment, f.Dataset).Expected);
    }

    private void Finished(PlannedFile[] files, bool registered)
    {
        foreach (var f in files)
        {
            var work = DatasetOf(f.Experiment, f.Dataset);
            if (registered) Interlocked.Increment(ref work.Registered);
            var finished = Interlocked.Increment(ref work.Finished);
            var (_, count) = _plan.Experiments[f.Experiment].FilesOf(f.Dataset);
            if (finished == count) work.Complete.TrySetResult();
        }
    }

    /// <summary>
    /// The datasets (and containers) the batch opens, then the files' replicas per write RSE (no pfn: Rucio derives it; in
    /// upload mode the content goes first to the URL Rucio will derive), then the attachments. Each dataset and container
    /// is made once per run, by the first batch that needs it; later batches wait for that. Every step is idempotent
    /// (RucioCatalog), so a batch tried again after a failure does nothing twice. A file counts as registered only when
    /// Rucio took its replica and its attachment.
    /// </summary>
    private async Task<long> RegisterAsync(PlannedFile[] files, CancellationToken ct)
    {
        foreach (var group in files.GroupBy(f => (f.Experiment, f.Dataset)))
            await EnsureDatasetAsync(group.Key.Experiment, group.Key.Dataset, ct).ConfigureAwait(false);
        var refused = new HashSet<(string Scope, string Name)>();
        foreach (var group in files.GroupBy(f => _plan.Experiments[f.Experiment].WriteRses[f.WriteRseStart]))
        {
            var rse = group.Key;
            if (Upload)
            {
                var storage = await _catalog.StorageAsync(rse, upload: true, ct).ConfigureAwait(false);
                foreach (var f in group)
                {
                    var url = storage.UploadUrl(f.File.Scope, f.File.Name) ?? throw new NotApplied($"RSE {rse} has no protocol to upload to");
                    var file = f.File;
                    await _client.PutAsync(url, (s, t) => _plan.Content.WriteToAsync(s, file, t), file.Bytes, ct).ConfigureAwait(false);
                }
            }
            var results = await _catalog.RegisterReplicasAsync(rse, [.. group.Select(f => new NewReplica(f.File.Scope, f.File.Name, f.File.Bytes, f.File.Adler32Hex))],
                PfnMode.Derived, ct).ConfigureAwait(false);
            Check(results.Failures, r => r.Ok, r => r.Transient, r => $"{r.Item.Scope}:{r.Item.Name} on {rse}: {r.Reason}", r => refused.Add((r.Item.Scope, r.Item.Name)));
        }
        var attachments = files.Where(f => !refused.Contains((f.File.Scope, f.File.Name))).GroupBy(f => (f.Experiment, f.Dataset)).Select(d =>
        {
            var e = _plan.Experiments[d.Key.Experiment];
            return new Attachment(e.Scope, e.DatasetName(d.Key.Dataset), [.. d.Select(f => new DidRef(f.File.Scope, f.File.Name))]);
        }).ToList();
        var attached = await _catalog.AttachAsync(attachments, ct).ConfigureAwait(false);
        Check(attached, r => r.Ok, r => r.Transient, r => $"{r.Item.Child.Name} into {r.Item.Parent.Name}: {r.Reason}", r => refused.Add((r.Item.Child.Scope, r.Item.Child.Name)));
        Interlocked.Add(ref _filesRegistered, files.Length - refused.Count);
        if (refused.Count > 0) Interlocked.Add(ref _failed, refused.Count);
        Injected(files, _options.Time.GetUtcNow().UtcDateTime, f => !refused.Contains((f.File.Scope, f.File.Name)));
        Finished(files, registered: true);
        return files.Length - refused.Count;
    }

    /// <summary>Files Rucio took (replica and attachment) into the injection tally.</summary>
    private void Injected(PlannedFile[] files, DateTime time, Func<PlannedFile, bool> taken)
    {
        foreach (var group in files.Where(taken).GroupBy(f => (f.Experiment, f.Dataset, f.WriteRseStart)))
        {
            var e = _plan.Experiments[group.Key.Experiment];
            _injected.Add(time, e.Scope, e.DatasetName(group.Key.Dataset), e.WriteRses[group.Key.WriteRseStart], group.Count(), group.Sum(f => f.File.Bytes));
        }
    }

    /// <summary>
    /// Writes the injections Rucio confirmed during the run into the sink, once. <paramref name="held"/> is what the end's
    /// read-back found per dataset (a dataset absent from it was not read back, or is gone: erased by its lifetime after its
    /// files went in): a dataset holding fewer files than were confirmed is left out, so the report never says more than
    /// Rucio holds. Returns the files written and, when some were left out, a line saying so.
    /// </summary>
    public (long Files, string? Note) WriteInjections(IReadOnlyDictionary<(string Scope, string Name), long>? held)
    {
        long dropped = 0, droppedHeld = 0;
        var datasets = 0;
        if (held is not null)
            foreach (var (did, files) in _injected.FilesByDid())
                if (held.TryGetValue(did, out var h) && h < files)
                {
                    dropped += _injected.Remove(did.Scope, did.Name);
                    droppedHeld += h;
                    datasets++;
                }
        long written = 0;
        foreach (var r in _injected.Take())
        {
            _sink.Injection(r);
            written += r.Files;
        }
        return (written, datasets == 0 ? null : string.Create(CultureInfo.InvariantCulture,
            $"{datasets:N0} datasets hold fewer files than Rucio confirmed during the run ({dropped:N0} confirmed, {droppedHeld:N0} held at the end): their injections are left out of injections.parquet"));
    }

    /// <summary>
    /// What a catalog operation could not do: a passing failure makes the whole work item go again later (every step is
    /// idempotent); a lasting one is written down as lost and the rest goes on.
    /// </summary>
    private void Check<T>(IEnumerable<T> results, Func<T, bool> ok, Func<T, bool> transient, Func<T, string> describe, Action<T> lost)
    {
        var failed = results.Where(r => !ok(r)).ToList();
        if (failed.Any(transient)) throw new TransientFailure(describe(failed.First(transient)));
        foreach (var r in failed)
        {
            lost(r);
            if (_lost.Count < 1000) _lost.Enqueue(describe(r));
        }
    }

    /// <summary>Some items failed for a passing reason: the work item goes again after a backoff.</summary>
    private sealed class TransientFailure(string message) : Exception(message);

    /// <summary>The target cannot do this at all (no protocol to upload to, a rule Rucio refuses): counted, not retried.</summary>
    private sealed class NotApplied(string message) : Exception(message);

    private Task EnsureDatasetAsync(int experiment, long dataset, CancellationToken ct)
    {
        var work = DatasetOf(experiment, dataset);
        lock (work) return work.Created is { IsFaulted: false, IsCanceled: false } created ? created : work.Created = CreateDatasetAsync(experiment, dataset, ct);
    }

    private async Task CreateDatasetAsync(int experiment, long dataset, CancellationToken ct)
    {
        var e = _plan.Experiments[experiment];
        var container = e.ContainerOf(dataset);
        if (container >= 0)
            await _containers.GetOrAdd((experiment, container), _ => EnsureCollectionAsync(e.Scope, e.ContainerName(container), DidType.Container, ct)).ConfigureAwait(false);
        await EnsureCollectionAsync(e.Scope, e.DatasetName(dataset), DidType.Dataset, ct).ConfigureAwait(false);
        if (container >= 0)
        {
            var attached = await _catalog.AttachAsync([new Attachment(e.Scope, e.ContainerName(container), [new DidRef(e.Scope, e.DatasetName(dataset))])], ct).ConfigureAwait(false);
            Check(attached, r => r.Ok, r => r.Transient, r => $"{r.Item.Child.Name} into {r.Item.Parent.Name}: {r.Reason}", _ => { });
        }
    }

    private async Task EnsureCollectionAsync(string scope, string name, DidType type, CancellationToken ct)
    {
        var result = (await _catalog.EnsureCollectionsAsync([new NewDid(scope, name, type)], ct).ConfigureAwait(false))[0];
        if (result.Ok) return;
        if (result.Transient) throw new TransientFailure($"{scope}:{name}: {result.Reason}");
        throw new NotApplied($"{scope}:{name}: {result.Reason}");
    }

    // --- rules ---

    /// <summary>The DID's datasets are complete (every file finished), so the rule sees every file.</summary>
    private Task DidCompleteAsync(PlannedDid did)
    {
        var e = _plan.Experiments[did.Experiment];
        return did.Kind switch
        {
            DidKind.Dataset => DatasetOf(did.Experiment, did.Index).Complete.Task,
            DidKind.File => DatasetOf(did.Experiment, did.Index / e.FilesPerDataset).Complete.Task,
            _ => Task.WhenAll(Enumerable.Range(0, (int)e.DatasetsOf(did.Index).Count)
                .Select(k => DatasetOf(did.Experiment, e.DatasetsOf(did.Index).First + k).Complete.Task)),
        };
    }

    /// <summary>The rule on its DID once the DID is complete; its id (null: the rule it replaces never existed, nothing to move).</summary>
    private async Task<string?> AddRuleAsync(AddRule add, CancellationToken ct)
    {
        await DidCompleteAsync(add.Did).WaitAsync(ct).ConfigureAwait(false);
        var replaced = add.Replaces is { } r ? await _rules[r].Task.WaitAsync(ct).ConfigureAwait(false) : null;
        if (add.Replaces is not null && replaced is null)
        {
            Created(add, null);
            return null;
        }
        var result = await _catalog.EnsureRuleAsync(Request(add.Spec, new DidRef(_plan.ScopeOf(add.Did), _plan.NameOf(add.Did))), ct).ConfigureAwait(false);
        if (!result.Ok) throw result.Transient ? new TransientFailure($"rule {add.Rule}: {result.Reason}") : new NotApplied($"rule {add.Rule}: {result.Reason}");
        var id = result.RuleIds.FirstOrDefault() ?? throw new NotApplied($"rule {add.Rule}: Rucio answered without a rule id");
        Created(add, id);
        return id;
    }

    /// <summary>A rule made (now, or before a resume): later work gets its id, and the rule it replaces goes once it is OK.</summary>
    private void Created(AddRule add, string? id)
    {
        _rules[add.Rule].TrySetResult(id);
        if (id is null) return;
        Interlocked.Increment(ref _rulesCreated);
        if (add.Replaces is { } r && _rules[r].Task is { IsCompletedSuccessfully: true, Result: { } replaced }) Retire(add.Phase, id, replaced);
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

    private async Task SetRuleLifetimeAsync(SetRuleLifetime set, CancellationToken ct)
    {
        if (await _rules[set.Rule].Task.WaitAsync(ct).ConfigureAwait(false) is not { } id) return; // never created: nothing to expire
        var result = set.Lifetime is { } lifetime
            ? await _catalog.SetRuleLifetimeAsync(id, lifetime, ct).ConfigureAwait(false)
            : await _catalog.DeleteRuleAsync(id, false, ct).ConfigureAwait(false);
        Throw(result);
    }

    private async Task SetDidLifetimeAsync(SetDidLifetime set, CancellationToken ct)
    {
        var work = DatasetOf(set.Did.Experiment, set.Did.Index);
        if (work.Created is { } created) await created.WaitAsync(ct).ConfigureAwait(false);
        Throw(await _catalog.SetDidLifetimeAsync(new DidRef(_plan.ScopeOf(set.Did), _plan.NameOf(set.Did)), set.Lifetime, ct).ConfigureAwait(false));
    }

    private static void Throw<T>(ItemResult<T> result)
    {
        if (result.Ok) return;
        throw result.Transient ? new TransientFailure($"{result.Item}: {result.Reason}") : new NotApplied($"{result.Item}: {result.Reason}");
    }

    /// <summary>A qos_transition's old rule goes once the new one is OK: checked in the background, a bounded number per round.</summary>
    private void Retire(int phase, string newRule, string oldRule)
    {
        lock (_background)
        {
            if (!_retiring.TryGetValue(phase, out var queue))
            {
                _retiring[phase] = queue = new ConcurrentQueue<(string, string)>();
                _background.Add(RetireReplacedAsync(_plan.Phases[phase].Name, queue, _retireToken));
            }
            queue.Enqueue((newRule, oldRule));
        }
    }

    private readonly Dictionary<int, ConcurrentQueue<(string New, string Old)>> _retiring = [];
    private CancellationToken _retireToken, _lastRoundToken;

    /// <summary>
    /// The token background work stops on (the run's end, not the phases'), and the one that bounds its last look (the
    /// planned end plus the grace: a server that hangs cannot hold the run's end back).
    /// </summary>
    public void StopBackgroundOn(CancellationToken ct, CancellationToken lastRound)
    {
        _retireToken = ct;
        _lastRoundToken = lastRound;
    }

    private async Task RetireReplacedAsync(string phaseName, ConcurrentQueue<(string New, string Old)> queue, CancellationToken ct)
    {
        var pending = new List<(string New, string Old)>();
        try
        {
            while (true)
            {
                await Task.Delay(_options.RulePoll, _options.Time, ct).ConfigureAwait(false);
                while (queue.TryDequeue(out var p)) pending.Add(p);
                await RetireRoundAsync(phaseName, pending, TransitionChecksPerRound, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run's end: one last look at every replaced rule, so what is OK by now is not left behind.
            while (queue.TryDequeue(out var p)) pending.Add(p);
            try { await RetireRoundAsync(phaseName, pending, int.MaxValue, _lastRoundToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { /* cut off: what is left stays, as the summary's rule counts show */ }
        }
    }

    /// <summary>Removes each old rule whose new rule is OK, looking at most <paramref name="limit"/> pairs.</summary>
    private async Task RetireRoundAsync(string phaseName, List<(string New, string Old)> pending, int limit, CancellationToken ct)
    {
        var done = new List<(string, string)>();
        foreach (var pair in pending.Take(limit))
        {
            try
            {
                var state = await _client.GetRuleAsync(pair.New, ct).ConfigureAwait(false);
                if (state.State != "OK") continue;
                Throw(await _catalog.DeleteRuleAsync(pair.Old, false, ct).ConfigureAwait(false));
                done.Add(pair);
            }
            catch (RucioNotFoundException) { done.Add(pair); } // either rule is gone already: nothing left to do
            catch (Exception e) when (e is RucioException or HttpRequestException or JsonException or RucioUnreachableException or TransientFailure or NotApplied)
            {
                /* counted in the API statistics; tried again next round */
            }
        }
        foreach (var d in done) pending.Remove(d);
        Interlocked.Add(ref _rulesRetired, done.Count);
        if (done.Count > 0)
            await _log.WriteLineAsync($"  {phaseName}: {done.Count} replaced rules removed, {pending.Count} waiting for their new rule").ConfigureAwait(false);
    }

    // --- noise ---

    /// <summary>
    /// A noise file at its source (registered, or uploaded then registered), its DID lifetime, and a one-copy rule to
    /// the destination. Names carry the run's start, so a later run never meets a name Rucio keeps as deleted.
    /// </summary>
    private async Task NoiseAsync(int phase, NoiseFile noise, CancellationToken ct)
    {
        var spec = _plan.Noise.PhaseOf(noise.Index);
        var name = NoisePlan.LiveName(noise.Name, _start);
        if (Upload && (await _catalog.StorageAsync(noise.Source, upload: true, ct).ConfigureAwait(false)).UploadUrl(noise.Scope, name) is { } url)
        {
            var file = new SyntheticFile(noise.Scope, name, "", null, noise.Bytes, noise.Adler32, noise.Index);
            await _client.PutAsync(url, (s, t) => _plan.Content.WriteToAsync(s, file, t), noise.Bytes, ct).ConfigureAwait(false);
        }
        var replica = await _catalog.RegisterReplicasAsync(noise.Source, [new NewReplica(noise.Scope, name, noise.Bytes, noise.Adler32.ToString("x8", CultureInfo.InvariantCulture))],
            PfnMode.Derived, ct).ConfigureAwait(false);
        Throw(replica[0]);
        // Once, though a later step's failure makes the whole file go again.
        if (_noiseInjected.TryAdd(noise.Index, true)) _injected.Add(_options.Time.GetUtcNow().UtcDateTime, noise.Scope, name, noise.Source, 1, noise.Bytes);
        Throw(await _catalog.SetDidLifetimeAsync(new DidRef(noise.Scope, name), spec.Lifetime, ct).ConfigureAwait(false));
        var rule = new RuleSpec { RseExpression = Core.Rucio.RseExpression.Parse(noise.Destination), Grouping = RuleGrouping.None, Lifetime = spec.Lifetime, Activity = spec.Activity };
        var created = await _catalog.EnsureRuleAsync(Request(rule, new DidRef(noise.Scope, name)), ct).ConfigureAwait(false);
        if (!created.Ok) throw created.Transient ? new TransientFailure(created.Reason ?? "") : new NotApplied(created.Reason ?? "");
        Interlocked.Increment(ref _noiseFiles);
    }

    // --- chaos ---

    // One line per chaos kind Rucio acts on (ChaosKind.Side is LiveSide.Rucio), each in its own file: adding one is
    // its file and its line here.
    internal static readonly IReadOnlyDictionary<Type, Action<PlanExecutor, ChaosFiring, long>> ChaosActions = new Dictionary<Type, Action<PlanExecutor, ChaosFiring, long>>
    {
        [typeof(RseOutage)] = (x, firing, position) => x.Outage(firing, position),
    };

    /// <summary>
    /// A firing of a Rucio-side kind goes to its action. One that no live target carries out is recorded as not applied,
    /// with its kind's note; the cluster's kinds are the cluster side's, which runs the same plan.
    /// </summary>
    private void Chaos(ChaosFiring firing, long position)
    {
        var kind = ChaosKind.For(firing.Spec);
        if (kind.Side == LiveSide.Rucio)
            ChaosActions[firing.Spec.GetType()](this, firing, position);
        else if (kind.Side == LiveSide.None && firing.Edge != ChaosEdge.End)
        {
            var now = _options.Time.GetUtcNow().UtcDateTime;
            _sink.Fault(new FaultRecord
            {
                Start = now, End = now, Name = firing.Name, Kind = Core.Scenarios.DefaultNames.KindOf(firing.Spec),
                Target = kind.Target(firing.Spec), Detail = "not applied: " + kind.Live(_plan.Scenario).Note,
            });
        }
    }
}
