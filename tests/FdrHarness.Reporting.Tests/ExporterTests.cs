using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using FdrHarness.Reporting.Analysis;
using FdrHarness.Reporting.Exporters;
using SkiaSharp;

namespace FdrHarness.Reporting.Tests;

/// <summary>The exporters' shortcuts give what the plain way gives: summary.json's text, the SVG in report.html, the plots' threads.</summary>
public sealed class ExporterTests(SmokeRun run) : IClassFixture<SmokeRun>
{
    /// <summary>summary.json's settings with reflection only: how summary.json was written before the generated serializer.</summary>
    private static readonly JsonSerializerOptions Reflection = ReflectionOnly();

    private static JsonSerializerOptions ReflectionOnly()
    {
        var options = new JsonSerializerOptions(JsonExporter.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        options.Converters.Remove(options.Converters.OfType<SummaryConverter>().Single());
        return options;
    }

    private Summary Smoke() => SummaryBuilder.Build(run.Dir, new ReportOptions { Plots = false });

    [Fact]
    public void SummaryJsonIsTheReflectionSerializersText()
    {
        var s = Smoke();
        Assert.True(s.Resources.Count > 0 && s.TransferMatrix.Links.Count > 0, "the smoke summary is empty: the comparison would prove little");
        Assert.Equal(JsonSerializer.Serialize(s, Reflection) + "\n", JsonExporter.ToJson(s));
    }

    [Fact]
    public void SummaryJsonEscapesStringsAsTheRelaxedEncoderDid()
    {
        // Every kind of character the two escapings could treat differently: HTML-sensitive, quotes and backslash,
        // control characters, non-ASCII of the BMP, a surrogate pair.
        const string odd = "é<b>&'\"\\ a+b `x` \n\t\u0001\u007f →≤ 😀 \u2028";
        var s = Smoke();
        s = s with
        {
            Run = s.Run with { Scenario = odd, Target = odd },
            Incidents = [.. s.Incidents, new PodIncident(s.Run.Start, odd, odd, odd, odd)],
        };
        var json = JsonExporter.ToJson(s);
        Assert.Equal(JsonSerializer.Serialize(s, Reflection) + "\n", json);
        Assert.Equal(odd, JsonDocument.Parse(json).RootElement.GetProperty("run").GetProperty("scenario").GetString());
    }

    [Fact]
    public void TheThresholdsSeeTheSameSummary()
    {
        // The thresholds read the summary as a JsonNode through JsonExporter.Options (now on the generated metadata).
        var s = Smoke();
        Assert.True(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(s, Reflection), JsonSerializer.SerializeToNode(s, JsonExporter.Options)));
    }

    [Fact]
    public void SvgInADataUrlDecodesToTheSvg()
    {
        const string svg = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"5\" viewBox=\"0 0 10 5\">\n"
            + "\t<path fill=\"#2e7d32\" clip-path=\"url(#cl_0)\" d=\"M1 2L3 4\"/>\n\t<text x=\"1, 2, \">\n\t\t\tA &amp; B's 100% → 5\n\t</text>\n</svg>";
        var url = Encoding.UTF8.GetString(HtmlExporter.SvgUrl(Encoding.UTF8.GetBytes(svg)));
        foreach (var c in "'#&<>\n\t") Assert.DoesNotContain(c, url);
        Assert.Equal("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"5\" viewBox=\"0 0 10 5\">"
            + "<path fill=\"#2e7d32\" clip-path=\"url(#cl_0)\" d=\"M1 2L3 4\"/><text x=\"1, 2, \">A &amp; B's 100% → 5</text></svg>", Uri.UnescapeDataString(url));
    }

    [Fact]
    public void PlotsRunEachIndexOnceAndRethrowTheFailure()
    {
        var seen = new int[100];
        PlotExporter.OnEveryCore(seen.Length, i => Interlocked.Increment(ref seen[i]));
        Assert.All(seen, n => Assert.Equal(1, n));

        var e = Assert.Throws<IOException>(() => PlotExporter.OnEveryCore(50, i => { if (i == 7) throw new IOException("disk full"); }));
        Assert.Equal("disk full", e.Message);
    }

