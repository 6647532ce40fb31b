using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A chaos action of the scenario. Its kinds, each a file of Planning/Chaos, are those <see cref="ChaosKind.All"/> lists.</summary>
[Union(Registry = typeof(ChaosKind))]
public abstract record ChaosAction
{
    [Doc("Name shown on plots and in the audit log.")]
    public string? Name { get; init; }
}
