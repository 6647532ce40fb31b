using System.Globalization;

namespace FdrHarness.Core.Synthetic;

/// <summary>One synthetic file: its DID, where it is attached, and what Rucio registers for its replicas.</summary>
/// <param name="Index">Position of the file in its experiment (0-based); with the scope it fixes the content.</param>
public readonly record struct SyntheticFile(
    string Scope,
    string Name,
    string Dataset,
    string? Container,
    long Bytes,
    uint Adler32,
    long Index)
{
    /// <summary>The checksum as Rucio stores and prints it: 8 lower-case hex digits.</summary>
    public string Adler32Hex => Adler32.ToString("x8", CultureInfo.InvariantCulture);
}
