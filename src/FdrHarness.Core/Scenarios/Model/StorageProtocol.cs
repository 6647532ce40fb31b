using FdrHarness.Core.Quantities;

namespace FdrHarness.Core.Scenarios.Model;

/// <summary>A storage endpoint of an RSE: scheme, host, port and path prefix ("davs://host:2880/escape").</summary>
public sealed record StorageProtocol(string Scheme, string? Hostname, int? Port, string Prefix) : ITextValue<StorageProtocol>
{
    public static readonly string[] KnownSchemes = ["https", "davs", "root", "gsiftp", "srm", "file", "s3"];
    public static string Expected => "a URL such as \"davs://host:2880/prefix\" or a scheme (https, davs, root, gsiftp, srm, file, s3)";

    public static bool TryParse(string text, out StorageProtocol value, out string? error)
    {
        value = null!;
        var s = text.Trim();
        var sep = s.IndexOf("://", StringComparison.Ordinal);
        var scheme = sep < 0 ? s : s[..sep];
        if (!KnownSchemes.Contains(scheme))
        {
            error = $"unknown protocol scheme '{scheme}'; expected {Expected}";
            return false;
        }
        if (sep < 0)
        {
            value = new StorageProtocol(scheme, null, null, "/");
            error = null;
            return true;
        }
        if (!Uri.TryCreate(s, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{text}' is not {Expected}";
            return false;
        }
        value = new StorageProtocol(scheme, uri.Host, uri.IsDefaultPort ? null : uri.Port, uri.AbsolutePath);
        error = null;
        return true;
    }

    public override string ToString() =>
        Hostname is null ? Scheme : $"{Scheme}://{Hostname}{(Port is { } p ? ":" + p : "")}{Prefix}";
}
