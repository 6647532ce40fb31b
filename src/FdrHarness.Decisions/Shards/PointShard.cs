using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;

namespace FdrHarness.Decisions.Shards;

/// <summary>
/// One shard of a sweep, baseline or prediction (<c>--shard i/N</c>, one pod of an Indexed Job): it runs the points
/// j with j mod N = i — each point whole, exactly as one process runs it, since a point depends only on its own
/// scenario — and keeps their results in its folder's points.json (beside the scenario.yaml it ran), which
/// <c>fdr merge</c> joins into the output one process writes.
/// </summary>
/// <param name="Command">sweep, baseline or predict.</param>
/// <param name="Options">The command's options that make its points (e.g. {"scale": "0.5,1"}): every shard of one job has the same.</param>
/// <param name="Points">How many points the whole job has.</param>
/// <param name="Results">Per point this shard ran, its result, each with its "index" among all the points.</param>
public sealed record PointShard(string Command, JsonObject Options, ShardSpec Shard, int Points, TimeSpan Wall, JsonArray Results)
{
    public const string FileName = "points.json";
    private const string Kind = "fdr-points";

    /// <summary>The points of shard <paramref name="shard"/> among <paramref name="points"/>.</summary>
    public static IReadOnlyList<int> Indices(int points, ShardSpec shard) =>
        Enumerable.Range(0, points).Where(j => j % shard.Count == shard.Index).ToList();

    /// <summary>Why <paramref name="shard"/> cannot split <paramref name="points"/> points (a shard with no point is a pod with nothing to do), or null.</summary>
    public static string? Problem(int points, ShardSpec shard, string command) => shard.Count > points
        ? $"--shard {shard}: this {command} has {points} point{(points == 1 ? "" : "s")}; give at most {points} shards (COUNT/{points} runs one point per shard)"
        : null;

