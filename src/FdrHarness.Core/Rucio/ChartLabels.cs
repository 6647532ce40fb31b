namespace FdrHarness.Core.Rucio;

/// <summary>
/// The labels and names the rucio/helm-charts charts give their objects, so that `daemon: judge-evaluator` is enough,
/// and so that the embedded lake labels its pods as a cluster would.
/// </summary>
/// <remarks>
/// rucio-daemons: every daemon's pods carry app=rucio-daemons-&lt;daemon&gt;, app-group=rucio-daemons,
/// release=&lt;release&gt;, rucio-daemon=&lt;daemon&gt;; its Deployment is named &lt;fullname&gt;-&lt;daemon&gt; and labelled
/// app=rucio-daemons-&lt;daemon&gt;, release=&lt;release&gt;; its container is named rucio-daemons.
/// rucio-server (also used for the auth server and the UI, as separate releases): pods and Deployment carry
/// app=rucio-server, release=&lt;release&gt;; the Deployment is &lt;fullname&gt;; the container is named rucio-server.
/// The fullname is the release name when it contains the chart name, else &lt;release&gt;-&lt;chart&gt;.
/// </remarks>
public static class ChartLabels
{
    public const string DaemonsChart = "rucio-daemons";
    public const string ServerChart = "rucio-server";
    public const string AppGroup = "app-group";
    public const string RucioDaemon = "rucio-daemon";
    public const string App = "app";
    public const string Release = "release";

    /// <summary>True for the servers (rucio-server, rucio-server-auth, rucio-ui), deployed by their own chart.</summary>
    public static bool IsServer(string daemon) => RucioDaemons.Servers.Contains(daemon, StringComparer.Ordinal);

    /// <summary>The labels `daemon: X` selects by (all must match).</summary>
    public static IReadOnlyDictionary<string, string> DaemonSelector(string daemon) => IsServer(daemon)
        // A server release is deployed with its own name as app label when it is not the plain API server
        // (nameOverride); the plain one keeps the chart name.
        ? new SortedDictionary<string, string>(StringComparer.Ordinal) { [App] = daemon }
        : new SortedDictionary<string, string>(StringComparer.Ordinal) { [AppGroup] = DaemonsChart, [RucioDaemon] = daemon };

    /// <summary>Every label the chart puts on a daemon's pods in release <paramref name="release"/>.</summary>
    public static IReadOnlyDictionary<string, string> PodLabels(string daemon, string release)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [App] = DeploymentAppLabel(daemon),
            [Release] = release,
        };
        if (!IsServer(daemon))
        {
            labels[AppGroup] = DaemonsChart;
            labels[RucioDaemon] = daemon;
        }
        return labels;
    }

    /// <summary>The app label of a daemon's Deployment (the Deployment does not carry rucio-daemon).</summary>
    public static string DeploymentAppLabel(string daemon) => IsServer(daemon) ? daemon : $"{DaemonsChart}-{daemon}";

    /// <summary>The Deployment's name by the chart's fullname rule, for the plan and for choosing among several.</summary>
    public static string DeploymentName(string release, string daemon) => IsServer(daemon)
        ? FullName(release, daemon)
        : $"{FullName(release, DaemonsChart)}-{daemon}";

    /// <summary>The container the chart puts the daemon in.</summary>
    public static string ContainerName(string daemon) => IsServer(daemon) ? ServerChart : DaemonsChart;

    /// <summary>Helm's fullname: the release when it already contains the chart's name, else release-chart; 63 characters at most.</summary>
    public static string FullName(string release, string chart)
    {
        var name = release.Contains(chart, StringComparison.Ordinal) ? release : $"{release}-{chart}";
        return (name.Length > 63 ? name[..63] : name).TrimEnd('-');
    }

    /// <summary>"a=b,c=d", the form of a labelSelector query parameter.</summary>
    public static string Selector(IEnumerable<KeyValuePair<string, string>> labels) =>
        string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>
    /// The daemon a pod belongs to: its rucio-daemon label, else its app label without the chart prefix, else its
    /// name without the ReplicaSet and pod suffixes (judge-evaluator-7d9f8b6c5-x2kq4 → judge-evaluator).
    /// </summary>
    public static string DaemonOf(IDictionary<string, string>? labels, string podName)
    {
        if (labels is not null)
        {
            if (labels.TryGetValue(RucioDaemon, out var daemon) && daemon.Length > 0) return daemon;
            if (labels.TryGetValue(App, out var app) && app.Length > 0)
                return app.StartsWith(DaemonsChart + "-", StringComparison.Ordinal) ? app[(DaemonsChart.Length + 1)..] : app;
        }
        var parts = podName.Split('-');
        return parts.Length > 2 ? string.Join("-", parts[..^2]) : podName;
    }
}
