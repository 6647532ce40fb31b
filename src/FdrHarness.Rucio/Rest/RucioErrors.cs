using System.Net;

namespace FdrHarness.Rucio.Rest;

/// <summary>An error answered by Rucio: the status plus its ExceptionClass/ExceptionMessage (headers or body).</summary>
public class RucioException(HttpStatusCode status, string exceptionClass, string message, string operation)
    : Exception($"{operation}: {(int)status} {exceptionClass}: {message}")
{
    public HttpStatusCode Status { get; } = status;
    /// <summary>Rucio's exception class, e.g. DataIdentifierAlreadyExists; "Http{status}" when the server sent none.</summary>
    public string ExceptionClass { get; } = exceptionClass;
    public string ServerMessage { get; } = message;
    public string Operation { get; } = operation;
}

/// <summary>401: wrong credentials or a bad/expired token (IdentityNotFound, CannotAuthenticate, ...).</summary>
public sealed class RucioAuthenticationException(HttpStatusCode s, string c, string m, string op) : RucioException(s, c, m, op);

/// <summary>404: RuleNotFound, DataIdentifierNotFound, RSENotFound, ...</summary>
public sealed class RucioNotFoundException(HttpStatusCode s, string c, string m, string op) : RucioException(s, c, m, op);

/// <summary>409 for something that already exists: DataIdentifierAlreadyExists, DuplicateRule, Duplicate, ...</summary>
public sealed class RucioDuplicateException(HttpStatusCode s, string c, string m, string op) : RucioException(s, c, m, op);

/// <summary>Any other refusal of the request's content (400, 406, 409 InvalidRSEExpression, InsufficientAccountLimit, ...).</summary>
public sealed class RucioRequestException(HttpStatusCode s, string c, string m, string op) : RucioException(s, c, m, op);

/// <summary>5xx, 503 RSE unavailable, 429 — what was left after the retries gave up.</summary>
public sealed class RucioServerException(HttpStatusCode s, string c, string m, string op) : RucioException(s, c, m, op);

/// <summary>The server could not be reached at all (refused, DNS, TLS, timeout) after retries.</summary>
public sealed class RucioUnreachableException(Uri url, string reason, Exception? inner)
    : Exception($"cannot reach Rucio at {url}: {reason}", inner)
{
    public Uri Url { get; } = url;
    public string Reason { get; } = reason;
}

public static class RucioErrorMapping
{
    // Classes whose 409 means "already there": success when a run resumes.
    private static readonly HashSet<string> DuplicateClasses = new(StringComparer.Ordinal)
    {
        "DataIdentifierAlreadyExists", "DuplicateRule", "Duplicate", "RSEAlreadyExists", "ScopeAlreadyExists",
        "FileAlreadyExists", "ReplicaAlreadyExists", "DuplicateContent", "AccountAlreadyExists",
    };

    // 5xx that Rucio answers the same way however often it is asked: retrying them only loads the server (issue 12 saw
    // RSEProtocolNotSupported retried 5 times per call).
    private static readonly HashSet<string> DeterministicClasses = new(StringComparer.Ordinal)
    {
        "RSEProtocolNotSupported", "InvalidObject", "UnsupportedOperation", "InvalidValueForKey", "InvalidPath", "RucioException",
        "InvalidRSEExpression", "KeyError", "TypeError", "ValueError", "CannotAuthenticate", "InvalidReplicationRule",
    };

    public static bool IsDuplicate(string exceptionClass) => DuplicateClasses.Contains(exceptionClass);

    /// <summary>A 5xx whose ExceptionClass says the request itself is the problem, not the server's state.</summary>
    public static bool IsDeterministic(string? exceptionClass) => exceptionClass is not null && DeterministicClasses.Contains(exceptionClass);

    /// <summary>Whether trying the same call again later may succeed: 5xx and 429 other than Rucio's deterministic ones, or no answer at all.</summary>
    public static bool IsTransient(Exception e) =>
        e is RucioUnreachableException || (e is RucioServerException s && !IsDeterministic(s.ExceptionClass));

    internal static RucioException Map(HttpStatusCode status, string cls, string message, string operation) => (int)status switch
    {
        401 => new RucioAuthenticationException(status, cls, message, operation),
        404 => new RucioNotFoundException(status, cls, message, operation),
        409 when IsDuplicate(cls) => new RucioDuplicateException(status, cls, message, operation),
        >= 500 or 429 => new RucioServerException(status, cls, message, operation),
        _ => new RucioRequestException(status, cls, message, operation),
    };
}
