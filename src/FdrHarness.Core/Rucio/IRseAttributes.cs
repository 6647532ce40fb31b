namespace FdrHarness.Core.Rucio;

/// <summary>An RSE as seen by the RSE expression evaluator: its name and its attribute map.</summary>
public interface IRseAttributes
{
    string Name { get; }

    /// <summary>Attribute values as strings; keys are case-sensitive, as in Rucio.</summary>
    IReadOnlyDictionary<string, string> Attributes { get; }
}

/// <summary>Plain immutable <see cref="IRseAttributes"/> implementation.</summary>
public sealed record RseAttributes(string Name, IReadOnlyDictionary<string, string> Attributes) : IRseAttributes;
