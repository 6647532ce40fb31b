using System.Globalization;
using System.Text;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Helm;

/// <summary>
/// The scenario with a values file applied, or every mistake of the file with its position. <see cref="Notes"/> says
/// what the file asks that the rehearsal leaves out (a daemon the embedded lake does not model, settings of a daemon
/// the file does not enable): worth printing, not an error.
/// </summary>
public sealed record HelmValuesResult(Scenario? Scenario, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<string> Notes)
{
    public bool Ok => Scenario is not null && Diagnostics.Count == 0;
}

/// <summary>
/// Reads a values file of the rucio-daemons Helm chart as the daemons' configuration: per daemon the chart has a
/// top-level <c>{daemon}Count</c> (pods) and a <c>{daemon}:</c> block whose <c>threads</c> and
/// <c>resources: {requests, limits: {cpu, memory}}</c> are read; the chart's other settings are ignored.
/// Like Helm's own merge, the file overrides the scenario field by field (the scenario plays the chart's defaults):
/// a limit the file does not mention stays as the scenario had it, a <c>null</c> removes it.
/// A count of 0 disables the daemon (zero pods: dropping it would make the embedded lake run its default pod);
/// a daemon the file enables and the scenario lacks is added.
/// </summary>
public static class HelmValues
{
    /// <summary>Values files are hand-written or generated from a chart; anything larger is not one.</summary>
    public const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>The chart's daemons: name (its rucio-daemon pod label) and values key. Only the submitter's key differs from camelCase.</summary>
    public static readonly IReadOnlyList<(string Daemon, string Key)> ChartDaemons =
    [
        .. new[]
        {
            "abacus-account", "abacus-collection-replica", "abacus-rse", "automatix", "cache-consumer",
            "conveyor-submitter", "conveyor-poller", "conveyor-finisher", "conveyor-receiver", "conveyor-stager",
            "conveyor-throttler", "conveyor-preparer", "dark-reaper", "hermes", "hermes-legacy",
            "judge-cleaner", "judge-evaluator", "judge-injector", "judge-repairer", "oauth-manager",
            "undertaker", "reaper", "replica-recoverer", "rse-decommissioner", "transmogrifier", "tracer-kronos",
            "minos", "minos-temporary-expiration", "necromancer",
        }.Select(d => (d, ChartKey(d))),
    ];

    /// <summary>Top-level keys of the chart that are no daemon, some with a resources block of their own (cron jobs).</summary>
    private static readonly HashSet<string> ChartSettings = new(StringComparer.Ordinal)
    {
        "image", "imagePullSecrets", "strategy", "useDeprecatedImplicitSecrets", "podLabels", "podAnnotations",
        "deploymentAnnotations", "minReadySeconds", "monitoring", "ftsRenewal", "automaticRestart", "secretMounts",
        "config", "policyPackages", "serviceAccountName", "additionalEnvs", "additionalSecrets", "persistentVolumes",
        "hostPathMounts", "optional_config", "exportConfigToEnv", "global",
    };

    private static readonly string[] ResourceKinds = ["requests", "limits"];
    private static readonly string[] ResourceNames = ["cpu", "memory"];
    private static readonly string[] BlockKeysRead = ["threads", "resources"];

    /// <summary>The chart's key of a daemon: camelCase of its name; the submitter is conveyorTransferSubmitter.</summary>
    public static string ChartKey(string daemon) => daemon == "conveyor-submitter"
        ? "conveyorTransferSubmitter"
        : string.Concat(daemon.Split('-').Select((part, i) => i == 0 || part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));

    /// <summary>The daemon of a chart key (judgeEvaluator → judge-evaluator), or null when the chart has no such daemon.</summary>
    public static string? DaemonOfChartKey(string key) => ChartDaemons.FirstOrDefault(d => d.Key == key).Daemon;

