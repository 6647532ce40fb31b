using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Decisions.Sweep;

namespace FdrHarness.Cli.Commands;

/// <summary>
/// The scenario argument and the options that change it before it is planned — --target, --seed, --scale,
/// --helm-values, --set, --kubeconfig, --context — shared by `fdr run` and `fdr plan`, so both plan the same scenario from the same command line.
/// </summary>
public sealed class ScenarioOptions
{
    public Argument<string> Scenario { get; } = new("scenario") { Description = "Scenario file (YAML)." };
    public Option<string> Target { get; } = new("--target") { Description = "embedded (the simulated data lake) or rucio; default: the scenario's target." };
    public Option<long?> Seed { get; } = new("--seed")
    {
        Description = "Overrides run.seed.",
        CustomParser = r => long.TryParse(r.Tokens.Single().Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : Invalid<long>(r, "--seed", "a whole number such as 7"),
    };
    public Option<double?> Scale { get; } = new("--scale")
    {
        Description = "Overrides run.scale (file counts and rates).",
        CustomParser = r => double.TryParse(r.Tokens.Single().Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : Invalid<double>(r, "--scale", "a factor such as 0.5 or 10"),
    };
    public Option<string?> HelmValues { get; } = HelmValuesOption.Create();
    public Option<string[]> Overlay { get; } = OverlayOption.Create();
    public Option<string[]> Set { get; } = new("--set")
    {
        Description = $"Change a setting first, PATH=VALUE (repeatable; --seed and --scale win): {ScenarioSettings.Paths}.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "Overrides target.kubernetes.kubeconfig (as kubectl's --kubeconfig)." };
    public Option<string?> Context { get; } = new("--context") { Description = "Overrides target.kubernetes.context: the kubeconfig context to use (as kubectl's --context)." };

    public ScenarioOptions() => Target.AcceptOnlyFromAmong("embedded", "rucio");

    public void AddTo(Command command)
    {
        command.Add(Scenario);
        command.Add(Target);
        command.Add(Seed);
        command.Add(Scale);
        command.Add(HelmValues);
        command.Add(Overlay);
        command.Add(Set);
        command.Add(Kubeconfig);
        command.Add(Context);
    }

    /// <summary>The scenario with the command line's overrides, or null after telling every mistake on stderr (exit 2).</summary>
    public Scenario? Resolve(ParseResult parse, string command, TextWriter stdout, TextWriter stderr, out SourceMap? map) =>
        Resolve(parse, command, stdout, stderr, out map, out _);

    /// <summary>As above; <paramref name="overlays"/>: the --overlay files applied, in order (run.json records them).</summary>
    public Scenario? Resolve(ParseResult parse, string command, TextWriter stdout, TextWriter stderr, out SourceMap? map, out IReadOnlyList<AppliedOverlay> overlays)
    {
        var result = OverlayOption.Load(parse.GetValue(Scenario)!, parse.GetValue(Overlay), stderr);
        map = null;
        overlays = [];
        if (result is null) return null;
        map = result.Map;
        overlays = result.Overlays;
        if (!ValidateCommand.Report(result, stderr)) return null;
        var s = result.Scenario!;
        try
        {
            s = ScenarioSettings.Apply(s, parse.GetValue(Set) ?? []);
        }
        catch (SweepInputException e)
        {
            stderr.WriteLine($"fdr {command}: error: {e.Message}");
            return null;
        }
        if (parse.GetValue(Scale) is { } f)
        {
            if (f is <= 0 or > 1000)
            {
                stderr.WriteLine($"fdr {command}: --scale {f.ToString(CultureInfo.InvariantCulture)}: expected a factor above 0, at most 1000");
                return null;
            }
            s = s with { Run = s.Run with { Scale = f } };
        }
        if (parse.GetValue(Seed) is { } n) s = s with { Run = s.Run with { Seed = n } };
        if (parse.GetValue(Target) is { } t)
            s = s with { Target = s.Target with { Kind = t == "rucio" ? TargetKind.Rucio : TargetKind.Embedded } };
        if (WithCluster(s, parse.GetValue(Kubeconfig), parse.GetValue(Context), command, stderr) is not { } withCluster) return null;
        s = withCluster;
        if (HelmValuesOption.Apply(s, parse.GetValue(HelmValues), stdout, stderr) is not { } withValues) return null;
        if (ResourceBudget.Exceeded(withValues, map) is { Count: > 0 } over) // --scale or --helm-values may have grown it
        {
            ValidateCommand.Report(over, stderr);
            return null;
        }
        return withValues;
    }

    /// <summary>The scenario with kubectl's --kubeconfig and --context applied; null (told) when it has no cluster to apply them to.</summary>
    public static Scenario? WithCluster(Scenario s, string? kubeconfig, string? context, string command, TextWriter stderr)
    {
        if (kubeconfig is null && context is null) return s;
        if (s.Target.Kubernetes is not { } k)
        {
            stderr.WriteLine($"fdr {command}: {(kubeconfig is null ? "--context" : "--kubeconfig")}: the scenario has no target.kubernetes section, so no cluster to connect to");
            return null;
        }
        if (kubeconfig is { Length: 0 } || context is { Length: 0 })
        {
            stderr.WriteLine($"fdr {command}: {(kubeconfig is { Length: 0 } ? "--kubeconfig" : "--context")} is empty");
            return null;
        }
        return s with { Target = s.Target with { Kubernetes = k with { Kubeconfig = kubeconfig ?? k.Kubeconfig, Context = context ?? k.Context } } };
    }

    private static T? Invalid<T>(ArgumentResult result, string option, string expected) where T : struct
    {
        result.AddError($"{option} '{result.Tokens.Single().Value}': expected {expected}");
        return null;
    }
}
