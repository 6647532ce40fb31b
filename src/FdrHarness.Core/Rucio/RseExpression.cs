using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FdrHarness.Core.Rucio;

/// <summary>
/// A parsed Rucio RSE expression (see rucio/core/rse_expression_parser.py).
/// Terms: an RSE name, <c>key=value</c>, <c>key&lt;number</c>, <c>key&gt;number</c>, or <c>*</c>.
/// Operators <c>|</c> (union), <c>&amp;</c> (intersection) and <c>\</c> (difference) have equal
/// precedence and associate left to right, exactly as Rucio does: <c>A|B&amp;C</c> is <c>(A|B)&amp;C</c>.
/// </summary>
public sealed class RseExpression
{
    private readonly RseNode _root;

    private RseExpression(string text, RseNode root, IReadOnlyList<string> names, IReadOnlyList<string> attributes)
    {
        Text = text;
        _root = root;
        ReferencedNames = names;
        ReferencedAttributes = attributes;
    }

    /// <summary>The expression exactly as given to <see cref="Parse"/>.</summary>
    public string Text { get; }

    /// <summary>RSE names used as bare terms, distinct, in order of first appearance.</summary>
    public IReadOnlyList<string> ReferencedNames { get; }

    /// <summary>Attribute keys used in key=value / key&lt;value / key&gt;value terms, distinct, in order of first appearance.</summary>
    public IReadOnlyList<string> ReferencedAttributes { get; }

    internal RseNode Root => _root;

    /// <exception cref="RseExpressionException">The text is not a valid RSE expression.</exception>
    public static RseExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Parser(text).ParseAll();
    }

    public static bool TryParse(
        string text,
        [NotNullWhen(true)] out RseExpression? expression,
        [NotNullWhen(false)] out RseExpressionException? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            expression = new Parser(text).ParseAll();
            error = null;
            return true;
        }
        catch (RseExpressionException ex)
        {
            expression = null;
            error = ex;
            return false;
        }
    }

    /// <summary>Names of the RSEs in <paramref name="rses"/> selected by this expression (ordinal).</summary>
    public IReadOnlySet<string> Evaluate(IReadOnlyCollection<IRseAttributes> rses)
    {
        ArgumentNullException.ThrowIfNull(rses);
        return Eval(_root, rses);
    }

    public override string ToString() => Text;

    private static HashSet<string> Eval(RseNode node, IReadOnlyCollection<IRseAttributes> rses)
    {
        // Long operator chains build a left-deep tree; walk its left spine iteratively so
        // recursion depth is bounded by parenthesis nesting, not by the number of operators.
        var spine = new Stack<RseNode>();
        while (node is RseNode.Union or RseNode.Intersection or RseNode.Difference)
        {
            spine.Push(node);
            node = node switch
            {
                RseNode.Union u => u.Left,
                RseNode.Intersection i => i.Left,
                RseNode.Difference d => d.Left,
                _ => throw new InvalidOperationException(),
            };
        }

        var acc = EvalLeaf(node, rses);
        while (spine.Count > 0)
        {
            switch (spine.Pop())
            {
                case RseNode.Union u: acc.UnionWith(Eval(u.Right, rses)); break;
                case RseNode.Intersection i: acc.IntersectWith(Eval(i.Right, rses)); break;
                case RseNode.Difference d: acc.ExceptWith(Eval(d.Right, rses)); break;
            }
        }
        return acc;
    }

    private static HashSet<string> EvalLeaf(RseNode leaf, IReadOnlyCollection<IRseAttributes> rses)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rse in rses)
        {
            if (Matches(leaf, rse))
                result.Add(rse.Name);
        }
        return result;
    }

    private static bool Matches(RseNode leaf, IRseAttributes rse) => leaf switch
    {
        RseNode.All => true,
        RseNode.Name n => string.Equals(rse.Name, n.RseName, StringComparison.Ordinal),
        RseNode.AttributeEquals eq =>
            rse.Attributes.TryGetValue(eq.Key, out var v) && string.Equals(v, eq.Value, StringComparison.Ordinal),
        RseNode.AttributeCompare cmp => CompareMatches(cmp, rse),
        _ => throw new InvalidOperationException($"Unexpected leaf node {leaf.GetType().Name}."),
    };

    private static bool CompareMatches(RseNode.AttributeCompare cmp, IRseAttributes rse)
    {
        // Rucio skips RSEs whose attribute (or the threshold) is not a float instead of failing.
        if (cmp.Threshold is not { } threshold
            || !rse.Attributes.TryGetValue(cmp.Key, out var raw)
            || !RseNode.TryParseNumber(raw, out var actual))
            return false;
        return cmp.Op == CompareOp.Less ? actual < threshold : actual > threshold;
    }

    /// <summary>Recursive-descent parser; one instance per Parse call, so no shared state.</summary>
    private sealed class Parser(string text)
    {
        // Bounds recursion on hostile input like "((((...".
        private const int MaxNesting = 128;

        private readonly List<string> _names = [];
        private readonly List<string> _keys = [];
        private int _pos;

        public RseExpression ParseAll()
        {
            var root = ParseSequence(0);
            if (_pos < text.Length)
            {
                // ParseSequence only stops early on ')' at top level.
                throw Error(_pos, $"unbalanced ')' at position {_pos}: no matching '('");
            }
            return new RseExpression(text, root, _names.Distinct(StringComparer.Ordinal).ToArray(),
                _keys.Distinct(StringComparer.Ordinal).ToArray());
        }

        // sequence := operand (op operand)*  -- flat, left-associative, no precedence (as in Rucio).
        private RseNode ParseSequence(int depth)
        {
            var left = ParseOperand(depth);
            while (_pos < text.Length)
            {
                var c = text[_pos];
                if (c == ')')
                    return left;
                if (c is not ('|' or '&' or '\\'))
                {
                    var expected = depth > 0 ? "an operator '|', '&', '\\' or ')'" : "an operator '|', '&' or '\\'";
                    throw Error(_pos, $"expected {expected} at position {_pos}, found {Describe(_pos)}");
                }
                _pos++;
                var right = ParseOperand(depth);
                left = c switch
                {
                    '|' => new RseNode.Union(left, right),
                    '&' => new RseNode.Intersection(left, right),
                    _ => new RseNode.Difference(left, right),
                };
            }
            return left;
        }

        private RseNode ParseOperand(int depth)
        {
            if (_pos >= text.Length)
                throw ExpectedTerm();

            var c = text[_pos];
            if (c == '(')
            {
                var open = _pos;
                if (depth + 1 > MaxNesting)
                    throw Error(open, $"parentheses nested deeper than {MaxNesting} levels at position {open}");
                _pos++;
                var inner = ParseSequence(depth + 1);
                if (_pos >= text.Length)
                    throw Error(_pos, $"expected ')' at position {_pos} to close '(' at position {open}, found end of expression");
                _pos++; // ParseSequence stops only at end or ')'.
                return inner;
            }
            if (c == '*')
            {
                _pos++;
                return new RseNode.All();
            }
            if (c is '=' or '<' or '>')
                throw Error(_pos, $"expected an attribute key before '{c}' at position {_pos}");
            if (!IsWordChar(c))
                throw ExpectedTerm();

            var start = _pos;
            while (_pos < text.Length && IsWordChar(text[_pos]))
                _pos++;
            var word = text[start.._pos];

            if (_pos < text.Length && text[_pos] is '=' or '<' or '>')
            {
                var op = text[_pos];
                _pos++;
                var valueStart = _pos;
                while (_pos < text.Length && IsWordChar(text[_pos]))
                    _pos++;
                if (_pos == valueStart)
                    throw Error(_pos, $"expected an attribute value after '{word}{op}' at position {_pos}, found {Describe(_pos)}");
                var value = text[valueStart.._pos];
                _keys.Add(word);
                return op == '='
                    ? new RseNode.AttributeEquals(word, value)
                    : new RseNode.AttributeCompare(word, op == '<' ? CompareOp.Less : CompareOp.Greater, value);
            }

            // Bare term: Rucio's name pattern is uppercase letters and digits joined by '-'/'_' (we also allow '.').
            foreach (var ch in word)
            {
                if (char.IsAsciiLetterLower(ch))
                {
                    throw Error(_pos,
                        $"expected '=', '<' or '>' after attribute key '{word}' at position {_pos}, found {Describe(_pos)} (RSE names are uppercase)");
                }
            }
            if (!IsUpperOrDigit(word[0]))
                throw Error(start, $"expected an RSE name starting with an uppercase letter or digit at position {start}, found '{word[0]}'");
            _names.Add(word);
            return new RseNode.Name(word);
        }

        private RseExpressionException ExpectedTerm() =>
            Error(_pos, $"expected an RSE name, key=value, '*' or '(' at position {_pos}, found {Describe(_pos)}");

        private RseExpressionException Error(int position, string message) => new(message, position, text);

        private string Describe(int position) =>
            position >= text.Length ? "end of expression" : $"'{text[position]}'";

        // Rucio's attribute key charset; values use it too (plus '.' so decimals like 0.5 work).
        private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

        private static bool IsUpperOrDigit(char c) => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c);
    }
}

