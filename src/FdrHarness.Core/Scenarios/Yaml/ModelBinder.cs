using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Thresholds;

namespace FdrHarness.Core.Scenarios.Yaml;

/// <summary>
/// Binds a YAML tree to the scenario model by reflection, reporting every mistake with its position.
/// The model's own shape (properties, attributes, defaults) is the only description of the language,
/// shared with <see cref="SchemaGenerator"/> and <see cref="ScenarioWriter"/>.
/// </summary>
public sealed class ModelBinder(DiagnosticBag diagnostics, SourceMap map)
{
    private static readonly string[] SecretWords = ["password", "passwd", "token", "secret", "private_key", "key_password", "credentials"];

    public T? Bind<T>(YNode node) where T : class => (T?)Bind(node, typeof(T), "");

    /// <param name="keyAt">The key whose value this is: a record's missing keys are reported there, not at its first key.</param>
    public object? Bind(YNode node, Type type, string path, SourceLocation? keyAt = null)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (node is YScalar { IsNull: true })
        {
            if (underlying is not null || !type.IsValueType) return null;
            Error(node, $"{Describe(path)} needs {ModelShape.Expected(type)}, found nothing");
            return null;
        }
        type = underlying ?? type;

        if (ModelShape.IsScalar(type)) return BindScalar(node, type, path);
        if (ModelShape.DictionaryValue(type) is { } valueType) return BindDictionary(node, valueType, path);
        if (ModelShape.ListElement(type) is { } element) return BindList(node, element, path);
        if (ModelShape.Attribute<UnionAttribute>(type) is { } union) return BindUnion(node, type, union, path);
        return BindRecord(node, type, path, keyAt);
    }

    private object? BindScalar(YNode node, Type type, string path)
    {
        if (node is not YScalar scalar)
        {
            Error(node, $"{Describe(path)} needs {ModelShape.Expected(type)}, found {node.KindName}");
            return null;
        }
        var text = scalar.Value;
        if (type == typeof(string)) return text;
        if (type == typeof(bool))
        {
            if (text is "true" or "True" or "TRUE") return true;
            if (text is "false" or "False" or "FALSE") return false;
            return Fail(scalar, path, $"'{text}' is not true or false");
        }
        if (type == typeof(int) || type == typeof(long))
        {
            var digits = text.Replace("_", "", StringComparison.Ordinal);
            if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                && (type == typeof(long) || l is >= int.MinValue and <= int.MaxValue))
                return type == typeof(int) ? (object)(int)l : l;
            return Fail(scalar, path, $"'{text}' is not a whole number");
        }
        if (type == typeof(double))
        {
            var t = text.Replace("_", "", StringComparison.Ordinal);
            var percent = t.EndsWith('%');
            if (double.TryParse(percent ? t[..^1] : t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                return percent ? d / 100 : d;
            return Fail(scalar, path, $"'{text}' is not a number");
        }
        if (type == typeof(TimeSpan))
            return Durations.TryParse(text, out var span, out var error) ? span : Fail(scalar, path, error!);
        if (type == typeof(Uri))
            return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : Fail(scalar, path, $"'{text}' is not an absolute URL");
        if (type == typeof(RseExpression))
        {
            if (RseExpression.TryParse(text, out var expression, out var problem))
            {
                if (TextStart(scalar) is { } start) map.Record(expression, "", start);
                return expression;
            }
            Error(At(scalar, problem.Position), $"{Describe(path)}: {problem.Message}", "RSE expressions combine names and key=value with | & \\ and parentheses");
            return null;
        }
        if (type == typeof(ThresholdExpression))
        {
            if (ThresholdExpression.TryParse(text, out var threshold, out var problem, out var index)) return threshold;
            Error(At(scalar, index), $"{Describe(path)}: {problem}",
                problem!.Contains("did you mean", StringComparison.Ordinal) ? null : "e.g. \"transfers.efficiency >= 95%\"");
            return null;
        }
        if (type.IsEnum)
        {
            var wanted = ModelShape.Normalize(text);
            foreach (var name in Enum.GetNames(type))
                if (ModelShape.Normalize(name) == wanted) return Enum.Parse(type, name);
            var names = ModelShape.EnumNames(type);
            Error(scalar, $"{Describe(path)}: '{text}' is not one of {string.Join(", ", names)}", Suggestions.DidYouMean(text, names));
            return null;
        }
        var parser = ModelShape.TextParser(type);
        if (parser is not null)
        {
            var (ok, value, message) = parser(text);
            return ok ? value : Fail(scalar, path, message!);
        }
        throw new InvalidOperationException($"no YAML binding for {type}");
    }

    /// <summary>Where the scalar's text starts, when columns of the text are columns of the file (one line, no escapes).</summary>
    private static SourceLocation? TextStart(YScalar scalar)
    {
        if (!scalar.Plain && scalar.Value.IndexOfAny(['\\', '\'', '"']) >= 0) return null;
        if (scalar.Value.Contains('\n')) return null;
        return scalar.At with { Column = scalar.At.Column + (scalar.Plain ? 0 : 1) };
    }

    /// <summary>The place of a 0-based offset inside the scalar's text, else the scalar itself.</summary>
    private static SourceLocation At(YScalar scalar, int offset) =>
        TextStart(scalar) is { } start ? start with { Column = start.Column + Math.Max(0, offset) } : scalar.At;

    private object? Fail(YScalar scalar, string path, string message)
    {
        Error(scalar, $"{Describe(path)}: {message}");
        return null;
    }

    private object? BindDictionary(YNode node, Type valueType, string path)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is not YMapping mapping)
        {
            Error(node, $"{Describe(path)} needs a mapping of names to values, found {node.KindName}");
            return result;
        }
        foreach (var (key, value) in mapping.Entries)
        {
            if (value is YScalar s)
            {
                result[key.Value] = s.Value;
                map.Record(result, key.Value, value.At);
            }
            else Error(value, $"{Describe(Join(path, key.Value))} needs a plain value, found {value.KindName}");
        }
        return valueType == typeof(string) ? result : throw new InvalidOperationException("only string dictionaries are bound");
    }

    private object BindList(YNode node, Type element, string path, PropertyInfo? owner = null)
    {
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        var keyedBy = owner is null ? null : ModelShape.Attribute<KeyedByAttribute>(owner);
        if (keyedBy is not null)
        {
            if (node is not YMapping mapping)
            {
                Error(node, $"{Describe(path)} needs a mapping keyed by {ModelShape.KeyName(keyedBy.Property)}, found {node.KindName}");
                return list;
            }
            var keyProperty = element.GetProperty(keyedBy.Property)!;
            foreach (var (key, value) in mapping.Entries)
            {
                var itemPath = Join(path, key.Value);
                var item = value is YScalar { IsNull: true } ? Activator.CreateInstance(element) : Bind(value, element, itemPath, key.At);
                if (item is null)
                {
                    // Keep the name declared (an RSE, a daemon) so references to it raise no second error.
                    item = Activator.CreateInstance(element)!;
                    map.MarkInvalid(item);
                }
                keyProperty.SetValue(item, key.Value);
                map.Record(item, keyedBy.Property, key.At);
                map.Record(item, "", key.At);
                list.Add(item);
            }
            return list;
        }
        if (node is YSequence sequence)
        {
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                var item = Bind(sequence.Items[i], element, $"{path}[{i + 1}]");
                if (item is null) continue;
                map.Record(list, list.Count.ToString(CultureInfo.InvariantCulture), sequence.Items[i].At);
                list.Add(item);
            }
        }
        else if (ModelShape.IsScalar(element) && node is YScalar { IsNull: false })
        {
            // A single value stands for a list of one: "experiments: CTA".
            var item = Bind(node, element, path);
            if (item is not null)
            {
                map.Record(list, "0", node.At);
                list.Add(item);
            }
        }
        else
        {
            Error(node, $"{Describe(path)} needs a list, found {node.KindName}", "start each item with '- '");
        }
        return list;
    }

    private object? BindUnion(YNode node, Type type, UnionAttribute union, string path)
    {
        var tags = union.Cases.ToDictionary(c => ModelShape.Attribute<UnionCaseAttribute>(c)!.Tag, c => c);
        if (node is YScalar { IsNull: false })
        {
            // "file_size: 100 MB" is the scalar case's short form.
            var scalarCase = union.Cases.FirstOrDefault(c => ModelShape.Positional(c) is { } p && ModelShape.IsScalar(p.PropertyType));
            if (scalarCase is not null) return BindRecord(node, scalarCase, path, null);
        }
        if (node is not YMapping { Entries.Count: 1 } mapping)
        {
            var count = (node as YMapping)?.Entries.Count;
            Error(node, $"{Describe(path)} needs exactly one of {string.Join(", ", tags.Keys)}" +
                        (count is > 1 ? $", found {count} keys" : $", found {node.KindName}"),
                $"write it as '{tags.Keys.First()}: ...'");
            return null;
        }
        var (tag, body) = mapping.Entries[0];
        if (!tags.TryGetValue(tag.Value, out var caseType))
        {
            Error(tag, $"{Describe(path)}: unknown kind '{tag.Value}'; expected one of {string.Join(", ", tags.Keys)}",
                Suggestions.DidYouMean(tag.Value, tags.Keys));
            return null;
        }
        var item = body is YScalar { IsNull: true } && ModelShape.Positional(caseType) is null
            ? BindRecord(new YMapping(body.At), caseType, Join(path, tag.Value), tag.At)
            : BindRecord(body, caseType, Join(path, tag.Value), tag.At);
        if (item is not null) map.Record(item, "", tag.At);
        return item;
    }

    private object? BindRecord(YNode node, Type type, string path, SourceLocation? keyAt)
    {
        var properties = ModelShape.Properties(type);
        var positional = ModelShape.Positional(type);
        var instance = Activator.CreateInstance(type)!;
        map.Record(instance, "", node.At);
        if (node is not YMapping mapping)
        {
            if (positional is not null && node is not YScalar { IsNull: true })
            {
                var value = Bind(node, positional.PropertyType, path, positional, node.At);
                if (value is not null) positional.SetValue(instance, value);
                map.Record(instance, positional.Name, node.At);
                return value is null ? null : instance;
            }
            Error(node, $"{Describe(path)} needs a mapping with keys {string.Join(", ", properties.Keys.Take(6))}{(properties.Count > 6 ? ", ..." : "")}, found {node.KindName}");
            return null;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var meant = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, valueNode) in mapping.Entries)
        {
            if (!properties.TryGetValue(key.Value, out var property))
            {
                if (ReportUnknownKey(key, properties.Keys, path) is { } suggested) meant.Add(suggested);
                map.MarkInvalid(instance);
                continue;
            }
            seen.Add(key.Value);
            // Values are located at the value, so later checks ("no RSE named X") point at the mistake itself.
            map.Record(instance, property.Name, valueNode is YScalar { IsNull: true } ? key.At : valueNode.At);
            var errors = diagnostics.Items.Count;
            object? value = null;
            if (valueNode is YScalar { IsNull: true } && !property.PropertyType.IsValueType && ModelShape.Attribute<RequiredKeyAttribute>(property) is not null)
                Error(key, $"{Describe(Join(path, key.Value))} needs " +
                           (ModelShape.Attribute<KeyedByAttribute>(property) is { } keyed ? $"a mapping keyed by {ModelShape.KeyName(keyed.Property)}" : ModelShape.Expected(property.PropertyType)) +
                           ", found nothing", "give it a value");
            else
                value = Bind(valueNode, property.PropertyType, Join(path, key.Value), property, key.At);
            if (value is not null)
            {
                property.SetValue(instance, value);
                // A list missing items that failed to bind ("load: [ramp_inject: ...]") is not checked as if complete.
                if (value is System.Collections.ICollection list && valueNode is YSequence sequence && list.Count < sequence.Items.Count)
                {
                    map.MarkInvalid(instance);
                    map.MarkInvalid(list);
                }
                continue;
            }
            // The property keeps its default: later errors about it point at its key; after a binding error
            // neither it nor its owner is checked further.
            var failed = diagnostics.Items.Count > errors;
            if (failed) map.MarkInvalid(instance);
            if (property.GetValue(instance) is { } fallback && fallback is not System.Collections.IEnumerable && !fallback.GetType().IsValueType)
            {
                map.Record(fallback, "", key.At);
                if (failed) map.MarkInvalid(fallback);
            }
        }
        // A key reported as misspelt ("experimnets") is not reported again as missing ("experiments").
        foreach (var (name, property) in properties)
            if (ModelShape.Attribute<RequiredKeyAttribute>(property) is not null && !seen.Contains(name) && !meant.Contains(name))
            {
                Error(keyAt ?? mapping.At, $"{Describe(path)} is missing required key '{name}'", $"add '{name}: ...'");
                map.MarkInvalid(instance);
            }
        return instance;
    }

    private object? Bind(YNode node, Type type, string path, PropertyInfo property, SourceLocation keyAt)
    {
        var element = ModelShape.ListElement(Nullable.GetUnderlyingType(type) ?? type);
        return element is not null && node is not YScalar { IsNull: true } ? BindList(node, element, path, property) : Bind(node, type, path, keyAt);
    }

    /// <summary>Reports a key the record does not have; returns the key it most likely stands for.</summary>
    private string? ReportUnknownKey(YScalar key, IEnumerable<string> allowed, string path)
    {
        var word = key.Value.ToLowerInvariant();
        if (SecretWords.Any(word.Contains) && !word.EndsWith("_env", StringComparison.Ordinal) && !word.EndsWith("_file", StringComparison.Ordinal))
        {
            Error(key, $"{Describe(path)}: '{key.Value}' would put a secret in the scenario; secrets never go in a scenario",
                $"name where it lives instead: '{key.Value}_env: VARIABLE' or '{key.Value}_file: PATH'");
            return null;
        }
        var names = allowed.ToList();
        var closest = Suggestions.Closest(key.Value, names);
        Error(key, $"{Describe(path)}: unknown key '{key.Value}'; expected one of {string.Join(", ", names)}",
            closest is null ? null : $"did you mean '{closest}'?");
        return closest;
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
    private static string Describe(string path) => path.Length == 0 ? "the scenario" : $"'{path}'";
    private void Error(YNode node, string message, string? suggestion = null) => diagnostics.Add(node.At, message, suggestion);
    private void Error(SourceLocation at, string message, string? suggestion = null) => diagnostics.Add(at, message, suggestion);
}

