using System.Globalization;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Decisions.Sweep;

/// <summary>
/// <c>--set PATH=VALUE</c>: one setting of a scenario changed from the command line, the way kubectl and Helm take
/// --set. Used by <c>fdr sweep</c> (one run per value of a list), <c>fdr baseline</c>, and meant for <c>fdr run</c>.
/// Paths: run.seed, run.scale; daemons.NAME.replicas, .threads, .requests.cpu, .requests.memory, .limits.cpu,
/// .limits.memory; links.defaults.bandwidth, .max_active, .failure_probability; links.bandwidth_factor (every link's
/// bandwidth, defaults and overrides, multiplied — the word link_degradation uses); workload.rate_factor (every load
/// simulation's rate multiplied: a slower or faster workload of the same scenario).
/// </summary>
public static class ScenarioSettings
{
    public const string Paths = "run.seed, run.scale, daemons.NAME.(replicas|threads|requests.cpu|requests.memory|limits.cpu|limits.memory), " +
        "links.defaults.(bandwidth|max_active|failure_probability), links.bandwidth_factor, workload.rate_factor";

    /// <summary>"PATH=VALUE" split; the error names what was expected.</summary>
    public static (string Path, string Value) Split(string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0 || eq == assignment.Length - 1)
            throw new SweepInputException($"--set {assignment}: expected PATH=VALUE, e.g. links.bandwidth_factor=0.5 (paths: {Paths})");
        return (assignment[..eq].Trim(), assignment[(eq + 1)..].Trim());
    }

    /// <summary>Applies every "PATH=VALUE" in order.</summary>
    public static Scenario Apply(Scenario s, IEnumerable<string> assignments)
    {
        foreach (var a in assignments)
        {
            var (path, value) = Split(a);
            s = Apply(s, path, value, out _);
        }
        return s;
    }

    /// <summary>The scenario with <paramref name="path"/> set to <paramref name="raw"/>; <paramref name="x"/> is the value as a number (for sweep plots).</summary>
    public static Scenario Apply(Scenario s, string path, string raw, out double x)
    {
        string Bad(string expected) => $"--set {path}={raw}: expected {expected}";
        var parts = path.Split('.');
        switch (parts)
        {
            case ["run", "seed"]:
                if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)) throw new SweepInputException(Bad("a whole number"));
                x = seed;
                return s with { Run = s.Run with { Seed = seed } };
            case ["run", "scale"]:
                x = Number(raw, 1e-9, 1000, Bad("a factor above 0, at most 1000"));
                return s with { Run = s.Run with { Scale = x } };
            case ["links", "bandwidth_factor"]:
                var f = Number(raw, 1e-9, 1000, Bad("a factor above 0, such as 0.5"));
                x = f;
                return s with
                {
                    Links = s.Links with
                    {
                        Defaults = s.Links.Defaults with { Bandwidth = Scale(s.Links.Defaults.Bandwidth, f) },
                        Overrides = s.Links.Overrides.Select(o => o with { Bandwidth = Scale(o.Bandwidth, f) }).ToArray(),
                    },
                };
            case ["workload", "rate_factor"]:
                var pace = Number(raw, 1e-9, 1000, Bad("a factor above 0 and at most 1000, such as 0.8"));
                x = pace;
                return s with { Workload = s.Workload.Select(p => Paced(p, pace)).ToArray() };
            case ["links", "defaults", var field]:
                var d = s.Links.Defaults;
                switch (field)
                {
                    case "bandwidth":
                        if (!Bandwidth.TryParse(raw, out var bw, out var e) || bw.BytesPerSecond <= 0) throw new SweepInputException(Bad("a rate such as 1.25 GB/s") + (e is null ? "" : $" ({e})"));
                        x = bw.BytesPerSecond;
                        d = d with { Bandwidth = bw };
                        break;
                    case "max_active":
                        x = Count(raw, Bad("a whole number of transfers, at least 1"));
                        d = d with { MaxActive = (int)x };
                        break;
                    case "failure_probability":
                        x = raw.EndsWith('%') ? Number(raw[..^1], 0, 100, Bad("a probability from 0 to 1 (or 0% to 100%)")) / 100 : Number(raw, 0, 1, Bad("a probability from 0 to 1 (or 0% to 100%)"));
                        d = d with { FailureProbability = x };
                        break;
                    default:
                        throw new SweepInputException($"--set {path}: links.defaults has bandwidth, max_active and failure_probability");
                }
                return s with { Links = s.Links with { Defaults = d } };
            case ["daemons", var name, .. var rest] when rest.Length > 0:
                var daemon = s.Daemons.FirstOrDefault(dd => dd.Name == name)
                    ?? throw new SweepInputException($"--set {path}: no daemon '{name}' in the scenario (daemons: {string.Join(", ", s.Daemons.Select(dd => dd.Name))})");
                var field2 = string.Join('.', rest);
                DaemonSpec changed;
                switch (field2)
                {
                    case "limits.memory" or "requests.memory":
                        if (!ByteSize.TryParse(raw, out var size, out var e1)) throw new SweepInputException($"--set {path}={raw}: {e1}");
                        x = size.Bytes;
                        changed = field2[0] == 'l' ? daemon with { Limits = daemon.Limits with { Memory = size } } : daemon with { Requests = daemon.Requests with { Memory = size } };
                        break;
                    case "limits.cpu" or "requests.cpu":
                        if (!CpuQuantity.TryParse(raw, out var cpu, out var e2)) throw new SweepInputException($"--set {path}={raw}: {e2}");
                        x = cpu.Millicores / 1000.0;
                        changed = field2[0] == 'l' ? daemon with { Limits = daemon.Limits with { Cpu = cpu } } : daemon with { Requests = daemon.Requests with { Cpu = cpu } };
                        break;
                    case "replicas" or "threads":
                        x = Count(raw, Bad("a whole number, at least 1"));
                        changed = field2 == "replicas" ? daemon with { Replicas = (int)x } : daemon with { Threads = (int)x };
                        break;
                    default:
                        throw new SweepInputException($"--set {path}: cannot set '{field2}'; use limits.memory, limits.cpu, requests.memory, requests.cpu, replicas or threads");
                }
                // A limit change in the chaos section would overwrite the value set here mid-run.
                var chaos = field2.Contains("limits", StringComparison.Ordinal) || field2.Contains("requests", StringComparison.Ordinal)
                    ? s.Chaos.Where(c => c is not LimitChange lc || lc.Daemon != daemon.Name).ToArray() : s.Chaos;
                return s with { Daemons = s.Daemons.Select(dd => dd.Name == daemon.Name ? changed : dd).ToArray(), Chaos = chaos };
            default:
                throw new SweepInputException($"--set {path}: cannot set this; paths: {Paths}");
        }
    }

    /// <summary>
    /// The phase with every open load simulation's rate × <paramref name="f"/> (files or rules per interval). Closed
    /// models (keep_constant, ramping_constant) keep their workers: their pace is their operations' own. A phase that
    /// writes every file before the run ends writes them later, not fewer; one the run's end cuts short writes fewer.
    /// </summary>
    private static Phase Paced(Phase phase, double f)
    {
        IReadOnlyList<LoadSimulation> Of(IReadOnlyList<LoadSimulation> load) => load.Select(l => l switch
        {
            Inject i => i with { Rate = i.Rate * f },
            RampingInject r => r with { Rate = r.Rate * f },
            InjectRandom r => r with { MinRate = r.MinRate * f, MaxRate = r.MaxRate * f },
            IterationsForInject i => i with { Rate = i.Rate * f },
            _ => l,
        }).ToArray();
        var kind = Core.Planning.PhaseKind.For(phase);
        return kind.WithLoad(phase, Of(kind.Load(phase)));
    }

    private static Bandwidth? Scale(Bandwidth? b, double factor) => b is { } x ? new Bandwidth(x.BytesPerSecond * factor) : null;

    private static double Number(string raw, double min, double max, string error) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= min && v <= max ? v : throw new SweepInputException(error);

    private static double Count(string raw, string error) =>
        int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : throw new SweepInputException(error);
}
