using FdrHarness.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FdrHarness.Core.Scenarios.Yaml;

/// <summary>A YAML node with its position. Aliases point at the anchored node; Size counts nodes after expansion.</summary>
public abstract class YNode(SourceLocation at)
{
    public SourceLocation At { get; } = at;
    public long Size { get; protected set; } = 1;
    public abstract string KindName { get; }
}

public sealed class YScalar(SourceLocation at, string value, bool plain) : YNode(at)
{
    public string Value { get; } = value;
    public bool Plain { get; } = plain;
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";
    public override string KindName => IsNull ? "nothing" : "a value";
}

public sealed class YMapping(SourceLocation at) : YNode(at)
{
    public List<KeyValuePair<YScalar, YNode>> Entries { get; } = [];
    public override string KindName => "a mapping";
    internal void Seal() => Size = 1 + Entries.Sum(e => 1 + e.Value.Size);
    public YNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;
}

public sealed class YSequence(SourceLocation at) : YNode(at)
{
    public List<YNode> Items { get; } = [];
    public override string KindName => "a list";
    internal void Seal() => Size = 1 + Items.Sum(i => i.Size);
}

/// <summary>
/// Reads YAML into a tree with positions, rejecting what a scenario never needs and an attacker could use:
/// tabs in indentation, several documents, duplicate keys, deep nesting and aliases that expand without bound.
/// </summary>
public static class YamlTreeReader
{
    public const int MaxDepth = 64;
    public const long MaxExpandedNodes = 200_000;

    public static YNode? Read(string text, string file, DiagnosticBag diagnostics)
    {
        if (!CheckTabs(text, file, diagnostics)) return null;
        var builder = new Builder(file, diagnostics);
        try
        {
            return builder.Build(new Parser(new StringReader(text)));
        }
        catch (StopReading)
        {
            return null;
        }
        catch (YamlException e)
        {
            diagnostics.Add(At(file, e.Start), "invalid YAML: " + Clean(e.Message), "check the indentation and quoting around this place");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some malformed flow collections ("{name: x" left open).
            diagnostics.Add(At(file, builder.LastSeen), "invalid YAML: a '{' or '[' around here is never closed",
                "close it with '}' or ']', or quote the value");
            return null;
        }
    }

    /// <summary>
    /// Reads a small document, so that YamlDotNet's parser and this reader are loaded and ready before a scenario is read:
    /// commands call it on the idle core as they start. The first read paid for it: 40-80 ms of the main job's start, about
    /// 20 of them the parser's tag directives, which check their handles with a compiled regex (emitted, then JIT-compiled).
    /// </summary>
    public static void Prepare() =>
        Read("# warm-up\nwarm:\n  - up: [1, 'two', {three: \"3\"}]\n  - text: >-\n      folded\n", "warm-up", new DiagnosticBag());

