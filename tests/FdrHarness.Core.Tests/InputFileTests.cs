namespace FdrHarness.Core.Tests;

public sealed class InputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fdr-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARegularFileIsReadWhole()
    {
        var path = Path.Combine(_dir, "a.json");
        File.WriteAllText(path, "{\"x\": 1}");
        Assert.Null(InputFile.Problem(path));
        Assert.Equal("{\"x\": 1}", InputFile.ReadAllText(path, 8));
        Assert.Contains("more than 7 bytes", Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(path, 7)).Message);
    }

    [LinuxFact("/proc files report length 0")]
    public void AFileReportingLengthZeroIsStillCutAtTheLimit()
    {
        // /proc/self/maps says 0 bytes and holds kilobytes: the reported length is never trusted.
        Assert.Equal(0, new FileInfo("/proc/self/maps").Length);
        Assert.Null(InputFile.Problem("/proc/self/maps"));
        Assert.Contains("more than 100 bytes", Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes("/proc/self/maps", 100)).Message);
    }

    [LinuxFact("devices, FIFOs and sockets are told apart through statx")]
    public void SpecialFilesAreNamedForWhatTheyAre()
    {
        var fifo = Path.Combine(_dir, "fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        Assert.StartsWith("is a FIFO", InputFile.Problem(fifo));
        Assert.Equal("is a device, not a file", InputFile.Problem("/dev/zero"));
        Assert.Equal("is a device, not a file", InputFile.Problem("/dev/null"));
        Assert.Equal("is a directory, not a file", InputFile.Problem(_dir));
        Assert.Equal("no such file", InputFile.Problem(Path.Combine(_dir, "absent")));
        Assert.Equal("an empty path names no file", InputFile.Problem(""));
        Assert.StartsWith("is a FIFO", Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(fifo, 10)).Message);
    }
}
