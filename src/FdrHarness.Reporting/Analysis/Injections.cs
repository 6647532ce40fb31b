using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Analysis;

/// <summary>
/// What went in, from injections.parquet: files and bytes per scope and per RSE. Null for a run written before the
/// file existed: Hermes has no message for a registered replica, so its events cannot tell.
/// </summary>
internal sealed class Injections
{
    public long Files { get; private set; }
    public long Bytes { get; private set; }
    public Dictionary<string, Tally> ByScope { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Tally> ByRse { get; } = new(StringComparer.Ordinal);

    /// <summary>Files and bytes of one scope or RSE; a class: dictionaries of (files, bytes) pairs were JIT-compiled per report.</summary>
    public sealed class Tally
    {
        public long Files, Bytes;
    }

    /// <summary>What <paramref name="key"/> received, (0, 0) when nothing.</summary>
    public static (long Files, long Bytes) Of(Dictionary<string, Tally> tallies, string key) =>
        tallies.TryGetValue(key, out var t) ? (t.Files, t.Bytes) : (0, 0);

    /// <summary>Time span of the rows (interval starts), for the report's time axis.</summary>
    public long MinTicks { get; private set; } = long.MaxValue;
    public long MaxTicks { get; private set; } = long.MinValue;

    public static Injections? Read(ObservationReader reader)
    {
        if (!reader.HasInjections) return null;
        var r = new Injections();
        if (Input.RecordColumns.Injections(Path.Combine(reader.Directory, ParquetObservationSink.InjectionsFile)) is { } decoded)
            foreach (ref readonly var row in decoded.AsSpan()) r.Add(row);
        else
            foreach (var row in reader.Injections()) r.Add(row);
        return r;
    }

    private void Add(in InjectionRecord row)
    {
        Files += row.Files;
        Bytes += row.Bytes;
        Add(ByScope, row.Scope, row);
        Add(ByRse, row.Rse, row);
        MinTicks = Math.Min(MinTicks, row.Time.Ticks);
        MaxTicks = Math.Max(MaxTicks, row.Time.Ticks);
    }

    private static void Add(Dictionary<string, Tally> to, string key, in InjectionRecord row)
    {
        if (!to.TryGetValue(key, out var t)) to[key] = t = new Tally();
        t.Files += row.Files;
        t.Bytes += row.Bytes;
    }
}
