using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using FdrHarness.Core.Scenarios;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace FdrHarness.Cli.Tests.Deploy;

/// <summary>
/// deploy/helm/fdr rendered and checked: every manifest deserializes strictly into KubernetesClient's models, and the
/// rules of a least-privilege rehearsal Job hold (no wildcard, nothing cluster-wide, resources requested, secrets only
/// by reference, non-root).
/// </summary>
/// <remarks>
/// Helm cannot be installed here, so <see cref="Chart.Render"/> renders the templates itself; it knows only plain
/// substitutions (<c>{{ .Values.a.b }}</c>, <c>.Release.Name</c>, <c>.Release.Namespace</c>, <c>.Chart.*</c>, piped
/// through <c>quote</c> or <c>indent N</c>) and fails on anything else, so the chart cannot grow logic this test does not
/// see. Where helm is on PATH, <see cref="HelmRendersWhatTheTestRenders"/> checks the two agree.
/// </remarks>
public sealed partial class ChartTests
{
    private const string Release = "rehearsal";
    private const string Namespace = "fdr";
    private static readonly string ChartDir = Path.Combine(RepoPaths.Root, "deploy", "helm", "fdr");
    private static readonly string SmokeScenario = File.ReadAllText(RepoPaths.Scenario("ci-smoke.yaml"));

    private static List<IKubernetesObject> Manifests(string? scenario = null, int? shards = null, IReadOnlyDictionary<string, string>? values = null)
    {
        var set = new Dictionary<string, string>(values ?? new Dictionary<string, string>()) { ["scenario"] = scenario ?? SmokeScenario };
        if (shards is { } n) set["shards"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var rendered = Chart.Render(ChartDir, Release, Namespace, set);
        return [.. KubernetesYaml.LoadAllFromString(rendered, strict: true).Cast<IKubernetesObject>()];
    }

    private static V1Job Rehearsal(List<IKubernetesObject> all) => all.OfType<V1Job>().Single(j => j.Spec.CompletionMode == "Indexed");

    private static V1Job MergeJob(List<IKubernetesObject> all) => all.OfType<V1Job>().Single(j => j.Metadata.Name == Release + "-fdr-merge");

    private static V1Job RestoreHook(List<IKubernetesObject> all) =>
        all.OfType<V1Job>().Single(j => j.Metadata.Annotations?.ContainsKey("helm.sh/hook") == true);

    [Fact]
    public void EveryManifestDeserializesStrictlyIntoItsModel()
    {
        var all = Manifests();

        Assert.Equal(["ConfigMap", "Job", "Job", "Job", "PersistentVolumeClaim", "Role", "RoleBinding", "ServiceAccount"],
            all.Select(o => o.Kind).Order(StringComparer.Ordinal));
        Assert.All(all, o => Assert.StartsWith("V1", o.GetType().Name, StringComparison.Ordinal));   // typed models, not dictionaries
        Assert.All(all.Cast<IMetadata<V1ObjectMeta>>(), o => Assert.StartsWith(Release + "-fdr", o.Metadata.Name, StringComparison.Ordinal));
        // A key misspelt in a template is refused by the strict reader, not silently dropped.
        var misspelt = Chart.Render(ChartDir, Release, Namespace, new Dictionary<string, string> { ["scenario"] = SmokeScenario })
            .Replace("backoffLimit:", "backofLimit:", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misspelt, strict: true));
    }

