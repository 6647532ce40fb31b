using System.Security.Cryptography;
using System.Text;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios;

/// <summary>An overlay file applied over a scenario (run.json's "overlays"): its path as given, its sha256, and whether fdr calibrate wrote it.</summary>
public sealed record AppliedOverlay(string Path, string Sha256, bool Calibrated);

/// <summary>
/// --overlay FILE (repeatable): YAML files merged over the scenario before it is bound and validated, in the order given,
/// as Helm layers values files. Mappings merge key by key (so <c>daemons.NAME.model.KEY</c> changes one key and keeps the
/// rest); a list or a value replaces the one below it whole (so <c>links.overrides</c> is the overlay's list); a key set to
/// null removes it. Any scenario key may be overlaid; the merged scenario is validated as one, each mistake at its own file.
/// The top-level <c>calibration</c> mapping that fdr calibrate writes (what the values were fitted from, their intervals)
/// is not a scenario key: it is taken out of the overlay and marks it as calibrated.
/// </summary>
public static class ScenarioOverlay
{
    /// <summary>The top-level key fdr calibrate writes its intervals under; taken out before the merge.</summary>
    public const string CalibrationKey = "calibration";

    /// <summary>An overlay file read: its tree (without <see cref="CalibrationKey"/>), that key's mapping when present, and its record.</summary>
    public sealed record Layer(YMapping Root, YMapping? Calibration, AppliedOverlay Applied);

    /// <summary>Reads an overlay file; null after adding its mistakes (file:line:column) to <paramref name="bag"/>.</summary>
    public static Layer? Read(string path, DiagnosticBag bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        var at = new SourceLocation(path, 0, 0);
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, ScenarioLoader.MaxFileBytes);
        }
        catch (InputFileException e)
        {
            bag.Add(at, "overlay: " + e.Message, "--overlay takes a YAML file of scenario keys, such as the one fdr calibrate writes");
            return null;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            bag.Add(at, "overlay: the file is not UTF-8 text", "save it as UTF-8");
            return null;
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var applied = new AppliedOverlay(path, Convert.ToHexStringLower(SHA256.HashData(bytes)), false);
        // An empty file (or only comments) changes nothing, as an empty Helm values file.
        if (text.Split('\n').All(l => l.TrimStart().Length == 0 || l.TrimStart().StartsWith('#')))
            return new Layer(new YMapping(new SourceLocation(path, 1, 1)), null, applied);
        var before = bag.Items.Count;
        var root = YamlTreeReader.Read(text, path, bag);
        if (root is null || bag.Items.Count > before) return null;
        if (root is not YMapping mapping)
        {
            bag.Add(root.At, $"an overlay is a mapping of scenario keys (run, daemons, links, ...); found {root.KindName}");
            return null;
        }
        var calibration = mapping[CalibrationKey];
        if (calibration is not null and not YMapping)
        {
            bag.Add(calibration.At, $"'{CalibrationKey}' is what fdr calibrate fitted the values from: a mapping; found {calibration.KindName}");
            return null;
        }
        if (calibration is null) return new Layer(mapping, null, applied);
        var rest = new YMapping(mapping.At);
        rest.Entries.AddRange(mapping.Entries.Where(e => e.Key.Value != CalibrationKey));
        rest.Seal();
        return new Layer(rest, (YMapping)calibration, applied with { Calibrated = true });
    }

    /// <summary><paramref name="over"/> merged onto <paramref name="under"/> (neither is changed): mappings key by key, anything else replaced, null removes.</summary>
    public static YMapping Merge(YMapping under, YMapping over)
    {
        ArgumentNullException.ThrowIfNull(under);
        ArgumentNullException.ThrowIfNull(over);
        var merged = new YMapping(under.At);
        merged.Entries.AddRange(under.Entries);
        foreach (var (key, value) in over.Entries)
        {
            var i = merged.Entries.FindIndex(e => e.Key.Value == key.Value);
            if (value is YScalar { IsNull: true })
            {
                if (i >= 0) merged.Entries.RemoveAt(i);
                continue;
            }
            if (i < 0) merged.Entries.Add(new(key, value));
            else if (merged.Entries[i].Value is YMapping below && value is YMapping above)
                merged.Entries[i] = new(merged.Entries[i].Key, Merge(below, above));
            else merged.Entries[i] = new(key, value);
        }
        merged.Seal();
        return merged;
    }
}
