namespace FdrHarness.Core.Scenarios.Yaml;

/// <summary>The list is written in YAML as a mapping; each key fills the element's property named here.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KeyedByAttribute(string property) : Attribute
{
    public string Property { get; } = property;
}

/// <summary>The type may be written as a bare value (scalar or sequence) that binds to this property: "pause: 10m".</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PositionalAttribute : Attribute;

/// <summary>The key must be present.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>Filled from the mapping key, never written as a key of its own.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FromKeyAttribute : Attribute;

/// <summary>One case of a tagged union, written as a single-key mapping: "- inject: {...}".</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class UnionCaseAttribute(string tag) : Attribute
{
    public string Tag { get; } = tag;
}

/// <summary>An abstract record whose cases are the listed types. Not inherited: a case is not itself a union.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class UnionAttribute(params Type[] cases) : Attribute
{
    public Type[] Cases { get; } = cases;
}

/// <summary>Documentation of a key, shown by editors through the JSON Schema.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Field)]
public sealed class DocAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>A string key whose value names an external secret source (environment variable or file), never the secret.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretSourceAttribute : Attribute;
