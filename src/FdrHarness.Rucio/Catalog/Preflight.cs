using System.Globalization;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Catalog;

/// <summary>What a rehearsal will ask of Rucio, for <see cref="Preflight"/> to check before anything is written.</summary>
public sealed record PreflightRequest
{
    /// <summary>RSE expressions files are registered (or uploaded) to.</summary>
    public IReadOnlyList<string> WriteExpressions { get; init; } = [];
    /// <summary>Files are PUT to storage: each written RSE needs an http/https/dav/davs protocol with a write priority.</summary>
    public bool Upload { get; init; }
    /// <summary>Replicas are registered with explicit PFNs: each written RSE needs a protocol and a hash or identity lfn2pfn.</summary>
    public bool ExplicitPaths { get; init; }
    public IReadOnlyList<string> Scopes { get; init; } = [];
    /// <summary>The rules: expression, copies, and the bytes of the largest DID one rule holds (a limit must exceed it).</summary>
    public IReadOnlyList<(string Expression, int Copies, long Bytes)> Rules { get; init; } = [];
    /// <summary>Attributes the scenario gives RSEs (QOS=FAST, ...): Rucio's must agree, or the expressions select other RSEs.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Attributes { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string>>();
    /// <summary>RSEs an rse_outage will make unavailable (they must exist).</summary>
    public IReadOnlyList<string> OutageRses { get; init; } = [];

    /// <summary>
    /// What a scenario asks of Rucio: its experiments' write expressions (write_to, else QOS=qos) and scopes, the rules its
    /// phases ask for (each phase kind's RuleTargets) with the bytes of one dataset (files_per_dataset × the mean file size,
    /// the largest over the experiments), its RSEs' attributes, and the RSEs of its rse_outage actions. Upload writes to
    /// the PFN Rucio derives, so it needs what explicit paths need.
    /// </summary>
    public static PreflightRequest ForScenario(Scenario scenario, InjectionMode injection, bool explicitPaths = false)
    {
        var dataset = scenario.Experiments.Count == 0 ? 0 : scenario.Experiments.Max(x => (long)(x.FilesPerDataset * MeanBytes(x.FileSize)));
        var rules = scenario.Workload.SelectMany(p => PhaseKind.For(p).RuleTargets(p, scenario, dataset)).ToList();
        return new PreflightRequest
        {
            WriteExpressions = [.. scenario.Experiments.Select(x => x.WriteTo?.Text ?? (x.Qos is { } q ? "QOS=" + q : null)).OfType<string>().Distinct()],
            Upload = injection == InjectionMode.Upload,
            ExplicitPaths = explicitPaths || injection == InjectionMode.Upload,
            Scopes = [.. scenario.Experiments.Select(x => x.EffectiveScope).Concat(scenario.Workload.OfType<NoisePhase>().Select(n => n.Scope)).Distinct()],
            Rules = rules,
            Attributes = scenario.Rses.Where(r => r.Attributes.Count > 0).ToDictionary(r => r.Name, r => r.Attributes, StringComparer.Ordinal),
            OutageRses = [.. scenario.Chaos.OfType<RseOutage>().Select(o => o.Rse).Distinct()],
        };
    }

    private static double MeanBytes(FileSizeDistribution d) => d switch
    {
        FixedSize f => f.Size.Bytes,
        LognormalSize l => l.Mean.Bytes,
        HistogramSize h when h.Bins.Sum(b => b.Weight) is > 0 and var total =>
            h.Bins.Select((b, i) => b.Weight * ((b.From ?? (i > 0 ? h.Bins[i - 1].UpTo : default)).Bytes + b.UpTo.Bytes) / 2.0).Sum() / total,
        _ => 0,
    };
}

/// <summary>
/// One thing missing on the Rucio side, with the command that fixes it. <see cref="InScenario"/>: the scenario asks what
/// this Rucio cannot give (the fix is in the scenario). <see cref="Repair"/>: what `fdr live prepare` may create on a
/// disposable instance (a scope, an RSE attribute, an account limit); null for everything else.
/// </summary>
public sealed record PreflightGap(string Subject, string Problem, string Fix, bool InScenario = false, PreflightRepair? Repair = null)
{
    public string Line => $"{Subject}: {Problem}; fix: {Fix}";
    public override string ToString() => Line;
}

/// <summary>A gap `fdr live prepare` closes: what it does, in words, and the call that does it.</summary>
public sealed record PreflightRepair(string Done, Func<RucioClient, CancellationToken, Task> Apply);

