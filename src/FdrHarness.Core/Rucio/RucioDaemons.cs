namespace FdrHarness.Core.Rucio;

/// <summary>The Rucio daemons and servers a rehearsal knows, by the names the rucio-daemons Helm chart uses.</summary>
public static class RucioDaemons
{
    public static readonly IReadOnlyList<string> Daemons =
    [
        "judge-injector", "judge-evaluator", "judge-repairer", "judge-cleaner",
        "conveyor-submitter", "conveyor-poller", "conveyor-finisher",
        "reaper", "undertaker",
        "abacus-account", "abacus-rse", "abacus-collection-replica",
        "hermes", "transmogrifier",
    ];

    /// <summary>Servers whose load is the harness's own API calls.</summary>
    public static readonly IReadOnlyList<string> Servers = ["rucio-server", "rucio-server-auth", "rucio-ui"];

    public static readonly IReadOnlyList<string> All = [.. Daemons, .. Servers];

    public static bool IsKnown(string name) => All.Contains(name, StringComparer.Ordinal);
}
