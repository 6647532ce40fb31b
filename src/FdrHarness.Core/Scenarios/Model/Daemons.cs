using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A Rucio daemon or server as a Kubernetes Deployment (rucio-daemons Helm chart vocabulary).</summary>
public sealed record DaemonSpec
{
    [FromKey] public string Name { get; init; } = "";

    [Doc("Pods (the chart's {daemon}Count).")]
    public int Replicas { get; init; } = 1;

    [Doc("Worker threads per pod.")]
    public int Threads { get; init; } = 1;

    [Doc("Kubernetes resource requests.")]
    public Resources Requests { get; init; } = new();

    [Doc("Kubernetes resource limits; none means unlimited.")]
    public Resources Limits { get; init; } = new();

    [Doc("Work-model parameters of the embedded data lake (see the README).")]
    public IReadOnlyDictionary<string, string> Model { get; init; } = new Dictionary<string, string>();
}

public sealed record Resources
{
    public CpuQuantity? Cpu { get; init; }
    public ByteSize? Memory { get; init; }
}