/// <summary>
/// Checks, with reads only, that Rucio has what a rehearsal needs before it writes anything: scopes, the RSEs each
/// expression selects, their write availability, determinism, lfn2pfn and protocols, their attributes, and the account's
/// limits on every RSE a rule can reach. Each gap is one line with its fix. Authentication failures and an unreachable
/// server are not gaps: they are thrown (the target is unusable).
/// </summary>
public static class Preflight
{
    public static async Task<IReadOnlyList<PreflightGap>> CheckAsync(RucioClient client, PreflightRequest request, CancellationToken ct = default)
    {
        client = client.Strict;
        var gaps = new List<PreflightGap>();
        var account = client.Account;

        var scopes = (await client.ListScopesAsync(ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        foreach (var s in request.Scopes.Distinct().Where(s => !scopes.Contains(s)))
            gaps.Add(new PreflightGap($"scope {s}", "does not exist", $"rucio-admin scope add --account {account} --scope {s}",
                Repair: new PreflightRepair($"scope {s} added for account {account}", (c, t) => c.AddScopeAsync(s, t))));

        var rses = new Dictionary<string, RseInfo?>(StringComparer.Ordinal);
        async Task<RseInfo?> Rse(string name)
        {
            if (rses.TryGetValue(name, out var known)) return known;
            try { return rses[name] = await client.GetRseAsync(name, ct).ConfigureAwait(false); }
            catch (RucioNotFoundException) { return rses[name] = null; }
        }

        async Task<IReadOnlyList<string>?> Resolve(string expression, string use)
        {
            try
            {
                var list = new List<string>();
                await foreach (var r in client.ListRsesAsync(expression, ct).ConfigureAwait(false)) list.Add(r);
                return list;
            }
            catch (RucioRequestException e) when (e.ExceptionClass == "InvalidRSEExpression")
            {
                gaps.Add(new PreflightGap($"RSE expression '{expression}'", $"{use}, but {e.ServerMessage.TrimEnd('.')}",
                    "give the RSEs the attributes it selects on: rucio-admin rse set-attribute --rse RSE --key KEY --value VALUE"));
                return null;
            }
        }

        foreach (var expression in request.WriteExpressions.Distinct())
        {
            foreach (var name in await Resolve(expression, "files are written there") ?? [])
            {
                if (await Rse(name) is not { } rse) continue;
                if (!rse.Availability.Write)
                    gaps.Add(new PreflightGap($"RSE {name}", "is not available for writing", $"rucio-admin rse update --rse {name} --setting availability_write --value True"));
                if (!rse.Deterministic)
                    gaps.Add(new PreflightGap($"RSE {name}", "is not deterministic: replicas there need paths the harness does not choose", "write to deterministic RSEs only", InScenario: true));
                if (request.ExplicitPaths && !Lfn2Pfn.Supports(rse.Lfn2PfnAlgorithm))
                    gaps.Add(new PreflightGap($"RSE {name}", $"derives paths with lfn2pfn '{rse.Lfn2PfnAlgorithm}', which the harness cannot reproduce",
                        $"register without explicit paths, or rucio-admin rse set-attribute --rse {name} --key lfn2pfn_algorithm --value hash"));
                if (request.Upload && !rse.Protocols.Any(p => p.Uploadable))
                    gaps.Add(new PreflightGap($"RSE {name}", rse.Protocols.Count == 0 ? "has no protocol to upload to" : $"has no http/https/dav/davs protocol to upload to (only {string.Join(", ", rse.Protocols.Select(p => p.Scheme))})",
                        $"rucio-admin rse add-protocol --hostname HOST --scheme davs --prefix /PATH --port 443 --impl rucio.rse.protocols.gfal.Default --domain-json '{{\"wan\": {{\"read\": 1, \"write\": 1, \"delete\": 1, \"third_party_copy_read\": 1, \"third_party_copy_write\": 1}}, \"lan\": {{\"read\": 1, \"write\": 1, \"delete\": 1}}}}' {name}"));
                else if (request.ExplicitPaths && !rse.Protocols.Any(p => p.WanWrite > 0))
                    gaps.Add(new PreflightGap($"RSE {name}", "has no protocol to build a PFN with", $"register without explicit paths, or add a protocol: rucio-admin rse add-protocol ... {name}"));
            }
        }

        foreach (var (name, wanted) in request.Attributes)
        {
            if (await Rse(name) is null)
            {
                gaps.Add(new PreflightGap($"RSE {name}", "does not exist", $"rucio-admin rse add {name}"));
                continue;
            }
            var actual = await client.GetRseAttributesAsync(name, ct).ConfigureAwait(false);
            foreach (var (key, value) in wanted)
                if (!actual.TryGetValue(key, out var v) || !string.Equals(v, value, StringComparison.OrdinalIgnoreCase))
                    gaps.Add(new PreflightGap($"RSE {name}", v is null ? $"has no attribute {key} (the scenario says {value})" : $"has {key}={v} (the scenario says {value})",
                        $"rucio-admin rse set-attribute --rse {name} --key {key} --value {value}",
                        Repair: new PreflightRepair($"RSE {name}: attribute {key}={value} set", (c, t) => c.SetRseAttributeAsync(name, key, value, t))));
        }

        var limits = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var (expression, copies, bytes) in request.Rules.Distinct())
        {
            if (await Resolve(expression, "rules replicate there") is not { } names) continue;
            foreach (var name in names)
            {
                if (await Rse(name) is not { } rse || !rse.Availability.Write) continue; // rules pass over RSEs not available for writing
                if (!limits.TryGetValue(name, out var limit)) limit = limits[name] = await client.GetAccountLimitAsync(name, ct).ConfigureAwait(false);
                var need = Math.Max(bytes, 1);
                var rseName = name;
                var repair = new PreflightRepair($"account {account} on RSE {name}: limit set to {Bytes(need)} bytes",
                    (c, t) => c.SetAccountLimitAsync(rseName, long.Parse(Bytes(need), CultureInfo.InvariantCulture), t));
                if (limit is null)
                    gaps.Add(new PreflightGap($"account {account} on RSE {name}", $"has no account limit: Rucio passes the RSE over for rules to '{expression}' (InsufficientAccountLimit when none is left)",
                        $"rucio-admin account set-limits {account} {name} {Bytes(need)}", Repair: repair));
                else if (limit >= 0 && limit <= need)
                    gaps.Add(new PreflightGap($"account {account} on RSE {name}", $"has a limit of {limit} bytes, not more than the {need} bytes one rule to '{expression}' holds",
                        $"rucio-admin account set-limits {account} {name} {Bytes(need)}", Repair: repair));
                // A limit set for one rule's need is raised again for a larger one: the last repair of an RSE wins, so keep the largest.
                if (limit is null || (limit >= 0 && limit <= need)) limits[name] = long.Parse(Bytes(need), CultureInfo.InvariantCulture);
            }
            if (names.Count < copies)
                gaps.Add(new PreflightGap($"RSE expression '{expression}'", $"selects {names.Count} RSEs, fewer than the {copies} copies of its rules (InsufficientTargetRSEs)",
                    "lower the copies or widen the expression", InScenario: true));
        }

        foreach (var name in request.OutageRses.Distinct())
            if (await Rse(name) is null)
                gaps.Add(new PreflightGap($"RSE {name}", "does not exist, so its outage cannot be rehearsed", $"rucio-admin rse add {name}, or drop the rse_outage"));

        return gaps;
    }

    /// <summary>
    /// Closes the gaps that may be created — scopes, RSE attributes, account limits — and checks again, until none of those
    /// is left (an attribute set makes an expression select RSEs whose limits are checked only then). Only for an instance
    /// the scenario marks as disposable: the caller checks that. Returns what was done and the gaps left.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Done, IReadOnlyList<PreflightGap> Left)> PrepareAsync(RucioClient client, PreflightRequest request,
        CancellationToken ct = default)
    {
        var done = new List<string>();
        for (var round = 0; ; round++)
        {
            var gaps = await CheckAsync(client, request, ct).ConfigureAwait(false);
            var repairs = gaps.Select(g => g.Repair).OfType<PreflightRepair>().DistinctBy(r => r.Done).ToList();
            if (repairs.Count == 0 || round == 3) return (done, gaps);
            foreach (var repair in repairs)
            {
                await repair.Apply(client.Strict, ct).ConfigureAwait(false);
                done.Add(repair.Done);
            }
        }
    }

    /// <summary>A limit with room: twice what is needed, at least 1 TB.</summary>
    private static string Bytes(long need) => Math.Max(2 * need, 1_000_000_000_000L).ToString(CultureInfo.InvariantCulture);
}
