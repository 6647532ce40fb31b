using System.Globalization;
using FdrHarness.Core.Planning;

namespace FdrHarness.Lake.Tests;

/// <summary>The lake writes ids and checksums with its own hex writer; they read as .NET's "x16"/"x8" formats do.</summary>
public class EventIdTests
{
    [Fact]
    public void IdsAndChecksumsAreTheStandardHexForms()
    {
        var lake = new LakeParts(RunPlan.Create(TestScenarios.Load("ci-smoke.yaml")), new RecordingSink());
        var (ids, dids) = (lake.Context, lake.Dids);
        Assert.True(dids.Files.Count > 4);
        for (var i = 0; i < 2000; i++)
        {
            var id = ids.Hex32("request", i);
            Assert.Matches("^[0-9a-f]{32}$", id);
            Assert.NotEqual(id, ids.Hex32("request", i + 1));
            var job = ids.FtsJobId(i).Text;
            var h = ids.Hex32("fts-job", i);
            Assert.Equal($"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}", job);
        }
        uint[] checksums = [0, 1, 0xdeadbeef, uint.MaxValue, 0x000a0b0c];
        for (var f = 0; f < dids.Files.Count; f++)
        {
            dids.Files.Adler[f] = f < checksums.Length ? checksums[f] : (uint)(f * 2654435761u);
            dids.Files.AdlerKnown[f] = true;
            Assert.Equal(dids.Files.Adler[f].ToString("x8", CultureInfo.InvariantCulture), dids.AdlerHex(f));
        }
    }

    [Fact]
    public void ChecksumsMadeOnFirstUseAreTheGeneratorsChecksums()
    {
        var plan = RunPlan.Create(TestScenarios.Load("ci-smoke.yaml"));
        var dids = new LakeParts(plan, new RecordingSink()).Dids;
        var checkedFiles = 0;
        foreach (var e in dids.Experiments.Where(e => e.Generator is not null))
            for (var i = 0; i < e.Files; i += 13)
            {
                var file = e.Generator!.GetFile(i);
                dids.Files.Bytes[e.FileOffset + i] = file.Bytes; // as registering the file sets it
                Assert.False(dids.Files.AdlerKnown[e.FileOffset + i]);
                Assert.Equal(file.Adler32, dids.Adler(e.FileOffset + i));
                Assert.Equal(file.Adler32Hex, dids.AdlerHex(e.FileOffset + i)); // the kept one reads the same
                checkedFiles++;
            }
        Assert.True(checkedFiles > 10);
    }

    [Fact]
    public void FileNamesAreTheGeneratorsNames()
    {
        var plan = RunPlan.Create(TestScenarios.Load("ci-smoke.yaml"));
        var dids = new LakeParts(plan, new RecordingSink()).Dids;
        foreach (var e in dids.Experiments.Where(e => e.Generator is not null))
            for (var i = 0; i < e.Files; i += 13)
                Assert.Equal(e.Generator!.GetFile(i).Name, dids.FileName(e.FileOffset + i));
    }
}
