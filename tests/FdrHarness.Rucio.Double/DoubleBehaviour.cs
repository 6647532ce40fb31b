namespace FdrHarness.Rucio.Double;

/// <summary>
/// How the double behaves. Every switch defaults to what Rucio 1.31.7 does; the contract test turns one off to prove that
/// replaying the transcripts catches it (RucioContractTests.Contract_fails_when_*).
/// </summary>
public sealed class DoubleBehaviour
{
    /// <summary>POST /dids, /replicas, attachments and rules roll back the whole request on one bad item (Rucio: true).</summary>
    public bool AllOrNothing { get; set; } = true;

    /// <summary>A second rule with the same scope, name, account, rse_expression and copies is 409 DuplicateRule (Rucio: true).</summary>
    public bool DuplicateRules { get; set; } = true;

    /// <summary>A given pfn must equal the one lfn2pfn derives (Rucio: true).</summary>
    public bool CheckPfns { get; set; } = true;

    /// <summary>The JSON schemas' list limit of POST /replicas, attachments and /replicas/list (Rucio: 1,000).</summary>
    public int MaxItems { get; set; } = 1000;

    /// <summary>
    /// POST /replicas with more files than this fails with 500 DatabaseException, as Rucio on sqlite does ("Expression tree is
    /// too large"; 996 passed and 997 failed on the recorded server). Null: no such limit (Oracle, PostgreSQL, MySQL).
    /// </summary>
    public int? SqliteReplicaLimit { get; set; }

    /// <summary>The account limits of account "root" are enforced (Rucio: true unless root has the admin attribute).</summary>
    public bool EnforceAccountLimits { get; set; } = true;
}

/// <summary>
/// What a request may meet instead of Rucio's answer. <see cref="Timeout"/>: no answer until the client gives up.
/// <see cref="TruncatedJson"/>: applied, and the answer cut at half its length with status 200 and a matching
/// Content-Length (a proxy that lost the end). <see cref="HtmlPage"/>: not applied; a proxy's or login page's HTML with 200.
/// </summary>
public enum Fault { None, Status500, Status503, Status429, Reset, ResetAfterApply, Timeout, TruncatedJson, HtmlPage }

/// <summary>
/// Faults drawn per request, deterministically from a seed: the n-th request that may fail gets the n-th draw. With
/// concurrent clients which request is the n-th depends on arrival order; the sequence of draws does not.
/// </summary>
public sealed class FaultPlan
{
    public double Rate { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>The kinds drawn, uniformly.</summary>
    public IReadOnlyList<Fault> Kinds { get; init; } = [Fault.Status500, Fault.Status503, Fault.Status429, Fault.Reset, Fault.ResetAfterApply];
    /// <summary>Whether GET /auth/* may fail too.</summary>
    public bool IncludeAuth { get; init; }
    /// <summary>Only requests whose path starts with one of these may fail (null: any); a run's connection check passes, its work meets the faults.</summary>
    public IReadOnlyList<string>? Paths { get; init; }
}
