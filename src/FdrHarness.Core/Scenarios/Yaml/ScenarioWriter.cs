using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Thresholds;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FdrHarness.Core.Scenarios.Yaml;

/// <summary>Writes a scenario back as YAML with every default filled in: the run directory's scenario.yaml.</summary>
public static class ScenarioWriter
{
    public static string ToYaml(Scenario scenario)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text, new EmitterSettings().WithBestIndent(2));
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Write(emitter, scenario, typeof(Scenario), null);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Write(IEmitter e, object value, Type type, PropertyInfo? owner)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (ModelShape.IsScalar(type))
        {
            e.Emit(new Scalar(Format(value)));
            return;
        }
        if (value is IReadOnlyDictionary<string, string> dict)
        {
            e.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block));
            foreach (var (k, v) in dict)
            {
                e.Emit(new Scalar(k));
                e.Emit(new Scalar(v));
            }
            e.Emit(new MappingEnd());
            return;
        }
        if (ModelShape.ListElement(type) is { } element)
        {
            var keyedBy = owner is null ? null : ModelShape.Attribute<KeyedByAttribute>(owner);
            if (keyedBy is not null)
            {
                var keyProperty = element.GetProperty(keyedBy.Property)!;
                e.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block));
                foreach (var item in (System.Collections.IEnumerable)value)
                {
                    e.Emit(new Scalar((string)keyProperty.GetValue(item)!));
                    Write(e, item, element, null);
                }
                e.Emit(new MappingEnd());
                return;
            }
            var scalars = ModelShape.IsScalar(element);
            e.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, scalars ? SequenceStyle.Flow : SequenceStyle.Block));
            foreach (var item in (System.Collections.IEnumerable)value) Write(e, item, element, null);
            e.Emit(new SequenceEnd());
            return;
        }
        if (ModelShape.Attribute<UnionAttribute>(type) is not null)
        {
            var tag = ModelShape.Attribute<UnionCaseAttribute>(value.GetType())!.Tag;
            e.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block));
            e.Emit(new Scalar(tag));
            Write(e, value, value.GetType(), null);
            e.Emit(new MappingEnd());
            return;
        }
        e.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block));
        foreach (var (key, p) in ModelShape.Properties(type))
        {
            var v = p.GetValue(value);
            if (v is null) continue;
            e.Emit(new Scalar(key));
            Write(e, v, p.PropertyType, p);
        }
        e.Emit(new MappingEnd());
    }

    /// <summary>The YAML text of a scalar value, in a form the loader parses back to the same value.</summary>
    public static string Format(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f when value is int or long => f.ToString(null, CultureInfo.InvariantCulture),
        TimeSpan t => Durations.Format(t),
        ByteSize b => b.ToExactString(),
        CpuQuantity c => c.ToString(),
        Bandwidth w => w.BytesPerSecond.ToString("R", CultureInfo.InvariantCulture) + " B/s",
        Enum en => ModelShape.EnumName(en.ToString()),
        Uri u => WithoutUserInfo(u),
        RseExpression r => r.Text,
        ThresholdExpression t => t.Text,
        _ => value.ToString() ?? "",
    };

    /// <summary>A URL as written into run directories: "user:password@" is dropped (secrets are named, never written).</summary>
    public static string WithoutUserInfo(Uri url) =>
        string.IsNullOrEmpty(url.UserInfo) ? url.ToString() : new UriBuilder(url) { UserName = "", Password = "" }.Uri.ToString();

    /// <summary>A scalar property's default as JSON, for the schema; null for records and lists.</summary>
    public static JsonNode? DefaultValue(PropertyInfo p, object? defaults)
    {
        if (defaults is null || !ModelShape.IsScalar(p.PropertyType) || ModelShape.Attribute<RequiredKeyAttribute>(p) is not null) return null;
        return p.GetValue(defaults) switch
        {
            null => null,
            bool b => JsonValue.Create(b),
            int i => JsonValue.Create(i),
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            RseExpression => null,
            var v => JsonValue.Create(Format(v)),
        };
    }
}
