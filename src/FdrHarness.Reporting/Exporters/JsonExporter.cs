using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Exporters;

/// <summary>summary.json: every figure, snake_case keys, deterministic (no wall-clock time, ordered collections).</summary>
public sealed class JsonExporter : IExporter
{
    public IEnumerable<string> Export(ExportContext context)
    {
        Write(context.Summary, context.RunDir);
        return [FileName];
    }


    public const string FileName = "summary.json";

    /// <summary>
    /// summary.json's settings, for readers of the summary as JSON (the thresholds' figures): the source-generated
    /// metadata for <see cref="Summary"/> (no reflection), reflection for any other type.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new SummaryConverter() },
        TypeInfoResolver = JsonTypeInfoResolver.Combine(SummaryJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    /// <summary>
    /// The same text as <c>JsonSerializer.Serialize(summary, Options)</c>, written by the source-generated serializer
    /// (compiled ahead with the assembly: no reflection, no emitted accessors, none of System.Text.Json's generic
    /// converters to JIT). Its fast path needs options without an encoder, so the relaxed escaping is the writer's.
    /// </summary>
    public static string ToJson(Summary summary) => Encoding.UTF8.GetString(Utf8(summary).Span);

    /// <summary>
    /// summary.json's bytes (UTF-8, with its final newline), serialized once per summary: the thresholds read the
    /// figures from them (<c>Figures.ToJson</c>) before this exporter writes them.
    /// </summary>
    public static ReadOnlyMemory<byte> Utf8(Summary summary) => Serialized.GetValue(summary, static s => ToUtf8(s));

    private static readonly ConditionalWeakTable<Summary, byte[]> Serialized = new();

    private static byte[] ToUtf8(Summary summary)
    {
        var buffer = new ArrayBufferWriter<byte>(512 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            JsonSerializer.Serialize(writer, summary, SummaryJsonContext.Default.Summary);
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static void Write(Summary summary, string dir) => ReportFiles.Write(Path.Combine(dir, FileName), Utf8(summary).Span);
}

/// <summary>
/// A <see cref="Summary"/> through <see cref="JsonExporter.Options"/> (the thresholds read it as a JsonNode) written as
/// summary.json is, by the generated serializer: through the options, the generated metadata of every type under
/// Summary was built and its generic code JIT-compiled (about 400 methods) on each report.
/// </summary>
internal sealed class SummaryConverter : JsonConverter<Summary>
{
    public override Summary Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("summary.json is read as JSON (Figures.Load), not into a Summary");

    public override void Write(Utf8JsonWriter writer, Summary value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, SummaryJsonContext.Default.Summary);
}

/// <summary>
/// summary.json's shape, generated at build time; the settings are <see cref="JsonExporter.Options"/>' (no encoder: see
/// ToJson). Serialization only: the generated writer needs no property metadata, whose generic code (about 120 methods
/// over the framework's value types, which ReadyToRun does not hold) was JIT-compiled on every report; nothing reads a Summary.
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Serialization, WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Summary))]
internal sealed partial class SummaryJsonContext : JsonSerializerContext;
