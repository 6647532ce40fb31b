using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
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

    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string ToJson(Summary summary) => JsonSerializer.Serialize(summary, Options) + "\n";

    public static void Write(Summary summary, string dir) => ReportFiles.Write(Path.Combine(dir, FileName), ToJson(summary));
}
