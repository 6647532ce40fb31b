namespace FdrHarness.Rucio.Tests.Contract;

/// <summary>A step that makes state the transcripts only describe: a request (that must succeed) or a daemon/clock directive.</summary>
internal abstract record SetupStep;
internal sealed record SetupRequest(WireRequest Request) : SetupStep;
internal sealed record SetupDirective(string Name, string? Argument) : SetupStep;

/// <summary>What transcripts.setup says about one transcript (or one pass).</summary>
internal sealed class TranscriptSetup
{
    /// <summary>Steps before exchange N (1-based); key 0 is before the first.</summary>
    public Dictionary<int, List<SetupStep>> Before { get; } = [];
    /// <summary>The request of an exchange the transcript shows only the answer of; key 0 applies to all of them.</summary>
    public Dictionary<int, WireRequest> Requests { get; } = [];
    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);
    /// <summary>Hermes (190): the steps of each "---- action" label.</summary>
    public Dictionary<string, List<SetupStep>> Actions { get; } = new(StringComparer.Ordinal);
    /// <summary>Hermes (190): messages the transcript mentions but leaves out, as "action: event_type".</summary>
    public List<(string Action, string EventType)> LeftOut { get; } = [];
}

/// <summary>
/// Contract/transcripts.setup: the state the `# state:` lines describe, written as the requests (and daemon passes) that make
/// it, in the transcripts' own `>>>` syntax. Sections: [first pass], [second pass], [file name].
/// </summary>
internal static class ReplaySetup
{
    public static Dictionary<string, TranscriptSetup> Load(string path)
    {
        var sections = new Dictionary<string, TranscriptSetup>(StringComparer.Ordinal);
        TranscriptSetup? current = null;
        List<SetupStep>? steps = null;
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length;)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) { i++; continue; }
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = new TranscriptSetup();
                sections[line[1..^1]] = current;
                steps = current.Before[0] = [];
                i++;
                continue;
            }
            if (current is null) throw new FormatException($"{path}:{i + 1}: a step before any [section]");
            if (line.StartsWith("before ", StringComparison.Ordinal) && line.EndsWith(':'))
            {
                var n = int.Parse(line["before ".Length..^1]);
                steps = current.Before.TryGetValue(n, out var s) ? s : current.Before[n] = [];
                i++;
            }
            else if (line.StartsWith("action ", StringComparison.Ordinal) && line.EndsWith(':'))
            {
                steps = current.Actions[line["action ".Length..^1]] = [];
                i++;
            }
            else if (line.StartsWith("request ", StringComparison.Ordinal) && line.EndsWith(':'))
            {
                var which = line["request ".Length..^1];
                var (request, next) = Transcript.ParseRequest(lines, i + 1);
                current.Requests[which == "*" ? 0 : int.Parse(which)] = request;
                i = next;
            }
            else if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                foreach (var f in line["flags:".Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) current.Flags.Add(f);
                i++;
            }
            else if (line.StartsWith("left-out ", StringComparison.Ordinal))
            {
                var parts = line["left-out ".Length..].Split(':', 2, StringSplitOptions.TrimEntries);
                current.LeftOut.Add((parts[0], parts[1]));
                i++;
            }
            else if (line.StartsWith(">>> ", StringComparison.Ordinal))
            {
                var (request, next) = Transcript.ParseRequest(lines, i);
                steps!.Add(new SetupRequest(request));
                i = next;
            }
            else if (line.StartsWith('!'))
            {
                var parts = line[1..].Split(' ', 2, StringSplitOptions.TrimEntries);
                steps!.Add(new SetupDirective(parts[0], parts.Length > 1 ? parts[1] : null));
                i++;
            }
            else throw new FormatException($"{path}:{i + 1}: cannot read '{line}'");
        }
        return sections;
    }
}
