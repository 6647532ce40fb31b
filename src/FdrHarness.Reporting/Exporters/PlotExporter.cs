using System.Text;
using System.Text.RegularExpressions;
using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Analysis;
using ScottPlot;
using ScottPlot.Rendering.RenderActions;
using SkiaSharp;
using static FdrHarness.Reporting.Exporters.ReportFiles;

namespace FdrHarness.Reporting.Exporters;

/// <summary>
/// plots/*.svg, and *.png when asked (<see cref="ReportOptions.Png"/>): the seed's panels, drawn so the problem is visible
/// without reading numbers.
/// </summary>
public sealed partial class PlotExporter : IExporter
{
    public IEnumerable<string> Export(ExportContext context)
    {
        if (!context.Options.Plots) return [];
        context.Plots = (context.Drawing ?? Start(context.Summary, context.RunDir, context.Options.Png)).Finish();
        return context.Plots.SelectMany(p => context.Options.Png ? new[] { $"{Folder}/{p.Name}.png", $"{Folder}/{p.Name}.svg" } : [$"{Folder}/{p.Name}.svg"]);
    }


    public const string Folder = "plots";

    private static readonly Color Good = Color.FromHex("#2e7d32"), Warn = Color.FromHex("#ef6c00"), Bad = Color.FromHex("#c62828"),
        NoData = Color.FromHex("#e0e0e0"), FaultColor = Color.FromHex("#6a1b9a"), LimitColor = Color.FromHex("#c62828");

    /// <summary>
    /// One plot written as SVG (and PNG); <see cref="SvgUrl"/>, the SVG as report.html inlines it (<see cref="HtmlExporter.SvgUrl"/>,
    /// UTF-8), is made by the plots' threads: report.html, written once every plot is, is ~1.7 MB of these.
    /// </summary>
    public sealed record PlotFile(string Name, string Title, byte[] SvgUrl);

    public static IReadOnlyList<PlotFile> Write(Summary s, string dir, bool png = false) => Start(s, dir, png).Finish();

    /// <summary>
    /// The plots of one report, drawn on a dedicated thread per other core and, from <see cref="Finish"/> on, on the
    /// caller's thread too. Made before the summary: while the events are read the first of those threads warms up or
    /// draws the plots that need no events (<see cref="DrawEarly(Summary, bool, Func{bool})"/>), and goes on drawing them while
    /// the summary is composed, then with the report's plots as soon as they are <see cref="Start(Summary)"/>ed.
    /// </summary>
    public sealed class Drawing
    {
        internal Drawing(string dir, bool png, Early? early = null)
        {
            _folder = Path.Combine(dir, Folder);
            _png = png;
            _early = early;
            _work = new CoreWork(Environment.ProcessorCount - 1);
        }

        private readonly string _folder;
        private readonly bool _png;
        private readonly CoreWork _work;
        private Early? _early;
        private PlotFile[] _files = [];

        /// <summary>The first use of ScottPlot's and Skia's code and fonts (<see cref="PlotExporter.WarmUp"/>), on another core.</summary>
        internal void WarmUp() => _work.Before(() => PlotExporter.WarmUp(_png));

        /// <summary>
        /// The plots that need no events, drawn on another core until the report's plots start (<see cref="PlotExporter.DrawEarly"/>):
        /// through the event pass and then the summary's composition, which would leave that core idle.
        /// </summary>
        internal void DrawEarly(Summary withoutEvents) =>
            _work.Before(() => _early = PlotExporter.DrawEarly(withoutEvents, _png, () => _work.Posted || _work.Stopping));

        /// <summary>Starts the report's plots: they need only the summary, not the verdict or the other formats.</summary>
        internal void Start(Summary s)
        {
            Directory.CreateDirectory(_folder);
            var plots = Specs(s);
            // Each plot is drawn on its own canvas (ScottPlot caches typefaces thread-safely): on every core, in the list's order.
            var files = _files = new PlotFile[plots.Count];
            _work.Post(plots.Count, i => files[i] = Save(_folder, plots[i], Valid(_early, plots[i], s.OverTime) ?? Draw(plots[i], _png)));
        }

        /// <summary>Every plot, once all are written; the first failure as it was thrown.</summary>
        public IReadOnlyList<PlotFile> Finish()
        {
            _work.Finish();
            return _files;
        }

        /// <summary>No more plots started; returns when the ones being drawn are written (nothing writes after the report failed).</summary>
        public void Stop() => _work.Stop();
    }

