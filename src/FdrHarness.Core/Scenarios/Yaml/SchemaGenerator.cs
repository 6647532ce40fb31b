using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Scenarios.Yaml;

/// <summary>
/// Writes the JSON Schema of the scenario language from the model types, so that editors with a YAML
/// language server complete and check scenarios. A test keeps scenarios/scenario.schema.json equal to this output.
/// </summary>
public static class SchemaGenerator
{
    public const string SchemaId = "https://fdrharness.example/scenario.schema.json";

    public static string Generate()
    {
        var defs = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var root = (JsonObject)Record(typeof(Scenario), defs, inline: true);
        var schema = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = SchemaId,
            ["title"] = "FdrHarness scenario",
            ["description"] = "A full-dress rehearsal of a Rucio data lake: RSEs, experiments, load, daemons, chaos, thresholds.",
        };
        foreach (var (k, v) in root) schema[k] = v?.DeepClone();
        var defsNode = new JsonObject();
        foreach (var (k, v) in defs) defsNode[k] = v;
        schema["$defs"] = defsNode;
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static JsonNode For(Type type, PropertyInfo? owner, SortedDictionary<string, JsonNode> defs)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (ModelShape.DictionaryValue(type) is not null)
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = new JsonArray("string", "number", "boolean") } };
        if (ModelShape.ListElement(type) is { } element)
        {
            var item = For(element, null, defs);
            if (owner is not null && ModelShape.Attribute<KeyedByAttribute>(owner) is not null)
                return new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["anyOf"] = new JsonArray(item, new JsonObject { ["type"] = "null" }) } };
            var array = new JsonObject { ["type"] = "array", ["items"] = item };
            return ModelShape.IsScalar(element) ? new JsonObject { ["anyOf"] = new JsonArray(array, item.DeepClone()) } : array;
        }
        if (ModelShape.IsScalar(type)) return Scalar(type);
        return Ref(type, defs);
    }

    private static JsonNode Scalar(Type type)
    {
        if (type == typeof(string)) return new JsonObject { ["type"] = "string" };
        if (type == typeof(bool)) return new JsonObject { ["type"] = "boolean" };
        if (type == typeof(int) || type == typeof(long)) return new JsonObject { ["type"] = "integer" };
        if (type == typeof(double)) return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "number" }, new JsonObject { ["type"] = "string", ["pattern"] = "^-?[0-9.]+%$" }) };
        if (type.IsEnum) return new JsonObject { ["enum"] = new JsonArray([.. ModelShape.EnumNames(type).Select(n => (JsonNode)n!)]) };
        if (type == typeof(TimeSpan))
            return new JsonObject { ["type"] = new JsonArray("string", "number"), ["pattern"] = @"^([0-9.]+ ?(ms|s|sec|m|min|h|d|w) ?)+$|^[0-9.]+$", ["description"] = Durations.Expected };
        if (type == typeof(ByteSize))
            return new JsonObject { ["type"] = new JsonArray("string", "integer"), ["pattern"] = @"^[0-9.]+ ?([KMGTP]i?B?|[kmgtp]b|B)?$", ["description"] = ByteSize.Expected };
        if (type == typeof(CpuQuantity))
            return new JsonObject { ["type"] = new JsonArray("string", "number"), ["pattern"] = @"^[0-9.]+m?$", ["description"] = CpuQuantity.Expected };
        if (type == typeof(Uri)) return new JsonObject { ["type"] = "string", ["format"] = "uri" };
        return new JsonObject { ["type"] = "string", ["description"] = ModelShape.Expected(type) };
    }

    private static JsonNode Ref(Type type, SortedDictionary<string, JsonNode> defs)
    {
        var name = type.Name;
        if (!defs.ContainsKey(name))
        {
            defs[name] = new JsonObject(); // placeholder against recursion
            defs[name] = ModelShape.Attribute<UnionAttribute>(type) is { } union ? Union(type, union, defs) : Record(type, defs, inline: false);
        }
        return new JsonObject { ["$ref"] = "#/$defs/" + name };
    }

    private static JsonNode Union(Type type, UnionAttribute union, SortedDictionary<string, JsonNode> defs)
    {
        var cases = new JsonArray();
        foreach (var c in union.Cases)
        {
            var tag = ModelShape.Attribute<UnionCaseAttribute>(c)!.Tag;
            var body = Record(c, defs, inline: false);
            var one = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { [tag] = body },
                ["required"] = new JsonArray(tag),
                ["additionalProperties"] = false,
            };
            if (c.GetCustomAttribute<DocAttribute>() is { } doc) one["description"] = doc.Text;
            cases.Add(one);
        }
        var scalarCase = union.Cases.FirstOrDefault(c => ModelShape.Positional(c) is { } p && ModelShape.IsScalar(p.PropertyType));
        if (scalarCase is not null) cases.Add(Scalar(ModelShape.Positional(scalarCase)!.PropertyType));
        return new JsonObject { ["oneOf"] = cases };
    }

    private static JsonNode Record(Type type, SortedDictionary<string, JsonNode> defs, bool inline)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        var defaults = Activator.CreateInstance(type);
        foreach (var (key, p) in ModelShape.Properties(type))
        {
            var schema = For(p.PropertyType, p, defs);
            if (schema is JsonObject obj && !obj.ContainsKey("$ref"))
            {
                if (p.GetCustomAttribute<DocAttribute>() is { } doc) obj["description"] = doc.Text;
                if (ScenarioWriter.DefaultValue(p, defaults) is { } d) obj["default"] = d;
            }
            else if (p.GetCustomAttribute<DocAttribute>() is { } doc)
            {
                schema = new JsonObject { ["allOf"] = new JsonArray(schema), ["description"] = doc.Text };
            }
            properties[key] = schema;
            if (ModelShape.Attribute<RequiredKeyAttribute>(p) is not null) required.Add(key);
        }
        var record = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0) record["required"] = required;
        record["additionalProperties"] = false;
        if (!inline && type.GetCustomAttribute<DocAttribute>() is { } typeDoc) record["description"] = typeDoc.Text;
        if (ModelShape.Positional(type) is { } positional && !inline)
            return new JsonObject { ["anyOf"] = new JsonArray(record, For(positional.PropertyType, positional, defs)) };
        return record;
    }
}
