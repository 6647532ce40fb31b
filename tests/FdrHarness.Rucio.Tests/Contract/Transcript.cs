using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FdrHarness.Rucio.Tests.Contract;

/// <summary>A recorded request: method, target, headers and body (a body cut in the transcript is rebuilt whole).</summary>
internal sealed record WireRequest(string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, string? Body);

/// <summary>A recorded response: status, headers, and its body as shown (possibly cut, or a stream with lines left out).</summary>
internal sealed record WireResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body, string? CutPrefix, long? CutTotal, int MoreLines)
{
    public string? Header(string name) => Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
}

/// <summary>One exchange; <see cref="Request"/> is null when the transcript shows only the answer (the set-up file names the request).</summary>
internal sealed record Exchange(int Index, WireRequest? Request, WireResponse Response, IReadOnlyList<string> Comments, string? AcceptVariant);

/// <summary>A transcript of rucio-1.31.7-wire/: its `# state:` line, then exchanges, with the `#` lines between them.</summary>
internal sealed record Transcript(string Name, int Number, string? State, IReadOnlyList<Exchange> Exchanges, bool IsStomp, string Text)
{
    private static readonly Regex Head = new(@"^HTTP/1\.[01] (\d{3})", RegexOptions.Compiled);
    private static readonly Regex CutBody = new(@" \.\.\. \(cut here; (\d+) bytes in all\)$", RegexOptions.Compiled);
    private static readonly Regex CutRequest = new(@" \.\.\. \((\d+) (bytes in all|items)\)$", RegexOptions.Compiled);
    private static readonly Regex MoreLines = new(@"^\.\.\. \((\d+) more lines\)$", RegexOptions.Compiled);

    public static Transcript Load(string path)
    {
        var name = Path.GetFileName(path);
        var text = File.ReadAllText(path);
        var number = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var state = lines.Length > 0 && lines[0].StartsWith("# state:", StringComparison.Ordinal) ? lines[0]["# state:".Length..].Trim() : null;
        if (text.Contains(">>> STOMP", StringComparison.Ordinal) || text.Contains("<<< MESSAGE", StringComparison.Ordinal))
            return new Transcript(name, number, state, [], true, text);
        return new Transcript(name, number, state, Parse(lines), false, text);
    }