    /// <summary>Draws the plots of <paramref name="s"/> into <paramref name="dir"/>/plots, from the other cores and then from <see cref="Drawing.Finish"/>'s.</summary>
    /// <param name="early">Plots drawn while the event pass ran (<see cref="DrawEarly(Summary, bool, Func{bool})"/>): those still valid are only written.</param>
    internal static Drawing Start(Summary s, string dir, bool png, Early? early = null)
    {
        var drawing = new Drawing(dir, png, early);
        drawing.Start(s);
        return drawing;
    }

    /// <summary>What a plot is drawn from: the summary's figures of the other files only, with its time axis, or with the events.</summary>
    private enum Needs { NoEvents, TimeAxis, Events }

    private static List<PlotSpec> Specs(Summary s)
    {
        // Text must render the same on every machine: one font that Debian ships (fonts-dejavu-core).
        Fonts.Default = "DejaVu Sans";
        var plots = new List<PlotSpec>
        {
            new("transfer-matrix", "Transfer matrix: done/submitted", () => Matrix(s), MatrixSize(s), MatrixSize(s) - 100),
            new("memory-vs-limit", "Peak memory against the limit, per daemon", () => MemoryVsLimit(s), Wide, 220 + 26 * s.Resources.Count, Needs.NoEvents),
            new("events-over-time", "Events by type over time", () => EventsOverTime(s), Wide, 440),
            new("events-by-scope", "Events by scope over time", () => Series(s, s.OverTime.EventsByScope, "events per minute by scope"), Wide, 400),
            new("events-by-protocol", "Transfer and deletion events by protocol over time", () => Series(s, s.OverTime.EventsByProtocol.Where(kv => kv.Key != "-").ToDictionary(), "events per minute by protocol"), Wide, 400),
            new("throughput", "Throughput of completed transfers", () => Throughput(s), Wide, 400),
            new("backlog", "Backlog of each daemon's queue", () => Backlog(s), Wide, 440),
            new("deletion-backlog", "Deletion backlog (reaper, undertaker) and deletions", () => DeletionBacklog(s), Wide, 400),
            new("rule-completion", "Rule completion time (first transfer request to RULE_OK)", () => RuleCompletionPlot(s), Wide, 380),
        };
        foreach (var u in WorthAPlot(s))
        {
            plots.Add(new($"cpu-{u.Daemon}", $"{u.Daemon}: CPU", () => Resource(s, u, memory: false), 760, 300, Needs.TimeAxis));
            plots.Add(new($"memory-{u.Daemon}", $"{u.Daemon}: memory", () => Resource(s, u, memory: true), 760, 300, Needs.TimeAxis));
        }
        return plots;
    }

    /// <summary>
    /// The plots that need no events, drawn (not written: a failed report writes none) from the summary without the
    /// events while the report waits for them, until <paramref name="stop"/>. A daemon's CPU and memory use the time axis
    /// guessed from the other files; they are drawn again if the events widen it.
    /// </summary>
    internal static Early DrawEarly(Summary withoutEvents, bool png, Func<bool> stop)
    {
        var early = new Early(withoutEvents.OverTime);
        foreach (var spec in Specs(withoutEvents).Where(p => p.Needs != Needs.Events))
        {
            if (stop()) return early;
            early.Drawn[spec.Name] = Draw(spec, png);
        }
        // Time left: the elements only the event plots use (the matrix's heatmap) get their first use too.
        if (!stop()) WarmUp(png);
        return early;
    }

    /// <summary>Plots drawn before the events were read, and the time axis they were drawn on.</summary>
    internal sealed record Early(OverTime Axis)
    {
        internal Dictionary<string, (byte[]? Png, string Svg)> Drawn { get; } = new(StringComparer.Ordinal);
    }

    private static (byte[]? Png, string Svg)? Valid(Early? early, PlotSpec spec, OverTime final) =>
        early is not null && early.Drawn.TryGetValue(spec.Name, out var drawn) && (spec.Needs == Needs.NoEvents
            || spec.Needs == Needs.TimeAxis && (early.Axis.Start, early.Axis.BinSeconds, early.Axis.Bins) == (final.Start, final.BinSeconds, final.Bins)) ? drawn : null;

