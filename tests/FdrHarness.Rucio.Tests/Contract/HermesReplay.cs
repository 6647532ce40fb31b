using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FdrHarness.Rucio.Double;
using Microsoft.Extensions.Time.Testing;

namespace FdrHarness.Rucio.Tests.Contract;

/// <summary>
/// A Hermes transcript (190): each "---- action" is done again against the double (its requests in transcripts.setup), and
/// the messages the double queued for Hermes during it must be the ones the subscriber received after it: the same event
/// types, the same payload keys and values (ids paired one to one, dates as dates), none missing and none more.
/// </summary>
internal static class HermesReplay
{
    private static readonly Regex Id = new(@"\b[0-9a-f]{32}\b", RegexOptions.Compiled);
    private static readonly Regex PyDate = new(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$", RegexOptions.Compiled);

    private sealed record Action(string Label, string Text, List<JsonObject> Received);

    public static async Task<List<string>> RunAsync(Transcript t, TranscriptSetup? setup)
    {
        var problems = new List<string>();
        var all = ReplaySetup.Load(ContractReplay.SetupFile);
        var actions = Parse(t.Text);
        if (actions.Count == 0) problems.Add("no \"---- action\" line found");
        if (setup is null) return [.. problems, $"transcripts.setup has no [{t.Name}] section with the requests of its actions"];

        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 42, 0, TimeSpan.Zero));
        await using var server = await RucioDouble.StartAsync(new RucioDoubleOptions { Time = clock, RecordRequests = false });
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.Url };
        var token = server.IssueToken();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);

        async Task Do(SetupStep step, string where)
        {
            switch (step)
            {
                case SetupRequest { Request: var r }:
                {
                    var target = Id.Replace(r.Target, m => ids.GetValueOrDefault(m.Value, m.Value));
                    using var m = new HttpRequestMessage(new HttpMethod(r.Method), target);
                    m.Headers.TryAddWithoutValidation("X-Rucio-Auth-Token", token);
                    if (r.Body is { } b)
                    {
                        m.Content = new StringContent(Id.Replace(b, x => ids.GetValueOrDefault(x.Value, x.Value)), Encoding.UTF8);
                        m.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    }
                    using var response = await http.SendAsync(m);
                    var body = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode) problems.Add($"{where}: {r.Method} {r.Target} answered {(int)response.StatusCode}: {body}");
                    else if (r.Method == "POST" && r.Target == "/rules/" && where.StartsWith("action ", StringComparison.Ordinal))
                        Pair(ids, actions.First(a => "action " + a.Label == where).Text, body);
                    break;
                }
                case SetupDirective { Name: "injector" }: server.RunJudgeInjector(); break;
                case SetupDirective { Name: "undertaker" }: server.RunUndertaker(); break;
                case SetupDirective { Name: "transfers" }: server.CompleteTransfers(); break;
                case SetupDirective { Name: "clock", Argument: var by }: clock.Advance(TimeSpan.FromSeconds(double.Parse(by!.TrimStart('+').TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture))); break;
                case SetupDirective d: problems.Add($"{where}: unknown directive !{d.Name}"); break;
            }
        }

        foreach (var step in all.GetValueOrDefault("second pass")?.Before.GetValueOrDefault(0) ?? []) await Do(step, "set-up of the pass");
        foreach (var step in setup.Before.GetValueOrDefault(0) ?? []) await Do(step, "set-up");
        foreach (var action in actions)
        {
            if (!setup.Actions.TryGetValue(action.Label, out var steps))
            {
                problems.Add($"action {action.Label}: transcripts.setup has no 'action {action.Label}:' block");
                continue;
            }
            var before = server.Messages.Count;
            foreach (var step in steps) await Do(step, "action " + action.Label);
            var sent = server.Messages.Skip(before).ToList();
            foreach (var want in action.Received)
            {
                var match = sent.FirstOrDefault(m => m.EventType == want["event_type"]!.GetValue<string>() && Same(want["payload"] as JsonObject, m.Payload, ids, commit: false));
                if (match is null)
                {
                    problems.Add($"action {action.Label}: no message like {want.ToJsonString()}; the double queued: {string.Join(", ", sent.Select(s => s.EventType + " " + s.Payload.ToJsonString()))}");
                    continue;
                }
                Same(want["payload"] as JsonObject, match.Payload, ids, commit: true);
                if (!PyDate.IsMatch(match.CreatedAt)) problems.Add($"action {action.Label}: created_at '{match.CreatedAt}' is not like 2026-12-02 00:42:44.228511");
                sent.Remove(match);
            }
            foreach (var (label, type) in setup.LeftOut.Where(l => l.Action == action.Label))
            {
                var left = sent.FirstOrDefault(m => m.EventType == type);
                if (left is null) problems.Add($"action {action.Label}: the {type} message the transcript left out was not queued");
                else sent.Remove(left);
            }
            foreach (var extra in sent) problems.Add($"action {action.Label}: the double queued {extra.EventType} {extra.Payload.ToJsonString()}, which was not received");
        }
        return problems;
    }

    /// <summary>The actions in order, each with the bodies subscriber A received after it (B's copies are the same messages).</summary>
    private static List<Action> Parse(string text)
    {
        var actions = new List<Action>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var awaitingBody = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("---- action ", StringComparison.Ordinal))
            {
                var rest = line["---- action ".Length..];
                var label = rest[..rest.IndexOf(' ', StringComparison.Ordinal)];
                if (actions.Count > 0 && actions[^1].Label == label) actions[^1] = actions[^1] with { Text = actions[^1].Text + "\n" + line };
                else actions.Add(new Action(label, line, []));
                awaitingBody = false;
            }
            else if (line.StartsWith("<<< MESSAGE as received by A", StringComparison.Ordinal)) awaitingBody = true;
            else if (line.StartsWith("<<< ", StringComparison.Ordinal) || line.StartsWith(">>> ", StringComparison.Ordinal)) awaitingBody = false;
            else if (awaitingBody && line.StartsWith("{\"event_type\"", StringComparison.Ordinal) && actions.Count > 0)
            {
                actions[^1].Received.Add(JsonNode.Parse(line)!.AsObject());
                awaitingBody = false;
            }
        }
        return actions;
    }

    /// <summary>The recorded rule ids of an action ("-> 201 [\"…\"]") paired with the ones the double returned.</summary>
    private static void Pair(Dictionary<string, string> ids, string actionText, string body)
    {
        var line = actionText.Split('\n').FirstOrDefault(l => l.Contains("POST /rules/", StringComparison.Ordinal) && !ids.Keys.Any(k => l.Contains(k, StringComparison.Ordinal)));
        if (line is null) return;
        var recorded = Id.Matches(line).Select(m => m.Value).ToList();
        var replayed = Id.Matches(body).Select(m => m.Value).ToList();
        for (var i = 0; i < Math.Min(recorded.Count, replayed.Count); i++) ids.TryAdd(recorded[i], replayed[i]);
    }

    private static bool Same(JsonObject? want, JsonObject got, Dictionary<string, string> ids, bool commit)
    {
        if (want is null || want.Count != got.Count) return false;
        var pairs = new List<(string, string)>();
        foreach (var (k, w) in want)
        {
            if (!got.TryGetPropertyValue(k, out var g)) return false;
            var ws = w?.ToJsonString() ?? "null";
            var gs = g?.ToJsonString() ?? "null";
            if (ws == gs) continue;
            if (w is JsonValue wv && wv.TryGetValue<string>(out var wt) && g is JsonValue gv && gv.TryGetValue<string>(out var gt))
            {
                if (PyDate.IsMatch(wt) && PyDate.IsMatch(gt)) continue;
                if (Id.IsMatch(wt) && Id.IsMatch(gt) && wt.Length == 32 && gt.Length == 32)
                {
                    if (ids.TryGetValue(wt, out var known) ? known == gt : !ids.ContainsValue(gt)) { pairs.Add((wt, gt)); continue; }
                }
            }
            return false;
        }
        if (commit) foreach (var (w, g) in pairs) ids.TryAdd(w, g);
        return true;
    }
}