/// <summary>What the reflection-based tools need to know about the model's types.</summary>
public static class ModelShape
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, PropertyInfo>> PropertyCache = new();
    private static readonly ConcurrentDictionary<Type, Func<string, (bool, object?, string?)>?> ParserCache = new();
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> PositionalCache = new();
    private static readonly ConcurrentDictionary<MemberInfo, Attribute[]> AttributeCache = new();

    public static IReadOnlyDictionary<string, PropertyInfo> Properties(Type type) =>
        PropertyCache.GetOrAdd(type, t =>
        {
            // Declared-order, base properties (Phase.Name, Start, …) first.
            var chain = new List<Type>();
            for (var c = t; c is not null && c != typeof(object); c = c.BaseType) chain.Insert(0, c);
            var result = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
            foreach (var c in chain)
            foreach (var p in c.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (p.SetMethod is null || Attribute<FromKeyAttribute>(p) is not null) continue;
                if (p.Name == "EqualityContract") continue;
                result[KeyName(p.Name)] = p;
            }
            return result;
        });

    public static PropertyInfo? Positional(Type type) =>
        PositionalCache.GetOrAdd(type, static t => Properties(t).Values.FirstOrDefault(p => Attribute<PositionalAttribute>(p) is not null));

    /// <summary>
    /// The member's attribute <typeparamref name="T"/> (inherited ones too, as GetCustomAttribute), or null. The member's
    /// attributes are made once: the binder and the writer ask for them at every record of a scenario, and making them
    /// was about half of a scenario's binding.
    /// </summary>
    public static T? Attribute<T>(MemberInfo member) where T : Attribute
    {
        foreach (var a in AttributeCache.GetOrAdd(member, static m => System.Attribute.GetCustomAttributes(m, inherit: true)))
            if (a is T found) return found;
        return null;
    }

    /// <summary>FilesPerDataset → files_per_dataset.</summary>
    public static string KeyName(string propertyName)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < propertyName.Length; i++)
        {
            var c = propertyName[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>Enum members as written in YAML: FixedPercent → fixed-percent, X509 → x509.</summary>
    public static string EnumName(string member)
    {
        if (member.Length <= 1) return member;
        return KeyName(member).Replace('_', '-');
    }

    public static IReadOnlyList<string> EnumNames(Type type) => [.. Enum.GetNames(type).Select(EnumName)];

    public static string Normalize(string text) => text.Replace("-", "").Replace("_", "").ToLowerInvariant();

    public static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(Uri)
               || type == typeof(RseExpression) || TextParser(type) is not null;
    }

    public static Type? ListElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0] : null;

    public static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) ? type.GetGenericArguments()[1] : null;

    /// <summary>The TryParse of a type implementing <see cref="ITextValue{TSelf}"/>, as a delegate.</summary>
    public static Func<string, (bool Ok, object? Value, string? Error)>? TextParser(Type type) =>
        ParserCache.GetOrAdd(type, t =>
        {
            if (!t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ITextValue<>))) return null;
            var method = typeof(ModelShape).GetMethod(nameof(ParseText), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t);
            return (Func<string, (bool, object?, string?)>)method.CreateDelegate(typeof(Func<string, (bool, object?, string?)>));
        });

    private static (bool, object?, string?) ParseText<T>(string text) where T : ITextValue<T> =>
        T.TryParse(text, out var value, out var error) ? (true, value, null) : (false, null, error);

    public static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a text value";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long)) return "a whole number";
        if (type == typeof(double)) return "a number";
        if (type == typeof(TimeSpan)) return Durations.Expected;
        if (type == typeof(Uri)) return "an absolute URL";
        if (type == typeof(RseExpression)) return "an RSE expression such as \"QOS=SAFE\" or \"DESY-DCACHE|CNAF-STORM\"";
        if (type.IsEnum) return "one of " + string.Join(", ", EnumNames(type));
        if (ListElement(type) is not null) return "a list";
        var expected = type.GetProperty("Expected", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string;
        return expected ?? "a mapping";
    }
}