/// <summary>An RSE expression failed to parse; <see cref="Position"/> is the 0-based offset of the problem.</summary>
public sealed class RseExpressionException : FormatException
{
    public RseExpressionException(string message, int position, string expression)
        : base(message)
    {
        Position = position;
        Expression = expression;
    }

    /// <summary>0-based character offset in <see cref="Expression"/> where the parser gave up.</summary>
    public int Position { get; }

    /// <summary>The full text that failed to parse.</summary>
    public string Expression { get; }
}

internal enum CompareOp
{
    Less,
    Greater,
}

/// <summary>RSE expression AST. Binary nodes are left-deep because all operators share one precedence.</summary>
internal abstract record RseNode
{
    private RseNode()
    {
    }

    /// <summary>Bare RSE name; Rucio resolves it as attribute NAME=true, which only that RSE carries.</summary>
    internal sealed record Name(string RseName) : RseNode;

    internal sealed record AttributeEquals(string Key, string Value) : RseNode;

    internal sealed record AttributeCompare(string Key, CompareOp Op, string Value) : RseNode
    {
        /// <summary>Parsed once; null when Value is not a number, in which case nothing matches (as in Rucio).</summary>
        public double? Threshold { get; } = TryParseNumber(Value, out var d) ? d : null;
    }

    internal sealed record All : RseNode;

    internal sealed record Union(RseNode Left, RseNode Right) : RseNode;

    internal sealed record Intersection(RseNode Left, RseNode Right) : RseNode;

    internal sealed record Difference(RseNode Left, RseNode Right) : RseNode;

    internal static bool TryParseNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
