using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FdrHarness.Cli.Metrics;

namespace FdrHarness.Cli.Tests.Deploy;

/// <summary>deploy/grafana/fdr-dashboard.json asks Prometheus only for what `fdr run --metrics-port` exports.</summary>
public sealed partial class DashboardTests
{
    private static readonly JsonNode Dashboard = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "grafana", "fdr-dashboard.json")))!;

    /// <summary>Every PromQL query of the dashboard: panel targets, annotations and variables.</summary>
    private static List<string> Queries()
    {
        var queries = new List<string>();
        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        if (key is "expr" or "definition" && value is JsonValue v) queries.Add(v.GetValue<string>());
                        else if (key == "query" && value is JsonObject q && q["query"] is JsonValue qv) queries.Add(qv.GetValue<string>());
                        else Walk(value);
                    }
                    break;
                case JsonArray a:
                    foreach (var item in a) Walk(item);
                    break;
            }
        }
        Walk(Dashboard);
        return queries;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    };

    /// <summary>The metric names a PromQL query selects: identifiers outside strings, label matchers, ranges and
    /// grouping clauses that are neither functions (followed by '(') nor keywords.</summary>
    internal static IEnumerable<string> MetricNames(string query)
    {
        var q = LabelValues().Replace(query, "$1");   // Grafana's label_values(metric, label): the label is no metric
        q = Strings().Replace(q, "\"\"");
        q = Braces().Replace(q, "{}");
        q = Brackets().Replace(q, "[]");
        q = Grouping().Replace(q, "");
        q = Variables().Replace(q, "");
        foreach (Match m in Identifier().Matches(q))
        {
            var next = q[(m.Index + m.Length)..].TrimStart();
            if (next.StartsWith('(') || Keywords.Contains(m.Value)) continue;
            yield return m.Value;
        }
    }

    [Fact]
    public void EveryQueryNamesOnlyExportedMetrics()
    {
        var queries = Queries();
        Assert.True(queries.Count >= 15, $"only {queries.Count} queries found");
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            var names = MetricNames(query).ToList();
            Assert.True(names.Count > 0, $"no metric in '{query}'");
            foreach (var name in names)
            {
                Assert.True(RunMetrics.Names.Contains(name), $"'{name}' in '{query}' is not a metric fdr exports");
                used.Add(name);
            }
        }
        // What the dashboard is for: every metric fdr exports is on it.
        Assert.Equal(RunMetrics.Names.Where(n => n is not "fdr_run_duration_seconds" and not "fdr_run_elapsed_seconds").Order(StringComparer.Ordinal),
            used.Where(n => n is not "fdr_run_duration_seconds" and not "fdr_run_elapsed_seconds").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ChaosActionsAreAnnotations()
    {
        var annotation = Assert.Single(Dashboard["annotations"]!["list"]!.AsArray());
        Assert.Equal(["fdr_chaos_actions_total"], MetricNames((string)annotation!["expr"]!));
        Assert.True((bool)annotation["enable"]!);
    }

    [Theory]
    [InlineData("sum by (src_rse, dst_rse) (rate(fdr_transfers_total{instance=~\"$instance\",state=\"done\"}[$__rate_interval]))", "fdr_transfers_total")]
    [InlineData("sum(rate(a_total[5m])) / sum(rate(b_total{x=\"y\"}[5m])) > bool 0", "a_total b_total")]
    [InlineData("label_values(fdr_run_info, instance)", "fdr_run_info")]
    [InlineData("max without (pod) (up offset 5m)", "up")]
    public void MetricNamesAreFoundInPromQl(string query, string expected) =>
        Assert.Equal(expected.Split(' '), MetricNames(query));

    [GeneratedRegex(@"label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variables();

    [GeneratedRegex(@"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
