using Xunit;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Lake.Tests.Recount;

/// <summary>
/// The lake's invariants, recomputed from a run's Parquet files (<see cref="RunFiles"/>) and compared with the lake's
/// own counters (<see cref="LakeResult"/>) and with the report's figures (<see cref="Summary"/>): conservation of
/// transfers and bytes, request order and timing, retries, availability at the moment of each operation, failure
/// reasons, CPU and memory within limits, OOMKills seen in the samples and counted alike everywhere.
/// </summary>
internal static class RunInvariants
{
    private const string DestinationDown = "DESTINATION [70]";
    private const string SourceDown = "SOURCE [70]";

    public static void Check(Scenario scenario, RunFiles files, LakeResult r, Summary summary, IReadOnlyDictionary<string, double> runJson)
    {
        var outages = Outages.From(scenario, files.Faults);
        Injections(scenario, files.Injections, r, summary, runJson);
        Transfers(files.Events, outages, r, summary);
        Deletions(files.Events, outages, r);
        Rules(files.Events, r);
        Samples(files.Samples, files.Lifecycle, scenario);
        Lifecycle(files.Lifecycle, r, summary);
        Assert.Equal(r.FilesInjected, r.FilesPresent + r.FilesInTransit + r.FilesDeleted);
        Assert.True(r.FilesReplicated <= r.FilesPresent);
        Assert.Equal(0, r.QuotaExceededUnnoticed);
        Assert.Equal(0, r.RulesOkWithLockNotOk);
        Assert.Equal(r.Events, files.Events.Rows);
        Assert.Equal(summary.Events.Total, files.Events.Rows);
    }

    /// <summary>
    /// injections.parquet recounted per scope and RSE: its files are run.json's files.injected and the lake's, and the
    /// report's experiments and RSE tables and headline total say the same; no scope gets more than the plan has for it;
    /// rows come in time order within the run, each (interval, DID, RSE) once.
    /// </summary>
    private static void Injections(Scenario scenario, RunFiles.Table t, LakeResult r, Summary summary, IReadOnlyDictionary<string, double> runJson)
    {
        var (time, scope, name, rse, files, bytes) = (t.Column<DateTime>("time"), t.Column<string?>("scope"), t.Column<string?>("name"),
            t.Column<string?>("rse"), t.Column<long>("files"), t.Column<long>("bytes"));
        var byScope = new Dictionary<string, (long Files, long Bytes)>(StringComparer.Ordinal);
        var byRse = new Dictionary<string, (long Files, long Bytes)>(StringComparer.Ordinal);
        var keys = new HashSet<(DateTime, string, string, string)>();
        var rses = scenario.Rses.Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        var (start, end) = (Simulation.VirtualClock.Epoch, Simulation.VirtualClock.Epoch + scenario.Run.Duration);
        for (var i = 0; i < t.Rows; i++)
        {
            Assert.True(files[i] > 0 && bytes[i] >= files[i], $"injection row {i}: {files[i]} files, {bytes[i]} bytes");
            Assert.True(i == 0 || time[i - 1] <= time[i], $"injection row {i} before its predecessor");
            Assert.True(time[i] >= start && time[i] <= end, $"injection row {i} at {time[i]:O}, outside the run");
            Assert.True(keys.Add((time[i], scope[i]!, name[i]!, rse[i]!)), $"injection row {i} repeats its interval, DID and RSE");
            Assert.Contains(rse[i]!, rses);
            Add(byScope, scope[i]!, files[i], bytes[i]);
            Add(byRse, rse[i]!, files[i], bytes[i]);
        }
        var total = byScope.Values.Sum(v => v.Files);
        Assert.Equal(r.FilesInjected, total);
        Assert.Equal(runJson[Core.Execution.RunCounters.FilesInjected], total);
        Assert.Equal(new InjectionTotals(total, byScope.Values.Sum(v => v.Bytes)), summary.Injected);
        var plan = Core.Planning.RunPlan.Create(scenario);
        var planned = plan.Experiments.GroupBy(e => e.Scope).ToDictionary(g => g.Key, g => g.Sum(e => e.FileCount), StringComparer.Ordinal);
        foreach (var n in plan.Noise.Scopes) planned[n] = planned.GetValueOrDefault(n) + plan.Noise.Files;
        foreach (var (s, v) in byScope)
        {
            Assert.True(v.Files <= planned.GetValueOrDefault(s), $"scope {s}: {v.Files} files injected, {planned.GetValueOrDefault(s)} planned");
            var row = summary.Experiments.Single(x => x.Scope == s);
            Assert.Equal((v.Files, v.Bytes), (row.InjectedFiles, row.InjectedBytes));
        }
        Assert.All(summary.Experiments.Where(x => !byScope.ContainsKey(x.Scope)), x => Assert.Equal(0, x.InjectedFiles));
        foreach (var u in summary.Rses)
        {
            var v = byRse.GetValueOrDefault(u.Rse);
            Assert.Equal((v.Files, v.Bytes), (u.InjectedFiles, u.InjectedBytes));
        }
    }

