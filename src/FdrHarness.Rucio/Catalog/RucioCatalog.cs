using System.Collections.Concurrent;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Catalog;

/// <summary>
/// The Rucio-side operations of a rehearsal, each idempotent and aware that Rucio applies a bulk call whole or not at all:
/// what exists is found first (listings), a refused bulk is split until the item at fault is alone, and an item counts as
/// there already only once Rucio has shown it. Items that fail for a passing reason (5xx, 429, resets, after the client's
/// own retries) are tried again in <see cref="CatalogOptions.Rounds"/> rounds; what still fails is returned with the
/// reason, for the caller's retry queue. Every call goes through <see cref="RucioClient.Strict"/>: a 409 is never taken for
/// success unseen.
/// </summary>
public sealed class RucioCatalog(RucioClient client, CatalogOptions? options = null)
{
    private readonly RucioClient _client = client.Strict;
    private readonly CatalogOptions _o = options ?? new CatalogOptions();
    private readonly ConcurrentDictionary<string, Lazy<Task<RseStorage>>> _storage = new(StringComparer.Ordinal);

    public RucioClient Client => _client;
    public CatalogOptions Options => _o;

    private static string Key(string scope, string name) => scope + ":" + name;

    private static string Why(Exception e) => e switch
    {
        RucioException r => $"{(int)r.Status} {r.ExceptionClass}: {r.ServerMessage}",
        RucioUnreachableException u => "unreachable: " + u.Reason,
        _ => e.Message,
    };

    private static bool Handled(Exception e) => e is RucioException or RucioUnreachableException;

    /// <summary>Items that failed transiently are tried again, up to <see cref="CatalogOptions.Rounds"/> passes in all.</summary>
    private async Task<List<ItemResult<T>>> InRoundsAsync<T>(IReadOnlyList<T> items, Func<IReadOnlyList<T>, Task<List<ItemResult<T>>>> pass)
    {
        if (items.Count == 0) return [];
        var results = await pass(items).ConfigureAwait(false);
        for (var round = 1; round < _o.Rounds; round++)
        {
            var again = results.Where(r => r is { Outcome: Outcome.Failed, Transient: true }).Select(r => r.Item).ToList();
            if (again.Count == 0) break;
            var retried = await pass(again).ConfigureAwait(false);
            results = [.. results.Where(r => r is not { Outcome: Outcome.Failed, Transient: true }), .. retried];
        }
        return results;
    }

