using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Rucio.Rest;

/// <summary>How to reach and talk to one Rucio server. Secrets are named by where they live (env/file), read at use.</summary>
public sealed record RucioClientOptions
{
    public required Uri Url { get; init; }
    public Uri? AuthUrl { get; init; }
    public string Account { get; init; } = "root";
    public string? Vo { get; init; }
    public RucioAuth Auth { get; init; } = new();
    /// <summary>PEM bundle of CAs to trust instead of the system's.</summary>
    public string? CaBundle { get; init; }

    /// <summary>Timeout of one attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxRetries { get; init; } = 5;
    /// <summary>First retry delay; exponential with jitter after that.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>No single wait longer than this, Retry-After included.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Renew a userpass/x509 token this long before X-Rucio-Auth-Token-Expires.</summary>
    public TimeSpan RenewBefore { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>
    /// A 409 "already exists" counts as success (and a 404 on deleting a rule): what the live driver resumes with. Unsafe
    /// for bulk calls, which Rucio refuses whole for one existing item; the catalog operations use
    /// <see cref="RucioClient.Strict"/>, which reports every refusal.
    /// </summary>
    public bool Resume { get; init; } = true;
    public int MaxConnections { get; init; } = 64;

    /// <summary>Environment lookup (tests replace it).</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public static RucioClientOptions From(RucioConnection c, Func<string, string?>? env = null) => new()
    {
        Url = c.Url,
        AuthUrl = c.AuthUrl,
        Account = c.Account,
        Vo = c.Vo,
        Auth = c.Auth,
        CaBundle = c.CaBundle,
        MaxConnections = Math.Max(8, c.Concurrency * 2),
        Env = env ?? Environment.GetEnvironmentVariable,
    };
}