    private static void Add(Dictionary<string, (long Files, long Bytes)> to, string key, long files, long bytes)
    {
        var (f, b) = to.GetValueOrDefault(key);
        to[key] = (f + files, b + bytes);
    }

    private static void Transfers(RunFiles.Table e, Outages outages, LakeResult r, Summary summary)
    {
        var type = e.Column<string?>("event_type");
        var created = e.Column<DateTime>("created_at");
        var src = e.Column<string?>("src_rse");
        var dst = e.Column<string?>("dst_rse");
        var id = e.Column<string?>("request_id");
        var previous = e.Column<string?>("previous_request_id");
        var bytes = e.Column<long?>("bytes");
        var reason = e.Column<string?>("reason");
        var retry = e.Column<int?>("retry_count");
        var submittedAt = e.Column<DateTime?>("submitted_at");
        var startedAt = e.Column<DateTime?>("started_at");
        var transferredAt = e.Column<DateTime?>("transferred_at");

        long queued = 0, submitted = 0, done = 0, failed = 0, bytesDone = 0, bytesSubmitted = 0;
        var queuedIds = new HashSet<string>(StringComparer.Ordinal);
        var submittedIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var failedIds = new HashSet<string>(StringComparer.Ordinal);
        var links = new Dictionary<(string, string), (long Submitted, long Done, long Failed)>();
        for (var i = 0; i < e.Rows; i++)
        {
            switch (type[i])
            {
                case "transfer-queued":
                    queued++;
                    Assert.True(queuedIds.Add(id[i]!), $"request {id[i]} queued twice");
                    // A retry names the attempt it replaces, which failed before it.
                    if (retry[i] > 0) Assert.True(previous[i] is { } p && failedIds.Contains(p), $"retry {id[i]} without its failed previous request");
                    // Never placed on an RSE that never accepts writes.
                    Assert.False(outages.NeverWritable(dst[i]!), $"request {id[i]} queued to {dst[i]}, unavailable for write all along");
                    break;
                case "transfer-submitted":
                    submitted++;
                    bytesSubmitted += bytes[i] ?? 0;
                    Assert.True(queuedIds.Contains(id[i]!), $"request {id[i]} submitted before it was queued");
                    Assert.True(submittedIds.TryAdd(id[i]!, i), $"request {id[i]} submitted twice");
                    Assert.Equal(created[i], submittedAt[i]);
                    // Availability at the moment of submission.
                    Assert.False(outages.DownInside(dst[i]!, RseOperation.Write, created[i]), $"request {id[i]} submitted to {dst[i]} during its write outage at {created[i]:O}");
                    Assert.False(outages.DownInside(src[i]!, RseOperation.Read, created[i]), $"request {id[i]} submitted from {src[i]} during its read outage at {created[i]:O}");
                    Count(links, src[i]!, dst[i]!, 1, 0, 0);
                    break;
                case "transfer-done" or "transfer-failed":
                    var ok = type[i] == "transfer-done";
                    Assert.True(submittedIds.ContainsKey(id[i]!), $"request {id[i]} finished without being submitted");
                    Assert.True(finished.Add(id[i]!), $"request {id[i]} finished twice");
                    // A transfer never starts before it is submitted, nor ends before it starts, nor is reported before it ends.
                    Assert.True(submittedAt[i] <= startedAt[i], $"request {id[i]} started {startedAt[i]:O} before its submission {submittedAt[i]:O}");
                    Assert.True(startedAt[i] <= transferredAt[i], $"request {id[i]} ended before it started");
                    Assert.True(transferredAt[i] <= created[i], $"request {id[i]} reported before it ended");
                    var start = startedAt[i]!.Value;
                    var end = transferredAt[i]!.Value;
                    if (ok)
                    {
                        done++;
                        bytesDone += bytes[i] ?? 0;
                        // Storage down when the transfer opened or closed fails it.
                        Assert.False(outages.DownInside(dst[i]!, RseOperation.Write, start) || outages.DownInside(dst[i]!, RseOperation.Write, end), $"request {id[i]} done into {dst[i]} while it was down for write");
                        Assert.False(outages.DownInside(src[i]!, RseOperation.Read, start) || outages.DownInside(src[i]!, RseOperation.Read, end), $"request {id[i]} done from {src[i]} while it was down for read");
                        Count(links, src[i]!, dst[i]!, 0, 1, 0);
                    }
                    else
                    {
                        failed++;
                        failedIds.Add(id[i]!);
                        // The reason is the one of the moment it failed: an outage is cited only when there was one.
                        var why = reason[i] ?? "";
                        if (why.StartsWith(DestinationDown, StringComparison.Ordinal))
                            Assert.True(outages.Down(dst[i]!, RseOperation.Write, start) || outages.Down(dst[i]!, RseOperation.Write, end), $"request {id[i]} cites {dst[i]}'s write outage, but it had none at {start:O}–{end:O}");
                        else if (why.StartsWith(SourceDown, StringComparison.Ordinal))
                            Assert.True(outages.Down(src[i]!, RseOperation.Read, start) || outages.Down(src[i]!, RseOperation.Read, end), $"request {id[i]} cites {src[i]}'s read outage, but it had none");
                        else
                            Assert.False(outages.DownInside(dst[i]!, RseOperation.Write, start), $"request {id[i]} started inside {dst[i]}'s write outage and failed for another reason: {why}");
                        Count(links, src[i]!, dst[i]!, 0, 0, 1);
                    }
                    break;
            }
        }
        Assert.Equal(r.TransfersQueued, queued);
        Assert.Equal(r.TransfersSubmitted, submitted);
        Assert.Equal(r.TransfersDone, done);
        Assert.Equal(r.TransfersFailed, failed);
        Assert.Equal(r.TransfersActive, submitted - finished.Count);
        Assert.Equal(r.BytesTransferred, bytesDone);

        var t = summary.Transfers;
        Assert.Equal(queued, t.Queued);
        Assert.Equal(submitted, t.Submitted);
        Assert.Equal(done, t.Done);
        Assert.Equal(failed, t.Failed);
        Assert.Equal(bytesDone, t.BytesDone);
        Assert.Equal(bytesSubmitted, t.BytesSubmitted);
        // The transfer matrix: every link with a submission, with the same counts.
        var cells = summary.TransferMatrix.Links.Where(c => c.Submitted > 0 || c.Done > 0 || c.Failed > 0).ToDictionary(c => (c.Src, c.Dst));
        Assert.Equal(links.Count, cells.Count);
        foreach (var ((s, d), n) in links)
        {
            Assert.True(cells.TryGetValue((s, d), out var cell), $"link {s}->{d} missing from the matrix");
            Assert.Equal(n, (cell.Submitted, cell.Done, cell.Failed));
        }
    }