    /// <summary>
    /// Draws a small throwaway plot with the elements the report's plots use (lines with a legend, dashed lines, text,
    /// bars, a heatmap with its colour bar, a right axis, custom ticks), as SVG (and PNG), writing nothing: the first plot
    /// of a process spends most of its time loading and compiling ScottPlot's and Skia's code and fonts. Called where a
    /// core would otherwise wait (the summary waiting for the event pass), so the real plots start warm. Never throws: a
    /// real failure shows again, with its file, when the plots are drawn.
    /// </summary>
    internal static void WarmUp(bool png)
    {
        try
        {
            Fonts.Default = "DejaVu Sans";
            var p = NewPlot();
            double[] xs = [0, 1, 2, 3], ys = [1, 3, 2, 4];
            p.Add.ScatterLine(xs, ys).LegendText = "a";
            var right = p.Add.ScatterLine(xs, ys);
            right.LegendText = "b";
            right.Axes.YAxis = p.Axes.Right;
            p.Axes.Right.Label.Text = "b";
            p.Add.VerticalLine(1.5, 1.5f, LimitColor, LinePattern.Dashed).LegendText = "c";
            p.Add.HorizontalLine(2, 1, Colors.White);
            p.Add.Text("1.0 %", 1, 1);
            p.Add.Bars(ys);
            p.Add.ColorBar(p.Add.Heatmap(new double[,] { { 0, 1 }, { 1, 0 } }));
            p.Axes.Bottom.SetTicks(xs, ["a", "b", "c", "d"]);
            p.Axes.Bottom.TickLabelStyle.Rotation = 90;
            p.ShowLegend(Edge.Right);
            p.Title("warm-up");
            p.XLabel("hours");
            p.YLabel("events");
            using var picture = Picture(p, 320, 200);
            if (png) Png(picture, 320, 200);
            Svg(picture, 320, 200);
        }
        catch (Exception)
        {
            // Nothing to do: the real plots report their own failures.
        }
    }

    private sealed record PlotSpec(string Name, string Title, Func<Plot> Draw, int Width, int Height, Needs Needs = Needs.Events);

    /// <summary>Plots are drawn as wide as report.html shows them (full width), so text is not shrunk.</summary>
    private const int Wide = 1500;

    private static int MatrixSize(Summary s) => Math.Clamp(320 + 46 * s.TransferMatrix.Destinations.Count, 700, 1500);

    /// <summary>
    /// Daemons whose CPU and memory over time are worth a plot: OOMKilled, killed, limits changed, or a backlog. The
    /// others ran flat: their figures are in the usage table, and a page of flat lines hides the few that matter.
    /// </summary>
    public static IEnumerable<ResourceUsage> WorthAPlot(Summary s) => s.Resources.Where(u =>
        u.OomKilled + u.KilledByChaos + u.KilledOther + u.Restarts > 0 || u.InitialCpuLimit is not null || u.InitialMemoryLimit is not null || u.PeakBacklog > 0);

    private static (byte[]? Png, string Svg) Draw(PlotSpec spec, bool png)
    {
        using var picture = Picture(spec.Draw(), spec.Width, spec.Height);
        return (png ? Png(picture, spec.Width, spec.Height) : null, Svg(picture, spec.Width, spec.Height));
    }

    private static PlotFile Save(string folder, PlotSpec spec, (byte[]? Png, string Svg) drawn)
    {
        // Atomic like every file of a run, not flushed to disk: `fdr report` makes them again from the observations.
        // Without a PNG, an earlier report's is removed: it would not show what the SVG beside it shows.
        var png = Path.Combine(folder, spec.Name + ".png");
        if (drawn.Png is { } bytes) RunDirectory.WriteAtomically(png, bytes, durable: false);
        else File.Delete(png);
        var svg = Encoding.UTF8.GetBytes(drawn.Svg);
        RunDirectory.WriteAtomically(Path.Combine(folder, spec.Name + ".svg"), svg, durable: false);
        return new PlotFile(spec.Name, spec.Title, HtmlExporter.SvgUrl(svg));
    }

    /// <summary>
    /// The plot's drawing, recorded once and played back onto the PNG's raster surface and the SVG canvas: ScottPlot's
    /// layout, ticks and text measuring run once for both (the same PNG and SVG bytes as rendering the plot onto each,
    /// cmp on the ESCAPE run's 82 files). ScottPlot draws a plot twice the first time it renders it (the second pass with
    /// the layout the first measured): that first time goes onto a canvas that draws nothing, not into a picture thrown
    /// away, and runs only the actions that settle the axes, layout and ticks (<see cref="Settles"/>) unless the plot has a
    /// heatmap: the settling renders of escape-fdr-2020's 41 plots took 164–218 ms of CPU drawing onto nothing, 99–141 ms
    /// without, and the recording is the same, byte for byte (the test draws each kind of plottable the report uses both
    /// ways). Recorded without clearing the canvas (an SVG would keep the clear as a black rectangle); the raster surface
    /// is cleared as ScottPlot clears it.
    /// </summary>
    internal static SKPicture Picture(Plot plot, int width, int height)
    {
        var bounds = new SKRect(0, 0, width, height);
        var actions = plot.RenderManager.RenderActions;
        var all = actions.ToArray();
        // A heatmap computes its colour range as it is drawn, and its colour bar is measured from that range: such a plot
        // settles with every action.
        if (!plot.PlottableList.Any(p => p is IHasColorAxis)) actions.RemoveAll(a => !Settles(a));
        try
        {
            using var nowhere = new SKNoDrawCanvas(width, height);
            plot.Render(nowhere, width, height);
        }
        finally
        {
            actions.Clear();
            actions.AddRange(all);
        }
        using var recorder = new SKPictureRecorder();
        var clear = plot.RenderManager.ClearCanvasBeforeEachRender;
        plot.RenderManager.ClearCanvasBeforeEachRender = false;
        try
        {
            plot.Render(recorder.BeginRecording(bounds), width, height);
        }
        finally
        {
            plot.RenderManager.ClearCanvasBeforeEachRender = clear;
        }
        return recorder.EndRecording();
    }

