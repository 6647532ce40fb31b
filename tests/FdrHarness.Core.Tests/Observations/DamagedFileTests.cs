using FdrHarness.Core.Observations;

namespace FdrHarness.Core.Tests.Observations;

/// <summary>
/// A damaged observation file is the input's problem: whatever the Parquet decoder makes of it, the reader either
/// reads it (a flip inside a value cannot be seen without checksums) or throws one InvalidDataException naming the file.
/// </summary>
public sealed class DamagedFileTests
{
    private static string Write(TempFolder tmp)
    {
        using (var sink = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = 500 }))
            for (var i = 0; i < 2_000; i++)
            {
                sink.Event(ObservationFixtures.Event(i));
                if (i % 10 == 0) sink.Sample(ObservationFixtures.Sample(i / 10));
            }
        return Path.Combine(tmp.Path, ParquetObservationSink.EventsFile);
    }

    private static Exception? ReadAll(string dir)
    {
        try
        {
            var reader = new ObservationReader(dir);
            _ = reader.Events().Count();
            _ = reader.RowGroupCount(ParquetObservationSink.EventsFile);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public void Every_flipped_byte_is_read_or_refused_as_damaged_never_a_crash()
    {
        using var tmp = new TempFolder();
        var file = Write(tmp);
        var original = File.ReadAllBytes(file);
        var refused = 0;
        // 300 places spread over the whole file: header, pages, footer, its length and magic.
        var places = Enumerable.Range(0, 300).Select(k => (int)((long)k * (original.Length - 1) / 299)).Distinct();
        foreach (var at in places)
        {
            var bytes = (byte[])original.Clone();
            bytes[at] ^= 0xA5;
            File.WriteAllBytes(file, bytes);
            var e = ReadAll(tmp.Path);
            if (e is null) continue;
            var damaged = Assert.IsType<InvalidDataException>(e);
            Assert.Contains(file, damaged.Message);
            refused++;
        }
        Assert.InRange(refused, 1, 300); // some places are structure: those flips are seen
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(1000)]
    [InlineData(-12)]
    [InlineData(-1)]
    public void A_truncated_file_is_refused_as_damaged(int keep)
    {
        using var tmp = new TempFolder();
        var file = Write(tmp);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(keep >= 0 ? keep : bytes.Length + keep)]);
        var e = Assert.IsType<InvalidDataException>(ReadAll(tmp.Path));
        Assert.Contains(file, e.Message);
    }
}
