namespace FdrHarness.Core;

/// <summary>The process exit codes, k6's convention where it has one. Documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int UnexpectedFailure = 1;
    public const int InvalidInput = 2;
    public const int TargetUnreachable = 3;
    public const int ThresholdsFailed = 99;
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (Kubernetes, CI): handled as an interruption, 128 + 15 as shells report it.</summary>
    public const int Terminated = 143;
}
