using System.Runtime.InteropServices;
using FdrHarness.Core;

namespace FdrHarness.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (what Kubernetes and CI send) as one cancellation: the run winds down — partial report,
/// temporary files resolved, chaos reverted — and exits 130 or 143 as the signal asks. A second signal is not
/// intercepted: it ends the process at once, for when winding down itself hangs.
/// </summary>
public sealed class Signals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _exitCode; // 0 until the first signal

    public Signals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled at the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The first signal's exit code: <see cref="ExitCodes.Interrupted"/> or <see cref="ExitCodes.Terminated"/>; null before one came.</summary>
    public int? Received => Volatile.Read(ref _exitCode) is var code and not 0 ? code : null;

    /// <summary>The exit code of a run that ended with <paramref name="exit"/>: an interrupted run says which signal stopped it.</summary>
    public int ExitCode(int exit) => exit == ExitCodes.Interrupted && Received is { } signal ? signal : exit;

    private void Handle(PosixSignalContext context)
    {
        var code = context.Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
        if (Interlocked.CompareExchange(ref _exitCode, code, 0) != 0) return; // the second signal: default action, the process ends
        context.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _stop.Dispose();
    }
}
