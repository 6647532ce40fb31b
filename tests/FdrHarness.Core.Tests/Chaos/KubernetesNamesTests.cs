using FdrHarness.Core.Chaos;

namespace FdrHarness.Core.Tests.Chaos;

/// <summary>Label keys, label values, namespaces and pod names as k8s.io/apimachinery's validation accepts them.</summary>
public class KubernetesNamesTests
{
    private static readonly string L63 = new('a', 63), L64 = new('a', 64);

    [Theory]
    [InlineData("app")]
    [InlineData("a")]
    [InlineData("rucio-daemon")]
    [InlineData("app.kubernetes.io/name")]
    [InlineData("example.com/MyName")]
    [InlineData("A1_b.c-D")]
    [InlineData("123-abc")]
    [InlineData("x/y")]
    public void Valid_label_keys(string key) => Assert.Empty(KubernetesNames.LabelKeyErrors(key));

    [Fact]
    public void Valid_label_keys_at_the_length_limits()
    {
        Assert.Empty(KubernetesNames.LabelKeyErrors(L63));
        var prefix253 = string.Join(".", Enumerable.Repeat(new string('b', 63), 3)) + "." + new string('c', 61);
        Assert.Equal(253, prefix253.Length);
        Assert.Empty(KubernetesNames.LabelKeyErrors(prefix253 + "/" + L63));
        Assert.NotEmpty(KubernetesNames.LabelKeyErrors(prefix253 + "c/" + L63));
    }

    [Theory]
    [InlineData("a!", "the name part must be")]            // never the selector a!=b
    [InlineData("", "the name part is empty")]
    [InlineData("a/", "the name part is empty")]
    [InlineData("/a", "the prefix before '/' is empty")]
    [InlineData("a/b/c", "more than one '/'")]
    [InlineData("-a", "the name part must be")]
    [InlineData("a-", "the name part must be")]
    [InlineData("a b", "the name part must be")]
    [InlineData("a=b", "the name part must be")]
    [InlineData("Example.com/x", "the prefix must be lower-case")]
    [InlineData("ex_ample.com/x", "the prefix must be lower-case")]
    [InlineData("a\n", "the name part must be")]           // a final newline is not an end of string here
    [InlineData("é", "the name part must be")]
    public void Invalid_label_keys(string key, string reason) =>
        Assert.Contains(KubernetesNames.LabelKeyErrors(key), e => e.Contains(reason, StringComparison.Ordinal));

    [Fact]
    public void A_label_key_name_has_at_most_63_characters() =>
        Assert.Equal(["the name part is longer than 63 characters"], KubernetesNames.LabelKeyErrors(L64));

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("rucio-daemons-judge-evaluator")]
    [InlineData("My_Value.1")]
    [InlineData("12345")]
    public void Valid_label_values(string value) => Assert.Empty(KubernetesNames.LabelValueErrors(value));

    [Theory]
    [InlineData("a!")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("é")]
    [InlineData("a\n")]
    public void Invalid_label_values(string value) => Assert.NotEmpty(KubernetesNames.LabelValueErrors(value));

    [Fact]
    public void A_label_value_has_at_most_63_characters()
    {
        Assert.Empty(KubernetesNames.LabelValueErrors(L63));
        Assert.Equal(["is longer than 63 characters"], KubernetesNames.LabelValueErrors(L64));
    }

    [Theory]
    [InlineData("rucio", true)]
    [InlineData("a", true)]
    [InlineData("rucio-2", true)]
    [InlineData("0abc", true)]
    [InlineData("Rucio", false)]
    [InlineData("-rucio", false)]
    [InlineData("rucio-", false)]
    [InlineData("ru_cio", false)]
    [InlineData("ru.cio", false)]   // a namespace is a label, not a subdomain
    [InlineData("", false)]
    public void Namespaces_are_rfc1123_labels(string name, bool valid) =>
        Assert.Equal(valid, KubernetesNames.NamespaceErrors(name).Count == 0);

    [Fact]
    public void A_namespace_has_at_most_63_characters()
    {
        Assert.Empty(KubernetesNames.NamespaceErrors(L63));
        Assert.Contains("is longer than 63 characters", KubernetesNames.NamespaceErrors(L64));
    }

    [Theory]
    [InlineData("judge-evaluator-7d9f8b6c5-x2kq4", true)]
    [InlineData("db-0", true)]
    [InlineData("a.b", true)]
    [InlineData("A", false)]
    [InlineData("a_b", false)]
    [InlineData("a..b", false)]
    [InlineData("", false)]
    public void Pod_names_are_rfc1123_subdomains(string name, bool valid) =>
        Assert.Equal(valid, KubernetesNames.PodNameErrors(name).Count == 0);
}
