namespace FdrHarness.Rucio.Rest;

/// <summary>Removes every secret the client has seen (tokens, passwords) from text that may reach a log or an exception.</summary>
public sealed class Redactor
{
    private readonly Lock _gate = new();
    private string[] _secrets = [];

    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 4) return; // too short to redact without mangling text
        lock (_gate)
        {
            if (Array.IndexOf(_secrets, secret) >= 0) return;
            _secrets = [.. _secrets, secret];
        }
    }

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        foreach (var s in _secrets) text = text.Replace(s, "***", StringComparison.Ordinal);
        return text;
    }
}