    /// <summary>
    /// The render actions that settle a plot's axes, layout and ticks (what the next render draws from); the others only
    /// draw, and the settling renders go onto a canvas that draws nothing.
    /// </summary>
    private static bool Settles(IRenderAction action) => action is PreRenderLock or ReplaceNullAxesWithDefaults or AutoScaleUnsetAxes
        or ContinuouslyAutoscale or ExecutePlottableAxisManagers or ApplyAxisRulesBeforeLayout or CalculateLayout
        or ApplyAxisRulesAfterLayout or RegenerateTicks;

    /// <summary>
    /// PNG with one filter (Up) at zlib level 3 instead of Skia's default (every filter tried per row, zlib 6), the same
    /// pixels: on the ESCAPE run's 41 plots about 0.5 CPU-s less (a fifth of <c>fdr report</c>) for 8.6 % more bytes
    /// (1.65 to 1.79 MB). report.html shows the SVG, so the PNGs' size is only plots/' (README, Benchmarks).
    /// </summary>
    private static readonly SKPngEncoderOptions PngOptions = new(SKPngEncoderFilterFlags.Up, zLibLevel: 3);

    /// <summary>The plot as ScottPlot's GetImageBytes draws it (RGBA, premultiplied), encoded with <see cref="PngOptions"/>.</summary>
    internal static byte[] Png(SKPicture picture, int width, int height)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Skia could not make a {width}x{height} surface");
        surface.Canvas.Clear();
        surface.Canvas.DrawPicture(picture);
        using var pixels = surface.PeekPixels() ?? throw new InvalidOperationException("Skia gave no pixels for a raster surface");
        using var data = pixels.Encode(PngOptions) ?? throw new InvalidOperationException("Skia could not encode the plot as PNG");
        return data.ToArray();
    }

    /// <summary>
    /// The plot as SVG, its clip paths numbered per file, with a viewBox (Skia writes only width and height) so that it
    /// scales when shown at another size, as report.html shows it; and its bitmaps (the matrix's heatmap, a colour bar:
    /// a pixel per cell, scaled up) drawn pixelated, as the PNG draws them, not blurred across cells by the viewer.
    /// </summary>
    internal static string Svg(SKPicture picture, int width, int height)
    {
        var svg = NumberClipPaths(SvgXml(picture, width, height)).Replace("<image ", "<image style=\"image-rendering:pixelated\" ", StringComparison.Ordinal);
        var size = $" width=\"{width.ToString(C)}\" height=\"{height.ToString(C)}\">";
        var at = svg.IndexOf(size, StringComparison.Ordinal);
        return at < 0 ? svg : svg.Insert(at + size.Length - 1, $" viewBox=\"0 0 {width.ToString(C)} {height.ToString(C)}\"");
    }

    /// <summary>
    /// What ScottPlot's GetSvgXml returns (the canvas closed; its text), written into Skia's own memory stream: GetSvgXml
    /// hands Skia a .NET MemoryStream, so every token of the XML was a call from native code back into managed code.
    /// </summary>
    internal static string SvgXml(SKPicture picture, int width, int height)
    {
        using var stream = new SKDynamicMemoryWStream();
        using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), stream))
            canvas.DrawPicture(picture);
        using var data = stream.DetachAsData();
        return Encoding.UTF8.GetString(data.AsSpan());
    }

    /// <summary>Runs <paramref name="work"/>(0..count-1) on this thread and one dedicated thread per other core (<see cref="CoreWork"/>).</summary>
    internal static void OnEveryCore(int count, Action<int> work)
    {
        var cores = new CoreWork(Math.Min(Environment.ProcessorCount, count) - 1);
        cores.Post(count, work);
        cores.Finish();
    }

    /// <summary>
    /// Dedicated threads, started at once, that run <see cref="Before"/>'s work (the first of them), then take the
    /// indexes of the work <see cref="Post"/>ed, in order, with the thread that calls <see cref="Finish"/>. Not the thread
    /// pool: on 2 cores a pool thread busy elsewhere leaves the work waiting for the pool's starvation delay. The first
    /// failure of the posted work is rethrown as it was thrown (an IOException for a full disk).
    /// </summary>
    internal sealed class CoreWork
    {
        private static readonly Exception Stopped = new OperationCanceledException();
        private readonly List<Thread> _helpers;
        private readonly object _gate = new(); // Monitor.Wait: a Lock has no condition wait
        private readonly Queue<Action> _before = new();
        private bool _posted, _beforeDone;
        private int _count;
        private Action<int> _work = _ => { };
        private int _next = -1;
        private Exception? _failure;

        public CoreWork(int helpers)
        {
            _helpers = Enumerable.Range(0, Math.Max(helpers, 0))
                .Select(h => new Thread(h == 0 ? First : Loop) { IsBackground = true, Name = "fdr plots" }).ToList();
            _beforeDone = _helpers.Count == 0;
            foreach (var t in _helpers) t.Start();
        }

        /// <summary>Whether <see cref="Stop"/> was called or the posted work failed: work done before it may end early.</summary>
        public bool Stopping => Volatile.Read(ref _failure) is not null;

        /// <summary>Whether the work was <see cref="Post"/>ed: work done before it may end early.</summary>
        public bool Posted => Volatile.Read(ref _posted);

        /// <summary>
        /// Work for the first thread before the posted work (on this thread at once when there is no other core). Its
        /// failure is dropped: what it prepares is only a head start, and the posted work meets the same failure again.
        /// </summary>
        public void Before(Action work)
        {
            if (_helpers.Count == 0)
            {
                Run(work);
                return;
            }
            lock (_gate)
            {
                _before.Enqueue(work);
                Monitor.PulseAll(_gate);
            }
        }

        public void Post(int count, Action<int> work)
        {
            lock (_gate)
            {
                (_count, _work, _posted) = (count, work, true);
                Monitor.PulseAll(_gate);
            }
        }

        private static void Run(Action work)
        {
            try { work(); }
            catch (Exception) { /* see Before */ }
        }

        private void First()
        {
            while (true)
            {
                Action work;
                lock (_gate)
                {
                    while (_before.Count == 0 && !_posted) Monitor.Wait(_gate);
                    if (_before.Count == 0 || Stopping) break;
                    work = _before.Dequeue();
                }
                Run(work);
            }
            lock (_gate)
            {
                _beforeDone = true;
                Monitor.PulseAll(_gate);
            }
            Loop();
        }

        private void Loop()
        {
            // The posted work may read what the work before it made.
            lock (_gate)
                while (!(_posted && _beforeDone)) Monitor.Wait(_gate);
            int i;
            while (Volatile.Read(ref _failure) is null && (i = Interlocked.Increment(ref _next)) < _count)
            {
                try { _work(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            }
        }

        public void Finish()
        {
            Loop();
            foreach (var t in _helpers) t.Join();
            if (_failure is { } failure && failure != Stopped) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        public void Stop()
        {
            Interlocked.CompareExchange(ref _failure, Stopped, null);
            lock (_gate)
            {
                _posted = true;
                Monitor.PulseAll(_gate);
            }
            foreach (var t in _helpers) t.Join();
        }
    }

    // Generated at build time (compiled ahead with the assembly): RegexOptions.Compiled emitted and JIT-compiled it per process.
    [GeneratedRegex(@"(?<=id=""|url\(#)cl_[0-9a-f]+\b", RegexOptions.CultureInvariant)]
    private static partial Regex ClipPathIdRegex();

    private static readonly Regex ClipPathId = ClipPathIdRegex();

    /// <summary>
    /// Skia names an SVG's clip paths from one counter per process, so with plots drawn in parallel the names would depend
    /// on which thread came first: renamed cl_0, cl_1… in order of appearance, each file is the same whatever was drawn before.
    /// </summary>
    internal static string NumberClipPaths(string svg)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        return ClipPathId.Replace(svg, m =>
        {
            if (!names.TryGetValue(m.Value, out var n)) names[m.Value] = n = "cl_" + names.Count.ToString(C);
            return n;
        });
    }

    private static double Hours(Summary s, DateTime t) => (t - s.OverTime.Start).TotalHours;

    private static double[] BinHours(OverTime o) => Enumerable.Range(0, o.Bins).Select(i => (i + 0.5) * o.BinSeconds / 3600).ToArray();

    private static void TimeAxis(Plot p, Summary s)
    {
        p.XLabel($"hours since {Time(s.OverTime.Start)} UTC");
        p.Axes.SetLimitsX(0, s.OverTime.Bins * s.OverTime.BinSeconds / 3600);
    }

    /// <summary>20 distinct colours: the default 10 repeat on a plot with a line per event type or daemon.</summary>
    private static Plot NewPlot()
    {
        var p = new Plot();
        p.Add.Palette = new ScottPlot.Palettes.Category20();
        return p;
    }

    private static void MarkFaults(Plot p, Summary s)
    {
        foreach (var f in s.Faults)
        {
            // Named in the legend: labels on the lines collide when faults are close together.
            var line = p.Add.VerticalLine(Hours(s, f.Start), 1.5f, FaultColor, LinePattern.Dashed);
            line.LegendText = $"fault {f.Name} at {Hours(s, f.Start).ToString("0.##", C)} h";
        }
    }

    private static Plot Matrix(Summary s)
    {
        var m = s.TransferMatrix;
        var target = m.LinkTarget ?? 0.9;
        var p = NewPlot();
        var (n, k) = (m.Sources.Count, m.Destinations.Count);
        var cells = m.Links.ToDictionary(c => (c.Src, c.Dst));
        // One continuous scale from 0 % (dark red) to 100 % (dark green), NaN for NO DATA, with its colour bar: 89 % and
        // 55 % no longer share a colour.
        var data = new double[Math.Max(n, 1), Math.Max(k, 1)];
        for (var r = 0; r < data.GetLength(0); r++)
            for (var c = 0; c < data.GetLength(1); c++)
                data[r, c] = r < n && c < k && cells[(m.Sources[r], m.Destinations[c])] is { Submitted: > 0 } cell ? Math.Min(1, cell.DoneOverSubmitted!.Value) : double.NaN;
        if (m.LinksWithData > 0)
        {
            var heatmap = p.Add.Heatmap(data);
            heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated(Tables.MatrixScale.Select(Color.FromHex).ToArray());
            heatmap.ManualRange = new ScottPlot.Range(0, 1);
            heatmap.NaNCellColor = NoData;
            heatmap.Rectangle = new CoordinateRect(0, Math.Max(k, 1), 0, Math.Max(n, 1));
            var bar = p.Add.ColorBar(heatmap);
            bar.Label = "done/submitted (1 = 100 % or more)";
        }
        else
        {
            // Nothing to colour (and a heatmap of NaN only has no range): the grid in NO DATA grey.
            var empty = p.Add.Rectangle(0, Math.Max(k, 1), 0, Math.Max(n, 1));
            empty.FillColor = NoData;
            empty.LineWidth = 0;
        }
        for (var r = 0; r < n; r++)
            for (var c = 0; c < k; c++)
            {
                var cell = cells[(m.Sources[r], m.Destinations[c])];
                var y = n - 1 - r;
                var text = p.Add.Text(Tables.MatrixCell(cell), c + 0.5, y + 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = cell.Submitted == 0 ? 9 : 12;
                text.LabelBold = cell.Submitted > 0 && cell.DoneOverSubmitted < target;
                // Black on a light box: readable on every colour of the scale.
                text.LabelFontColor = cell.Submitted == 0 ? Color.FromHex("#757575") : Colors.Black;
                if (cell.Submitted > 0) text.LabelBackgroundColor = Colors.White.WithAlpha(0.7);
            }
        for (var i = 0; i <= Math.Max(n, k); i++)
        {
            // White grid lines between cells.
            if (i <= k) p.Add.VerticalLine(i, 1, Colors.White);
            if (i <= n) p.Add.HorizontalLine(i, 1, Colors.White);
        }
        p.Axes.Bottom.SetTicks(Enumerable.Range(0, k).Select(i => i + 0.5).ToArray(), m.Destinations.ToArray());
        p.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => n - 1 - i + 0.5).ToArray(), m.Sources.ToArray());
        p.Axes.Bottom.TickLabelStyle.Rotation = 90;
        p.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        p.Axes.Bottom.MinimumSize = 150;
        p.XLabel("destination");
        p.YLabel("source");
        p.Title(n == 0 ? "No transfer was submitted: the matrix is empty" : $"done / submitted per link (bold: below {Pct(target)})", 16);
        p.Axes.SetLimits(0, Math.Max(1, k), 0, Math.Max(1, n));
        p.Grid.IsVisible = false;
        return p;
    }

    private static Plot MemoryVsLimit(Summary s)
    {
        var p = NewPlot();
        var rows = s.Resources.ToList();
        var bars = new List<Bar>();
        for (var i = 0; i < rows.Count; i++)
        {
            var u = rows[i];
            var rec = s.Takeaway.Daemons.First(r => r.Daemon == u.Daemon);
            var limit = u.MemoryLimit ?? 0;
            // Pods killed at their limit never report the memory they wanted: show them at 100 % at least.
            var ratio = limit > 0 ? Math.Max((double)u.MemoryPeak / limit, u.OomKilled > 0 ? 1 : 0) : 0;
            var y = rows.Count - 1 - i;
            bars.Add(new Bar
            {
                Position = y, Value = ratio * 100,
                FillColor = u.OomKilled > 0 ? Bad : u.KilledByChaos + u.KilledOther > 0 ? Warn : limit == 0 ? NoData : Good,
            });
            var label = limit == 0 ? $"no limit; peak {Mem(u.MemoryPeak)} → set {Mem(rec.VpaMemory)}"
                : $"{Mem(u.MemoryPeak)} of {Mem(limit)}" + (u.OomKilled > 0 ? $"; OOMKilled {u.OomKilled}" : "")
                  + (u.KilledByChaos > 0 ? $"; killed by chaos {u.KilledByChaos}" : "") + (u.KilledOther > 0 ? $"; killed {u.KilledOther}" : "")
                  + (rec.MemoryAdvice is "raise" or "lower" ? $" → {rec.MemoryAdvice} to {Mem(rec.VpaMemory)}" : "");
            var text = p.Add.Text(label, Math.Max(ratio * 100, 0) + 1.5, y);
            text.LabelAlignment = Alignment.MiddleLeft;
            text.LabelFontSize = 11;
        }
        var plot = p.Add.Bars(bars);
        plot.Horizontal = true;
        p.Add.VerticalLine(100, 1.5f, LimitColor, LinePattern.Dashed);
        p.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), rows.Select(u => u.Daemon).ToArray());
        p.Axes.SetLimits(0, 260, -0.6, rows.Count - 0.4);
        p.XLabel("peak memory, % of the memory limit (red: OOMKilled, orange: killed, grey: no limit)");
        p.Title("Memory against limits: who restarted, and which limits to set");
        return p;
    }

    private static Plot EventsOverTime(Summary s)
    {
        var p = NewPlot();
        var xs = BinHours(s.OverTime);
        var perMinute = 60 / s.OverTime.BinSeconds;
        foreach (var (type, counts) in s.OverTime.EventsByType.OrderByDescending(kv => kv.Value.Sum()))
        {
            var line = p.Add.ScatterLine(xs, counts.Select(c => c * perMinute).ToArray());
            line.LegendText = type;
            line.LineWidth = 1.5f;
        }
        MarkFaults(p, s);
        TimeAxis(p, s);
        p.YLabel("events per minute");
        p.ShowLegend(Edge.Right);
        return p;
    }

    private static Plot Series(Summary s, IReadOnlyDictionary<string, long[]> series, string label)
    {
        var p = NewPlot();
        var xs = BinHours(s.OverTime);
        var perMinute = 60 / s.OverTime.BinSeconds;
        foreach (var (key, counts) in series.OrderByDescending(kv => kv.Value.Sum()).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(15))
        {
            var line = p.Add.ScatterLine(xs, counts.Select(c => c * perMinute).ToArray());
            line.LegendText = key;
            line.LineWidth = 1.5f;
        }
        MarkFaults(p, s);
        TimeAxis(p, s);
        p.YLabel(label);
        p.ShowLegend(Edge.Right);
        return p;
    }

    private static Plot Throughput(Summary s)
    {
        var p = NewPlot();
        var xs = BinHours(s.OverTime);
        var files = p.Add.ScatterLine(xs, s.OverTime.FilesPerSecond);
        files.LegendText = "files/s";
        files.LineWidth = 1.5f;
        files.Color = Color.FromHex("#1565c0");
        var bytes = p.Add.ScatterLine(xs, s.OverTime.BytesPerSecond.Select(b => b / 1e6).ToArray());
        bytes.LegendText = "MB/s (right axis)";
        bytes.LineWidth = 1.5f;
        bytes.Color = Color.FromHex("#ef6c00");
        bytes.Axes.YAxis = p.Axes.Right;
        p.Axes.Right.Label.Text = "MB/s";
        MarkFaults(p, s);
        TimeAxis(p, s);
        p.YLabel("files/s (transfer-done)");
        p.ShowLegend(Edge.Right);
        return p;
    }

    private static Plot Backlog(Summary s)
    {
        var p = NewPlot();
        var xs = BinHours(s.OverTime);
        foreach (var (daemon, values) in s.OverTime.BacklogByDaemon.Where(kv => kv.Value.Any(v => v > 0)).OrderByDescending(kv => kv.Value.Max()).Take(10))
        {
            var line = p.Add.ScatterLine(xs, values.Select(v => (double)v).ToArray());
            line.LegendText = daemon;
            line.LineWidth = 1.5f;
        }
        MarkFaults(p, s);
        TimeAxis(p, s);
        p.YLabel("queue length");
        p.ShowLegend(Edge.Right);
        return p;
    }

    private static Plot DeletionBacklog(Summary s)
    {
        var p = NewPlot();
        var xs = BinHours(s.OverTime);
        foreach (var daemon in new[] { "reaper", "undertaker", "judge-cleaner" })
            if (s.OverTime.BacklogByDaemon.TryGetValue(daemon, out var values))
            {
                var line = p.Add.ScatterLine(xs, values.Select(v => (double)v).ToArray());
                line.LegendText = $"{daemon} backlog";
                line.LineWidth = 1.5f;
            }
        var rate = p.Add.ScatterLine(xs, s.OverTime.DeletionsPerSecond);
        rate.LegendText = "deletion-done per second";
        rate.LinePattern = LinePattern.Dotted;
        rate.Axes.YAxis = p.Axes.Right;
        p.Axes.Right.Label.Text = "deletions/s";
        MarkFaults(p, s);
        TimeAxis(p, s);
        p.YLabel("queue length");
        p.ShowLegend(Edge.Right);
        return p;
    }

    private static Plot RuleCompletionPlot(Summary s)
    {
        var p = NewPlot();
        var h = s.Rules.Histogram;
        var bars = p.Add.Bars(h.Select(b => (double)b.Count).ToArray());
        bars.Color = Color.FromHex("#1565c0");
        static string Short(double? seconds) => seconds is not { } x ? "" : x < 3600 ? $"{x / 60:0}m" : $"{x / 3600:0}h";
        string Label(HistogramBin b, int i) => b.UpToSeconds is { } up ? $"≤{Short(up)}" : $">{Short(h[i - 1].UpToSeconds)}";
        p.Axes.Bottom.SetTicks(Enumerable.Range(0, h.Count).Select(i => (double)i).ToArray(), h.Select(Label).ToArray());
        p.YLabel("rules");
        p.XLabel(s.Rules.CompletionSeconds is { } d ? $"completion time (p50 {Duration(d.P50)}, p90 {Duration(d.P90)}, max {Duration(d.Max)}; {s.Rules.Measured} rules)" : "completion time (no rule reached OK)");
        p.Axes.Margins(bottom: 0);
        return p;
    }

    private static Plot Resource(Summary s, ResourceUsage u, bool memory)
    {
        var p = NewPlot();
        var unit = memory ? 1024.0 * 1024 : 1;
        var o = s.OverTime;
        var xs = BinHours(o);
        double[] use = memory ? o.MemoryByDaemon[u.Daemon].Select(v => v / unit).ToArray() : o.CpuByDaemon[u.Daemon];
        var line = p.Add.ScatterLine(xs, use);
        line.LegendText = memory ? "working set (max over pods)" : "usage (max over pods)";
        line.LineWidth = 1.5f;
        line.Color = Color.FromHex("#1565c0");
        double?[] limits = memory ? o.MemoryLimitByDaemon[u.Daemon].Select(l => l / unit).ToArray() : o.CpuLimitByDaemon[u.Daemon];
        if (limits.Any(l => l is not null))
        {
            var limit = p.Add.ScatterLine(xs, limits.Select(l => l ?? double.NaN).ToArray());
            limit.LegendText = "limit";
            limit.Color = LimitColor;
            limit.LinePattern = LinePattern.Dashed;
            limit.LineWidth = 1.5f;
            limit.ConnectStyle = ConnectStyle.StepHorizontal;
        }
        foreach (var i in s.Incidents.Where(i => i.Daemon == u.Daemon))
        {
            var oom = i.Event == LifecycleEvents.OomKilled;
            p.Add.VerticalLine(Hours(s, i.Time), 1.5f, (oom ? Bad : Warn).WithAlpha(0.75), oom ? LinePattern.Solid : LinePattern.Dashed);
        }
        var incidents = s.Incidents.Count(i => i.Daemon == u.Daemon);
        // No legend on the small multiples: report.html explains the colours once (blue use, red dashed limit, red OOMKilled, orange killed).
        p.Title($"{u.Daemon} {(memory ? "memory" : "CPU")}" + (incidents > 0 ? $" — {Tables.Comment(u, [])}" : ""), 11);
        p.YLabel(memory ? "MiB" : "cores");
        // From zero, so the distance to the limit reads true.
        var top = Math.Max(use.DefaultIfEmpty(0).Max(), limits.Max(l => l ?? 0));
        p.Axes.SetLimitsY(0, top > 0 ? top * 1.12 : 1);
        TimeAxis(p, s);
        p.HideLegend();
        return p;
    }
}
