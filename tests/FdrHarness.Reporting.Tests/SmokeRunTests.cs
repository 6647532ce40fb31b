using System.Diagnostics;
using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Exporters;

namespace FdrHarness.Reporting.Tests;

/// <summary>
/// A ci-smoke rehearsal on the embedded lake: the figures of summary.json are recomputed here from the Parquet files
/// with the generic row reader (a different code path from the report's column reader) and must agree.
/// </summary>
public sealed class SmokeRunTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    private static readonly object Gate = new();

    private JsonElement Summary()
    {
        lock (Gate)
        {
            if (!File.Exists(Path.Combine(run.Dir, JsonExporter.FileName))) ReportBuilder.Build(run.Dir, new ReportOptions { LinkTarget = 0.9 });
            return JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Dir, JsonExporter.FileName))).RootElement;
        }
    }

    [Fact]
    public void TransfersAndMatrixAgreeWithTheEvents()
    {
        var json = Summary();
        var events = new ObservationReader(run.Dir).Events().ToList();
        Assert.Equal(events.Count, json.GetProperty("events").GetProperty("total").GetInt64());
        long Count(string type) => events.LongCount(e => e.EventType == type);
        var transfers = json.GetProperty("transfers");
        Assert.Equal(Count("transfer-submitted"), transfers.GetProperty("submitted").GetInt64());
        Assert.Equal(Count("transfer-done"), transfers.GetProperty("done").GetInt64());
        Assert.Equal(Count("transfer-failed"), transfers.GetProperty("failed").GetInt64());
        Assert.Equal(events.Where(e => e.EventType == "transfer-done").Sum(e => e.Bytes ?? 0), transfers.GetProperty("bytes_done").GetInt64());
        Assert.True(Count("transfer-done") > 0, "the smoke run moved nothing: the comparison below would be empty");

        foreach (var type in events.Select(e => e.EventType).Distinct())
            Assert.Equal(Count(type), json.GetProperty("events").GetProperty("by_type").EnumerateArray()
                .Single(c => c.GetProperty("key").GetString() == type).GetProperty("count").GetInt64());

        var links = json.GetProperty("transfer_matrix").GetProperty("links").EnumerateArray().ToList();
        foreach (var g in events.Where(e => e.EventType.StartsWith("transfer-", StringComparison.Ordinal) && e.SrcRse is not null).GroupBy(e => (e.SrcRse, e.DstRse)))
        {
            var cell = links.Single(l => l.GetProperty("src").GetString() == g.Key.SrcRse && l.GetProperty("dst").GetString() == g.Key.DstRse);
            long submitted = g.Count(e => e.EventType == "transfer-submitted"), done = g.Count(e => e.EventType == "transfer-done"),
                failed = g.Count(e => e.EventType is "transfer-failed" or "transfer-submission_failed");
            Assert.Equal(submitted, cell.GetProperty("submitted").GetInt64());
            Assert.Equal(done, cell.GetProperty("done").GetInt64());
            Assert.Equal(failed, cell.GetProperty("failed").GetInt64());
            if (submitted > 0) Assert.Equal(Math.Round((double)done / submitted, 6), cell.GetProperty("done_over_submitted").GetDouble());
            else Assert.Equal(JsonValueKind.Null, cell.GetProperty("done_over_submitted").ValueKind);
        }
        // Every cell without a submission is NO DATA, and the CSV says so too.
        var noData = links.Count(l => l.GetProperty("submitted").GetInt64() == 0);
        Assert.Equal(noData, File.ReadAllLines(Path.Combine(run.Dir, "transfer-matrix.csv")).Count(l => l.EndsWith(",no-data", StringComparison.Ordinal)));
    }

    [Fact]
    public void UsageAndRestartsAgreeWithSamplesAndLifecycle()
    {
        var json = Summary();
        var reader = new ObservationReader(run.Dir);
        var samples = reader.Samples().ToList();
        var lifecycle = reader.Lifecycle().ToList();
        var resources = json.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("daemon").GetString()!);
        Assert.Equal(samples.Select(s => s.Daemon).Distinct().Order(StringComparer.Ordinal), resources.Keys.Order(StringComparer.Ordinal));
        foreach (var g in samples.GroupBy(s => s.Daemon))
        {
            var r = resources[g.Key];
            var running = g.Where(s => s.State == "Running").ToList();
            Assert.Equal(running.Max(s => s.MemoryBytes), r.GetProperty("memory_peak").GetInt64());
            Assert.Equal(Math.Round(running.Max(s => s.CpuCores), 6), r.GetProperty("cpu_peak").GetDouble());
            Assert.Equal(lifecycle.Count(l => l.Daemon == g.Key && l.Event == "oom-killed"), r.GetProperty("oom_killed").GetInt32());
            Assert.Equal(lifecycle.Count(l => l.Daemon == g.Key && l.Event == "killed" && (l.Reason ?? "").StartsWith("chaos:", StringComparison.Ordinal)),
                r.GetProperty("killed_by_chaos").GetInt32());
            Assert.Equal(g.Last().MemoryLimit, r.GetProperty("memory_limit").ValueKind == JsonValueKind.Null ? null : r.GetProperty("memory_limit").GetInt64());
        }
        var faults = reader.Faults().ToList();
        Assert.Equal(faults.Count, json.GetProperty("faults").GetArrayLength());
        Assert.True(faults.Count > 0, "ci-smoke declares chaos; the report must list it");
    }

    [Fact]
    public void EveryFileIsWritten()
    {
        Summary();
        foreach (var f in new[] { "report.html", "report.md", "summary.json" }.Concat(CsvExporter.Files))
            Assert.True(new FileInfo(Path.Combine(run.Dir, f)).Length > 0, f);
        foreach (var p in new[] { "transfer-matrix", "events-over-time", "throughput", "backlog", "rule-completion", "deletion-backlog", "memory-vs-limit" })
        {
            var svg = File.ReadAllText(Path.Combine(run.Dir, "plots", p + ".svg"));
            Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg);
            // Scales when shown at another size (report.html shows the SVG at the page's width).
            Assert.Matches("<svg [^>]*width=\"([0-9]+)\" height=\"([0-9]+)\" viewBox=\"0 0 \\1 \\2\">", svg);
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run.Dir, "plots"), "memory-*.svg"));
        // PNGs only when asked (--png).
        Assert.Empty(Directory.GetFiles(Path.Combine(run.Dir, "plots"), "*.png"));
        // The heatmap is a bitmap of a pixel per cell inside the SVG: drawn pixelated, or a viewer blurs it across cells.
        Assert.Contains("<image style=\"image-rendering:pixelated\" ", File.ReadAllText(Path.Combine(run.Dir, "plots", "transfer-matrix.svg")));
        // Fits a pull-request comment (GitHub's limit is 65,536 characters).
        Assert.True(File.ReadAllText(Path.Combine(run.Dir, "report.md")).Length < 20_000);
    }

    /// <summary>A fresh folder holding the run's observation files, scenario.yaml and run.json (no report yet).</summary>
    private string CopyOfTheRun(string name)
    {
        var copy = Repo.TempDir(name);
        foreach (var f in Directory.GetFiles(run.Dir).Where(f => f.EndsWith(".parquet", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith("run.json", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        return copy;
    }

    [Fact]
    public void SummaryJsonIsDeterministic()
    {
        Summary();
        // Same observations in another folder, built again: byte-identical summary.json.
        var copy = CopyOfTheRun("copy");
        try
        {
            ReportBuilder.Build(copy, new ReportOptions { LinkTarget = 0.9, Plots = false });
            var first = File.ReadAllBytes(Path.Combine(copy, JsonExporter.FileName));
            ReportBuilder.Build(copy, new ReportOptions { LinkTarget = 0.9, Plots = false });
            Assert.Equal(first, File.ReadAllBytes(Path.Combine(copy, JsonExporter.FileName)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(run.Dir, JsonExporter.FileName)), first);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void PlotsDrawnInParallelAreTheSameBytesEveryTime()
    {
        Summary();
        // Plots are drawn on every core: the same observations built twice give byte-identical PNGs and SVGs.
        var copy = CopyOfTheRun("plots");
        try
        {
            ReportBuilder.Build(copy, new ReportOptions { LinkTarget = 0.9, Png = true });
            var plots = Path.Combine(copy, PlotExporter.Folder);
            var first = Directory.GetFiles(plots).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
            Assert.True(first.Count >= 18, $"{first.Count} plot files");
            Directory.Delete(plots, recursive: true);
            ReportBuilder.Build(copy, new ReportOptions { LinkTarget = 0.9, Png = true });
            var second = Directory.GetFiles(plots).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
            Assert.Equal(first.Keys, second.Keys);
            foreach (var (name, bytes) in first) Assert.True(bytes.AsSpan().SequenceEqual(second[name]), $"{name} differs between two builds");
            // Against the run's own report too (drawn in another order, after other plots in this process, without PNGs).
            var svgs = first.Where(f => f.Key.EndsWith(".svg", StringComparison.Ordinal)).ToList();
            Assert.Equal(first.Count / 2, svgs.Count);
            foreach (var (name, bytes) in svgs)
                Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(run.Dir, PlotExporter.Folder, name))), $"{name} differs from the run's");
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void PngsAreWrittenWhenAskedAndNotLeftBehindWhenNot()
    {
        Summary();
        var copy = CopyOfTheRun("png");
        try
        {
            var plots = Path.Combine(copy, PlotExporter.Folder);
            var with = ReportBuilder.Build(copy, new ReportOptions { Png = true });
            var svgs = Directory.GetFiles(plots, "*.svg").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
            Assert.True(svgs.Count >= 9, $"{svgs.Count} plots");
            foreach (var name in svgs)
            {
                var png = File.ReadAllBytes(Path.Combine(plots, name + ".png"));
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
                Assert.Contains($"plots/{name}.png", with.Files);
            }
            Assert.Equal(svgs.Count, Directory.GetFiles(plots, "*.png").Length);

            // Rebuilt without --png: an earlier report's PNGs would not show what the SVGs now do, so none is left.
            var without = ReportBuilder.Build(copy, new ReportOptions { LinkTarget = 0.5 });
            Assert.Empty(Directory.GetFiles(plots, "*.png"));
            Assert.DoesNotContain(without.Files, f => f.EndsWith(".png", StringComparison.Ordinal));
            Assert.Equal(svgs.Count, without.Files.Count(f => f.StartsWith("plots/", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void ClipPathsAreNumberedPerFileInOrderOfAppearance()
    {
        var svg = "<clipPath id=\"cl_12f\"/><g clip-path=\"url(#cl_12f)\"><clipPath id=\"cl_a0\"/><g clip-path=\"url(#cl_a0)\">cl_99 text</g></g>";
        Assert.Equal("<clipPath id=\"cl_0\"/><g clip-path=\"url(#cl_0)\"><clipPath id=\"cl_1\"/><g clip-path=\"url(#cl_1)\">cl_99 text</g></g>",
            PlotExporter.NumberClipPaths(svg));
    }

    [Fact]
    public async Task HtmlRendersInHeadlessChromiumAt1400And800PixelsWithEverySectionAndEveryDeclaredRse()
    {
        Summary();
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: run scripts/browser.sh (installs Debian's chromium) before the tests");
        var report = new Uri(Path.Combine(run.Dir, "report.html")).AbsoluteUri;
        var dom = await Chromium(chromium, "--dump-dom", report);
        foreach (var section in HtmlExporter.Sections)
            Assert.Contains($">{section}</h2>", dom);
        // The plots' SVG inline, as data: URLs (each its own document: the plots' clip-path ids do not collide).
        var images = System.Text.RegularExpressions.Regex.Matches(dom, "<img [^>]*src=\"data:image/svg\\+xml,%3Csvg ").Count;
        Assert.True(images >= 7, $"{images} inline images in the rendered page");
        Assert.DoesNotContain("src=\"http", dom); // opens offline: nothing fetched

        // Every RSE the scenario declares is a row and a column of the matrix, with or without traffic: in the table
        // the page shows and in the heatmap drawn above it (its SVG twin carries the same labels as text).
        var declared = Core.Scenarios.ScenarioLoader.Load(Path.Combine(run.Dir, "scenario.yaml")).Scenario!.Rses.Select(r => r.Name).ToList();
        var table = dom[dom.IndexOf("<table class=\"matrix\">", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("</table>", StringComparison.Ordinal)];
        var svg = File.ReadAllText(Path.Combine(run.Dir, "plots", "transfer-matrix.svg"));
        foreach (var rse in declared)
        {
            Assert.Contains($"<th>{rse}</th>", table);
            Assert.Contains($"<th class=\"l\">{rse}</th>", table);
            Assert.True(System.Text.RegularExpressions.Regex.Matches(svg, System.Text.RegularExpressions.Regex.Escape(rse)).Count >= 2, $"{rse} is not both a row and a column of the heatmap");
        }
        Assert.Equal(declared.Count * declared.Count, System.Text.RegularExpressions.Regex.Matches(table, "<td").Count);

        // Both widths render: a wide screen and a narrow window (tables scroll inside their box, plots shrink).
        foreach (var width in new[] { 1400, 800 })
        {
            var png = Path.Combine(run.Dir, $"screenshot-{width}.png");
            await Chromium(chromium, $"--window-size={width},3000", "--hide-scrollbars", $"--screenshot={png}", report);
            var bytes = File.ReadAllBytes(png);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            // IHDR: width and height, big-endian, at bytes 16 and 20.
            Assert.Equal(width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
            Assert.Equal(3000, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
            Assert.True(bytes.Length > 50_000, $"the {width} px screenshot is {bytes.Length} bytes: an empty page?");
        }
    }

    /// <summary>Headless Chromium on its own profile; returns what it printed on stdout.</summary>
    private static async Task<string> Chromium(string chromium, params string[] args)
    {
        var profile = Repo.TempDir("chromium");
        try
        {
            var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}" }.Concat(args))
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await errors}");
            return output;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void TheRunFactsAreRunJsonsAsItsDeserializerReadsThem()
    {
        var copy = Repo.TempDir("run-json");
        try
        {
            foreach (var f in Directory.GetFiles(run.Dir).Where(f => f.EndsWith(".parquet", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal)))
                File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            var written = File.ReadAllText(Path.Combine(run.Dir, RunDirectory.RunFile));
            // As written by a run; other values; every field absent; a field of the wrong kind (then as if there were no run.json).
            foreach (var json in new[] { written, """{"scenario":"other","seed":7,"target":"rucio","scale":0.5,"host":"h"}""", "{}", """{"seed":"7"}""" })
            {
                File.WriteAllText(Path.Combine(copy, RunDirectory.RunFile), json);
                RunInfo? info;
                try { info = RunDirectory.Open(copy).ReadRunInfo(); }
                catch (JsonException) { info = null; }
                var scenario = Analysis.SummaryBuilder.LoadScenario(copy)!;
                var facts = Analysis.SummaryBuilder.Build(copy, new ReportOptions { Plots = false }).Run;
                Assert.Equal((info?.Scenario ?? scenario.Run.Name, info?.Seed ?? scenario.Run.Seed, info?.Target ?? "embedded", info?.Scale ?? scenario.Run.Scale),
                    (facts.Scenario, facts.Seed, facts.Target, facts.Scale));
            }
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