/// <summary>Where each bound object and property came from, for errors found after binding.</summary>
public sealed class SourceMap
{
    private readonly Dictionary<object, Dictionary<string, SourceLocation>> _places = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<object> _invalid = new(ReferenceEqualityComparer.Instance);

    public string File { get; }
    public SourceMap(string file) => File = file;

    /// <summary>Gives a copy made with 'with' the places of its original.</summary>
    public void Alias(object copy, object original)
    {
        if (_places.TryGetValue(original, out var props)) _places[copy] = props;
        if (_invalid.Contains(original)) _invalid.Add(copy);
    }

    public void Record(object owner, string property, SourceLocation at)
    {
        if (!_places.TryGetValue(owner, out var props)) _places[owner] = props = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        props.TryAdd(property, at);
    }

    /// <summary>The property's key, else the object's own place, else the file.</summary>
    public SourceLocation Locate(object owner, string property = "") =>
        _places.TryGetValue(owner, out var props)
            ? props.TryGetValue(property, out var at) ? at : props.TryGetValue("", out var own) ? own : new SourceLocation(File, 0, 0)
            : new SourceLocation(File, 0, 0);

    /// <summary>The exact place recorded for this owner and part (a list index, a dictionary key), if any.</summary>
    public bool TryLocate(object owner, string part, out SourceLocation at)
    {
        at = default;
        return _places.TryGetValue(owner, out var props) && props.TryGetValue(part, out at);
    }

    /// <summary>Marks an object whose binding already produced an error: its values are partly defaults, so later checks skip it.</summary>
    public void MarkInvalid(object owner) => _invalid.Add(owner);

    public bool IsInvalid(object owner) => _invalid.Contains(owner);
}