    private static List<Exchange> Parse(string[] lines)
    {
        var exchanges = new List<Exchange>();
        var comments = new List<string>();
        WireRequest? request = null;
        string? accept = null;
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (line.StartsWith('#')) { comments.Add(line.TrimStart('#').Trim()); i++; continue; }
            if (line.StartsWith(">>> ", StringComparison.Ordinal))
            {
                (request, i) = ParseRequest(lines, i);
                continue;
            }
            if (line.StartsWith("== ", StringComparison.Ordinal)) { accept = line[3..].Trim(); i++; continue; }
            var m = Head.Match(line);
            if (!m.Success) { i++; continue; }
            var status = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var headers = new List<KeyValuePair<string, string>>();
            i++;
            for (; i < lines.Length && lines[i].Length > 0; i++)
            {
                var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
                if (colon > 0) headers.Add(new(lines[i][..colon].Trim(), lines[i][(colon + 1)..].Trim()));
            }
            i++; // the blank line after the headers
            var body = new List<string>();
            for (; i < lines.Length; i++)
            {
                var l = lines[i];
                if (l.StartsWith('#') || l.StartsWith(">>> ", StringComparison.Ordinal) || l.StartsWith("== ", StringComparison.Ordinal) || Head.IsMatch(l)) break;
                body.Add(l);
            }
            while (body.Count > 0 && body[^1].Length == 0) body.RemoveAt(body.Count - 1);
            var more = 0;
            if (body.Count > 0 && MoreLines.Match(body[^1]) is { Success: true } ml)
            {
                more = int.Parse(ml.Groups[1].Value, CultureInfo.InvariantCulture);
                body.RemoveAt(body.Count - 1);
            }
            var joined = string.Join('\n', body);
            string? cutPrefix = null;
            long? cutTotal = null;
            if (CutBody.Match(joined) is { Success: true } cm)
            {
                cutPrefix = joined[..cm.Index];
                cutTotal = long.Parse(cm.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            exchanges.Add(new Exchange(exchanges.Count + 1, request, new WireResponse(status, headers, joined, cutPrefix, cutTotal, more), comments, accept));
            comments = [];
            request = null;
            accept = null;
        }
        return exchanges;
    }

    /// <summary>`>>> METHOD target`, then `>>> body: …` and `>>> header: Name: value` lines.</summary>
    public static (WireRequest Request, int Next) ParseRequest(string[] lines, int i)
    {
        var first = lines[i][4..].Trim();
        var space = first.IndexOf(' ', StringComparison.Ordinal);
        var method = first[..space];
        var target = first[(space + 1)..].Trim();
        var headers = new List<KeyValuePair<string, string>>();
        string? body = null;
        for (i++; i < lines.Length && (lines[i].StartsWith(">>> body: ", StringComparison.Ordinal) || lines[i].StartsWith(">>> header: ", StringComparison.Ordinal)); i++)
        {
            var l = lines[i][4..];
            if (l.StartsWith("body: ", StringComparison.Ordinal)) body = ExpandBody(l["body: ".Length..]);
            else if (l.StartsWith("header: ", StringComparison.Ordinal))
            {
                var h = l["header: ".Length..];
                var colon = h.IndexOf(':', StringComparison.Ordinal);
                headers.Add(new(h[..colon].Trim(), h[(colon + 1)..].Trim()));
            }
        }
        return (new WireRequest(method, target, headers, body), i);
    }

    /// <summary>
    /// A body shown as its start and "... (N bytes in all)" (or "... (N items)") is a list whose items differ only in a
    /// zero-padded counter: rebuilt by continuing the counter until the length is exactly N (or N items), then checked
    /// to begin with what the transcript shows.
    /// </summary>
    public static string ExpandBody(string shown)
    {
        var m = CutRequest.Match(shown);
        if (!m.Success) return shown;
        var prefix = shown[..m.Index];
        var count = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var byItems = m.Groups[2].Value == "items";
        for (var open = prefix.IndexOf('[', StringComparison.Ordinal); open >= 0; open = prefix.IndexOf('[', open + 1))
        {
            if (open + 1 >= prefix.Length || prefix[open + 1] != '{') continue;
            var first = Balanced(prefix, open + 1);
            if (first is null || first.Value.End + 1 >= prefix.Length || prefix[first.Value.End] != ',') continue;
            var second = Balanced(prefix, first.Value.End + 1);
            if (second is null) continue;
            var a = prefix[(open + 1)..first.Value.End];
            var b = prefix[(first.Value.End + 1)..second.Value.End];
            if (Counter(a, b) is not { } counter) continue;
            var head = prefix[..(open + 1)];
            var tail = Closers(head);
            var itemLength = a.Length;
            long n = byItems ? count : (count - head.Length - tail.Length + 1) / (itemLength + 1);
            var sb = new StringBuilder(head);
            for (long k = 0; k < n; k++)
            {
                if (k > 0) sb.Append(',');
                var at = 0;
                foreach (var (offset, width, start) in counter)
                {
                    sb.Append(a, at, offset - at).Append((start + k).ToString(CultureInfo.InvariantCulture).PadLeft(width, '0'));
                    at = offset + width;
                }
                sb.Append(a, at, a.Length - at);
            }
            sb.Append(tail);
            var body = sb.ToString();
            if (!body.StartsWith(prefix, StringComparison.Ordinal) || (!byItems && Encoding.UTF8.GetByteCount(body) != count))
                throw new FormatException($"cannot rebuild a body of {count} bytes from: {prefix[..Math.Min(120, prefix.Length)]}");
            return body;
        }
        throw new FormatException($"no repeated list item to continue in: {prefix[..Math.Min(120, prefix.Length)]}");
    }

    private static (int Start, int End)? Balanced(string s, int start)
    {
        if (start >= s.Length || s[start] != '{') return null;
        var depth = 0;
        var inString = false;
        for (var i = start; i < s.Length; i++)
        {
            var c = s[i];
            if (inString) { if (c == '\\') i++; else if (c == '"') inString = false; continue; }
            if (c == '"') inString = true;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']' && --depth == 0) return (start, i + 1);
        }
        return null;
    }

    /// <summary>Where two consecutive items differ: digit runs, each one more in the second item; the rest equal.</summary>
    private static List<(int Offset, int Width, long Start)>? Counter(string a, string b)
    {
        if (a.Length != b.Length || a == b) return null;
        var runs = new List<(int, int, long)>();
        for (var i = 0; i < a.Length;)
        {
            if (!char.IsAsciiDigit(a[i]) || !char.IsAsciiDigit(b[i]))
            {
                if (a[i] != b[i]) return null;
                i++;
                continue;
            }
            var j = i;
            while (j < a.Length && char.IsAsciiDigit(a[j]) && char.IsAsciiDigit(b[j])) j++;
            if ((j < a.Length && (char.IsAsciiDigit(a[j]) || char.IsAsciiDigit(b[j])))) return null;
            var x = a[i..j];
            var y = b[i..j];
            if (x != y)
            {
                if (!long.TryParse(x, out var vx) || !long.TryParse(y, out var vy) || vy != vx + 1) return null;
                runs.Add((i, j - i, vx));
            }
            i = j;
        }
        return runs.Count > 0 ? runs : null;
    }

    private static string Closers(string head)
    {
        var stack = new Stack<char>();
        var inString = false;
        for (var i = 0; i < head.Length; i++)
        {
            var c = head[i];
            if (inString) { if (c == '\\') i++; else if (c == '"') inString = false; continue; }
            if (c == '"') inString = true;
            else if (c == '{') stack.Push('}');
            else if (c == '[') stack.Push(']');
            else if (c is '}' or ']') stack.Pop();
        }
        return string.Concat(stack);
    }
}
