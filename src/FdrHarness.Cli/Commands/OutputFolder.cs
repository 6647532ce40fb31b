namespace FdrHarness.Cli.Commands;

/// <summary>
/// An --out folder checked before any work: not empty text, not a file, and writable (the folder, or the nearest
/// existing folder above it). Nothing is created here, so a refused --out leaves nothing behind.
/// </summary>
public static class OutputFolder
{
    /// <summary>Why <paramref name="path"/> cannot take the command's files, or null when it can.</summary>
    public static string? Problem(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "--out is empty; give a folder";
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"--out {path}: not a usable path ({e.Message})";
        }
        if (File.Exists(full)) return $"--out {path} is a file; give a folder";
        var existing = full;
        while (!Directory.Exists(existing))
        {
            var parent = Path.GetDirectoryName(existing);
            if (parent is null) return $"--out {path}: no folder above it exists";
            if (File.Exists(parent)) return $"--out {path}: {parent} is a file, not a folder";
            existing = parent;
        }
        return Writable(existing) ? null : $"--out {path}: {existing} is not writable";
    }

    /// <summary>Whether a file can be created in <paramref name="folder"/> (a read-only mount refuses even root); the probe is removed at once.</summary>
    private static bool Writable(string folder)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(folder, $".fdr-probe-{Environment.ProcessId}-{Guid.NewGuid():N}"),
                FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
