using System.Text.RegularExpressions;
using FdrHarness.Core.Chaos;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios;

/// <summary>Checks what YAML's shape cannot: ranges, references between sections, RSE expressions against the RSEs.</summary>
public sealed partial class ScenarioValidator
{
    private readonly Scenario _s;
    private readonly SourceMap _map;
    private readonly DiagnosticBag _bag;
    private readonly IReadOnlyCollection<IRseAttributes> _rses;
    private readonly HashSet<string> _rseNames;
    // The workload's phases above the one checked, by name, and whether every phase was read (none failed to bind).
    private readonly Dictionary<string, Phase> _earlierPhases = new(StringComparer.Ordinal);
    private bool _allPhases = true;

    private ScenarioValidator(Scenario scenario, SourceMap map, DiagnosticBag bag)
    {
        _s = scenario;
        _map = map;
        _bag = bag;
        _rses = scenario.Rses;
        _rseNames = scenario.Rses.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The scenario checked, and where its keys stand in the file (for the chaos kinds' checks).</summary>
    internal Scenario Scenario => _s;
    internal SourceMap Map => _map;
    internal IReadOnlySet<string> RseNames => _rseNames;

    public static void Validate(Scenario scenario, SourceMap map, DiagnosticBag bag)
    {
        var v = new ScenarioValidator(scenario, map, bag);
        v.Run();
        v.Cluster();
        v.Rses();
        v.Links();
        v.Experiments();
        v.Workload();
        v.Daemons();
        v.Chaos();
        v.Thresholds();
        v.Target();
    }

    private void Run()
    {
        var run = _s.Run;
        if (!SafeName().IsMatch(run.Name)) Error(run, nameof(run.Name), $"run.name '{run.Name}' names a folder: use letters, digits, '.', '_' and '-'", "e.g. escape-fdr-2020");
        if (run.Duration <= TimeSpan.Zero) Error(run, nameof(run.Duration), "run.duration must be longer than 0");
        if (run.ObservationInterval <= TimeSpan.Zero || run.ObservationInterval > run.Duration)
            Error(run, nameof(run.ObservationInterval), $"run.observation_interval must be between 0 and the run's duration ({Durations.Format(run.Duration)})");
        if (run.Scale <= 0 || run.Scale > 1000) Error(run, nameof(run.Scale), "run.scale must be above 0 and at most 1000");
        if (run.MetricsPort is < 1 or > 65535) Error(run, nameof(run.MetricsPort), $"run.metrics_port {run.MetricsPort} is not a TCP port (1 to 65535)", "e.g. 9464, Prometheus' port for exporters");
        if (run.MetricsWait < TimeSpan.Zero) Error(run, nameof(run.MetricsWait), "run.metrics_wait cannot be negative");
    }

    private void Cluster()
    {
        foreach (var pool in _s.Cluster.Nodes)
        {
            if (pool.Count < 1) Error(pool, nameof(pool.Count), "a node pool needs at least 1 node");
            if (pool.Cpu.Millicores <= 0) Error(pool, nameof(pool.Cpu), "node cpu must be above 0");
            if (pool.Memory.Bytes <= 0) Error(pool, nameof(pool.Memory), "node memory must be above 0");
        }
    }

    private void Rses()
    {
        if (_s.Rses.Count == 0) Error(_s, nameof(_s.Rses), "a scenario needs at least one RSE");
        var classes = _s.QosClasses.Select(q => q.Name).ToList();
        foreach (var rse in _s.Rses)
        {
            if (!RseName().IsMatch(rse.Name))
                Error(rse, nameof(rse.Name), $"'{rse.Name}' is not an RSE name: Rucio's are upper-case letters, digits, '-' and '_'", $"e.g. {rse.Name.ToUpperInvariant()}");
            if (rse.Quota.Bytes <= 0) Error(rse, nameof(rse.Quota), $"RSE {rse.Name}: quota must be above 0");
            if (rse.Watermark > rse.Quota) Error(rse, nameof(rse.Watermark), $"RSE {rse.Name}: watermark ({rse.Watermark}) is above the quota ({rse.Quota})");
            if (classes.Count > 0 && rse.Attributes.TryGetValue("QOS", out var qos) && !classes.Contains(qos))
                ErrorAtItem(rse, nameof(rse.Attributes), rse.Attributes, "QOS", $"RSE {rse.Name}: QoS class '{qos}' is not declared in qos_classes ({string.Join(", ", classes)})",
                    Suggestions.DidYouMean(qos, classes));
        }
    }

    private void Links()
    {
        CheckLink(_s.Links.Defaults, _s.Links.Defaults.Bandwidth, _s.Links.Defaults.MaxActive, _s.Links.Defaults.FailureProbability);
        foreach (var o in _s.Links.Overrides)
        {
            Expression(o.Source, o, nameof(o.Source));
            Expression(o.Destination, o, nameof(o.Destination));
            CheckLink(o, o.Bandwidth, o.MaxActive, o.FailureProbability);
        }
    }

    private void CheckLink(object owner, Bandwidth? bandwidth, int? maxActive, double? failure)
    {
        if (bandwidth is { BytesPerSecond: <= 0 }) Error(owner, "Bandwidth", "bandwidth must be above 0");
        if (maxActive is < 1) Error(owner, "MaxActive", "max_active must be at least 1");
        Probability(owner, "FailureProbability", failure);
    }

    private void Experiments()
    {
        if (_s.Experiments.Count == 0) Error(_s, nameof(_s.Experiments), "a scenario needs at least one experiment");
        var scopes = new Dictionary<string, ExperimentSpec>(StringComparer.Ordinal);
        var qosValues = _s.Rses.Select(r => r.Attributes.GetValueOrDefault("QOS")).OfType<string>().Distinct().ToList();
        foreach (var e in _s.Experiments)
        {
            var scope = e.EffectiveScope;
            if (!ScopeName().IsMatch(scope))
                Error(e, e.Scope is null ? "" : nameof(e.Scope), $"experiment {e.Name}: scope '{scope}' is not a Rucio scope (at most 25 letters, digits, '-', '_', '.')");
            else if (!scopes.TryAdd(scope, e))
                Error(e, nameof(e.Scope), $"experiment {e.Name}: scope '{scope}' is already used by experiment {scopes[scope].Name}");
            if (e.Files < 0) Error(e, nameof(e.Files), $"experiment {e.Name}: files cannot be negative");
            if (e.FilesPerDataset < 1) Error(e, nameof(e.FilesPerDataset), $"experiment {e.Name}: files_per_dataset must be at least 1");
            if (e.DatasetsPerContainer < 0) Error(e, nameof(e.DatasetsPerContainer), $"experiment {e.Name}: datasets_per_container cannot be negative");
            if (e.WriteTo is not null && e.Qos is not null)
                Error(e, nameof(e.Qos), $"experiment {e.Name}: give write_to or qos, not both", "qos: X is the same as write_to: QOS=X");
            if (e.WriteTo is not null) Expression(e.WriteTo, e, nameof(e.WriteTo));
            if (e.Qos is not null && !qosValues.Contains(e.Qos))
                Error(e, nameof(e.Qos), $"experiment {e.Name}: no RSE has QoS class '{e.Qos}' (RSEs carry {string.Join(", ", qosValues)})",
                    Suggestions.DidYouMean(e.Qos, qosValues));
            SizeDistribution(e);
        }
    }

    private void SizeDistribution(ExperimentSpec e)
    {
        switch (e.FileSize)
        {
            case FixedSize f when f.Size.Bytes <= 0:
                Error(f, nameof(f.Size), $"experiment {e.Name}: a fixed file size must be above 0");
                break;
            case LognormalSize l:
                if (l.Mean.Bytes <= 0) Error(l, nameof(l.Mean), $"experiment {e.Name}: the mean size must be above 0");
                if (l.Sigma is < 0 or > 10) Error(l, nameof(l.Sigma), $"experiment {e.Name}: sigma must be between 0 and 10");
                if (l.Max is { } max && (max < l.Min || max < l.Mean))
                    Error(l, nameof(l.Max), $"experiment {e.Name}: max ({max}) is below min or mean");
                break;
            case HistogramSize h:
                if (h.Bins.Count == 0) Error(h, nameof(h.Bins), $"experiment {e.Name}: a histogram needs at least one bin");
                long previous = 0;
                foreach (var bin in h.Bins)
                {
                    var from = bin.From?.Bytes ?? previous;
                    if (bin.UpTo.Bytes <= from) Error(bin, nameof(bin.UpTo), $"experiment {e.Name}: bin up_to ({bin.UpTo}) must be above its lower edge ({new ByteSize(from)})");
                    if (bin.Weight <= 0) Error(bin, nameof(bin.Weight), $"experiment {e.Name}: a bin's weight must be above 0");
                    previous = bin.UpTo.Bytes;
                }
                break;
        }
    }

    private void Workload()
    {
        var byName = _earlierPhases;
        var experiments = _s.Experiments.Select(e => e.Name).ToList();
        // A phase that failed to bind is missing from the list: a reference to it is not a second mistake.
        var allPhases = _allPhases = !_map.IsInvalid(_s.Workload);
        foreach (var phase in _s.Workload)
        {
            var name = phase.Name!;
            if (byName.ContainsKey(name)) Error(phase, nameof(phase.Name), $"a phase named '{name}' exists already");
            if (phase.Start is not null && phase.After is not null)
                Error(phase, nameof(phase.After), $"phase {name}: give start or after, not both");
            if (phase.Start is { } start && start > _s.Run.Duration)
                Error(phase, nameof(phase.Start), $"phase {name} starts at {Durations.Format(start)}, after the run ends ({Durations.Format(_s.Run.Duration)})");
            if (phase.After is not null && !byName.ContainsKey(phase.After) && (allPhases || _s.Workload.Any(p => p.Name == phase.After)))
            {
                if (phase.After == name)
                    Error(phase, nameof(phase.After), $"phase {name} cannot run after itself", "name a phase listed above it, or give start");
                else if (_s.Workload.Any(p => p.Name == phase.After))
                    Error(phase, nameof(phase.After), $"phase {name}: after '{phase.After}' names a phase listed below it",
                        "a phase runs after a phase listed above it: move this phase down");
                else
                    Error(phase, nameof(phase.After), $"phase {name}: after '{phase.After}' names no phase",
                        Suggestions.DidYouMean(phase.After, byName.Keys) ?? "phases run after phases listed above them");
            }
            for (var i = 0; i < phase.Experiments.Count; i++)
                if (!experiments.Contains(phase.Experiments[i]))
                    ErrorAtItem(phase, nameof(phase.Experiments), phase.Experiments, i, $"phase {name}: no experiment named '{phase.Experiments[i]}'",
                        Suggestions.DidYouMean(phase.Experiments[i], experiments));

            PhaseKind.For(phase).Check(phase, this);
            // Added after its checks: a phase cannot run after itself or replace its own rules.
            byName.TryAdd(name, phase);
        }
    }

    /// <summary>A reference from <paramref name="owner"/>'s <paramref name="key"/> to a phase above it that adds rules (replicate or qos_transition).</summary>
    internal void RulePhase(Phase owner, string property, string reference, string key)
    {
        var (name, earlier, allPhases) = (owner.Name!, _earlierPhases, _allPhases);
        if (earlier.TryGetValue(reference, out var target) && PhaseKind.For(target).AddsRules) return;
        if (target is null && !allPhases && _s.Workload.All(p => p.Name != reference)) return;
        var candidates = earlier.Where(p => PhaseKind.For(p.Value).AddsRules).Select(p => p.Key).ToList();
        var hint = candidates.Count > 0 ? $"phases above this one that add rules: {string.Join(", ", candidates)}" : "add a replicate phase above this one";
        if (target is not null)
            Error(owner, property, $"phase {name}: {key} '{reference}' is {Article(ScenarioLoader.PhaseKind(target))} phase, which adds no rules; " +
                                   "name a replicate or qos_transition phase", hint);
        else
            Error(owner, property, $"phase {name}: {key} '{reference}' names no earlier replicate or qos_transition phase",
                Suggestions.DidYouMean(reference, candidates) ?? hint);
    }

    private static string Article(string word) => "aeiou".Contains(word[0]) ? "an " + word : "a " + word;

    internal void Rule(RuleSpec? rule, string phase)
    {
        if (rule is null) return;
        if (rule.Copies < 1) Error(rule, nameof(rule.Copies), $"phase {phase}: copies must be at least 1");
        Expression(rule.RseExpression, rule, nameof(rule.RseExpression), rule.Copies);
        if (rule.SourceReplicaExpression is not null) Expression(rule.SourceReplicaExpression, rule, nameof(rule.SourceReplicaExpression));
        if (rule.Lifetime is { } l && l <= TimeSpan.Zero) Error(rule, nameof(rule.Lifetime), $"phase {phase}: a rule lifetime must be longer than 0");
        if (rule.Priority is < 1 or > 5) Error(rule, nameof(rule.Priority), $"phase {phase}: priority goes from 1 to 5");
    }

    internal void Load(IReadOnlyList<LoadSimulation> steps, string phase)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case Inject i: Rate(i, nameof(i.Rate), i.Rate, phase); Positive(i, nameof(i.Interval), i.Interval, phase); Positive(i, nameof(i.During), i.During, phase); break;
                case RampingInject r: Rate(r, nameof(r.Rate), r.Rate, phase); Positive(r, nameof(r.Interval), r.Interval, phase); Positive(r, nameof(r.During), r.During, phase); break;
                case InjectRandom r:
                    Rate(r, nameof(r.MinRate), r.MinRate, phase);
                    Rate(r, nameof(r.MaxRate), r.MaxRate, phase);
                    if (r.MaxRate < r.MinRate) Error(r, nameof(r.MaxRate), $"phase {phase}: max_rate is below min_rate");
                    Positive(r, nameof(r.Interval), r.Interval, phase);
                    Positive(r, nameof(r.During), r.During, phase);
                    break;
                case IterationsForInject r:
                    Rate(r, nameof(r.Rate), r.Rate, phase);
                    Positive(r, nameof(r.Interval), r.Interval, phase);
                    if (r.Iterations < 1) Error(r, nameof(r.Iterations), $"phase {phase}: iterations must be at least 1");
                    break;
                case KeepConstant k:
                    if (k.Copies < 1) Error(k, nameof(k.Copies), $"phase {phase}: copies must be at least 1");
                    Positive(k, nameof(k.During), k.During, phase);
                    break;
                case RampingConstant k:
                    if (k.Copies < 0) Error(k, nameof(k.Copies), $"phase {phase}: copies cannot be negative");
                    Positive(k, nameof(k.During), k.During, phase);
                    break;
                case Pause p: Positive(p, nameof(p.During), p.During, phase); break;
            }
        }
    }

    private void Daemons()
    {
        foreach (var d in _s.Daemons)
        {
            if (!RucioDaemons.IsKnown(d.Name))
                Error(d, nameof(d.Name), $"'{d.Name}' is not a Rucio daemon or server this harness knows",
                    Suggestions.DidYouMean(d.Name, RucioDaemons.All) ?? "known: " + string.Join(", ", RucioDaemons.All));
            if (d.Replicas < 0) Error(d, nameof(d.Replicas), $"daemon {d.Name}: replicas cannot be negative");
            if (d.Threads < 1) Error(d, nameof(d.Threads), $"daemon {d.Name}: threads must be at least 1");
            foreach (var (key, value) in d.Model)
                if (DaemonModelKeys.Problem(key, value) is { } problem)
                    ErrorAtItem(d, nameof(d.Model), d.Model, key, $"daemon {d.Name}: model: {problem}",
                        DaemonModelKeys.All.Contains(key) ? null : Suggestions.DidYouMean(key, DaemonModelKeys.All) ?? "known: " + string.Join(", ", DaemonModelKeys.All));
            if (d.Requests.Memory is { } rm && d.Limits.Memory is { } lm && rm > lm)
                Error(d.Requests, nameof(Resources.Memory), $"daemon {d.Name}: memory request ({rm.ToBinaryString()}) is above the limit ({lm.ToBinaryString()}); Kubernetes refuses that");
            if (d.Requests.Cpu is { } rc && d.Limits.Cpu is { } lc && rc > lc)
                Error(d.Requests, nameof(Resources.Cpu), $"daemon {d.Name}: CPU request ({rc}) is above the limit ({lc}); Kubernetes refuses that");
        }
    }

    // Each chaos kind checks its own fields (Planning/Chaos, one file per kind).
    private void Chaos()
    {
        foreach (var action in _s.Chaos) ChaosKind.For(action).Check(action, this);
    }

    internal void KubernetesList(object owner, string property, IReadOnlyList<string> names, string what, Func<string, IReadOnlyList<string>> errors)
    {
        for (var i = 0; i < names.Count; i++)
            if (errors(names[i]) is { Count: > 0 } found)
                ErrorAtItem(owner, property, names, i, $"{what} '{names[i]}' is not valid in Kubernetes: it {string.Join("; ", found)}");
    }

    private void Target()
    {
        var target = _s.Target;
        if (target.Kind == TargetKind.Rucio && target.Rucio is null)
            Error(target, nameof(target.Kind), "target kind rucio needs a target.rucio section", "add rucio: {url: ..., account: ..., auth: ...}");
        if (target.Rucio is { } r && !_map.IsInvalid(r)) // a missing required key was told already; its default auth is not the user's
        {
            var auth = r.Auth;
            switch (auth.Method)
            {
                case AuthMethod.Userpass when auth.Username is null || (auth.PasswordEnv is null && auth.PasswordFile is null):
                    Error(auth, nameof(auth.Method), "userpass needs username and password_env or password_file");
                    break;
                case AuthMethod.X509 when auth.Certificate is null:
                    Error(auth, nameof(auth.Method), "x509 needs certificate (and key when the certificate file holds none)");
                    break;
                case AuthMethod.Token when auth.TokenFile is null && auth.TokenEnv is null:
                    Error(auth, nameof(auth.Method), "token needs token_file or token_env");
                    break;
            }
            if (r.BatchSize is < 1 or > 100_000) Error(r, nameof(r.BatchSize), "batch_size goes from 1 to 100000");
            if (r.Concurrency is < 1 or > 1024) Error(r, nameof(r.Concurrency), "concurrency goes from 1 to 1024");
            // A run's end is its duration plus the grace: both bounded, so a hanging server cannot keep it going for days.
            if (r.Grace < TimeSpan.Zero || r.Grace > TimeSpan.FromHours(24)) Error(r, nameof(r.Grace), "grace goes from 0s to 24h");
            if (r.Broker is { } b && b.MaxSilence < TimeSpan.Zero) Error(b, nameof(b.MaxSilence), "max_silence cannot be negative (0s: never reported)");
        }
        if (target.Kubernetes is { } k)
        {
            for (var i = 0; i < k.Namespaces.Count; i++)
                if (k.Namespaces[i] == "kube-system")
                    ErrorAtItem(k, nameof(k.Namespaces), k.Namespaces, i, "kube-system is never touched by a rehearsal", "list the namespaces Rucio runs in");
            KubernetesList(k, nameof(k.Namespaces), k.Namespaces, "namespace", KubernetesNames.NamespaceErrors);
            Fraction(k, nameof(k.MaxUnavailable), k.MaxUnavailable);
            for (var i = 0; i < k.OwnerKinds.Count; i++)
                if (!OwnerKinds.All.Contains(k.OwnerKinds[i], StringComparer.Ordinal))
                    ErrorAtItem(k, nameof(k.OwnerKinds), k.OwnerKinds, i, $"owner kind '{k.OwnerKinds[i]}' is not one of {string.Join(", ", OwnerKinds.All)}",
                        Suggestions.DidYouMean(k.OwnerKinds[i], OwnerKinds.All));
        }
    }

    /// <summary>An RSE expression must name declared RSEs and select at least <paramref name="copies"/> of them.</summary>
    internal void Expression(RseExpression? expression, object owner, string property, int copies = 1)
    {
        if (expression is null) return;
        // An owner with another mistake (a misspelt key beside it) still had this expression read from the file: check it
        // in the same pass, at the expression's own place; only the copies, then perhaps a default, are not judged.
        var ownerBound = !_map.IsInvalid(owner);
        void Report(string message, string? suggestion)
        {
            if (ownerBound) Error(owner, property, message, suggestion);
            else if (_map.TryLocate(expression, "", out var at)) _bag.Add(at, message, suggestion);
        }
        var unknown = expression.ReferencedNames.Where(n => !_rseNames.Contains(n)).ToList();
        foreach (var name in unknown)
        {
            var message = $"RSE expression '{expression}': no RSE named '{name}'";
            var suggestion = Suggestions.DidYouMean(name, _rseNames);
            if (_map.TryLocate(expression, "", out var start) && NameOffset(expression.Text, name) is { } offset)
                _bag.Add(start with { Column = start.Column + offset }, message, suggestion);
            else
                Report(message, suggestion);
        }
        if (unknown.Count > 0) return;
        var matched = expression.Evaluate(_rses);
        if (matched.Count == 0)
            Report($"RSE expression '{expression}' matches no RSE", AttributeHint(expression));
        else if (matched.Count < copies && ownerBound)
            Error(owner, property, $"RSE expression '{expression}' matches {matched.Count} RSE{(matched.Count == 1 ? "" : "s")} ({string.Join(", ", matched.Order())}), fewer than the {copies} copies asked",
                "lower copies or widen the expression");
    }

    /// <summary>Where a bare RSE name stands in the expression's text (not inside a longer name or a key=value term).</summary>
    private static int? NameOffset(string text, string name)
    {
        static bool Part(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '=' or '<' or '>';
        for (var i = text.IndexOf(name, StringComparison.Ordinal); i >= 0; i = text.IndexOf(name, i + 1, StringComparison.Ordinal))
        {
            var end = i + name.Length;
            if ((i == 0 || !Part(text[i - 1])) && (end == text.Length || !Part(text[end]))) return i;
        }
        return null;
    }

    private string? AttributeHint(RseExpression expression)
    {
        var keys = _s.Rses.SelectMany(r => r.Attributes.Keys).Distinct().ToList();
        foreach (var key in expression.ReferencedAttributes)
        {
            if (!keys.Contains(key)) return Suggestions.DidYouMean(key, keys) ?? $"no RSE has an attribute '{key}'";
            var values = _s.Rses.Select(r => r.Attributes.GetValueOrDefault(key)).OfType<string>().Distinct().ToList();
            return $"RSEs carry {key} = {string.Join(", ", values)}";
        }
        return null;
    }

    /// <summary>A daemon the daemons section declares.</summary>
    internal void Daemon(object owner, string property, string name)
    {
        var declared = _s.Daemons.Select(d => d.Name).ToList();
        if (declared.Contains(name)) return;
        Error(owner, property, $"no daemon named '{name}' in the daemons section",
            Suggestions.DidYouMean(name, declared.Count > 0 ? declared : RucioDaemons.All) ?? "declare it under daemons:");
    }

    internal void Within(object owner, string property, TimeSpan at)
    {
        if (at < TimeSpan.Zero || at > _s.Run.Duration)
            Error(owner, property, $"{Durations.Format(at)} is outside the run (0 to {Durations.Format(_s.Run.Duration)})");
    }

    internal void Positive(object owner, string property, TimeSpan value, string phase)
    {
        if (value <= TimeSpan.Zero) Error(owner, property, $"{phase}: {ModelShape.KeyName(property)} must be longer than 0");
    }

    private void Rate(object owner, string property, double value, string phase)
    {
        if (value < 0) Error(owner, property, $"phase {phase}: {ModelShape.KeyName(property)} cannot be negative");
    }

    internal void Fraction(object owner, string property, double value)
    {
        if (value is < 0 or > 1) Error(owner, property, $"{ModelShape.KeyName(property)} goes from 0 to 1 (or 0% to 100%)");
    }

    internal void Probability(object owner, string property, double? value)
    {
        if (value is < 0 or > 1) Error(owner, property, "failure_probability goes from 0 to 1");
    }

    /// <summary>Reports at the owner's property; objects whose binding already failed are skipped (their values are defaults).</summary>
    internal void Error(object owner, string property, string message, string? suggestion = null)
    {
        if (!_map.IsInvalid(owner)) _bag.Add(_map.Locate(owner, property), message, suggestion);
    }

    /// <summary>Reports at one item of a list or dictionary when its place is known, else at the owner's property.</summary>
    internal void ErrorAtItem(object owner, string property, object items, object item, string message, string? suggestion = null)
    {
        if (_map.IsInvalid(owner)) return;
        var part = Convert.ToString(item, System.Globalization.CultureInfo.InvariantCulture)!;
        _bag.Add(_map.TryLocate(items, part, out var at) ? at : _map.Locate(owner, property), message, suggestion);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")] private static partial Regex SafeName();
    [GeneratedRegex("^[A-Z0-9_-]{1,64}$")] private static partial Regex RseName();
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,25}$")] private static partial Regex ScopeName();
}
