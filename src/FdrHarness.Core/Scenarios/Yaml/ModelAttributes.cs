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

/// <summary>
/// An abstract record whose cases are the listed types, or those <see cref="Registry"/> lists. Not inherited: a case
/// is not itself a union.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class UnionAttribute(params Type[] cases) : Attribute
{
    /// <summary>
    /// A class whose public static Cases property lists the cases: a kind registered once there is bound, validated
    /// and planned from that one list (chaos and phase kinds).
    /// </summary>
    public Type? Registry { get; set; }

    public IReadOnlyList<Type> Cases => Registry is null ? cases
        : (IReadOnlyList<Type>)Registry.GetProperty("Cases", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
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
