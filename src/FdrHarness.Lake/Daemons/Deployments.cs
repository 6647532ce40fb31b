using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// Rucio's servers and daemons as the lake deploys them, each with the catalog modules it works on. The order is fixed
/// (it is the order of the samples and of the daemons' ticks at one instant): the servers first, as the harness talks to
/// them, then the daemons as the rucio-daemons chart lists them. Adding a daemon is one class and one line here.
/// </summary>
internal static class Deployments
{
    public static readonly IReadOnlyList<(string Name, Func<DaemonSpec, LakeParts, Daemon> Create)> All =
    [
        ("rucio-server", (s, l) => new RucioServer(s, l.Context)),
        ("rucio-server-auth", (s, l) => new CountingDaemon(s, l.Context, l.Logins)),
        // Nobody browses during a rehearsal: the UI runs its idle loop.
        ("rucio-ui", (s, l) => new CountingDaemon(s, l.Context, new RowQueue())),
        ("judge-injector", (s, l) => new JudgeInjector(s, l.Context, l.Dids, l.Rules)),
        ("judge-evaluator", (s, l) => new JudgeEvaluator(s, l.Context, l.Dids, l.Rules)),
        ("judge-repairer", (s, l) => new JudgeRepairer(s, l.Context, l.Rules)),
        ("judge-cleaner", (s, l) => new JudgeCleaner(s, l.Context, l.Rules)),
        ("conveyor-submitter", (s, l) => new ConveyorSubmitter(s, l.Context, l.Rules.Requests, l.Fts)),
        ("conveyor-poller", (s, l) => new ConveyorPoller(s, l.Context, l.Rules.Requests, l.Fts)),
        ("conveyor-finisher", (s, l) => new ConveyorFinisher(s, l.Context, l.Rules)),
        ("reaper", (s, l) => new Reaper(s, l.Context, l.Replicas)),
        ("undertaker", (s, l) => new Undertaker(s, l.Context, l.Dids, l.Replicas, l.Rules)),
        // abacus-*: fold the counter rows every replica change writes (updated_account_counter, updated_rse_counter,
        // updated_col_rep) into usage; an item is a row. With bulk 0 (abacus-collection-replica's default) a pass reads
        // the whole backlog at once (#4149): its memory grows with it.
        ("abacus-account", (s, l) => new CountingDaemon(s, l.Context, l.Replicas.AccountCounters)),
        ("abacus-rse", (s, l) => new CountingDaemon(s, l.Context, l.Replicas.RseCounters)),
        ("abacus-collection-replica", (s, l) => new CountingDaemon(s, l.Context, l.Replicas.CollectionReplicaCounters)),
        // hermes sends the messages table to the broker; the transmogrifier matches new DIDs against subscriptions.
        ("hermes", (s, l) => new CountingDaemon(s, l.Context, l.Context.Messages)),
        ("transmogrifier", (s, l) => new CountingDaemon(s, l.Context, l.Dids.NewDids)),
    ];
}