    public string ToJson() => new JsonObject
    {
        ["kind"] = Kind,
        ["tool_version"] = RunDirectory.ToolVersion,
        ["command"] = Command,
        ["options"] = Options.DeepClone(),
        ["shard"] = new JsonObject { ["index"] = Shard.Index, ["count"] = Shard.Count },
        ["points"] = Points,
        ["wall_seconds"] = Math.Round(Wall.TotalSeconds, 3),
        ["results"] = Results.DeepClone(),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>Writes the shard's folder: scenario.yaml, then points.json (its presence means the shard finished).</summary>
    public void Write(string dir, string scenarioYaml)
    {
        Directory.CreateDirectory(dir);
        RunDirectory.WriteAtomically(Path.Combine(dir, RunDirectory.ScenarioFile), scenarioYaml);
        RunDirectory.WriteAtomically(Path.Combine(dir, FileName), ToJson());
    }

    public static bool IsShardFolder(string dir) => File.Exists(Path.Combine(dir, FileName));

    /// <summary>Which shard the folder's points.json says it is; null when there is none or it cannot be read (<see cref="Check"/> tells why).</summary>
    public static ShardSpec? ShardOf(string dir)
    {
        try
        {
            if (!IsShardFolder(dir) || JsonNode.Parse(File.ReadAllText(Path.Combine(dir, FileName)))?["shard"] is not JsonObject shard) return null;
            return new ShardSpec(Int(shard, "index"), Int(shard, "count"));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks that <paramref name="dirs"/> are the finished shards of one sweep, baseline or prediction, each exactly
    /// once: one line per mistake (empty when they are). <paramref name="shards"/> is ordered by shard index when there is no mistake.
    /// </summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<string> dirs, out IReadOnlyList<(string Path, PointShard Shard)> shards)
    {
        ArgumentNullException.ThrowIfNull(dirs);
        var errors = new List<string>();
        var read = new List<(string Path, PointShard Shard, string Scenario)>();
        foreach (var dir in dirs)
            if (Read(dir, errors) is { } one) read.Add(one);
        shards = [];
        if (read.Count == 0) return errors;

        var first = read[0];
        foreach (var (path, shard, scenario) in read.Skip(1))
        {
            if (shard.Command != first.Shard.Command)
                errors.Add($"{path}: a shard of fdr {shard.Command}, but {first.Path} is a shard of fdr {first.Shard.Command}");
            else if (!JsonNode.DeepEquals(shard.Options, first.Shard.Options))
                errors.Add($"{path}: {Describe(shard.Options)}, but {first.Path} ran {Describe(first.Shard.Options)} (every shard takes the same options)");
            if (scenario != first.Scenario)
                errors.Add($"{path}: its scenario.yaml differs from {first.Path}'s (the shards of one {first.Shard.Command} share one scenario, seed and settings)");
            if (shard.Shard.Count != first.Shard.Shard.Count)
                errors.Add($"{path}: shard {shard.Shard}, but {first.Path} is one of {first.Shard.Shard.Count} shards");
        }
        var count = first.Shard.Shard.Count;
        var same = read.Where(r => r.Shard.Shard.Count == count).ToList();
        foreach (var group in same.GroupBy(r => r.Shard.Shard.Index).Where(g => g.Count() > 1))
            errors.Add($"shard {group.Key}/{count} given {group.Count()} times: {string.Join(", ", group.Select(r => r.Path))}");
        if (read.Count == dirs.Count)
            foreach (var i in Enumerable.Range(0, count).Where(i => same.All(r => r.Shard.Shard.Index != i)))
                errors.Add($"shard {i}/{count} is missing: give the folders of all {count} shards");
        if (errors.Count == 0) shards = [.. read.OrderBy(r => r.Shard.Shard.Index).Select(r => (r.Path, r.Shard))];
        return errors;
    }

    private static string Describe(JsonObject options) =>
        string.Join(" ", options.Select(o => $"--{o.Key} {o.Value?.ToString()}"));

    private static (string, PointShard, string)? Read(string dir, List<string> errors)
    {
        if (!Directory.Exists(dir))
        {
            errors.Add($"{dir}: no such folder");
            return null;
        }
        var file = Path.Combine(dir, FileName);
        if (!File.Exists(file))
        {
            errors.Add($"{dir}: no {FileName}: not a shard of fdr sweep, baseline or predict, or it has not finished (run that shard again)");
            return null;
        }
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new FormatException("not a JSON object");
            if (root["kind"]?.GetValue<string>() != Kind) throw new FormatException($"\"kind\" is not \"{Kind}\"");
            var shard = root["shard"] as JsonObject ?? throw new FormatException("no \"shard\"");
            var spec = new ShardSpec(Int(shard, "index"), Int(shard, "count"));
            var points = Int(root, "points");
            if (spec.Count < 1 || spec.Index < 0 || spec.Index >= spec.Count || spec.Count > points)
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"shard {spec} of {points} points is no shard"));
            var results = root["results"] as JsonArray ?? throw new FormatException("no \"results\"");
            var expected = Indices(points, spec);
            var got = results.Select(r => r is JsonObject o ? Int(o, "index") : throw new FormatException("a result that is not an object")).ToList();
            if (!got.SequenceEqual(expected)) throw new FormatException($"shard {spec} holds points {string.Join(",", got)}, not {string.Join(",", expected)}");
            var scenario = Path.Combine(dir, RunDirectory.ScenarioFile);
            if (!File.Exists(scenario)) throw new FileNotFoundException($"no {RunDirectory.ScenarioFile}");
            return (Path.GetFullPath(dir), new PointShard(
                root["command"]?.GetValue<string>() ?? throw new FormatException("no \"command\""),
                root["options"] as JsonObject ?? throw new FormatException("no \"options\""),
                spec, points, TimeSpan.FromSeconds(root["wall_seconds"]?.GetValue<double>() ?? 0), results), File.ReadAllText(scenario));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            errors.Add($"{dir}: {FileName} cannot be read ({e.Message.ReplaceLineEndings(" ")})");
            return null;
        }
    }

    private static int Int(JsonObject o, string key) => (o[key] ?? throw new FormatException($"no \"{key}\"")).GetValue<int>();
}
