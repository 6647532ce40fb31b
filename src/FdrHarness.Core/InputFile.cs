using System.Runtime.InteropServices;

namespace FdrHarness.Core;

/// <summary>A file the user names (a scenario, a values file, a run's JSON): refused before it is opened unless it is a
/// regular file, and read up to a size limit whatever length it reports.</summary>
/// <remarks>
/// Opening a FIFO blocks until something writes to it and a device such as /dev/zero reports length 0 but never ends;
/// .NET's file attributes do not tell them from regular files, so the type comes from statx(2) on Linux (its layout
/// is the same on every architecture). Elsewhere only directories are told apart.
/// </remarks>
public static class InputFile
{
    /// <summary>Why <paramref name="path"/> is not a regular file that can be read ("is a directory", "does not exist"...), or null.</summary>
    public static string? Problem(string path)
    {
        if (string.IsNullOrEmpty(path)) return "an empty path names no file";
        if (Directory.Exists(path)) return "is a directory, not a file";
        if (!File.Exists(path)) return "no such file";
        return Kind(path) switch
        {
            Type.Fifo => "is a FIFO (named pipe), not a file: reading it would wait for a writer",
            Type.CharacterDevice or Type.BlockDevice => "is a device, not a file",
            Type.Socket => "is a socket, not a file",
            _ => null,
        };
    }

    /// <summary>The file's bytes, refused (<see cref="InputFileException"/>) when it is not a regular file or holds more than
    /// <paramref name="maxBytes"/>: at most maxBytes + 1 bytes are read, so a file that lies about its length cannot exhaust memory.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        if (Problem(path) is { } problem) throw new InputFileException(problem);
        byte[] buffer;
        var total = 0;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            buffer = new byte[(int)Math.Clamp(stream.Length + 1, 1, maxBytes + 1)]; // the length is a hint, never trusted
            while (total <= maxBytes)
            {
                if (total == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, buffer.Length * 2L));
                var n = stream.Read(buffer, total, buffer.Length - total);
                if (n == 0) break;
                total += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException("cannot be read: " + e.Message);
        }
        if (total > maxBytes) throw new InputFileException($"holds more than {maxBytes:N0} bytes; is this the right file?");
        Array.Resize(ref buffer, total);
        return buffer;
    }

    /// <summary>The file's text (UTF-8), with the same checks as <see cref="ReadAllBytes"/>.</summary>
    public static string ReadAllText(string path, long maxBytes) => new System.Text.UTF8Encoding(false).GetString(ReadAllBytes(path, maxBytes));

    private enum Type { Unknown, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Link }

    private static Type Kind(string path)
    {
        if (!OperatingSystem.IsLinux()) return Type.Unknown;
        var buffer = new byte[256];
        try
        {
            if (statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return Type.Unknown;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Type.Unknown; // a libc without statx: fall back to the size limit alone
        }
        return (BitConverter.ToUInt16(buffer, StxModeOffset) & 0xF000) switch
        {
            0x8000 => Type.Regular,
            0x4000 => Type.Directory,
            0x1000 => Type.Fifo,
            0x2000 => Type.CharacterDevice,
            0x6000 => Type.BlockDevice,
            0xC000 => Type.Socket,
            0xA000 => Type.Link,
            _ => Type.Unknown,
        };
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, string pathname, int flags, uint mask, [Out] byte[] statxbuf);
}

/// <summary>A user-given file that cannot be used; the message completes "PATH ...".</summary>
public sealed class InputFileException(string message) : IOException(message);
