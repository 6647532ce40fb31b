using FdrHarness.Core.Rucio;

namespace FdrHarness.Core.Tests.Rucio;

public class RseExpressionTests
{
    // A small ESCAPE-like data lake: QOS classes, countries, numeric attributes.
    private static readonly IReadOnlyCollection<IRseAttributes> Lake =
    [
        Rse("CERN-EOS", ("QOS", "FAST"), ("country", "CH"), ("tier", "0"), ("freespace", "120.5")),
        Rse("DESY-DCACHE", ("QOS", "SAFE"), ("country", "DE"), ("tier", "1"), ("freespace", "40")),
        Rse("PIC-DCACHE", ("QOS", "CHEAP-ANALYSIS"), ("country", "ES"), ("tier", "1"), ("freespace", "15")),
        Rse("INFN-NA-DPM", ("QOS", "OPPORTUNISTIC"), ("country", "IT"), ("tier", "2"), ("freespace", "n/a")),
        Rse("SARA-DCACHE", ("QOS", "SAFE"), ("country", "NL"), ("tier", "1")),
        Rse("LAPP-DCACHE", ("QOS", "CHEAP-ANALYSIS"), ("country", "FR"), ("tier", "2"), ("freespace", "7")),
        Rse("IN2P3-CC-DCACHE", ("QOS", "FAST"), ("country", "FR"), ("tier", "1"), ("freespace", "300")),
        Rse("EULAKE_1", ("country", "CH")),
        Rse("GSI.ROOT", ("QOS", "fast"), ("country", "DE")),
    ];

