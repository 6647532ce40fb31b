using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// A rehearsal's catalog work at scale, through the catalog operations only: 10,000 files of two experiments registered
/// (one with the PFNs Rucio derives, one with explicit ones), attached to datasets, the datasets to containers, one rule per
/// dataset; then all of it again, as a resumed run would. What the operations report must be exactly what the double holds,
/// also when a fifth of the calls fail (500, 503, 429, connections reset before or after the work).
/// </summary>
public sealed class CatalogScaleTests
{
    private sealed record Experiment(string Scope, int Files, int FilesPerDataset, int DatasetsPerContainer, PfnMode Mode);

    private static readonly Experiment[] Experiments =
    [
        new("cta", 7000, 100, 10, PfnMode.Derived),
        new("virgo", 3000, 50, 20, PfnMode.Explicit),
    ];

    private static readonly string[] Rses = ["MOCK", "MOCK2"];

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public async Task Ten_thousand_files_end_in_Rucio_exactly_as_the_operations_report(double faultRate)
    {
        await using var server = await DoubleWorld.StartAsync(new RucioDoubleOptions { RecordRequests = false });
        if (faultRate > 0)
            server.FaultPlan = new FaultPlan { Rate = faultRate, Seed = 12, Kinds = [Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply] };
        using var client = DoubleWorld.Client(server, retries: 8);
        var catalog = new RucioCatalog(client, new CatalogOptions { Concurrency = 8 });

        var collections = new HashSet<string>(StringComparer.Ordinal);
        var replicas = new HashSet<(string, string)>();
        var contents = new HashSet<(string, string)>();
        var rules = new Dictionary<string, string>(StringComparer.Ordinal); // dataset -> rule id
        for (var pass = 1; pass <= 2; pass++) // the second pass is a resumed run: everything is there already
        {
            foreach (var x in Experiments)
            {
                var files = Enumerable.Range(0, x.Files).Select(i => new NewReplica(x.Scope, $"{x.Scope}.raw.{i:D6}", 1000 + i, "0cc737eb")).ToList();
                string Dataset(int i) => $"{x.Scope}.ds.{i / x.FilesPerDataset:D4}";
                string Container(int d) => $"{x.Scope}.cnt.{d / x.DatasetsPerContainer:D3}";
                var datasets = Enumerable.Range(0, x.Files / x.FilesPerDataset).ToList();

                var dids = datasets.Select(d => Container(d)).Distinct().Select(c => new NewDid(x.Scope, c, DidType.Container))
                    .Concat(datasets.Select(d => new NewDid(x.Scope, Dataset(d * x.FilesPerDataset), DidType.Dataset))).ToList();
                foreach (var r in await catalog.EnsureCollectionsAsync(dids)) Record(r, i => collections.Add($"{i.Scope}:{i.Name}"), pass);

                foreach (var group in files.Select((f, i) => (f, i)).GroupBy(p => Rses[p.i % Rses.Length]))
                    foreach (var r in await catalog.RegisterReplicasAsync(group.Key, [.. group.Select(p => p.f)], x.Mode))
                        Record(r, i => replicas.Add(($"{i.Scope}:{i.Name}", group.Key)), pass);

                var attachments = files.Select((f, i) => (f, i)).GroupBy(p => Dataset(p.i))
                    .Select(g => new Attachment(x.Scope, g.Key, [.. g.Select(p => new DidRef(x.Scope, p.f.Name))]))
                    .Concat(datasets.GroupBy(Container).Select(g => new Attachment(x.Scope, g.Key, [.. g.Select(d => new DidRef(x.Scope, Dataset(d * x.FilesPerDataset)))]))).ToList();
                foreach (var r in await catalog.AttachAsync(attachments))
                    Record(r, i => contents.Add(($"{i.Parent.Scope}:{i.Parent.Name}", $"{i.Child.Scope}:{i.Child.Name}")), pass);

                var ruled = await catalog.EnsureRulesAsync([.. datasets.Select(d => new RuleRequest
                {
                    Dids = [new DidRef(x.Scope, Dataset(d * x.FilesPerDataset))], RseExpression = "QOS=SAFE", LifetimeSeconds = 86400,
                })]);
                foreach (var r in ruled)
                {
                    Assert.True(r.Ok, $"pass {pass}: rule on {r.Did.Name}: {r.Reason}");
                    var id = Assert.Single(r.RuleIds);
                    var key = $"{r.Did.Scope}:{r.Did.Name}";
                    if (pass == 2) Assert.Equal(rules[key], id); // found again, not made twice
                    rules[key] = id;
                }
            }
        }

        // What the operations reported is what Rucio holds: nothing more, nothing less.
        var held = server.Snapshot();
        Assert.Equal(collections.Order(StringComparer.Ordinal), held.Dids.Where(d => d.Value != DidKind.File).Select(d => d.Key).Order(StringComparer.Ordinal));
        Assert.Equal(10_000, held.Dids.Count(d => d.Value == DidKind.File));
        Assert.Equal(10_000, replicas.Count);
        Assert.True(replicas.SetEquals(held.Replicas.Where(r => r.Rse != "SAFE-1")), "replicas reported and held differ");
        Assert.Equal(10_000 + 130, contents.Count);
        Assert.True(contents.SetEquals(held.Contents), "attachments reported and held differ");
        Assert.Equal(130, rules.Count);
        Assert.Equal(rules.Values.Order(StringComparer.Ordinal), held.Rules.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(held.Rules, r => Assert.Equal(("QOS=SAFE", 1, rules[r.Did]), (r.RseExpression, r.Copies, r.Id)));
        Assert.Equal(10_000, held.Rules.Sum(r => r.LocksReplicating)); // every file of every dataset is to be copied to SAFE-1
        if (faultRate > 0)
            foreach (var kind in new[] { Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply })
                Assert.True(server.Injected.GetValueOrDefault(kind) > 0, $"no {kind} was injected");
    }

    private static void Record<T>(ItemResult<T> r, Action<T> add, int pass)
    {
        Assert.True(r.Ok, $"pass {pass}: {r.Item}: {r.Reason}");
        // A resumed run finds everything there, except replicas: Rucio answers 201 for the ones it has, and skips them.
        if (pass == 2 && typeof(T) != typeof(NewReplica)) Assert.Equal(Outcome.AlreadyDone, r.Outcome);
        add(r.Item);
    }
}
