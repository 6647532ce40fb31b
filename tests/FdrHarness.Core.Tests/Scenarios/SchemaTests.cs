using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using Json.Schema;
using YamlDotNet.RepresentationModel;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>scenarios/scenario.schema.json is the generated schema, covers the whole language and accepts the shipped scenarios.</summary>
public class SchemaTests
{
    private static readonly string SchemaPath = RepoPaths.Scenario("scenario.schema.json");

    private static JsonObject Schema() => (JsonObject)JsonNode.Parse(File.ReadAllText(SchemaPath))!;

    [Fact]
    public void TheFileIsTheGeneratedSchema()
    {
        var generated = SchemaGenerator.Generate();
        var onDisk = File.ReadAllText(SchemaPath).ReplaceLineEndings("\n");
        Assert.True(onDisk == generated,
            "scenarios/scenario.schema.json is out of date with the model; regenerate it with\n" +
            "  dotnet run --project src/FdrHarness.Cli -- schema > scenarios/scenario.schema.json");
    }

    [Fact]
    public void ItIsADraft202012Schema()
    {
        var schema = Schema();
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)schema["$schema"]);
        Assert.Equal(SchemaGenerator.SchemaId, (string?)schema["$id"]);
        Assert.Equal("object", (string?)schema["type"]);
        Assert.False((bool)schema["additionalProperties"]!);
        Assert.Equal(["run", "rses", "experiments"], schema["required"]!.AsArray().Select(n => (string?)n));
        // It also loads as a schema, and every $ref points at a definition.
        JsonSchema.FromText(File.ReadAllText(SchemaPath));
        var defs = schema["$defs"]!.AsObject();
        foreach (var reference in Walk(schema).OfType<JsonObject>().Select(o => (string?)o["$ref"]).OfType<string>())
            Assert.True(defs.ContainsKey(reference["#/$defs/".Length..]), reference);
    }

    public static TheoryData<string> ModelTypes()
    {
        var data = new TheoryData<string>();
        foreach (var t in typeof(Scenario).Assembly.GetTypes()
                     .Where(t => t.Namespace == typeof(Scenario).Namespace && t.IsClass && !t.IsAbstract && !t.IsNested && ModelShape.Properties(t).Count > 0
                                 && !typeof(Delegate).IsAssignableFrom(t) && t != typeof(StorageProtocol)))
            data.Add(t.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ModelTypes))]
    public void EveryKeyOfEveryModelTypeIsInTheSchema(string typeName)
    {
        var type = typeof(Scenario).Assembly.GetTypes().Single(t => t.Name == typeName && t.Namespace == typeof(Scenario).Namespace);
        var record = RecordSchema(Schema(), type);
        var properties = record["properties"]!.AsObject();
        Assert.Equal(ModelShape.Properties(type).Keys.Order(), properties.Select(p => p.Key).Order());
        var required = record["required"]?.AsArray().Select(n => (string)n!).ToHashSet() ?? [];
        foreach (var (key, p) in ModelShape.Properties(type))
            Assert.Equal(p.GetCustomAttribute<RequiredKeyAttribute>() is not null, required.Contains(key));
    }

    [Fact]
    public void EveryEnumNameIsOffered()
    {
        var enums = Walk(Schema()).OfType<JsonObject>().Select(o => o["enum"]).OfType<JsonArray>()
            .SelectMany(a => a.Select(n => (string)n!)).ToHashSet();
        foreach (var t in new[] { typeof(SelectionMode), typeof(StorageTechnology), typeof(RuleGrouping), typeof(TargetKind), typeof(AuthMethod), typeof(RseOperation) })
            Assert.All(ModelShape.EnumNames(t), n => Assert.Contains(n, enums));
        Assert.Contains("fixed-percent", enums);
    }

    [Theory]
    [InlineData("escape-fdr-2020.yaml")]
    [InlineData("ci-smoke.yaml")]
    public void ShippedScenariosValidateAgainstTheSchema(string name)
    {
        var results = Evaluate(File.ReadAllText(RepoPaths.Scenario(name)));
        Assert.True(results.IsValid, Explain(results));
    }

    [Theory]
    [InlineData("run: {name: x, seeed: 1}\nrses: {A: {quota: 1 TB}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\n")]
    [InlineData("run: {name: x}\nrses: {A: {quota: 1 TB, storage: dcahce}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\n")]
    [InlineData("run: {name: x}\nrses: {A: {storage: dcache}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\n")]
    [InlineData("run: {name: x}\nrses: {A: {quota: 1 TB}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\nworkload: [{injekt: {load: []}}]\n")]
    [InlineData("rses: {A: {quota: 1 TB}}\nexperiments: {E: {files: 1, file_size: 1 MB}}\n")]
    public void TheSchemaRejectsWhatTheLoaderRejects(string yaml)
    {
        Assert.False(Core.Scenarios.ScenarioLoader.Parse(yaml, "x.yaml").Ok);
        Assert.False(Evaluate(yaml).IsValid);
    }

    private static EvaluationResults Evaluate(string yaml)
    {
        var schema = JsonSchema.FromText(File.ReadAllText(SchemaPath));
        return schema.Evaluate(YamlToJson(yaml), new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Explain(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}").Take(20));

    /// <summary>The record's object schema: the root for Scenario, a $defs entry (or its record half), or a union case.</summary>
    private static JsonObject RecordSchema(JsonObject schema, Type type)
    {
        if (type == typeof(Scenario)) return schema;
        var defs = schema["$defs"]!.AsObject();
        if (defs[type.Name] is JsonObject def)
            return def["anyOf"] is JsonArray anyOf ? (JsonObject)anyOf[0]! : def;
        var tag = type.GetCustomAttribute<UnionCaseAttribute>()?.Tag ?? throw new Xunit.Sdk.XunitException($"{type.Name} is not in the schema");
        var union = type.BaseType!.Name;
        var oneOf = defs[union]!["oneOf"]!.AsArray();
        var body = oneOf.OfType<JsonObject>().Single(c => c["properties"]?[tag] is not null)["properties"]![tag]!.AsObject();
        return body["anyOf"] is JsonArray a ? (JsonObject)a[0]! : body;
    }

    private static IEnumerable<JsonNode> Walk(JsonNode? node)
    {
        if (node is null) yield break;
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children)
        foreach (var n in Walk(child))
            yield return n;
    }

    /// <summary>YAML to JSON as a YAML language server sees it: plain scalars typed by the YAML core schema.</summary>
    private static JsonNode? YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode m:
            {
                var o = new JsonObject();
                foreach (var (k, v) in m.Children) o[((YamlScalarNode)k).Value!] = Convert(v);
                return o;
            }
            case YamlSequenceNode s:
                return new JsonArray([.. s.Children.Select(Convert)]);
            case YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } p:
            {
                var v = p.Value ?? "";
                if (v is "" or "~" or "null") return null;
                if (v is "true" or "false") return JsonValue.Create(v == "true");
                if (long.TryParse(v, out var l)) return JsonValue.Create(l);
                if (double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                    return JsonValue.Create(d);
                return JsonValue.Create(v);
            }
            case YamlScalarNode q:
                return JsonValue.Create(q.Value);
            default:
                throw new InvalidOperationException(node.GetType().Name);
        }
    }
}
