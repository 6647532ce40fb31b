using System.Globalization;
using FdrHarness.Core.Planning;

namespace FdrHarness.Lake.Tests;

/// <summary>The lake writes ids and checksums with its own hex writer; they read as .NET's "x16"/"x8" formats do.</summary>
public class EventIdTests
{
    [Fact]
    public void IdsAndChecksumsAreTheStandardHexForms()
    {
        var lake = new LakeState(RunPlan.Create(TestScenarios.Load("ci-smoke.yaml")), new RecordingSink());
        Assert.True(lake.Files.Count > 4);
        for (var i = 0; i < 2000; i++)
        {
            var id = lake.Hex32("request", i);
            Assert.Matches("^[0-9a-f]{32}$", id);
            Assert.NotEqual(id, lake.Hex32("request", i + 1));
            var job = lake.FtsJobId(i);
            var h = lake.Hex32("fts-job", i);
            Assert.Equal($"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}", job);
        }
        uint[] checksums = [0, 1, 0xdeadbeef, uint.MaxValue, 0x000a0b0c];
        for (var f = 0; f < lake.Files.Count; f++)
        {
            lake.Files.Adler[f] = f < checksums.Length ? checksums[f] : (uint)(f * 2654435761u);
            Assert.Equal(lake.Files.Adler[f].ToString("x8", CultureInfo.InvariantCulture), lake.AdlerHex(f));
        }
    }

    [Fact]
    public void FileNamesAreTheGeneratorsNames()
    {
        var plan = RunPlan.Create(TestScenarios.Load("ci-smoke.yaml"));
        var lake = new LakeState(plan, new RecordingSink());
        foreach (var e in lake.Experiments.Where(e => e.Generator is not null))
            for (var i = 0; i < e.Files; i += 13)
                Assert.Equal(e.Generator!.GetFile(i).Name, lake.FileName(e.FileOffset + i));
    }
}
