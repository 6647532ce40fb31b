namespace FdrHarness.Cli;

/// <summary>
/// Start-up work done ahead on the idle core. A command's start runs on one thread while the other of the 2 cores idles;
/// each step here loads and prepares code the command meets later (YamlDotNet's parser, run.json's serializer), queued in
/// the order the command meets it. The steps run one after another on one pool thread, so they take the idle core and
/// never compete with each other for it. A failing step is dropped: the command's own use meets the failure again and
/// reports it.
/// </summary>
internal static class WarmUp
{
    private static readonly Lock Gate = new();
    private static Task _lane = Task.CompletedTask;

    public static void Then(Action step)
    {
        lock (Gate)
            _lane = _lane.ContinueWith(_ =>
            {
                try { step(); }
                catch (Exception) { /* see above */ }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }
}
