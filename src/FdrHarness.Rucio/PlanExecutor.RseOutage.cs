using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio;

// rse_outage on a live Rucio: Rucio's own RSE availability, its flags as they were kept to be put back when the outage
// ends (or when the run does, also after Ctrl-C or a kill and resume).
internal sealed partial class PlanExecutor
{
    /// <summary>Outages begun and not ended before a kill: put back when they end, or at the run's end.</summary>
    private void TakeUpOutages()
    {
        foreach (var e in _done.Values.Where(e => e.Outage is not null).OrderBy(e => Position(e.Work)))
            if (e.Kind.EndsWith(":begin", StringComparison.Ordinal)) _outages[e.Outage!.Rse] = e.Outage;
            else _outages.TryRemove(e.Outage!.Rse, out _);
    }

    private void Outage(ChaosFiring firing, long position)
    {
        if (_done.ContainsKey(Part(position, 0))) return; // begun or ended before a resume
        lock (_background) _background.Add(OutageAsync(firing, (RseOutage)firing.Spec, Part(position, 0)));
    }

    private async Task OutageAsync(ChaosFiring firing, RseOutage outage, string key)
    {
        var now = _options.Time.GetUtcNow().UtcDateTime;
        try
        {
            if (firing.Edge == ChaosEdge.End)
            {
                if (_outages.TryRemove(outage.Rse, out var change))
                {
                    await _catalog.RestoreRseAvailabilityAsync(change, CancellationToken.None).ConfigureAwait(false);
                    _journal.Add(new JournalEntry { Work = key, Kind = firing.Name + ":rse_outage:end", Outcome = JournalEntry.Done, Outage = change });
                }
                return;
            }
            bool? Off(RseOperation op) => outage.Unavailable.Contains(op) ? false : null;
            var made = await _catalog.SetRseAvailabilityAsync(outage.Rse, Off(RseOperation.Read), Off(RseOperation.Write), Off(RseOperation.Delete), _retireToken)
                .ConfigureAwait(false);
            _outages.TryAdd(outage.Rse, made);
            _journal.Add(new JournalEntry { Work = key, Kind = firing.Name + ":rse_outage:begin", Outcome = JournalEntry.Done, Outage = made });
            _sink.Fault(new FaultRecord
            {
                Start = now, End = now + outage.During, Name = firing.Name, Kind = ChaosKinds.RseOutage, Target = outage.Rse,
                Detail = "unavailable: " + string.Join(",", outage.Unavailable).ToLowerInvariant(),
            });
        }
        catch (Exception e) when (e is RucioException or RucioUnreachableException or HttpRequestException or JsonException or OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
            if (_lost.Count < 1000) _lost.Enqueue($"rse_outage {outage.Rse}: {OneLine(e.Message)}");
        }
    }

    /// <summary>Puts back every RSE availability an outage changed and has not restored yet (the run's end, Ctrl-C included).</summary>
    public async Task<int> RestoreOutagesAsync(CancellationToken ct)
    {
        var restored = 0;
        foreach (var rse in _outages.Keys.ToList())
        {
            if (!_outages.TryRemove(rse, out var change)) continue;
            try
            {
                await _catalog.RestoreRseAvailabilityAsync(change, ct).ConfigureAwait(false);
                restored++;
            }
            catch (Exception e) when (e is RucioException or RucioUnreachableException or HttpRequestException or JsonException or OperationCanceledException)
            {
                await _log.WriteLineAsync($"fdr: could not put back the availability of {rse} ({OneLine(e.Message)}): it is {change.After}, was {change.Before}").ConfigureAwait(false);
            }
        }
        return restored;
    }
}