    /// <summary>Reads <paramref name="path"/> and applies it to <paramref name="scenario"/>.</summary>
    public static HelmValuesResult ApplyFile(Scenario scenario, string path)
    {
        var at = new SourceLocation(path, 0, 0);
        string text;
        try
        {
            if (!File.Exists(path) && !Directory.Exists(path)) return Failed(new Diagnostic(at, "no such values file"));
            text = new UTF8Encoding(false, true).GetString(InputFile.ReadAllBytes(path, MaxFileBytes));
        }
        catch (InputFileException e)
        {
            return Failed(new Diagnostic(at, e.Message, "a values file is YAML of at most 4 MiB"));
        }
        catch (DecoderFallbackException)
        {
            return Failed(new Diagnostic(at, "is not UTF-8 text", "save it as UTF-8"));
        }
        return Apply(scenario, text, path);
    }

    /// <summary>Applies values text (named <paramref name="file"/> in diagnostics) to <paramref name="scenario"/>.</summary>
    public static HelmValuesResult Apply(Scenario scenario, string text, string file)
    {
        var bag = new DiagnosticBag();
        var notes = new List<string>();
        var root = YamlTreeReader.Read(text, file, bag);
        if (root is null)
        {
            // An empty file (or only comments) changes nothing, as for Helm.
            return bag.HasErrors ? new(null, bag.Sorted(), notes) : new(scenario, [], notes);
        }
        if (root is not YMapping map)
        {
            bag.Add(root.At, $"a values file is a mapping of keys such as judgeEvaluatorCount and judgeEvaluator; found {root.KindName}");
            return new(null, bag.Sorted(), notes);
        }

        var counts = new Dictionary<string, (int Count, YScalar Key)>(StringComparer.Ordinal);
        var blocks = new Dictionary<string, (YMapping Block, YScalar Key)>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
            ReadTopLevel(key, value, counts, blocks, bag);

        var daemons = scenario.Daemons.ToList();
        foreach (var (daemon, chartKey) in ChartDaemons)
        {
            var hasCount = counts.TryGetValue(daemon, out var count);
            var hasBlock = blocks.TryGetValue(daemon, out var block);
            if (!hasCount && !hasBlock) continue;
            var index = daemons.FindIndex(d => d.Name == daemon);
            if (!RucioDaemons.IsKnown(daemon))
            {
                if (hasCount && count.Count > 0)
                    notes.Add($"{count.Key.At}: {daemon} ({count.Count} pods) is not modelled by the rehearsal; left out");
                continue;
            }
            if (index < 0 && (!hasCount || count.Count == 0))
            {
                if (!hasCount && hasBlock)
                    notes.Add($"{block.Key.At}: {chartKey} has settings but no {chartKey}Count, so the chart runs no {daemon} pod; not added");
                continue;
            }
            var spec = index >= 0 ? daemons[index] : new DaemonSpec { Name = daemon };
            if (hasCount) spec = spec with { Replicas = count.Count };
            if (hasBlock) spec = ApplyBlock(spec, block.Block, bag);
            if (index >= 0) daemons[index] = spec;
            else daemons.Add(spec);
        }
        return bag.HasErrors ? new(null, bag.Sorted(), notes) : new(scenario with { Daemons = daemons }, [], notes);
    }

