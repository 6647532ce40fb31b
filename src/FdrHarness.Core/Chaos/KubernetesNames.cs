using System.Text.RegularExpressions;

namespace FdrHarness.Core.Chaos;

/// <summary>
/// What the Kubernetes API accepts as a label key, a label value, a namespace and a pod name
/// (k8s.io/apimachinery validation: qualified names, RFC 1123 labels and subdomains). Each method returns the
/// reasons a string is refused ("is longer than 63 characters", to follow the string's name), none when it is valid, so a scenario is refused before a malformed selector
/// reaches a cluster: `a!` is not a key, and never becomes the selector `a!=b`.
/// </summary>
public static partial class KubernetesNames
{
    public const int NameMaxLength = 63;
    public const int SubdomainMaxLength = 253;

    private const string NameRule = "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";

    /// <summary>A label key: a name of at most 63 characters, optionally after a DNS subdomain prefix and '/' (example.com/my-name).</summary>
    public static IReadOnlyList<string> LabelKeyErrors(string key)
    {
        var errors = new List<string>();
        var parts = key.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                name = parts[1];
                if (parts[0].Length == 0) errors.Add("the prefix before '/' is empty");
                else errors.AddRange(SubdomainErrors(parts[0]).Select(e => "the prefix " + e));
                break;
            default:
                return [$"has more than one '/': a key is a name of {NameRule}, optionally after a DNS subdomain prefix and '/'"];
        }
        if (name.Length == 0) errors.Add("the name part is empty");
        else if (name.Length > NameMaxLength) errors.Add($"the name part is longer than {NameMaxLength} characters");
        if (name.Length > 0 && !QualifiedName().IsMatch(name)) errors.Add($"the name part must be {NameRule}");
        return errors;
    }

    /// <summary>A label value: empty, or at most 63 characters of the label key's name alphabet.</summary>
    public static IReadOnlyList<string> LabelValueErrors(string value)
    {
        var errors = new List<string>();
        if (value.Length > NameMaxLength) errors.Add($"is longer than {NameMaxLength} characters");
        if (value.Length > 0 && !QualifiedName().IsMatch(value)) errors.Add($"must be empty or {NameRule}");
        return errors;
    }

    /// <summary>A namespace: an RFC 1123 label (at most 63 lower-case alphanumerics or '-', alphanumeric at both ends).</summary>
    public static IReadOnlyList<string> NamespaceErrors(string name)
    {
        var errors = new List<string>();
        if (name.Length > NameMaxLength) errors.Add($"is longer than {NameMaxLength} characters");
        if (!Dns1123Label().IsMatch(name))
            errors.Add("must be lower-case alphanumeric characters or '-', starting and ending with an alphanumeric character");
        return errors;
    }

    /// <summary>A pod name: an RFC 1123 subdomain (at most 253 characters, dot-separated labels).</summary>
    public static IReadOnlyList<string> PodNameErrors(string name) => SubdomainErrors(name);

    private static List<string> SubdomainErrors(string value)
    {
        var errors = new List<string>();
        if (value.Length > SubdomainMaxLength) errors.Add($"is longer than {SubdomainMaxLength} characters");
        if (!Dns1123Subdomain().IsMatch(value))
            errors.Add("must be lower-case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character");
        return errors;
    }

    // \A and \z: .NET's $ also matches before a final newline, Kubernetes' anchors do not.
    [GeneratedRegex(@"\A(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\z")] private static partial Regex QualifiedName();
    [GeneratedRegex(@"\A[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\z")] private static partial Regex Dns1123Label();
    [GeneratedRegex(@"\A[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\z")] private static partial Regex Dns1123Subdomain();
}
