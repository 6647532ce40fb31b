using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Synthetic;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Tests;

namespace FdrHarness.Rucio.ContainerTests;

/// <summary>Upload mode against nginx with WebDAV PUT (Debian's nginx) as an RSE's storage; the catalog is the in-test Rucio.</summary>
public sealed class NginxUploadTests
{
    private const string Yaml = """
        run: {name: upload, seed: 11, duration: 10s, observation_interval: 1s}
        qos_classes: {FAST: {}}
        rses:
          MOCK: {storage: dcache, quota: 1 TB, attributes: {QOS: FAST}}
        experiments:
          CTA: {files: 60, file_size: {lognormal: {mean: 300 KB, sigma: 1.2, min: 1 B, max: 5 MB}}, files_per_dataset: 20, qos: FAST}
        workload:
          - inject: {name: inject, load: [{inject: {rate: 60, interval: 1s, during: 1s}}]}
        target:
          kind: rucio
          rucio:
            url: http://127.0.0.1:1
            account: root
            injection: upload
            batch_size: 10
            concurrency: 4
            auth: {method: userpass, username: ddmlab, password_env: FAKE_PW}
        """;

    [Fact]
    public async Task Upload_mode_writes_the_synthetic_content_with_the_registered_size_and_adler32()
    {
        Engine.Require();
        await using var nginx = Engine.Nginx();
        await nginx.StartAsync();
        // The catalog is the Rucio double; MOCK's storage is the nginx container, paths as Rucio's identity lfn2pfn makes them.
        await using var rucio = await RucioDouble.StartAsync();
        rucio.AddRse("MOCK", new Dictionary<string, string> { ["QOS"] = "FAST", ["lfn2pfn_algorithm"] = "identity" },
            new DoubleProtocol("http", "127.0.0.1", nginx.GetMappedPublicPort(80), "/data"));
        rucio.AddScope("cta");
        rucio.SetAccountLimit("MOCK", 1L << 50);

        var parsed = ScenarioLoader.Parse(Yaml);
        Assert.True(parsed.Ok, string.Join("\n", parsed.Diagnostics));
        var scenario = parsed.Scenario!;
        var run = await LiveHarness.RunAsync(scenario, new LiveRunOptions
        {
            RucioUrl = rucio.Url,
            Env = n => n == "FAKE_PW" ? rucio.Password : null,
            WaitForDuration = false,
        });
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout);

        // What the storage holds, measured inside the container by Python's zlib.
        var listing = await nginx.ExecAsync(["python3", "-c",
            "import os,zlib\nfor r,_,fs in os.walk('/srv/rse/data'):\n for f in sorted(fs):\n  b=open(os.path.join(r,f),'rb').read()\n  print(os.path.relpath(os.path.join(r,f),'/srv/rse/data'), len(b), '%08x' % (zlib.adler32(b) & 0xffffffff))"]);
        Assert.Equal(0, listing.ExitCode);
        var stored = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => (Bytes: long.Parse(p[1], CultureInfo.InvariantCulture), Adler: p[2]));

        var expected = new SyntheticFileGenerator(scenario.Run.Seed, scenario.Experiments[0], scenario.Run.Scale).ToList();
        Assert.Equal(60, expected.Count);
        Assert.Equal(expected.Count, stored.Count);
        foreach (var f in expected)
        {
            var s = stored[$"{f.Scope}/{f.Name}"];
            Assert.Equal(f.Bytes, s.Bytes);
            Assert.Equal(f.Adler32Hex, s.Adler);
        }
        // And the catalog got every file on MOCK, where Rucio's own PFN (identity: prefix/scope/name) is where it was uploaded.
        var replicas = rucio.Snapshot().Replicas;
        Assert.Equal(60, replicas.Count);
        Assert.All(expected, f => Assert.Contains(($"{f.Scope}:{f.Name}", "MOCK"), replicas));
    }
}