    /// <summary>Runs the chunks with at most <see cref="CatalogOptions.Concurrency"/> in flight; results in no particular order.</summary>
    private async Task<List<ItemResult<T>>> ParallelAsync<T, TChunk>(IEnumerable<TChunk> chunks, Func<TChunk, Task<List<ItemResult<T>>>> run, CancellationToken ct)
    {
        var parts = new ConcurrentQueue<List<ItemResult<T>>>();
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (chunk, _) => parts.Enqueue(await run(chunk).ConfigureAwait(false))).ConfigureAwait(false);
        var all = new List<ItemResult<T>>(parts.Sum(p => p.Count));
        foreach (var p in parts) all.AddRange(p);
        return all;
    }

    private static IEnumerable<List<T>> Chunks<T>(IEnumerable<T> items, int size)
    {
        var chunk = new List<T>(size);
        foreach (var i in items)
        {
            chunk.Add(i);
            if (chunk.Count < size) continue;
            yield return chunk;
            chunk = new List<T>(size);
        }
        if (chunk.Count > 0) yield return chunk;
    }

    // ------------------------------------------------------------------ datasets and containers

    /// <summary>
    /// Makes sure each dataset or container exists: listed first (one search per scope and common name prefix), the
    /// missing created with POST /dids in chunks; a chunk refused with 409 is halved until the name at fault is alone, which
    /// is then looked up (AlreadyDone when Rucio shows it with the same type).
    /// </summary>
    public async Task<IReadOnlyList<ItemResult<NewDid>>> EnsureCollectionsAsync(IReadOnlyList<NewDid> dids, CancellationToken ct = default)
    {
        var unique = dids.DistinctBy(d => (d.Scope, d.Name)).ToList();
        var results = new List<ItemResult<NewDid>>();
        var missing = unique;
        if (_o.ListBeforeCreate)
        {
            var existing = await ExistingCollectionsAsync(unique, ct).ConfigureAwait(false);
            results.AddRange(unique.Where(d => existing.Contains(Key(d.Scope, d.Name))).Select(d => new ItemResult<NewDid>(d, Outcome.AlreadyDone)));
            missing = [.. unique.Where(d => !existing.Contains(Key(d.Scope, d.Name)))];
        }
        results.AddRange(await InRoundsAsync(missing, items =>
            ParallelAsync<NewDid, List<NewDid>>(items.GroupBy(d => d.Scope).SelectMany(g => Chunks(g, Math.Max(1, _o.DidChunk))), c => CreateAsync(c, ct), ct)).ConfigureAwait(false));
        return results;
    }

    /// <summary>The collections of the list that Rucio already has, by one search per scope for the names' common prefix.</summary>
    private async Task<HashSet<string>> ExistingCollectionsAsync(List<NewDid> dids, CancellationToken ct)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in dids.GroupBy(d => d.Scope))
        {
            var wanted = scope.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            var prefix = CommonPrefix(wanted);
            if (prefix.Length < 3) continue; // a search of a whole scope could stream millions of names: let splitting find them
            try
            {
                await foreach (var name in _client.SearchDidsAsync(scope.Key, "collection", prefix + "*", ct).ConfigureAwait(false))
                    if (wanted.Contains(name)) found.Add(Key(scope.Key, name));
            }
            catch (Exception e) when (Handled(e))
            {
                // listing is an optimisation: creating and splitting finds the same
            }
        }
        return found;
    }

    private static string CommonPrefix(IEnumerable<string> names)
    {
        string? prefix = null;
        foreach (var n in names)
        {
            if (prefix is null) { prefix = n; continue; }
            var k = 0;
            while (k < prefix.Length && k < n.Length && prefix[k] == n[k]) k++;
            prefix = prefix[..k];
        }
        var p = prefix ?? "";
        var wildcard = p.IndexOfAny(['*', '%', '?']);
        return wildcard >= 0 ? p[..wildcard] : p;
    }

    private async Task<List<ItemResult<NewDid>>> CreateAsync(List<NewDid> chunk, CancellationToken ct)
    {
        try
        {
            await _client.AddDidsAsync(chunk, ct).ConfigureAwait(false);
            return [.. chunk.Select(d => new ItemResult<NewDid>(d, Outcome.Done))];
        }
        catch (Exception e) when (Handled(e) && !RucioErrorMapping.IsTransient(e) && chunk.Count > 1 && e is not RucioNotFoundException { ExceptionClass: "ScopeNotFound" })
        {
            // One name at fault refuses them all (all-or-nothing): find it by halves. (A chunk is of one scope: a missing one fails it whole.)
            var half = chunk.Count / 2;
            return [.. await CreateAsync(chunk[..half], ct).ConfigureAwait(false), .. await CreateAsync(chunk[half..], ct).ConfigureAwait(false)];
        }
        catch (RucioDuplicateException e)
        {
            return [await ConfirmAsync(chunk[0], e, ct).ConfigureAwait(false)];
        }
        catch (Exception e) when (Handled(e))
        {
            var transient = RucioErrorMapping.IsTransient(e);
            return [.. chunk.Select(d => new ItemResult<NewDid>(d, Outcome.Failed, Why(e), transient))];
        }
    }

    /// <summary>A 409 for one name: it is there if Rucio shows it, as the type asked for.</summary>
    private async Task<ItemResult<NewDid>> ConfirmAsync(NewDid did, RucioException conflict, CancellationToken ct)
    {
        try
        {
            var info = await _client.GetDidAsync(did.Scope, did.Name, ct).ConfigureAwait(false);
            var want = did.Type == DidType.Dataset ? "DATASET" : "CONTAINER";
            return info.Type == want
                ? new ItemResult<NewDid>(did, Outcome.AlreadyDone)
                : new ItemResult<NewDid>(did, Outcome.Failed, $"{did.Scope}:{did.Name} exists as a {info.Type}, not a {want}");
        }
        catch (RucioNotFoundException)
        {
            return new ItemResult<NewDid>(did, Outcome.Failed, $"{Why(conflict)}, yet {did.Scope}:{did.Name} is not found (a name of a deleted DID cannot be used again)");
        }
        catch (Exception e) when (Handled(e))
        {
            return new ItemResult<NewDid>(did, Outcome.Failed, Why(e), RucioErrorMapping.IsTransient(e));
        }
    }

    // ------------------------------------------------------------------ replicas

    /// <summary>
    /// The RSE's storage as Rucio writes to it: its determinism, lfn2pfn algorithm and the protocol a PFN is built with
    /// (for <paramref name="upload"/> the best-priority http/https/dav/davs one; otherwise any with a write priority). Cached.
    /// </summary>
    public Task<RseStorage> StorageAsync(string rse, bool upload = false, CancellationToken ct = default) =>
        _storage.GetOrAdd($"{rse}|{upload}", _ => new Lazy<Task<RseStorage>>(async () =>
        {
            var info = await _client.GetRseAsync(rse, ct).ConfigureAwait(false);
            var protocol = info.Protocols.Where(p => upload ? p.Uploadable : p.WanWrite > 0).OrderBy(p => p.WanWrite).FirstOrDefault();
            return new RseStorage(info, protocol);
        })).Value;

    /// <summary>
    /// Registers files with their replicas on one RSE in chunks of <see cref="CatalogOptions.ReplicaChunk"/>. Replicas already
    /// there are skipped by Rucio (201), so a chunk may be sent again safely. <see cref="PfnMode.Derived"/> sends no pfn (Rucio
    /// derives it); <see cref="PfnMode.Explicit"/> sends exactly the PFN Rucio derives (lfn2pfn of the RSE, port and scheme of
    /// its protocol kept). A chunk refused for one file is halved until that file is alone. The results are in the order of
    /// <paramref name="files"/> (files of several scopes: grouped by scope), those tried again in later rounds last; they read
    /// the files from the list given, which must not change while they are in use.
    /// </summary>
    public async Task<ItemResults<NewReplica>> RegisterReplicasAsync(string rse, IReadOnlyList<NewReplica> files, PfnMode mode = PfnMode.Derived,
        CancellationToken ct = default)
    {
        if (files.Count == 0) return ItemResults<NewReplica>.Empty;
        if (mode == PfnMode.Derived) return await RegisterInRoundsAsync(rse, files, dropPfns: true, ct).ConfigureAwait(false);
        RseStorage storage;
        try { storage = await StorageAsync(rse, upload: false, ct).ConfigureAwait(false); }
        catch (Exception e) when (Handled(e))
        {
            return new ItemResults<NewReplica>([new(Window<NewReplica>.Of(files), Outcome.Failed, Why(e), RucioErrorMapping.IsTransient(e))]);
        }
        if (storage.WriteProtocol is null || !Lfn2Pfn.Supports(storage.Rse.Lfn2PfnAlgorithm))
            return new ItemResults<NewReplica>([new(Window<NewReplica>.Of(files), Outcome.Failed,
                storage.WriteProtocol is null ? $"RSE {rse} has no protocol to write with" : $"RSE {rse} uses lfn2pfn '{storage.Rse.Lfn2PfnAlgorithm}', which the harness cannot derive")]);
        var withPfn = new NewReplica[files.Count];
        for (var i = 0; i < withPfn.Length; i++) withPfn[i] = files[i] with { Pfn = storage.Pfn(files[i].Scope, files[i].Name) };
        return await RegisterInRoundsAsync(rse, withPfn, dropPfns: false, ct).ConfigureAwait(false);
    }

    /// <summary>The first pass, then the rounds for what failed transiently. <paramref name="dropPfns"/>: Derived mode (no pfn is sent).</summary>
    private async Task<ItemResults<NewReplica>> RegisterInRoundsAsync(string rse, IReadOnlyList<NewReplica> files, bool dropPfns, CancellationToken ct)
    {
        var size = Math.Clamp(_o.ReplicaChunk, 1, 1000);
        var results = await RegisterPassAsync(rse, files, size, dropPfns, ct).ConfigureAwait(false);
        for (var round = 1; round < _o.Rounds && results.AnyToRetry; round++)
            results = results.Retried(await RegisterPassAsync(rse, results.ToRetry(), size, dropPfns, ct).ConfigureAwait(false));
        return results;
    }

    /// <summary>A chunk as it was taken, and, once its call (or its halves) were answered, what became of its files.</summary>
    private sealed class Taken(Window<NewReplica> chunk)
    {
        public Window<NewReplica> Chunk => chunk;
        public List<ItemResults<NewReplica>.Run>? Runs;
    }

    /// <summary>
    /// One pass over the files, at most <see cref="CatalogOptions.Concurrency"/> calls in flight; the runs in the order the
    /// chunks were taken.
    /// </summary>
    private async Task<ItemResults<NewReplica>> RegisterPassAsync(string rse, IReadOnlyList<NewReplica> files, int size, bool dropPfns, CancellationToken ct)
    {
        var taken = new List<Taken>(files.Count / size + 1);
        await Parallel.ForEachAsync(Chunks(files, size, dropPfns, taken), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (t, _) => t.Runs = await RegisterAsync(rse, t.Chunk, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return new ItemResults<NewReplica>(taken.SelectMany(t => t.Runs!));
    }

    /// <summary>
    /// The chunks of a pass, each checked as it is taken, so that the first call goes out before the rest of the list is
    /// read (a pass over the whole list first held it back 2 ms at 1 M files): windows on the list (no copy) while their
    /// files are of the first file's scope and, in Derived mode, carry no pfn (the usual case); from the first chunk that
    /// is not, the rest copied without pfns (Derived) and cut in chunks of one scope each (a missing scope then fails its
    /// own chunks only), the first file's scope first. Either way the calls are those of chunks of one scope cut from the
    /// list grouped by scope. Parallel.ForEachAsync takes them one at a time, so <paramref name="taken"/> is filled in order.
    /// </summary>
    private static IEnumerable<Taken> Chunks(IReadOnlyList<NewReplica> files, int size, bool dropPfns, List<Taken> taken)
    {
        var scope = files[0].Scope;
        var start = 0;
        for (; start < files.Count; start += size)
        {
            var chunk = new Window<NewReplica>(files, start, Math.Min(size, files.Count - start));
            if (!AsGiven(chunk, scope, dropPfns)) break;
            yield return Take(chunk);
        }
        if (start >= files.Count) yield break;
        var rest = new NewReplica[files.Count - start];
        for (var i = 0; i < rest.Length; i++) rest[i] = dropPfns ? files[start + i] with { Pfn = null } : files[start + i];
        foreach (var g in rest.GroupBy(f => f.Scope, StringComparer.Ordinal).OrderBy(g => !string.Equals(g.Key, scope, StringComparison.Ordinal)))
        {
            var ofScope = g.ToArray();
            for (var s = 0; s < ofScope.Length; s += size) yield return Take(new Window<NewReplica>(ofScope, s, Math.Min(size, ofScope.Length - s)));
        }

        Taken Take(Window<NewReplica> chunk)
        {
            var t = new Taken(chunk);
            taken.Add(t);
            return t;
        }
    }

    private static bool AsGiven(Window<NewReplica> chunk, string scope, bool dropPfns)
    {
        foreach (ref readonly var f in chunk.TryGetSpan(out var span) ? span : [.. chunk])
            if (!string.Equals(f.Scope, scope, StringComparison.Ordinal) || (dropPfns && f.Pfn is not null)) return false;
        return true;
    }

    private async Task<List<ItemResults<NewReplica>.Run>> RegisterAsync(string rse, Window<NewReplica> chunk, CancellationToken ct)
    {
        try
        {
            await _client.AddReplicasAsync(rse, chunk, ct: ct).ConfigureAwait(false);
            return [new(chunk, Outcome.Done)];
        }
        catch (Exception e) when (chunk.Count > 1 && e is RucioException r && (!RucioErrorMapping.IsTransient(e) || r.ExceptionClass == "DatabaseException")
            && r.ExceptionClass is not ("RSENotFound" or "ScopeNotFound" or "ResourceTemporaryUnavailable"))
        {
            // A file at fault (a PFN, a scope) or a database that refuses the size (sqlite from 997 files): halve.
            var half = chunk.Count / 2;
            return [.. await RegisterAsync(rse, chunk.Slice(0, half), ct).ConfigureAwait(false),
                .. await RegisterAsync(rse, chunk.Slice(half, chunk.Count - half), ct).ConfigureAwait(false)];
        }
        catch (Exception e) when (Handled(e))
        {
            return [new(chunk, Outcome.Failed, Why(e), RucioErrorMapping.IsTransient(e))];
        }
    }

    // ------------------------------------------------------------------ attachments

    /// <summary>
    /// Attaches children to datasets and containers: each parent's content is listed first and what is attached already is
    /// AlreadyDone; the rest goes in POST /dids/attachments calls of at most <see cref="CatalogOptions.AttachChunk"/> children
    /// (ignore_duplicate set, which covers files only). A refused call is halved until the attachment at fault is alone: a
    /// dataset already in its container (DuplicateContent, even with ignore_duplicate) is AlreadyDone once the listing shows it.
    /// </summary>
    public async Task<IReadOnlyList<ItemResult<Attached>>> AttachAsync(IReadOnlyList<Attachment> attachments, CancellationToken ct = default)
    {
        var pairs = attachments.SelectMany(a => a.Dids.Select(c => new Attached(new DidRef(a.Scope, a.Name), c))).Distinct().ToList();
        var results = new ConcurrentBag<ItemResult<Attached>>();
        var todo = new ConcurrentBag<Attached>();
        await Parallel.ForEachAsync(pairs.GroupBy(p => p.Parent), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (group, token) =>
            {
                try
                {
                    var present = await ChildrenAsync(group.Key, token).ConfigureAwait(false);
                    foreach (var p in group)
                        if (present.Contains(p.Child)) results.Add(new ItemResult<Attached>(p, Outcome.AlreadyDone));
                        else todo.Add(p);
                }
                catch (RucioNotFoundException e)
                {
                    foreach (var p in group) results.Add(new ItemResult<Attached>(p, Outcome.Failed, Why(e)));
                }
                catch (Exception e) when (Handled(e))
                {
                    foreach (var p in group) todo.Add(p); // the listing saves calls; attaching and splitting finds the same
                }
            }).ConfigureAwait(false);

        var remaining = todo.OrderBy(p => p.Parent.Scope, StringComparer.Ordinal).ThenBy(p => p.Parent.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Child.Scope, StringComparer.Ordinal).ThenBy(p => p.Child.Name, StringComparer.Ordinal).ToList();
        var attached = await InRoundsAsync(remaining, items =>
            ParallelAsync<Attached, List<Attached>>(Chunks(items, Math.Clamp(_o.AttachChunk, 1, 1000)), c => AttachCallAsync(c, ct), ct)).ConfigureAwait(false);
        return [.. results, .. attached];
    }

    private async Task<HashSet<DidRef>> ChildrenAsync(DidRef parent, CancellationToken ct)
    {
        var present = new HashSet<DidRef>();
        await foreach (var c in _client.ListChildrenAsync(parent.Scope, parent.Name, ct).ConfigureAwait(false)) present.Add(new DidRef(c.Scope, c.Name));
        return present;
    }

    private async Task<List<ItemResult<Attached>>> AttachCallAsync(List<Attached> pairs, CancellationToken ct)
    {
        try
        {
            var call = pairs.GroupBy(p => p.Parent).Select(g => new Attachment(g.Key.Scope, g.Key.Name, [.. g.Select(p => p.Child)])).ToList();
            await _client.AttachManyAsync(call, ct).ConfigureAwait(false);
            return [.. pairs.Select(p => new ItemResult<Attached>(p, Outcome.Done))];
        }
        catch (Exception e) when (Handled(e) && !RucioErrorMapping.IsTransient(e) && pairs.Count > 1)
        {
            var half = pairs.Count / 2;
            return [.. await AttachCallAsync(pairs[..half], ct).ConfigureAwait(false), .. await AttachCallAsync(pairs[half..], ct).ConfigureAwait(false)];
        }
        catch (RucioDuplicateException e)
        {
            // Alone and refused as a duplicate: there if the parent's content shows it.
            var p = pairs[0];
            try
            {
                return [(await ChildrenAsync(p.Parent, ct).ConfigureAwait(false)).Contains(p.Child)
                    ? new ItemResult<Attached>(p, Outcome.AlreadyDone)
                    : new ItemResult<Attached>(p, Outcome.Failed, Why(e))];
            }
            catch (Exception le) when (Handled(le))
            {
                return [new ItemResult<Attached>(p, Outcome.Failed, Why(le), RucioErrorMapping.IsTransient(le))];
            }
        }
        catch (Exception e) when (Handled(e))
        {
            var transient = RucioErrorMapping.IsTransient(e);
            return [.. pairs.Select(p => new ItemResult<Attached>(p, Outcome.Failed, Why(e), transient))];
        }
    }

    // ------------------------------------------------------------------ rules

    /// <summary>
    /// A rule on one DID (the request's single entry of Dids): created, or, when Rucio answers 409 DuplicateRule (which
    /// carries no id), found again among the DID's rules by account, rse_expression and copies, as Rucio's uniqueness goes.
    /// </summary>
    public async Task<RuleResult> EnsureRuleAsync(RuleRequest rule, CancellationToken ct = default)
    {
        if (rule.Dids.Count != 1) throw new ArgumentException("a rule request of the catalog names exactly one DID (one bad DID refuses a whole request)", nameof(rule));
        for (var round = 1; ; round++)
        {
            var result = await EnsureOnceAsync(rule, ct).ConfigureAwait(false);
            if (result is not { Outcome: Outcome.Failed, Transient: true } || round >= _o.Rounds) return result;
        }
    }

    private async Task<RuleResult> EnsureOnceAsync(RuleRequest rule, CancellationToken ct)
    {
        try
        {
            return new RuleResult(rule, Outcome.Done, await _client.AddRuleAsync(rule, ct).ConfigureAwait(false));
        }
        catch (RucioDuplicateException e)
        {
            try
            {
                var did = rule.Dids[0];
                var ids = new List<string>();
                await foreach (var r in _client.ListDidRulesAsync(did.Scope, did.Name, ct).ConfigureAwait(false))
                    if (r.Account == _client.Account && r.RseExpression == rule.RseExpression && r.Copies == rule.Copies) ids.Add(r.Id);
                return ids.Count > 0
                    ? new RuleResult(rule, Outcome.AlreadyDone, ids)
                    : new RuleResult(rule, Outcome.Failed, [], $"{Why(e)}, yet no rule of {_client.Account} on {did.Scope}:{did.Name} to '{rule.RseExpression}' with {rule.Copies} copies is listed");
            }
            catch (Exception le) when (Handled(le))
            {
                return new RuleResult(rule, Outcome.Failed, [], Why(le), RucioErrorMapping.IsTransient(le));
            }
        }
        catch (Exception e) when (Handled(e))
        {
            return new RuleResult(rule, Outcome.Failed, [], Why(e), RucioErrorMapping.IsTransient(e));
        }
    }

    /// <summary><see cref="EnsureRuleAsync"/> for many rules, <see cref="CatalogOptions.Concurrency"/> at a time; results in request order.</summary>
    public async Task<IReadOnlyList<RuleResult>> EnsureRulesAsync(IReadOnlyList<RuleRequest> rules, CancellationToken ct = default)
    {
        var results = new RuleResult[rules.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, rules.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (i, token) => results[i] = await EnsureRuleAsync(rules[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return results;
    }

    // ------------------------------------------------------------------ lifetimes and deletion

    /// <summary>POST /dids/{scope}/{name}/meta/lifetime: expired_at = now + lifetime (the undertaker deletes the DID later).</summary>
    public Task<ItemResult<DidRef>> SetDidLifetimeAsync(DidRef did, TimeSpan lifetime, CancellationToken ct = default) =>
        OnceAsync(did, async () => { await _client.SetDidLifetimeAsync(did.Scope, did.Name, lifetime, ct).ConfigureAwait(false); return Outcome.Done; });

    /// <summary>PUT /rules/{id} {"options": {"lifetime": …}}; a rule gone already is AlreadyDone.</summary>
    public Task<ItemResult<string>> SetRuleLifetimeAsync(string ruleId, TimeSpan lifetime, CancellationToken ct = default) =>
        OnceAsync(ruleId, async () =>
        {
            try { await _client.SetRuleLifetimeAsync(ruleId, lifetime, ct).ConfigureAwait(false); return Outcome.Done; }
            catch (RucioNotFoundException) { return Outcome.AlreadyDone; }
        });

    /// <summary>DELETE /rules/{id} (soft: the rule lingers with expires_at ≤ now + 1 h until judge-cleaner); a rule gone already is AlreadyDone.</summary>
    public Task<ItemResult<string>> DeleteRuleAsync(string ruleId, bool purgeReplicas = false, CancellationToken ct = default) =>
        OnceAsync(ruleId, async () =>
        {
            try { await _client.DeleteRuleAsync(ruleId, purgeReplicas, ct).ConfigureAwait(false); return Outcome.Done; }
            catch (RucioNotFoundException) { return Outcome.AlreadyDone; }
        });

    private async Task<ItemResult<T>> OnceAsync<T>(T item, Func<Task<Outcome>> call)
    {
        for (var round = 1; ; round++)
        {
            try
            {
                return new ItemResult<T>(item, await call().ConfigureAwait(false));
            }
            catch (Exception e) when (Handled(e))
            {
                var transient = RucioErrorMapping.IsTransient(e);
                if (!transient || round >= _o.Rounds) return new ItemResult<T>(item, Outcome.Failed, Why(e), transient);
            }
        }
    }

    // ------------------------------------------------------------------ read-back, for reconciliation

    /// <summary>The direct children of a dataset or container, as Rucio lists them (null when it does not exist).</summary>
    public async Task<IReadOnlyList<ContentEntry>?> ReadContentAsync(DidRef collection, CancellationToken ct = default)
    {
        try
        {
            var list = new List<ContentEntry>();
            await foreach (var c in _client.ListChildrenAsync(collection.Scope, collection.Name, ct).ConfigureAwait(false)) list.Add(c);
            return list;
        }
        catch (RucioNotFoundException) { return null; }
    }

    /// <summary>Every rule on a DID (empty when it has none or does not exist).</summary>
    public async Task<IReadOnlyList<RuleState>> ReadRulesAsync(DidRef did, CancellationToken ct = default)
    {
        var list = new List<RuleState>();
        try
        {
            await foreach (var r in _client.ListDidRulesAsync(did.Scope, did.Name, ct).ConfigureAwait(false)) list.Add(r);
        }
        catch (RucioNotFoundException) { }
        return list;
    }

    /// <summary>GET /rules/{id} for each id, <see cref="CatalogOptions.Concurrency"/> at a time; null for a rule that is gone (cleaned).</summary>
    public async Task<IReadOnlyDictionary<string, RuleState?>> ReadRuleStatesAsync(IReadOnlyList<string> ruleIds, CancellationToken ct = default)
    {
        var states = new ConcurrentDictionary<string, RuleState?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ruleIds.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (id, token) =>
            {
                try { states[id] = await _client.GetRuleAsync(id, token).ConfigureAwait(false); }
                catch (RucioNotFoundException) { states[id] = null; }
            }).ConfigureAwait(false);
        return states;
    }

    /// <summary>The files under the DIDs with their replicas' states and PFNs, in calls of at most <see cref="CatalogOptions.ListChunk"/> DIDs.</summary>
    public async Task<IReadOnlyList<ReplicaEntry>> ReadReplicasAsync(IReadOnlyList<DidRef> dids, bool allStates = false, CancellationToken ct = default)
    {
        var all = new ConcurrentBag<ReplicaEntry>();
        await Parallel.ForEachAsync(Chunks(dids, Math.Clamp(_o.ListChunk, 1, 1000)), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _o.Concurrency), CancellationToken = ct },
            async (chunk, token) =>
            {
                await foreach (var e in _client.ListReplicasAsync(chunk, null, allStates, token).ConfigureAwait(false)) all.Add(e);
            }).ConfigureAwait(false);
        return [.. all.DistinctBy(e => (e.Scope, e.Name)).OrderBy(e => e.Scope, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>Whether Rucio has the DID.</summary>
    public async Task<DidInfo?> ReadDidAsync(DidRef did, CancellationToken ct = default)
    {
        try { return await _client.GetDidAsync(did.Scope, did.Name, ct).ConfigureAwait(false); }
        catch (RucioNotFoundException) { return null; }
    }

    // ------------------------------------------------------------------ RSE availability (rse_outage on a live target)

    /// <summary>
    /// Rucio's own RSE outage: PUT /rses/{rse} with the availability flags given (null leaves one as it is). The flags as they
    /// were are read first and returned, to be written down before the change and put back by <see cref="RestoreRseAvailabilityAsync"/>.
    /// While write is off, POST /replicas there answers 503 and rules pass the RSE over (unless ignore_availability).
    /// </summary>
    public async Task<RseAvailabilityChange> SetRseAvailabilityAsync(string rse, bool? read, bool? write, bool? delete, CancellationToken ct = default)
    {
        var before = (await _client.GetRseAsync(rse, ct).ConfigureAwait(false)).Availability;
        var after = new RseAvailability(read ?? before.Read, write ?? before.Write, delete ?? before.Delete);
        await _client.SetRseAvailabilityAsync(rse, read, write, delete, ct).ConfigureAwait(false);
        return new RseAvailabilityChange(rse, before, after);
    }

    /// <summary>Puts the availability an outage changed back as it was.</summary>
    public async Task RestoreRseAvailabilityAsync(RseAvailabilityChange change, CancellationToken ct = default) =>
        await _client.SetRseAvailabilityAsync(change.Rse, change.Before.Read, change.Before.Write, change.Before.Delete, ct).ConfigureAwait(false);
}