    [Fact]
    public void TheRoleIsLeastPrivilegeAndInRuciosNamespaceOnly()
    {
        var all = Manifests();

        Assert.DoesNotContain(all, o => o is V1ClusterRole or V1ClusterRoleBinding);
        var role = Assert.Single(all.OfType<V1Role>());
        Assert.Equal("rucio", role.Metadata.NamespaceProperty);
        foreach (var rule in role.Rules)
        {
            Assert.DoesNotContain("*", rule.Verbs);
            Assert.DoesNotContain("*", rule.Resources);
            Assert.DoesNotContain("*", rule.ApiGroups);
            Assert.Null(rule.NonResourceURLs);
        }
        // Exactly what src/FdrHarness.Kubernetes calls: pods list/watch/delete (and get), Deployments read and patched
        // (listed to find a daemon's), a pod's owner read (max_unavailable per owner), PodMetrics listed.
        var granted = role.Rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.SelectMany(res => r.Verbs.Select(v => $"{g}/{res}:{v}"))))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["/pods:delete", "/pods:get", "/pods:list", "/pods:watch", "apps/daemonsets:get", "apps/deployments:get", "apps/deployments:list", "apps/deployments:patch",
            "apps/replicasets:get", "apps/statefulsets:get",
            "metrics.k8s.io/pods:get", "metrics.k8s.io/pods:list"], granted);

        var binding = Assert.Single(all.OfType<V1RoleBinding>());
        Assert.Equal(("Role", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        Assert.Equal("rucio", binding.Metadata.NamespaceProperty);
        var subject = Assert.Single(binding.Subjects);
        var account = Assert.Single(all.OfType<V1ServiceAccount>());
        Assert.Equal(("ServiceAccount", account.Metadata.Name, Namespace), (subject.Kind, subject.Name, subject.NamespaceProperty));
        Assert.Equal(account.Metadata.Name, Rehearsal(all).Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(account.Metadata.Name, RestoreHook(all).Spec.Template.Spec.ServiceAccountName);
        // The merge reads and writes files only: no token at all (so none of the Role's rights), under the namespace's default account.
        var merge = MergeJob(all).Spec.Template.Spec;
        Assert.False(merge.AutomountServiceAccountToken);
        Assert.Null(merge.ServiceAccountName);
    }

    [Fact]
    public void EveryPodRunsAsNonRootWithResourcesRequested()
    {
        foreach (var job in Manifests().OfType<V1Job>())
        {
            var pod = job.Spec.Template.Spec;
            Assert.True(pod.SecurityContext.RunAsNonRoot, job.Metadata.Name);
            Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
            Assert.Equal("Never", pod.RestartPolicy);
            foreach (var c in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                Assert.True(c.Resources?.Requests?.ContainsKey("cpu") == true && c.Resources.Requests.ContainsKey("memory"), $"{job.Metadata.Name}/{c.Name}: no requests");
                Assert.True(c.Resources.Limits?.ContainsKey("memory") == true, $"{job.Metadata.Name}/{c.Name}: no memory limit");
                Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
                Assert.Contains("ALL", c.SecurityContext.Capabilities.Drop);
            }
        }
    }

    [Fact]
    public void SecretsComeOnlyByReferenceAndTheScenarioFromTheConfigMap()
    {
        var all = Manifests();
        Assert.DoesNotContain(all, o => o is V1Secret);
        foreach (var job in all.OfType<V1Job>())
        foreach (var c in job.Spec.Template.Spec.Containers)
        {
            Assert.Null(c.EnvFrom);
            foreach (var env in c.Env ?? [])
                Assert.True(env.Value is null && env.ValueFrom?.SecretKeyRef is not null, $"{c.Name}: {env.Name} is not from a secretKeyRef");
        }
        var rehearsal = Rehearsal(all).Spec.Template.Spec;
        var secretVolume = Assert.Single(rehearsal.Volumes, v => v.Secret is not null);
        Assert.Equal("rucio-credentials", secretVolume.Secret.SecretName);
        Assert.Contains(rehearsal.Containers[0].Env, e => e.Name == "FDR_RUCIO_PASSWORD" && e.ValueFrom.SecretKeyRef.Name == "rucio-credentials");

        // The scenario: the ConfigMap holds the file as given, mounted where the Job's args read it, and it is valid.
        var map = Assert.Single(all.OfType<V1ConfigMap>());
        Assert.Equal(SmokeScenario.TrimEnd('\n'), map.Data["scenario.yaml"].TrimEnd('\n'));
        var mount = rehearsal.Containers[0].VolumeMounts.Single(m => rehearsal.Volumes.Single(v => v.Name == m.Name).ConfigMap?.Name == map.Metadata.Name);
        Assert.Equal(mount.MountPath + "/scenario.yaml", rehearsal.Containers[0].Args[1]);
        var copy = Path.Combine(Directory.CreateTempSubdirectory("fdr-chart-").FullName, "scenario.yaml");
        File.WriteAllText(copy, map.Data["scenario.yaml"]);
        Assert.True(ScenarioLoader.Load(copy).Scenario is not null, "the scenario in the ConfigMap does not load");
    }

    [Fact]
    public void TheRehearsalWritesToTheClaimServesMetricsAndHasTimeToStopOnSigterm()
    {
        var all = Manifests();
        var job = Rehearsal(all);
        var pod = job.Spec.Template.Spec;
        var c = Assert.Single(pod.Containers);
        Assert.Equal("run", c.Args[0]);
        Assert.Equal(0, job.Spec.BackoffLimit);                           // never a second injection
        Assert.InRange(pod.TerminationGracePeriodSeconds ?? 30, 60, 600);  // restore limits and write the partial report

        var claim = Assert.Single(all.OfType<V1PersistentVolumeClaim>());
        Assert.Equal("keep", claim.Metadata.Annotations["helm.sh/resource-policy"]);
        var runs = pod.Volumes.Single(v => v.PersistentVolumeClaim?.ClaimName == claim.Metadata.Name);
        var runsMount = c.VolumeMounts.Single(m => m.Name == runs.Name);
        var outDir = c.Args[c.Args.IndexOf("--out") + 1];
        Assert.Equal($"{runsMount.MountPath}/{Release}/shard-$(JOB_COMPLETION_INDEX)", outDir);

        // fdr run's own options come from the ConfigMap's run.options (read by fdr as @FILE): the metrics port the pod declares.
        Assert.Equal("@/etc/fdr/scenario/run.options", c.Args[2]);
        var options = Assert.Single(all.OfType<V1ConfigMap>()).Data["run.options"].Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToList();
        var port = options[options.IndexOf("--metrics-port") + 1];
        Assert.Equal(port, Assert.Single(c.Ports).ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("2m", options[options.IndexOf("--metrics-wait") + 1]);
        Assert.Equal(port, job.Spec.Template.Metadata.Annotations["prometheus.io/port"]);
        Assert.Equal("true", job.Spec.Template.Metadata.Annotations["prometheus.io/scrape"]);

        // The pre-delete hook restores shard 0's run directory (the shard that changes limits), mounted by subPath so it exists even if nothing ran.
        var hook = RestoreHook(all);
        Assert.Equal("pre-delete", hook.Metadata.Annotations["helm.sh/hook"]);
        var r = Assert.Single(hook.Spec.Template.Spec.Containers);
        Assert.Equal(c.Image, r.Image);
        Assert.Equal("restore", r.Args[0]);
        var hookMount = r.VolumeMounts.Single(m => m.MountPath == r.Args[1]);
        Assert.Equal(claim.Metadata.Name, hook.Spec.Template.Spec.Volumes.Single(v => v.Name == hookMount.Name).PersistentVolumeClaim.ClaimName);
        Assert.Equal(outDir.Replace("$(JOB_COMPLETION_INDEX)", "0", StringComparison.Ordinal), $"{runsMount.MountPath}/{hookMount.SubPath}");
    }

    [Theory]
    [InlineData(null, 1)]   // the default: one pod, the whole plan (--shard 0/1 is a whole run, with its report)
    [InlineData(4, 4)]
    public void TheJobIsAnIndexedJobWhosePodsEachRunTheirShard(int? shards, int expected)
    {
        var job = Rehearsal(Manifests(shards: shards));
        var c = Assert.Single(job.Spec.Template.Spec.Containers);

        Assert.Equal("Indexed", job.Spec.CompletionMode);
        Assert.Equal(expected, job.Spec.Completions);
        Assert.Equal(expected, job.Spec.Parallelism);           // all shards inject at once, against the same Rucio
        Assert.Equal(0, job.Spec.BackoffLimit);
        // Kubernetes sets JOB_COMPLETION_INDEX in each pod of an Indexed Job and expands $(VAR) in args from the
        // container's environment: nothing in the template may shadow it.
        Assert.DoesNotContain(c.Env ?? [], e => e.Name == "JOB_COMPLETION_INDEX");
        var shardArg = c.Args[c.Args.IndexOf("--shard") + 1];
        var outArg = c.Args[c.Args.IndexOf("--out") + 1];
        var outs = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < expected; index++)
        {
            string Expand(string arg) => arg.Replace("$(JOB_COMPLETION_INDEX)", index.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            Assert.True(Core.Planning.ShardSpec.TryParse(Expand(shardArg), out var spec, out var error), error);
            Assert.Equal(new Core.Planning.ShardSpec(index, expected), spec);
            Assert.True(outs.Add(Expand(outArg)), "two shards write into one folder");
        }
        Assert.DoesNotContain("$(", string.Join(' ', c.Args.Where(a => a != shardArg && a != outArg)), StringComparison.Ordinal);
    }

    [Fact]
    public void TheMergeJobWaitsOnTheClaimForEveryShardAndJoinsThemIntoMerged()
    {
        var all = Manifests(shards: 4);
        var rehearsal = Rehearsal(all);
        var merge = MergeJob(all);
        var c = Assert.Single(rehearsal.Spec.Template.Spec.Containers);
        var m = Assert.Single(merge.Spec.Template.Spec.Containers);
        Assert.Equal(c.Image, m.Image);
        Assert.Equal("merge", m.Args[0]);
        Assert.Null(merge.Spec.CompletionMode);
        Assert.Equal(0, merge.Spec.BackoffLimit);  // its exit code is the verdict (99: a threshold failed); a retry would find --out taken

        // It joins the folder that holds every shard's --out, into a folder that is no shard's, on the same claim.
        var claim = Assert.Single(all.OfType<V1PersistentVolumeClaim>());
        string ClaimMount(V1Job job, V1Container container) =>
            container.VolumeMounts.Single(v => job.Spec.Template.Spec.Volumes.Single(x => x.Name == v.Name).PersistentVolumeClaim?.ClaimName == claim.Metadata.Name).MountPath;
        Assert.Equal(ClaimMount(rehearsal, c), ClaimMount(merge, m));
        var shardOut = c.Args[c.Args.IndexOf("--out") + 1];
        Assert.EndsWith("/shard-$(JOB_COMPLETION_INDEX)", shardOut, StringComparison.Ordinal);
        var jobFolder = shardOut[..shardOut.LastIndexOf('/')];
        Assert.Equal(jobFolder, m.Args[1]);
        var mergedOut = m.Args[m.Args.IndexOf("--out") + 1];
        Assert.Equal(jobFolder + "/merged", mergedOut);
        Assert.All(Enumerable.Range(0, 4), i => Assert.NotEqual(mergedOut, shardOut.Replace("$(JOB_COMPLETION_INDEX)", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)));
        // It waits at least as long as the shards may run.
        Assert.True(Core.Quantities.Durations.TryParse(m.Args[m.Args.IndexOf("--wait") + 1], out var wait, out var error), error);
        Assert.True(wait.TotalSeconds >= rehearsal.Spec.ActiveDeadlineSeconds, $"--wait {wait} is shorter than the shards' deadline");

        // ReadWriteOnce by default: every pod that mounts the claim is held to the others' node by a required pod
        // affinity whose selector matches them all (the first one scheduled matches its own term).
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        foreach (var job in all.OfType<V1Job>())
        {
            var term = Assert.Single(job.Spec.Template.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
            foreach (var other in all.OfType<V1Job>())
                Assert.All(term.LabelSelector.MatchLabels, l => Assert.Equal(l.Value, other.Spec.Template.Metadata.Labels[l.Key]));
        }
        var spread = Manifests(values: new Dictionary<string, string> { ["runs.accessMode"] = "ReadWriteMany", ["runs.topologyKey"] = "kubernetes.io/os" });
        Assert.Equal(["ReadWriteMany"], Assert.Single(spread.OfType<V1PersistentVolumeClaim>()).Spec.AccessModes);
    }

    /// <summary>
    /// The chart's own arguments, run: each pod of the Indexed Job (JOB_COMPLETION_INDEX expanded as Kubernetes does),
    /// then the merge Job's, in this process, with the claim and the ConfigMap as folders (its files' paths too) — the
    /// embedded lake's ci-smoke as the scenario, small: two shards, metrics on a free port without waiting for scrapes.
    /// </summary>
    [Theory]
    [InlineData("run", "report.html")]
    [InlineData("sweep", "sweep.csv")]
    [InlineData("baseline", "baseline.json")]
    [InlineData("predict", "predict.txt")]
    public void TheChartsJobsRunAsTheyAreWrittenAndTheMergeWritesTheCommandsOutput(string command, string output)
    {
        var all = Manifests(shards: 2, values: new Dictionary<string, string>
        {
            ["command"] = command, ["metrics.port"] = "0", ["metrics.wait"] = "0s",
            ["sweep.options"] = "--scale 0.25,0.5", ["baseline.options"] = "--seeds 2 --set run.scale=0.25",
            ["predict.options"] = "--scale 0.25,0.5 --calibration /etc/fdr/scenario/calibration.yaml",
            ["calibration"] = "daemons:\n  judge-evaluator:\n    model:\n      memory_per_item: 400000\n",
        });
        var root = Directory.CreateTempSubdirectory("fdr-chart-run-").FullName;
        try
        {
            var map = Assert.Single(all.OfType<V1ConfigMap>());
            var claim = Assert.Single(all.OfType<V1PersistentVolumeClaim>());
            var rehearsal = Rehearsal(all);
            var pod = rehearsal.Spec.Template.Spec;
            // Each mount path becomes a folder here: the claim's, the ConfigMap's.
            var mounts = Assert.Single(pod.Containers).VolumeMounts.Select(v => (v.MountPath, Volume: pod.Volumes.Single(x => x.Name == v.Name)))
                .Where(v => v.Volume.ConfigMap is not null || v.Volume.PersistentVolumeClaim?.ClaimName == claim.Metadata.Name)
                .Select(v => (v.MountPath, Local: Path.Combine(root, v.Volume.ConfigMap is not null ? "scenario" : "claim"))).ToList();
            string Local(string text) => mounts.Aggregate(text, (t, m) => t.Replace(m.MountPath + "/", m.Local + "/", StringComparison.Ordinal));
            foreach (var (_, local) in mounts) Directory.CreateDirectory(local);
            foreach (var (name, text) in map.Data) File.WriteAllText(Path.Combine(root, "scenario", name), Local(text));
            string[] Args(V1Job job, int? index) => [.. Assert.Single(job.Spec.Template.Spec.Containers).Args.Select(a =>
            {
                a = index is { } i ? a.Replace("$(JOB_COMPLETION_INDEX)", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) : a;
                Assert.DoesNotContain("$(", a, StringComparison.Ordinal);
                return Local(a);
            })];

            Assert.Equal(command, Assert.Single(pod.Containers).Args[0]);
            for (var i = 0; i < rehearsal.Spec.Completions; i++)
            {
                var (shardCode, _, shardErr) = Fdr(Args(rehearsal, i));
                Assert.True(shardCode == Core.ExitCodes.Success, $"shard {i}: exit {shardCode}: {shardErr}");
            }
            var (code, stdout, stderr) = Fdr(Args(MergeJob(all), null));
            Assert.True(code == Core.ExitCodes.Success, $"merge: exit {code}: {stderr}");
            Assert.Contains("Merged 2 shards", stdout, StringComparison.Ordinal);
            var merged = Path.Combine(root, "claim", Release, "merged");
            Assert.True(File.Exists(Path.Combine(merged, output)), $"no {output} in merged");
            if (command == "run")
            {
                var run = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "run.json")))!;
                Assert.Equal([Path.Combine(root, "claim", Release, "shard-0"), Path.Combine(root, "claim", Release, "shard-1")],
                    run["merged_from"]!.AsArray().Select(n => (string)n!));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (int Code, string Stdout, string Stderr) Fdr(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = FdrApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void TheRendererRefusesWhatItDoesNotKnow()
    {
        var dir = Directory.CreateTempSubdirectory("fdr-chart-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "templates"));
        File.WriteAllText(Path.Combine(dir, "Chart.yaml"), "apiVersion: v2\nname: x\nversion: 0.1.0\nappVersion: \"1\"\n");
        File.WriteAllText(Path.Combine(dir, "values.yaml"), "a: {b: 1}\n");
        File.WriteAllText(Path.Combine(dir, "templates", "x.yaml"), "{{ if .Values.a }}x{{ end }}\n");
        var e = Assert.Throws<InvalidOperationException>(() => Chart.Render(dir, Release, Namespace, new Dictionary<string, string>()));
        Assert.Contains("if .Values.a", e.Message);
        File.WriteAllText(Path.Combine(dir, "templates", "x.yaml"), "v: {{ .Values.a.c }}\n");
        Assert.Throws<InvalidOperationException>(() => Chart.Render(dir, Release, Namespace, new Dictionary<string, string>()));
    }

    [HelmFact]
    public void HelmRendersWhatTheTestRenders()
    {
        var scenario = Path.Combine(Directory.CreateTempSubdirectory("fdr-chart-").FullName, "scenario.yaml");
        File.WriteAllText(scenario, SmokeScenario);
        var psi = new ProcessStartInfo("helm") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "template", Release, ChartDir, "--namespace", Namespace, "--set-file", "scenario=" + scenario }) psi.ArgumentList.Add(a);
        using var helm = Process.Start(psi)!;
        var output = helm.StandardOutput.ReadToEnd();
        helm.WaitForExit();
        Assert.True(helm.ExitCode == 0, helm.StandardError.ReadToEnd());
        var ours = KubernetesYaml.LoadAllFromString(Chart.Render(ChartDir, Release, Namespace, new Dictionary<string, string> { ["scenario"] = SmokeScenario }), strict: true);
        var theirs = KubernetesYaml.LoadAllFromString(output, strict: true);
        Assert.Equal(ours.Select(KubernetesYaml.Serialize).Order(StringComparer.Ordinal), theirs.Select(KubernetesYaml.Serialize).Order(StringComparer.Ordinal));
    }

    /// <summary>Runs where helm is on PATH; skips here, saying so.</summary>
    public sealed class HelmFactAttribute : FactAttribute
    {
        public HelmFactAttribute()
        {
            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "helm")));
            if (!onPath) Skip = "helm is not installed (no package provides it here): the chart is rendered by ChartTests' own renderer only";
        }
    }

    /// <summary>The subset of Helm's templating the chart uses, and nothing more.</summary>
    internal static partial class Chart
    {
        public static string Render(string chartDir, string release, string ns, IReadOnlyDictionary<string, string> set)
        {
            var values = Load(Path.Combine(chartDir, "values.yaml"));
            var chart = Load(Path.Combine(chartDir, "Chart.yaml"));
            var output = new StringBuilder();
            foreach (var file in Directory.GetFiles(Path.Combine(chartDir, "templates"), "*.yaml").Order(StringComparer.Ordinal))
            {
                var text = Action().Replace(File.ReadAllText(file), m =>
                {
                    var path = m.Groups["path"].Value;
                    var value = path switch
                    {
                        ".Release.Name" => release,
                        ".Release.Namespace" => ns,
                        _ when path.StartsWith(".Chart.", StringComparison.Ordinal) => Lookup(chart, char.ToLowerInvariant(path[7]) + path[8..], path),
                        _ when path.StartsWith(".Values.", StringComparison.Ordinal) => set.TryGetValue(path[8..], out var v) ? v : Lookup(values, path[8..], path),
                        _ => throw new InvalidOperationException($"{Path.GetFileName(file)}: {m.Value}: unknown object"),
                    };
                    return m.Groups["fn"].Value switch
                    {
                        "" => value,
                        "quote" => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
                        _ => string.Join('\n', value.TrimEnd('\n').Split('\n').Select(l => new string(' ', int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture)) + l)),
                    };
                });
                if (text.Contains("{{", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{Path.GetFileName(file)}: a template action the test cannot render: {text[text.IndexOf("{{", StringComparison.Ordinal)..].Split('\n')[0]}");
                output.Append("---\n# Source: ").Append(Path.GetFileName(file)).Append('\n').Append(text).Append('\n');
            }
            return output.ToString();
        }

        private static YamlMappingNode Load(string file)
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(file)));
            return (YamlMappingNode)stream.Documents[0].RootNode;
        }

        private static string Lookup(YamlMappingNode root, string dotted, string what)
        {
            YamlNode node = root;
            foreach (var key in dotted.Split('.'))
            {
                if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
                    throw new InvalidOperationException($"{what}: no such value");
                node = next;
            }
            return node is YamlScalarNode s ? s.Value ?? "" : throw new InvalidOperationException($"{what}: not a scalar");
        }

        [GeneratedRegex(@"\{\{-?\s*(?<path>\.[A-Za-z][A-Za-z0-9_.]*)\s*(\|\s*(?<fn>quote|indent)\s*(?<n>\d+)?\s*)?-?\}\}")]
        private static partial Regex Action();
    }
}
