using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Chaos;

/// <summary>The seeded draws of chaos: one named stream per firing of an action, the same on every target.</summary>
public static class ChaosDraws
{
    /// <summary>
    /// The draw key of the <paramref name="occurrence"/>-th firing (0-based) of the action named
    /// <paramref name="actionName"/> in a run of <paramref name="seed"/>: the one place this key is derived, so the
    /// embedded lake and a live cluster choose the same victims from the same candidates.
    /// </summary>
    public static ulong Key(long seed, string actionName, int occurrence)
    {
        ArgumentNullException.ThrowIfNull(actionName);
        ArgumentOutOfRangeException.ThrowIfNegative(occurrence);
        return StableHash.Combine(StableHash.Of((ulong)seed, "chaos:" + actionName), (ulong)occurrence);
    }
}