    private static RseAttributes Rse(string name, params (string Key, string Value)[] attrs) =>
        new(name, attrs.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal));

    private static string[] Eval(string expression) =>
        RseExpression.Parse(expression).Evaluate(Lake).Order(StringComparer.Ordinal).ToArray();

    private static string[] Sorted(params string[] names) => names.Order(StringComparer.Ordinal).ToArray();

    private static RseExpressionException ParseError(string expression) =>
        Assert.Throws<RseExpressionException>(() => RseExpression.Parse(expression));

    // --- single terms ---

    [Fact]
    public void BareName_MatchesOnlyThatRse()
    {
        Assert.Equal(["DESY-DCACHE"], Eval("DESY-DCACHE"));
    }

    [Theory]
    [InlineData("EULAKE_1")]
    [InlineData("GSI.ROOT")]
    [InlineData("IN2P3-CC-DCACHE")]
    public void BareName_AllowsDigitsUnderscoreDotAndHyphen(string name)
    {
        Assert.Equal([name], Eval(name));
    }

    [Fact]
    public void BareName_UnknownRse_MatchesNothingButIsReported()
    {
        var expr = RseExpression.Parse("NOPE-DISK");
        Assert.Empty(expr.Evaluate(Lake));
        Assert.Equal(["NOPE-DISK"], expr.ReferencedNames);
    }

    [Fact]
    public void Star_MatchesEveryRse()
    {
        Assert.Equal(Sorted(Lake.Select(r => r.Name).ToArray()), Eval("*"));
    }

    [Fact]
    public void KeyValue_WithHyphenatedValue()
    {
        Assert.Equal(Sorted("PIC-DCACHE", "LAPP-DCACHE"), Eval("QOS=CHEAP-ANALYSIS"));
    }

    [Fact]
    public void KeyValue_ValueComparisonIsOrdinalCaseSensitive()
    {
        Assert.Equal(Sorted("CERN-EOS", "IN2P3-CC-DCACHE"), Eval("QOS=FAST"));
        Assert.Equal(["GSI.ROOT"], Eval("QOS=fast"));
    }

    [Fact]
    public void KeyValue_KeyIsCaseSensitive()
    {
        Assert.Empty(Eval("qos=FAST"));
        Assert.Equal(Sorted("DESY-DCACHE", "GSI.ROOT"), Eval("country=DE"));
    }

    [Fact]
    public void KeyValue_NumericLookingValueComparesAsString()
    {
        // "1.0" is numerically 1 but not the same string as the stored "1".
        Assert.Equal(Sorted("DESY-DCACHE", "PIC-DCACHE", "SARA-DCACHE", "IN2P3-CC-DCACHE"), Eval("tier=1"));
        Assert.Empty(Eval("tier=1.0"));
    }

    [Fact]
    public void NumericComparisons_ParseDoublesAndSkipNonNumericOrMissing()
    {
        Assert.Equal(Sorted("CERN-EOS", "IN2P3-CC-DCACHE"), Eval("freespace>100"));
        // INFN-NA-DPM ("n/a") and RSEs without the attribute never match.
        Assert.Equal(Sorted("PIC-DCACHE", "LAPP-DCACHE"), Eval("freespace<20"));
        Assert.Equal(["CERN-EOS"], Eval("freespace>120.25&freespace<121"));
        Assert.Equal(Sorted("CERN-EOS", "DESY-DCACHE", "PIC-DCACHE", "LAPP-DCACHE", "IN2P3-CC-DCACHE"), Eval("freespace>-1"));
    }

    [Fact]
    public void NumericComparison_NonNumericThreshold_ParsesButMatchesNothing()
    {
        // Rucio swallows the float() ValueError and simply selects nothing.
        var expr = RseExpression.Parse("tier<abc");
        Assert.Empty(expr.Evaluate(Lake));
        Assert.Equal(["tier"], expr.ReferencedAttributes);
    }

    [Fact]
    public void NumericComparison_StrictBounds()
    {
        Assert.DoesNotContain("DESY-DCACHE", Eval("freespace>40"));
        Assert.DoesNotContain("DESY-DCACHE", Eval("freespace<40"));
    }

    // --- operators, precedence, associativity ---

    [Fact]
    public void Union_Intersection_Difference_Basics()
    {
        Assert.Equal(Sorted("CERN-EOS", "DESY-DCACHE"), Eval("CERN-EOS|DESY-DCACHE"));
        Assert.Equal(["IN2P3-CC-DCACHE"], Eval("QOS=FAST&country=FR"));
        Assert.Equal(["CERN-EOS"], Eval("QOS=FAST\\country=FR"));
    }

    [Fact]
    public void EqualPrecedence_UnionThenIntersection_IsLeftToRight()
    {
        // Rucio: (A|B)&C. Conventional precedence would give A|(B&C) = {CERN-EOS, DESY-DCACHE}.
        Assert.Equal(["DESY-DCACHE"], Eval("CERN-EOS|DESY-DCACHE&DESY-DCACHE"));
    }

    [Fact]
    public void EqualPrecedence_IntersectionThenUnion_IsLeftToRight()
    {
        // (A&B)|C: empty intersection, then union with SARA.
        Assert.Equal(["SARA-DCACHE"], Eval("CERN-EOS&DESY-DCACHE|SARA-DCACHE"));
    }

    [Fact]
    public void Difference_IsLeftAssociative()
    {
        // (A|B)\A = {B}; a right-binding difference would keep A.
        Assert.Equal(["DESY-DCACHE"], Eval("CERN-EOS|DESY-DCACHE\\CERN-EOS"));
        // (*\X)|X = everything again.
        Assert.Equal(Lake.Count, Eval("*\\CERN-EOS|CERN-EOS").Length);
        // (tier=1 \ SAFE) \ FAST: chained differences apply in order.
        Assert.Equal(["PIC-DCACHE"], Eval("tier=1\\QOS=SAFE\\QOS=FAST"));
    }

    [Fact]
    public void Parentheses_OverrideLeftToRightOrder()
    {
        Assert.Equal(Sorted("CERN-EOS", "DESY-DCACHE"), Eval("CERN-EOS|(DESY-DCACHE&DESY-DCACHE)"));
        Assert.Equal(Sorted("CERN-EOS", "DESY-DCACHE"), Eval("CERN-EOS|(DESY-DCACHE\\CERN-EOS)"));
        Assert.Equal(Sorted("CERN-EOS", "SARA-DCACHE"), Eval("*\\(QOS=CHEAP-ANALYSIS|tier=2|country=DE|country=FR|country=CH)|CERN-EOS"));
    }

    [Fact]
    public void Parentheses_NestedAndRedundant()
    {
        Assert.Equal(["DESY-DCACHE"], Eval("((DESY-DCACHE))"));
        Assert.Equal(["SARA-DCACHE"], Eval("((QOS=SAFE|QOS=FAST)&(tier=1\\(country=DE|country=FR)))\\CERN-EOS"));
    }

    [Fact]
    public void Ast_IsLeftDeep_ForMixedOperators()
    {
        var root = RseExpression.Parse("A|B&C\\D").Root;
        var expected = new RseNode.Difference(
            new RseNode.Intersection(
                new RseNode.Union(new RseNode.Name("A"), new RseNode.Name("B")),
                new RseNode.Name("C")),
            new RseNode.Name("D"));
        Assert.Equal(expected, root);
    }

    [Fact]
    public void Ast_TermKinds()
    {
        var root = RseExpression.Parse("*&QOS=SAFE|tier<2").Root;
        var expected = new RseNode.Union(
            new RseNode.Intersection(new RseNode.All(), new RseNode.AttributeEquals("QOS", "SAFE")),
            new RseNode.AttributeCompare("tier", CompareOp.Less, "2"));
        Assert.Equal(expected, root);
    }

    [Fact]
    public void LongOperatorChain_EvaluatesWithoutDeepRecursion()
    {
        var text = string.Join('|', Enumerable.Repeat("CERN-EOS|DESY-DCACHE", 20_000));
        var expr = RseExpression.Parse(text);
        Assert.Equal(Sorted("CERN-EOS", "DESY-DCACHE"), expr.Evaluate(Lake).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Evaluate_EmptyRseSet_ReturnsEmpty()
    {
        Assert.Empty(RseExpression.Parse("*").Evaluate([]));
    }

    [Fact]
    public void Evaluate_IsRepeatableOnSameInstance()
    {
        var expr = RseExpression.Parse("QOS=SAFE");
        var first = expr.Evaluate(Lake);
        var second = expr.Evaluate(Lake);
        Assert.True(first.SetEquals(second));
        Assert.Equal(2, first.Count);
    }

    // --- metadata ---

    [Fact]
    public void ReferencedNamesAndAttributes_AreDistinctInOrderOfAppearance()
    {
        var expr = RseExpression.Parse("(SARA-DCACHE|QOS=FAST|CERN-EOS)\\SARA-DCACHE&country=FR|freespace>3|QOS=SAFE");
        Assert.Equal(["SARA-DCACHE", "CERN-EOS"], expr.ReferencedNames);
        Assert.Equal(["QOS", "country", "freespace"], expr.ReferencedAttributes);
    }

    [Fact]
    public void Star_ReferencesNothing()
    {
        var expr = RseExpression.Parse("*");
        Assert.Empty(expr.ReferencedNames);
        Assert.Empty(expr.ReferencedAttributes);
    }

    [Fact]
    public void TextAndToString_RoundTripInput()
    {
        const string text = "QOS=SAFE\\(DESY-DCACHE|tier>1)";
        var expr = RseExpression.Parse(text);
        Assert.Equal(text, expr.Text);
        Assert.Equal(text, expr.ToString());
    }

    [Theory]
    [InlineData("site.name=X")]
    [InlineData("_private-key=abc_DEF-1")]
    [InlineData("tier>1.5")]
    public void AttributeKeysAndValues_AcceptRucioCharset(string text)
    {
        Assert.True(RseExpression.TryParse(text, out var expr, out var error));
        Assert.Null(error);
        Assert.Equal(text, expr.Text);
        Assert.Empty(expr.ReferencedNames);
    }

    // --- errors ---

    [Theory]
    [InlineData("", 0)]
    [InlineData("A|", 2)]
    [InlineData("A&", 2)]
    [InlineData("A\\", 2)]
    [InlineData("|A", 0)]
    [InlineData("A||B", 2)]
    [InlineData("A|&B", 2)]
    [InlineData("()", 1)]
    [InlineData("A|()", 3)]
    public void MissingTerm_ReportsPosition(string text, int position)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"expected an RSE name, key=value, '*' or '(' at position {position}", ex.Message);
        Assert.Equal(text, ex.Expression);
    }

    [Fact]
    public void EmptyExpression_SaysEndOfExpression()
    {
        var ex = ParseError("");
        Assert.Equal(0, ex.Position);
        Assert.EndsWith("found end of expression", ex.Message);
    }

    [Fact]
    public void TrailingOperator_PointsPastTheOperator()
    {
        var ex = ParseError("QOS=SAFE|");
        Assert.Equal(9, ex.Position);
        Assert.Contains("found end of expression", ex.Message);
    }

    [Fact]
    public void UnclosedParenthesis_ReportsEndAndOpeningPosition()
    {
        var ex = ParseError("A|(B&(C|D)");
        Assert.Equal(10, ex.Position);
        Assert.Contains("expected ')' at position 10 to close '(' at position 2", ex.Message);
    }

    [Theory]
    [InlineData("A)", 1)]
    [InlineData("(A))", 3)]
    [InlineData("A|B)|C", 3)]
    public void UnmatchedClosingParenthesis_ReportsItsPosition(string text, int position)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"unbalanced ')' at position {position}", ex.Message);
    }

    [Fact]
    public void ClosingParenthesisAsTerm_IsMissingTerm()
    {
        var ex = ParseError("(A|)");
        Assert.Equal(3, ex.Position);
        Assert.Contains("found ')'", ex.Message);
    }

    [Theory]
    [InlineData("A B", 1, "' '")]
    [InlineData("A,B", 1, "','")]
    [InlineData("A(B)", 1, "'('")]
    [InlineData("*A", 1, "'A'")]
    [InlineData("QOS=SAFE=X", 8, "'='")]
    public void UnexpectedCharacterAfterTerm_AsksForOperator(string text, int position, string found)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"expected an operator '|', '&' or '\\' at position {position}, found {found}", ex.Message);
    }

    [Fact]
    public void UnexpectedCharacterInsideParentheses_AlsoOffersClosingParenthesis()
    {
        var ex = ParseError("(A B)");
        Assert.Equal(2, ex.Position);
        Assert.Contains("'|', '&', '\\' or ')'", ex.Message);
    }

    [Theory]
    [InlineData(" A", 0, "' '")]
    [InlineData("A|#B", 2, "'#'")]
    [InlineData("A|é", 2, "'é'")]
    public void IllegalCharacterWhereTermExpected_ReportsPosition(string text, int position, string found)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"at position {position}, found {found}", ex.Message);
    }

    [Theory]
    [InlineData("=SAFE", 0, '=')]
    [InlineData("A|<3", 2, '<')]
    [InlineData("(>3)", 1, '>')]
    public void OperatorWithoutKey_ReportsMissingKey(string text, int position, char op)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"expected an attribute key before '{op}' at position {position}", ex.Message);
    }

    [Theory]
    [InlineData("QOS=", 4)]
    [InlineData("QOS=|A", 4)]
    [InlineData("tier<)", 5)]
    [InlineData("tier> 3", 5)]
    public void MissingValue_ReportsPosition(string text, int position)
    {
        var ex = ParseError(text);
        Assert.Equal(position, ex.Position);
        Assert.Contains($"expected an attribute value after", ex.Message);
        Assert.Contains($"at position {position}", ex.Message);
    }

    [Fact]
    public void LowercaseBareTerm_IsAnAttributeKeyMissingItsOperator()
    {
        var ex = ParseError("A|tier");
        Assert.Equal(6, ex.Position);
        Assert.Contains("expected '=', '<' or '>' after attribute key 'tier' at position 6", ex.Message);
    }

    [Fact]
    public void BareTermStartingWithSeparator_IsRejected()
    {
        var ex = ParseError("A|-DISK");
        Assert.Equal(2, ex.Position);
        Assert.Contains("uppercase letter or digit", ex.Message);
    }

    [Fact]
    public void ExcessiveNesting_IsRejectedNotStackOverflow()
    {
        var text = new string('(', 10_000) + "A" + new string(')', 10_000);
        var ex = ParseError(text);
        Assert.Contains("nested deeper", ex.Message);
        Assert.InRange(ex.Position, 0, 200);
    }

    [Fact]
    public void TryParse_ReturnsErrorInsteadOfThrowing()
    {
        Assert.False(RseExpression.TryParse("A|", out var expr, out var error));
        Assert.Null(expr);
        Assert.NotNull(error);
        Assert.Equal(2, error.Position);
    }

    [Fact]
    public void Exception_IsAFormatException()
    {
        Assert.IsAssignableFrom<FormatException>(ParseError("("));
    }

    [Fact]
    public void Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => RseExpression.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => RseExpression.Parse("*").Evaluate(null!));
    }
}