    [Fact]
    public void WorkBeforeThePlotsRunsFirstAndItsFailureIsDropped()
    {
        // The early plots are drawn on the plots' first thread before the report's plots, which read what they made.
        var cores = new PlotExporter.CoreWork(helpers: 1);
        var made = 0;
        cores.Before(() => throw new IOException("only a head start"));
        cores.Before(() => made = 1);
        var seen = new int[20];
        cores.Post(seen.Length, i => seen[i] = made);
        cores.Finish();
        Assert.All(seen, n => Assert.Equal(1, n));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APlotRecordedOnceGivesThePngAndSvgScottPlotDraws(bool heatmap)
    {
        // The PNG and the SVG are played back from one recording of the plot; ScottPlot draws each itself. Every kind of
        // plottable the report uses: the render before the recording settles them with only the layout's actions, and a
        // plot with a heatmap (whose colour bar is measured from what drawing the heatmap computes) with all of them.
        ScottPlot.Plot Sample()
        {
            var p = new ScottPlot.Plot();
            p.Add.ScatterLine(new double[] { 0, 1, 2, 3 }, new double[] { 1, 3, 2, 4 }).LegendText = "a";
            p.Add.VerticalLine(1.5);
            p.Add.HorizontalLine(2.5);
            p.Add.Text("1.0 % →", 1, 1);
            p.Add.Rectangle(0.5, 1, 1, 2);
            var right = p.Add.ScatterLine(new double[] { 0, 1, 2, 3 }, new double[] { 400, 300, 200, 1000 });
            right.Axes.YAxis = p.Axes.Right;
            p.Axes.Right.Label.Text = "right";
            p.Add.Bars(new double[] { 1, 2, 3 });
            if (heatmap) p.Add.ColorBar(p.Add.Heatmap(new double[,] { { 0, 1 }, { 1, 0 } }));
            p.Axes.Bottom.SetTicks([0, 1, 2, 3], ["zero", "one", "two", "three"]);
            p.Axes.Bottom.TickLabelStyle.Rotation = 90;
            p.ShowLegend(ScottPlot.Edge.Right);
            p.Title("sample");
            p.XLabel("hours");
            return p;
        }
        var (direct, recorded) = (Sample(), Sample());
        using var surface = SKSurface.Create(new SKImageInfo(640, 320, SKColorType.Rgba8888, SKAlphaType.Premul));
        direct.Render(surface.Canvas, 640, 320);
        Assert.Equal(2, direct.RenderManager.RenderCount);
        var actions = recorded.RenderManager.RenderActions.ToList();
        using var picture = PlotExporter.Picture(recorded, 640, 320);
        Assert.Equal(3, recorded.RenderManager.RenderCount);
        Assert.Equal(actions, recorded.RenderManager.RenderActions); // restored
        using var image = surface.Snapshot();
        using var drawn = image.Encode(SKEncodedImageFormat.Png, 100);
        using var expected = SKBitmap.Decode(drawn);
        using var played = SKBitmap.Decode(PlotExporter.Png(picture, 640, 320));
        Assert.Equal(expected.GetPixelSpan().ToArray(), played.GetPixelSpan().ToArray());
        // The SVG written into Skia's own stream is ScottPlot's GetSvgXml, byte for byte (clip paths named per file:
        // Skia numbers them per process).
        Assert.Equal(PlotExporter.NumberClipPaths(direct.GetSvgXml(640, 320)), PlotExporter.NumberClipPaths(PlotExporter.SvgXml(picture, 640, 320)));
        Assert.True(recorded.RenderManager.ClearCanvasBeforeEachRender, "the plot's setting is restored");
    }

    [Fact]
    public void PlotsDrawnWhileTheEventsAreReadAreTheOnesDrawnAfter()
    {
        var s = Smoke();
        var plain = Written(s, null);
        var name = Path.GetFileNameWithoutExtension(plain.First(f => f.StartsWith("cpu-", StringComparison.Ordinal)).Split(' ')[0]);
        var early = PlotExporter.DrawEarly(s, png: true, () => false);
        Assert.Equal(plain, Written(s, early));

        // Drawn on another time axis than the events' (the events began earlier): drawn again.
        var shifted = PlotExporter.DrawEarly(s with { OverTime = s.OverTime with { Start = s.OverTime.Start.AddMinutes(-10) } }, png: true, () => false);
        Assert.NotEqual(early.Drawn[name].Svg, shifted.Drawn[name].Svg);
        Assert.Equal(plain, Written(s, shifted));

        // On the events' axis: written as drawn, not drawn again.
        early.Drawn[name] = shifted.Drawn[name];
        Assert.Contains($"{name}.svg {Hash(Encoding.UTF8.GetBytes(shifted.Drawn[name].Svg))}", Written(s, early));
    }

    /// <summary>Each file of plots/ as its name and a hash of its bytes, in name order.</summary>
    private static List<string> Written(Summary s, PlotExporter.Early? early)
    {
        var dir = Repo.TempDir("plots");
        try
        {
            PlotExporter.Start(s, dir, png: true, early).Finish();
            return Directory.GetFiles(Path.Combine(dir, PlotExporter.Folder)).Order(StringComparer.Ordinal)
                .Select(f => $"{Path.GetFileName(f)} {Hash(File.ReadAllBytes(f))}").ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
}
