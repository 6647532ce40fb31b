using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Cluster;

/// <summary>
/// A limit change as Kubernetes applies it: a strategic merge patch of the container's resources (each of requests
/// and limits is a map: the keys given replace theirs, the others stay), then the API server's validation of the
/// result (a request above its limit is refused with 422 and the Deployment keeps its old resources).
/// </summary>
public static class ResourcePatch
{
    /// <summary>The merged requests and limits, or the API server's refusal.</summary>
    public static (Resources Requests, Resources Limits, string? Refused) Apply(Resources requests, Resources limits, Resources? patchRequests, Resources? patchLimits)
    {
        var r = Merge(requests, patchRequests);
        var l = Merge(limits, patchLimits);
        if (r.Memory is { } rm && l.Memory is { } lm && rm > lm)
            return (requests, limits, $"requests.memory {rm.ToBinaryString()} must be less than or equal to limits.memory {lm.ToBinaryString()}");
        if (r.Cpu is { } rc && l.Cpu is { } lc && rc > lc)
            return (requests, limits, $"requests.cpu {rc} must be less than or equal to limits.cpu {lc}");
        return (r, l, null);
    }

    private static Resources Merge(Resources current, Resources? patch) =>
        patch is null ? current : new Resources { Cpu = patch.Cpu ?? current.Cpu, Memory = patch.Memory ?? current.Memory };

    /// <summary>Kubernetes' defaulting at pod creation: a resource with a limit and no request requests its limit.</summary>
    public static Resources EffectiveRequests(Resources requests, Resources limits) =>
        new() { Cpu = requests.Cpu ?? limits.Cpu, Memory = requests.Memory ?? limits.Memory };
}