    internal static SourceLocation At(string file, Mark mark) => new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is printed already.
        var i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && i >= 0 ? message[(i + 3)..] : message;
    }

    private static bool CheckTabs(string text, string file, DiagnosticBag diagnostics)
    {
        var ok = true;
        var line = 1;
        var atLineStart = true;
        var column = 1;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                line++;
                column = 1;
                atLineStart = true;
                continue;
            }
            if (atLineStart && c == '\t')
            {
                diagnostics.Add(new SourceLocation(file, line, column), "a tab in the indentation; YAML indents with spaces only",
                    "replace the tab with spaces");
                ok = false;
                atLineStart = false;
            }
            else if (c != ' ') atLineStart = false;
            column++;
        }
        return ok;
    }

    private sealed class Builder(string file, DiagnosticBag diagnostics)
    {
        private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);
        private long _expanded;

        /// <summary>Start of the last YAML event read: where a parser failure without a position is reported.</summary>
        public Mark LastSeen { get; private set; } = Mark.Empty;

        public YNode? Build(IParser parser)
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
                return null;
            parser.Consume<DocumentStart>();
            var root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, 1);
            if (root is null) return null;
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Add(At(file, second.Start), "a second YAML document; a scenario is one document", "remove the '---' or split the file");
                return null;
            }
            return root;
        }

        private YNode? ReadNode(IParser parser, int depth)
        {
            var ev = parser.Current!;
            LastSeen = ev.Start;
            if (depth > MaxDepth)
            {
                diagnostics.Add(At(file, ev.Start), $"nesting deeper than {MaxDepth} levels", "a scenario needs only a few levels");
                throw new StopReading();
            }
            switch (ev)
            {
                case Scalar s:
                    parser.MoveNext();
                    return Remember(s.Anchor, new YScalar(At(file, s.Start), s.Value, s.Style == ScalarStyle.Plain && s.Tag.IsEmpty));
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        diagnostics.Add(At(file, alias.Start), $"alias '*{alias.Value}' refers to no anchor defined before it");
                        throw new StopReading();
                    }
                    _expanded += target.Size;
                    if (_expanded > MaxExpandedNodes)
                    {
                        diagnostics.Add(At(file, alias.Start), $"aliases expand to more than {MaxExpandedNodes:N0} nodes (a YAML alias bomb?)",
                            "write the values out or use fewer nested aliases");
                        throw new StopReading();
                    }
                    return target;
                case SequenceStart seq:
                {
                    parser.MoveNext();
                    var node = new YSequence(At(file, seq.Start));
                    while (!parser.TryConsume<SequenceEnd>(out _))
                        node.Items.Add(ReadNode(parser, depth + 1)!);
                    node.Seal();
                    return Remember(seq.Anchor, node);
                }
                case MappingStart map:
                {
                    parser.MoveNext();
                    var node = new YMapping(At(file, map.Start));
                    var seen = new Dictionary<string, YScalar>(StringComparer.Ordinal);
                    var merged = new List<YMapping>();
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyNode = ReadNode(parser, depth + 1)!;
                        var value = ReadNode(parser, depth + 1)!;
                        if (keyNode is not YScalar key)
                        {
                            diagnostics.Add(keyNode.At, $"a key must be a plain name, found {keyNode.KindName}");
                            continue;
                        }
                        if (key.Plain && key.Value == "<<")
                        {
                            CollectMerge(value, merged);
                            continue;
                        }
                        if (seen.TryGetValue(key.Value, out var first))
                        {
                            diagnostics.Add(key.At, $"duplicate key '{key.Value}' (first at line {first.At.Line})", "keep one of them");
                            continue;
                        }
                        seen[key.Value] = key;
                        node.Entries.Add(new(key, value));
                    }
                    // Merge keys ("<<: *defaults"): explicit keys win, earlier merged mappings win over later ones.
                    foreach (var source in merged)
                    foreach (var entry in source.Entries)
                        if (seen.TryAdd(entry.Key.Value, entry.Key))
                            node.Entries.Add(entry);
                    node.Seal();
                    return Remember(map.Anchor, node);
                }
                default:
                    diagnostics.Add(At(file, ev.Start), $"unexpected YAML element {ev.GetType().Name}");
                    throw new StopReading();
            }
        }

        private void CollectMerge(YNode value, List<YMapping> merged)
        {
            switch (value)
            {
                case YMapping m: merged.Add(m); break;
                case YSequence s:
                    foreach (var item in s.Items) CollectMerge(item, merged);
                    break;
                default:
                    diagnostics.Add(value.At, "'<<' merges a mapping or a list of mappings", "write '<<: *anchor'");
                    break;
            }
        }

        private YNode Remember(AnchorName anchor, YNode node)
        {
            if (!anchor.IsEmpty) _anchors[anchor.Value] = node;
            return node;
        }
    }

    /// <summary>Thrown inside the reader to stop at a fatal mistake already reported.</summary>
    internal sealed class StopReading : Exception;
}
