namespace FdrHarness.Kubernetes.Targeting;

/// <summary>A pod as targeting and observation key it.</summary>
public readonly record struct PodRef(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}
