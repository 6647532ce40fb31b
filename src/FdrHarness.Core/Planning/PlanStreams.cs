using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>
/// The run's named random streams: every draw of a plan comes from a key derived from the seed and a name (the
/// stream) and, where a stream has parts, the part's name — never <c>seed + i</c>, so seed 7's second phase and seed
/// 8's first share nothing.
/// </summary>
public readonly struct PlanStreams(long seed)
{
    public long Seed => seed;

    public ulong Key(string stream) => StableHash.Of((ulong)seed, stream);

    public ulong Key(string stream, string part) => StableHash.Of(Key(stream), part);

    /// <summary>Uniform in [0, 1) for item <paramref name="item"/> of the stream keyed <paramref name="key"/>.</summary>
    public static double Unit(ulong key, ulong item) => (StableHash.Combine(key, item) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) for item <paramref name="item"/> of the stream keyed <paramref name="key"/>.</summary>
    public static int Below(ulong key, ulong item, int n) => n <= 1 ? 0 : (int)Math.BigMul(StableHash.Combine(key, item), (ulong)n, out _);
}