    /// <summary>
    /// Applies a rucio-server chart's values (one chart per server: replicaCount and resources at the top) to the
    /// scenario's <paramref name="daemon"/> (rucio-server, rucio-server-auth).
    /// </summary>
    public static HelmValuesResult ApplyServer(Scenario scenario, string daemon, string text, string file)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var bag = new DiagnosticBag();
        var root = YamlTreeReader.Read(text, file, bag);
        if (root is null) return bag.HasErrors ? new(null, bag.Sorted(), []) : new(scenario, [], []);
        if (root is not YMapping map)
        {
            bag.Add(root.At, $"a rucio-server values file is a mapping with replicaCount and resources; found {root.KindName}");
            return new(null, bag.Sorted(), []);
        }
        var daemons = scenario.Daemons.ToList();
        var index = daemons.FindIndex(d => d.Name == daemon);
        var spec = index >= 0 ? daemons[index] : new DaemonSpec { Name = daemon };
        if (map["replicaCount"] is { } replicas && ReadCount("replicaCount", replicas, bag) is { } n) spec = spec with { Replicas = n };
        spec = ApplyBlock(spec, map, bag);   // the same resources block as a daemon's
        if (index >= 0) daemons[index] = spec;
        else daemons.Add(spec);
        return bag.HasErrors ? new(null, bag.Sorted(), []) : new(scenario with { Daemons = daemons }, [], []);
    }

    private static void ReadTopLevel(YScalar key, YNode value, Dictionary<string, (int, YScalar)> counts,
        Dictionary<string, (YMapping, YScalar)> blocks, DiagnosticBag bag)
    {
        var name = key.Value;
        if (DaemonOfChartKey(name) is { } daemon)
        {
            if (value is YMapping block) blocks[daemon] = (block, key);
            else if (value is not YScalar { IsNull: true })
                bag.Add(value.At, $"'{name}' is the settings of {daemon}: a mapping with threads and resources; found {value.KindName}");
            return;
        }
        if (name.EndsWith("Count", StringComparison.Ordinal) && DaemonOfChartKey(name[..^"Count".Length]) is { } counted)
        {
            if (ReadCount(name, value, bag) is { } n) counts[counted] = (n, key);
            return;
        }
        if (ChartSettings.Contains(name)) return;

        // Any other key is a chart setting this reader does not know, unless it reads like a misspelt daemon.
        var countKeys = ChartDaemons.Select(d => d.Key + "Count");
        var suggestion = name.EndsWith("Count", StringComparison.Ordinal)
            ? Suggestions.DidYouMean(name, countKeys)
            : Suggestions.DidYouMean(name, ChartDaemons.Select(d => d.Key));
        var looksLikeDaemon = name.EndsWith("Count", StringComparison.Ordinal) || value is YMapping m && m["threads"] is not null;
        if (suggestion is not null || looksLikeDaemon)
            bag.Add(key.At, $"unknown daemon key '{name}'; the rucio-daemons chart has no such daemon",
                suggestion ?? "daemons: " + string.Join(", ", ChartDaemons.Select(d => d.Key)));
    }

    private static int? ReadCount(string key, YNode value, DiagnosticBag bag)
    {
        if (value is not YScalar scalar || scalar.IsNull)
        {
            bag.Add(value.At, $"'{key}' is a number of pods; found {value.KindName}");
            return null;
        }
        if (!long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n > int.MaxValue)
        {
            bag.Add(scalar.At, $"'{key}' is a whole number of pods; found '{scalar.Value}'");
            return null;
        }
        if (n < 0)
        {
            bag.Add(scalar.At, $"'{key}' cannot be negative ({n})", "0 disables the daemon");
            return null;
        }
        return (int)n;
    }

    private static DaemonSpec ApplyBlock(DaemonSpec spec, YMapping block, DiagnosticBag bag)
    {
        YNode? resourcesNode = null;
        var resourcesAt = block.At;
        foreach (var (key, value) in block.Entries)
        {
            switch (key.Value)
            {
                case "threads":
                    if (ReadThreads(spec.Name, value, bag) is { } threads) spec = spec with { Threads = threads };
                    break;
                case "resources":
                    resourcesNode = value;
                    resourcesAt = key.At;
                    break;
                default:
                    // The chart's other settings (sleepTime, bulk, podAnnotations, ...) do not shape pods; a near miss of ours does.
                    if (Suggestions.Closest(key.Value, BlockKeysRead) is { } near)
                        bag.Add(key.At, $"{spec.Name}: unknown key '{key.Value}'", $"did you mean '{near}'?");
                    break;
            }
        }
        if (resourcesNode is null or YScalar { IsNull: true }) return spec;
        if (resourcesNode is not YMapping resources)
        {
            bag.Add(resourcesNode.At, $"{spec.Name}: resources is a mapping with requests and limits; found {resourcesNode.KindName}");
            return spec;
        }
        var requests = spec.Requests;
        var limits = spec.Limits;
        foreach (var (key, value) in resources.Entries)
        {
            switch (key.Value)
            {
                case "requests": requests = ReadResources(spec.Name, "requests", requests, value, bag); break;
                case "limits": limits = ReadResources(spec.Name, "limits", limits, value, bag); break;
                case "claims": break;   // Kubernetes' dynamic resource claims: nothing the rehearsal models
                default:
                    bag.Add(key.At, $"{spec.Name}: unknown key '{key.Value}' in resources; expected requests or limits",
                        Suggestions.DidYouMean(key.Value, ResourceKinds));
                    break;
            }
        }
        // Kubernetes refuses a request above its limit; the scenario validator would too, so say it here, at the file.
        if (requests.Memory is { } rm && limits.Memory is { } lm && rm > lm)
            bag.Add(resourcesAt, $"{spec.Name}: memory request ({rm.ToBinaryString()}) is above the limit ({lm.ToBinaryString()}); Kubernetes refuses that");
        if (requests.Cpu is { } rc && limits.Cpu is { } lc && rc > lc)
            bag.Add(resourcesAt, $"{spec.Name}: CPU request ({rc}) is above the limit ({lc}); Kubernetes refuses that");
        return spec with { Requests = requests, Limits = limits };
    }

    private static int? ReadThreads(string daemon, YNode value, DiagnosticBag bag)
    {
        if (value is YScalar { IsNull: true }) return null;
        if (value is not YScalar scalar || !int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            bag.Add(value.At, $"{daemon}: threads is a whole number; found {(value is YScalar s ? $"'{s.Value}'" : value.KindName)}");
            return null;
        }
        if (n < 0)
        {
            bag.Add(scalar.At, $"{daemon}: threads cannot be negative ({n})");
            return null;
        }
        // The chart leaves --threads out for 0, and a Rucio daemon then runs one thread.
        return Math.Max(n, 1);
    }

    private static Resources ReadResources(string daemon, string kind, Resources current, YNode node, DiagnosticBag bag)
    {
        if (node is YScalar { IsNull: true }) return new Resources();
        if (node is not YMapping map)
        {
            bag.Add(node.At, $"{daemon}: resources.{kind} is a mapping with cpu and memory; found {node.KindName}");
            return current;
        }
        foreach (var (key, value) in map.Entries)
        {
            var scalar = value as YScalar;
            if (key.Value is "cpu" or "memory" && scalar is null)
            {
                bag.Add(value.At, $"{daemon}: resources.{kind}.{key.Value} is a quantity; found {value.KindName}");
                continue;
            }
            switch (key.Value)
            {
                case "cpu" when scalar!.IsNull: current = current with { Cpu = null }; break;
                case "memory" when scalar!.IsNull: current = current with { Memory = null }; break;
                case "cpu":
                    if (CpuQuantity.TryParse(scalar!.Value, out var cpu, out var cpuError)) current = current with { Cpu = cpu };
                    else bag.Add(scalar.At, $"{daemon}: resources.{kind}.cpu: {cpuError}");
                    break;
                case "memory":
                    if (ReadMemory(scalar!.Value, out var memory, out var memoryError, out var hint)) current = current with { Memory = memory };
                    else bag.Add(scalar.At, $"{daemon}: resources.{kind}.memory: {memoryError}", hint);
                    break;
                default:
                    // ephemeral-storage, hugepages-2Mi, nvidia.com/gpu are real resources the rehearsal does not model.
                    if (Suggestions.Closest(key.Value, ResourceNames) is { } near)
                        bag.Add(key.At, $"{daemon}: unknown resource '{key.Value}' in {kind}", $"did you mean '{near}'?");
                    break;
            }
        }
        return current;
    }

    /// <summary>A memory quantity as Kubernetes reads it; a lowercase "m" is milli-bytes there, a classic slip for "Mi".</summary>
    private static bool ReadMemory(string text, out ByteSize value, out string? error, out string? hint)
    {
        hint = null;
        var trimmed = text.Trim();
        if (trimmed.EndsWith('m') && trimmed.Length > 1 && char.IsAsciiDigit(trimmed[^2]))
        {
            value = default;
            error = $"'{text}' is {trimmed[..^1]} thousandths of a byte in Kubernetes";
            hint = $"did you mean '{trimmed[..^1]}Mi'?";
            return false;
        }
        return ByteSize.TryParse(trimmed, out value, out error);
    }

    private static HelmValuesResult Failed(Diagnostic d) => new(null, [d], []);
}
