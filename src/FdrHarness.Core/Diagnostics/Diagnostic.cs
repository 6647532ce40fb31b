namespace FdrHarness.Core.Diagnostics;

/// <summary>A place in a file, 1-based as editors show it.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>One user mistake: where, what is wrong, and what would be right.</summary>
public sealed record Diagnostic(SourceLocation Location, string Message, string? Suggestion = null)
{
    public override string ToString() =>
        Suggestion is null ? $"{Location}: error: {Message}" : $"{Location}: error: {Message} ({Suggestion})";
}

/// <summary>Collects every mistake of one pass so the user sees them all at once.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];
    public IReadOnlyList<Diagnostic> Items => _items;
    public bool HasErrors => _items.Count > 0;

    public void Add(SourceLocation at, string message, string? suggestion = null) =>
        _items.Add(new Diagnostic(at, message, suggestion));

    /// <summary>Sorted by position, so output reads top to bottom like the file.</summary>
    public IReadOnlyList<Diagnostic> Sorted() =>
        [.. _items.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
}

public static class Suggestions
{
    /// <summary>"did you mean 'x'?" for the closest candidate within a small edit distance, else null.</summary>
    public static string? DidYouMean(string given, IEnumerable<string> candidates)
    {
        var best = Closest(given, candidates);
        return best is null ? null : $"did you mean '{best}'?";
    }

    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Distance(given.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = c;
            }
        }
        var allowed = Math.Max(2, given.Length / 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        for (var j = 1; j <= b.Length; j++)
        {
            var cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