    private static void Count(Dictionary<(string, string), (long, long, long)> links, string s, string d, long submitted, long done, long failed)
    {
        var (a, b, c) = links.GetValueOrDefault((s, d));
        links[(s, d)] = (a + submitted, b + done, c + failed);
    }

    private static void Deletions(RunFiles.Table e, Outages outages, LakeResult r)
    {
        var type = e.Column<string?>("event_type");
        var created = e.Column<DateTime>("created_at");
        var rse = e.Column<string?>("rse");
        var bytes = e.Column<long?>("bytes");
        long deleted = 0, count = 0;
        for (var i = 0; i < e.Rows; i++)
        {
            if (type[i] != "deletion-done") continue;
            count++;
            deleted += bytes[i] ?? 0;
            Assert.False(outages.DownInside(rse[i]!, RseOperation.Delete, created[i]), $"deletion on {rse[i]} during its delete outage at {created[i]:O}");
        }
        Assert.Equal(r.Deletions, count);
        Assert.Equal(r.BytesDeleted, deleted);
        Assert.Equal(r.BytesOfReplicasRemoved, deleted);
    }

    private static void Rules(RunFiles.Table e, LakeResult r)
    {
        var type = e.Column<string?>("event_type");
        var rule = e.Column<string?>("rule_id");
        var ok = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < e.Rows; i++)
            if (type[i] == "RULE_OK") Assert.True(ok.Add(rule[i]!), $"rule {rule[i]} OK twice");
        Assert.True(ok.Count <= r.RulesCreated);
    }

    private static void Samples(RunFiles.Table s, RunFiles.Table lifecycle, Scenario scenario)
    {
        var time = s.Column<DateTime>("time");
        var pod = s.Column<string?>("pod");
        var cpu = s.Column<double>("cpu_cores");
        var memory = s.Column<long>("memory_bytes");
        var cpuLimit = s.Column<double?>("cpu_limit");
        var memoryLimit = s.Column<long?>("memory_limit");
        var byPod = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < s.Rows; i++)
        {
            // The CFS quota caps everything the container does, its idle loop included.
            Assert.True(cpu[i] >= 0, $"{pod[i]}: negative CPU");
            if (cpuLimit[i] is { } cl) Assert.True(cpu[i] <= cl + 1e-9, $"{pod[i]} at {time[i]:O}: CPU {cpu[i]} above its limit {cl}");
            if (memoryLimit[i] is { } ml) Assert.True(memory[i] <= ml, $"{pod[i]} at {time[i]:O}: memory {memory[i]} above its limit {ml}");
            if (!byPod.TryGetValue(pod[i]!, out var list)) byPod[pod[i]!] = list = [];
            list.Add(i);
        }
        // An OOMKill shows in the pod's next sample: its memory reached the limit within that interval.
        var interval = scenario.Run.ObservationInterval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : scenario.Run.ObservationInterval;
        var lt = lifecycle.Column<DateTime>("time");
        var lpod = lifecycle.Column<string?>("pod");
        var levent = lifecycle.Column<string?>("event");
        for (var i = 0; i < lifecycle.Rows; i++)
        {
            if (levent[i] != "oom-killed" || !byPod.TryGetValue(lpod[i]!, out var rows)) continue;
            var window = rows.Where(k => time[k] >= lt[i] && time[k] <= lt[i] + interval).ToList();
            if (window.Count == 0) continue; // deleted before its next sample, or the run ended
            Assert.True(window.Any(k => memory[k] == memoryLimit[k]), $"{lpod[i]} OOMKilled at {lt[i]:O}, but its next sample shows {memory[window[0]]} under the limit {memoryLimit[window[0]]}");
        }
    }

    private static void Lifecycle(RunFiles.Table l, LakeResult r, Summary summary)
    {
        var daemon = l.Column<string?>("daemon");
        var pod = l.Column<string?>("pod");
        var ev = l.Column<string?>("event");
        var oom = new Dictionary<string, long>(StringComparer.Ordinal);
        var restarted = new Dictionary<string, long>(StringComparer.Ordinal);
        var pending = new Dictionary<string, string>(StringComparer.Ordinal); // pod → the OOMKill awaiting its sequel
        for (var i = 0; i < l.Rows; i++)
        {
            if (ev[i] == "oom-killed")
            {
                oom[daemon[i]!] = oom.GetValueOrDefault(daemon[i]!) + 1;
                Assert.False(pending.ContainsKey(pod[i]!), $"{pod[i]}: OOMKilled again before it restarted");
                pending[pod[i]!] = daemon[i]!;
            }
            else if (ev[i] == "restarted")
            {
                restarted[daemon[i]!] = restarted.GetValueOrDefault(daemon[i]!) + 1;
                pending.Remove(pod[i]!);
            }
            else if (ev[i] is "killed" or "deleted") pending.Remove(pod[i]!);
        }
        foreach (var d in r.Daemons)
        {
            Assert.Equal(d.OomKills, oom.GetValueOrDefault(d.Daemon));
            Assert.Equal(d.Restarts, restarted.GetValueOrDefault(d.Daemon));
            if (summary.Resources.FirstOrDefault(u => u.Daemon == d.Daemon) is { } u)
                Assert.Equal(d.OomKills, u.OomKilled);
        }
    }

    /// <summary>When each RSE was unavailable for each operation: the scenario's availability and the outages of faults.parquet.</summary>
    private sealed class Outages
    {
        private readonly Dictionary<(string, RseOperation), List<(DateTime From, DateTime To)>> _down = [];
        private readonly HashSet<(string, RseOperation)> _never = [];

        public static Outages From(Scenario scenario, RunFiles.Table faults)
        {
            var o = new Outages();
            foreach (var rse in scenario.Rses)
            {
                if (!rse.Availability.Read) o._never.Add((rse.Name, RseOperation.Read));
                if (!rse.Availability.Write) o._never.Add((rse.Name, RseOperation.Write));
                if (!rse.Availability.Delete) o._never.Add((rse.Name, RseOperation.Delete));
            }
            var kind = faults.Column<string?>("kind");
            var target = faults.Column<string?>("target");
            var start = faults.Column<DateTime>("start");
            var end = faults.Column<DateTime?>("end");
            var detail = faults.Column<string?>("detail");
            for (var i = 0; i < faults.Rows; i++)
            {
                if (kind[i] != "rse_outage") continue;
                foreach (var op in (detail[i] ?? "").Replace("unavailable:", "", StringComparison.Ordinal).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var operation = Enum.Parse<RseOperation>(op, ignoreCase: true);
                    if (!o._down.TryGetValue((target[i]!, operation), out var list)) o._down[(target[i]!, operation)] = list = [];
                    list.Add((start[i], end[i] ?? DateTime.MaxValue));
                }
            }
            return o;
        }

        public bool NeverWritable(string rse) => _never.Contains((rse, RseOperation.Write));

        /// <summary>Down at that instant, the edges included (an operation at the very instant may fall either side).</summary>
        public bool Down(string rse, RseOperation op, DateTime at) =>
            _never.Contains((rse, op)) || (_down.TryGetValue((rse, op), out var l) && l.Any(x => x.From <= at && at <= x.To));

        /// <summary>Down for certain: strictly inside an outage (or never available).</summary>
        public bool DownInside(string rse, RseOperation op, DateTime at) =>
            _never.Contains((rse, op)) || (_down.TryGetValue((rse, op), out var l) && l.Any(x => x.From < at && at < x.To));
    }
}
