using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

/// <summary>The double set up as a small data lake, and clients for it.</summary>
internal static class DoubleWorld
{
    public static readonly DoubleProtocol Davs = new("davs", "storage.example", 2880, "/data");

    /// <summary>
    /// MOCK and MOCK2 (QOS=FAST, davs on :2880, hash lfn2pfn), SAFE-1 (QOS=SAFE, https on :443, identity lfn2pfn), scopes
    /// user.root, cta and virgo, and root's limits on all three (10^15 bytes).
    /// </summary>
    public static async Task<RucioDouble> StartAsync(RucioDoubleOptions? options = null)
    {
        var d = await RucioDouble.StartAsync(options);
        d.AddRse("MOCK", new Dictionary<string, string> { ["QOS"] = "FAST" }, Davs);
        d.AddRse("MOCK2", new Dictionary<string, string> { ["QOS"] = "FAST" }, Davs with { Hostname = "storage2.example" });
        d.AddRse("SAFE-1", new Dictionary<string, string> { ["QOS"] = "SAFE", ["lfn2pfn_algorithm"] = "identity" }, new DoubleProtocol("https", "safe.example", 443, "/rucio"));
        foreach (var s in new[] { "user.root", "cta", "virgo" }) d.AddScope(s);
        foreach (var r in new[] { "MOCK", "MOCK2", "SAFE-1" }) d.SetAccountLimit(r, 1_000_000_000_000_000);
        return d;
    }

    public static RucioClient Client(RucioDouble d, bool resume = true, int retries = 4, TimeSpan? attemptTimeout = null, TimeProvider? time = null,
        string? password = null) =>
        new(new RucioClientOptions
        {
            Url = d.Url,
            Account = d.Account,
            Vo = "def",
            Auth = new RucioAuth { Method = AuthMethod.Userpass, Username = d.Username, PasswordEnv = "PW" },
            Env = n => n == "PW" ? password ?? d.Password : null,
            Resume = resume,
            MaxRetries = retries,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(20),
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(10),
            Time = time ?? TimeProvider.System,
        });
}
