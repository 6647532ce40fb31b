using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FdrHarness.Kubernetes.Tests.Fake;

/// <summary>A request the fake API server received, in arrival order.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string Body, string? ContentType)
{
    public bool Changes => Method is "DELETE" or "PATCH" or "POST" or "PUT";
    public override string ToString() => $"{Method} {Path}";
}

/// <summary>
/// An in-test Kubernetes API server on a loopback port, speaking the wire JSON: v1 Pod/PodList, apps/v1 Deployment,
/// metrics.k8s.io PodMetricsList, watch streams of {"type","object"} lines with BOOKMARK and ERROR, and Status
/// objects for errors. A small Deployment controller replaces deleted pods and rolls out a patched template.
/// Every request is recorded.
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Ns, string Name), JsonObject> _pods = [];
    private readonly Dictionary<(string Ns, string Name), JsonObject> _deployments = [];
    private readonly Dictionary<(string Ns, string Name), (string Cpu, string Memory)> _metrics = [];
    /// <summary>ReplicaSets, StatefulSets, DaemonSets and other owners of pods, by kind, namespace and name.</summary>
    private readonly Dictionary<(string Kind, string Ns, string Name), Owner> _owners = [];
    private readonly List<(long Rv, string Type, string Ns, JsonObject Pod)> _history = [];
    private readonly List<Watch> _watches = [];
    private long _rv = 100;
    private long _compactedBelow;
    private int _names;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    /// <summary>Told when a request arrives and when it has been answered: tests await states through it.</summary>
    public Conditions Changed { get; } = new();
    /// <summary>Called with each request before it is answered.</summary>
    public Action<RecordedRequest>? OnRequest { get; set; }
    public HashSet<string> ForbiddenNamespaces { get; } = [];
    /// <summary>Resources (e.g. "replicasets") every request for which answers 403, as RBAC without that permission would.</summary>
    public HashSet<string> ForbiddenResources { get; } = [];
    /// <summary>When true, pod lists ignore their labelSelector (a server or proxy that drops the parameter).</summary>
    public bool IgnoreLabelSelectors { get; set; }
    /// <summary>The next N deployment patches answer 409 Conflict (as if someone else wrote first).</summary>
    public int ConflictsToInject { get; set; }
    /// <summary>When false, replacement pods start not ready (the Deployment's readyReplicas drops).</summary>
    public bool ReplacementsBecomeReady { get; set; } = true;
    /// <summary>When true, a patched Deployment never finishes its rollout.</summary>
    public bool StallRollouts { get; set; }

    public Uri Url { get; }

    private FakeKubeApi(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<FakeKubeApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeKubeApi? self = null;
        app.Run(async ctx => await self!.HandleAsync(ctx));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new FakeKubeApi(app, new Uri(address));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var w in _watches) w.Lines.Writer.TryComplete();
            _watches.Clear();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public IReadOnlyList<RecordedRequest> Changes => [.. Requests.Where(r => r.Changes)];

    // ---- state set up by tests ----

    /// <summary>A Deployment as the rucio-daemons chart makes it, with its ready pods.</summary>
    /// <param name="podNames">The names of its first pods (replacements get generated ones).</param>
    public void AddDaemonDeployment(string ns, string daemon, int replicas, string release = "rucio",
        Dictionary<string, string>? requests = null, Dictionary<string, string>? limits = null, IReadOnlyList<string>? podNames = null)
    {
        var app = "rucio-daemons-" + daemon;
        AddDeployment(ns, $"{(release.Contains("rucio-daemons") ? release : release + "-rucio-daemons")}-{daemon}", replicas, "rucio-daemons",
            deploymentLabels: new() { ["app"] = app, ["app-group"] = "rucio-daemons", ["release"] = release },
            podLabels: new() { ["app"] = app, ["app-group"] = "rucio-daemons", ["release"] = release, ["rucio-daemon"] = daemon },
            selector: new() { ["app"] = app, ["release"] = release },
            requests, limits, podNames);
    }

    public void AddDeployment(string ns, string name, int replicas, string container, Dictionary<string, string> deploymentLabels,
        Dictionary<string, string> podLabels, Dictionary<string, string> selector, Dictionary<string, string>? requests = null,
        Dictionary<string, string>? limits = null, IReadOnlyList<string>? podNames = null)
    {
        lock (_gate)
        {
            var resources = new JsonObject();
            if (requests is not null) resources["requests"] = Map(requests);
            if (limits is not null) resources["limits"] = Map(limits);
            var d = new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "Deployment",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name, ["namespace"] = ns, ["uid"] = Guid.NewGuid().ToString(), ["resourceVersion"] = Next(),
                    ["generation"] = 1L, ["creationTimestamp"] = "2024-05-01T10:00:00Z", ["labels"] = Map(deploymentLabels),
                },
                ["spec"] = new JsonObject
                {
                    ["replicas"] = replicas,
                    ["selector"] = new JsonObject { ["matchLabels"] = Map(selector) },
                    ["template"] = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["labels"] = Map(podLabels) },
                        ["spec"] = new JsonObject
                        {
                            ["containers"] = new JsonArray(new JsonObject { ["name"] = container, ["image"] = "rucio/rucio-daemons:37.0.0", ["resources"] = resources }),
                        },
                    },
                },
                ["status"] = new JsonObject(),
            };
            _deployments[(ns, name)] = d;
            var hash = Hash();
            for (var i = 0; i < replicas; i++) CreatePod(d, hash, ready: true, podNames is { } given && i < given.Count ? given[i] : null);
            UpdateStatus(d);
        }
    }

    /// <summary>A pod of nobody (no owner), e.g. in kube-system.</summary>
    public void AddBarePod(string ns, string name, Dictionary<string, string> labels)
    {
        lock (_gate)
        {
            var pod = PodJson(ns, name, labels, null, new JsonObject(), ready: true);
            Store(pod, "ADDED");
        }
    }

    /// <summary>A StatefulSet's pods, name-0 … name-(n−1); a deleted one comes back under its name.</summary>
    public void AddStatefulSet(string ns, string name, int replicas, Dictionary<string, string> podLabels) =>
        AddOwned("StatefulSet", ns, name, replicas, podLabels);

    /// <summary>A DaemonSet with a pod on each of <paramref name="nodes"/> nodes.</summary>
    public void AddDaemonSet(string ns, string name, int nodes, Dictionary<string, string> podLabels) =>
        AddOwned("DaemonSet", ns, name, nodes, podLabels);

    /// <summary>A ReplicaSet no Deployment owns (made by hand, or left by a deleted Deployment with --cascade=orphan).</summary>
    public void AddReplicaSet(string ns, string name, int replicas, Dictionary<string, string> podLabels) =>
        AddOwned("ReplicaSet", ns, name, replicas, podLabels);

    /// <summary>Pods of another controller (a Job, an operator's resource): no endpoint serves it.</summary>
    public void AddOwnedPods(string kind, string ns, string owner, int count, Dictionary<string, string> podLabels) =>
        AddOwned(kind, ns, owner, count, podLabels);

    private void AddOwned(string kind, string ns, string name, int replicas, Dictionary<string, string> podLabels)
    {
        lock (_gate)
        {
            var owner = new Owner(kind, ns, name, replicas, Guid.NewGuid().ToString(), podLabels, null);
            _owners[(kind, ns, name)] = owner;
            for (var i = 0; i < replicas; i++) CreateOwnedPod(owner, kind == "StatefulSet" ? $"{name}-{i}" : null, ready: true);
        }
    }

    private void CreateOwnedPod(Owner owner, string? podName, bool ready)
    {
        var pod = PodJson(owner.Ns, podName ?? $"{owner.Name}-{Suffix()}", new Dictionary<string, string>(owner.PodLabels), null, new JsonObject(), ready);
        pod["metadata"]!["ownerReferences"] = OwnerReference(owner);
        Store(pod, "ADDED");
    }

    private static JsonArray OwnerReference(Owner owner) => new(new JsonObject
    {
        ["apiVersion"] = owner.Kind is "StatefulSet" or "DaemonSet" or "ReplicaSet" ? "apps/v1" : "batch/v1",
        ["kind"] = owner.Kind, ["name"] = owner.Name, ["uid"] = owner.Uid, ["controller"] = true, ["blockOwnerDeletion"] = true,
    });

    public void SetMetrics(string ns, string pod, string cpu, string memory)
    {
        lock (_gate) _metrics[(ns, pod)] = (cpu, memory);
    }

    public IReadOnlyList<JsonObject> Pods(string ns)
    {
        lock (_gate) return [.. _pods.Where(p => p.Key.Ns == ns).OrderBy(p => p.Key.Name, StringComparer.Ordinal).Select(p => (JsonObject)p.Value.DeepClone())];
    }

    public JsonObject Deployment(string ns, string name)
    {
        lock (_gate) return (JsonObject)_deployments[(ns, name)].DeepClone();
    }

    /// <summary>Changes a pod as the kubelet would (a MODIFIED event).</summary>
    public void UpdatePod(string ns, string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            var pod = _pods[(ns, name)];
            change(pod);
            Store(pod, "MODIFIED");
        }
    }

    /// <summary>Deletes a pod as `kubectl delete` would; its Deployment replaces it.</summary>
    public void DeletePodNow(string ns, string name)
    {
        lock (_gate) DeletePod(ns, name);
    }

    /// <summary>Sends a BOOKMARK with a newer resourceVersion to every open watch.</summary>
    public string Bookmark()
    {
        lock (_gate)
        {
            var rv = Next();
            foreach (var w in _watches.Where(w => w.Bookmarks))
                w.Lines.Writer.TryWrite(Line("BOOKMARK", new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["resourceVersion"] = rv } }));
            return rv;
        }
    }

    /// <summary>Ends every open watch normally (as its timeoutSeconds would).</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watches) w.Lines.Writer.TryComplete();
            _watches.Clear();
        }
    }

    /// <summary>
    /// The resourceVersions seen so far expire (etcd compaction). Open watches get an ERROR event with a 410 Status
    /// (<paramref name="errorEvent"/>) or are just closed, so that resuming them answers HTTP 410. Whatever
    /// <paramref name="duringGap"/> changes is never streamed: only a new list shows it.
    /// </summary>
    public void ExpireWatches(bool errorEvent, Action? duringGap = null)
    {
        lock (_gate)
        {
            var oldest = _rv;
            foreach (var w in _watches)
            {
                if (errorEvent) w.Lines.Writer.TryWrite(Line("ERROR", Status(410, "Expired", $"too old resource version: {w.From} ({oldest})")));
                w.Lines.Writer.TryComplete();
            }
            _watches.Clear();
            duringGap?.Invoke();
            _compactedBelow = long.Parse(Next(), CultureInfo.InvariantCulture);
        }
    }

    // ---- the controller ----

    private void CreatePod(JsonObject deployment, string hash, bool ready, string? podName = null)
    {
        var meta = deployment["metadata"]!;
        var ns = (string)meta["namespace"]!;
        var name = (string)meta["name"]!;
        var template = deployment["spec"]!["template"]!;
        var labels = (JsonObject)template["metadata"]!["labels"]!.DeepClone();
        labels["pod-template-hash"] = hash;
        podName ??= $"{name}-{hash}-{Suffix()}";
        var containers = (JsonArray)template["spec"]!["containers"]!.DeepClone();
        // The ReplicaSet of this template, owned by the Deployment, as its controller makes it.
        var rs = $"{name}-{hash}";
        if (!_owners.TryGetValue(("ReplicaSet", ns, rs), out var owner))
            _owners[("ReplicaSet", ns, rs)] = owner = new Owner("ReplicaSet", ns, rs, deployment["spec"]!["replicas"]!.GetValue<int>(), Guid.NewGuid().ToString(), [], name);
        var pod = PodJson(ns, podName, labels, containers, null, ready);
        pod["metadata"]!["ownerReferences"] = OwnerReference(owner);
        Store(pod, "ADDED");
    }

    private JsonObject PodJson(string ns, string name, object labels, JsonArray? containers, JsonObject? resources, bool ready)
    {
        containers ??= new JsonArray(new JsonObject { ["name"] = "main", ["image"] = "busybox", ["resources"] = resources ?? new JsonObject() });
        var statuses = new JsonArray();
        foreach (var c in containers)
            statuses.Add(new JsonObject
            {
                ["name"] = (string)c!["name"]!, ["ready"] = ready, ["restartCount"] = 0, ["image"] = (string)c["image"]!,
                ["imageID"] = "", ["containerID"] = "containerd://" + Suffix(), ["started"] = ready,
                ["state"] = ready
                    ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = "2024-05-01T10:00:05Z" } }
                    : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
                ["lastState"] = new JsonObject(),
            });
        var metadata = new JsonObject
        {
            ["name"] = name, ["namespace"] = ns, ["uid"] = Guid.NewGuid().ToString(), ["creationTimestamp"] = "2024-05-01T10:00:00Z",
            ["labels"] = labels is JsonObject j ? j : Map((Dictionary<string, string>)labels),
        };
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["nodeName"] = "worker-1", ["containers"] = containers, ["restartPolicy"] = "Always" },
            ["status"] = new JsonObject
            {
                ["phase"] = ready ? "Running" : "Pending",
                ["conditions"] = new JsonArray(
                    new JsonObject { ["type"] = "PodScheduled", ["status"] = "True" },
                    new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
                ["hostIP"] = "10.0.0.1",
                ["podIP"] = "10.1.0." + (_names % 250),
                ["startTime"] = "2024-05-01T10:00:01Z",
                ["containerStatuses"] = statuses,
            },
        };
    }

    private void DeletePod(string ns, string name)
    {
        var pod = _pods[(ns, name)];
        _pods.Remove((ns, name));
        var rv = Next();
        pod["metadata"]!["resourceVersion"] = rv;
        Record(rv, "DELETED", ns, pod);
        var owner = pod["metadata"]!["ownerReferences"]?[0]?["name"]?.GetValue<string>();
        var ownerKind = pod["metadata"]!["ownerReferences"]?[0]?["kind"]?.GetValue<string>();
        if (ownerKind is not null && owner is not null && _owners.TryGetValue((ownerKind, ns, owner), out var controller) && controller.Deployment is null)
        {
            // Its controller replaces it: under the same name for a StatefulSet.
            if (controller.Kind is "StatefulSet" or "DaemonSet" or "ReplicaSet")
                CreateOwnedPod(controller, controller.Kind == "StatefulSet" ? name : null, ReplacementsBecomeReady);
            return;
        }
        var deployment = _deployments.Values.FirstOrDefault(d => owner is not null && d["metadata"]!["namespace"]!.GetValue<string>() == ns
                                                                 && owner.StartsWith(d["metadata"]!["name"]!.GetValue<string>() + "-", StringComparison.Ordinal));
        if (deployment is null) return;
        var hash = pod["metadata"]!["labels"]!["pod-template-hash"]!.GetValue<string>();
        CreatePod(deployment, hash, ReplacementsBecomeReady);
        UpdateStatus(deployment);
    }

    private void UpdateStatus(JsonObject d)
    {
        var ns = d["metadata"]!["namespace"]!.GetValue<string>();
        var name = d["metadata"]!["name"]!.GetValue<string>();
        var pods = OwnedPods(ns, name);
        var ready = pods.Count(p => p["status"]!["conditions"]!.AsArray().Any(c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True"));
        var stalled = StallRollouts && d["status"]?["observedGeneration"] is not null;
        d["status"] = new JsonObject
        {
            ["observedGeneration"] = d["metadata"]!["generation"]!.GetValue<long>(),
            ["replicas"] = pods.Count,
            ["updatedReplicas"] = stalled ? 0 : pods.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
        };
        d["metadata"]!["resourceVersion"] = Next();
    }

    private List<JsonObject> OwnedPods(string ns, string deployment) =>
        [.. _pods.Where(p => p.Key.Ns == ns && p.Value["metadata"]!["ownerReferences"]?[0]?["name"]?.GetValue<string>() is { } rs
                             && rs.StartsWith(deployment + "-", StringComparison.Ordinal)).Select(p => p.Value)];

    /// <summary>Strategic merge of containers[].resources, keyed by container name; null removes a key.</summary>
    private (int Code, JsonNode Body) Patch(string ns, string name, string body)
    {
        if (!_deployments.TryGetValue((ns, name), out var d)) return (404, Status(404, "NotFound", $"deployments.apps \"{name}\" not found"));
        if (ConflictsToInject > 0)
        {
            ConflictsToInject--;
            UpdateStatus(d); // someone else wrote: a newer resourceVersion
            return (409, Status(409, "Conflict", $"Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
        }
        var patch = JsonNode.Parse(body)!.AsObject();
        if (patch["metadata"]?["resourceVersion"]?.GetValue<string>() is { } rv && rv != d["metadata"]!["resourceVersion"]!.GetValue<string>())
            return (409, Status(409, "Conflict", $"Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
        var containers = d["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        foreach (var pc in patch["spec"]?["template"]?["spec"]?["containers"]?.AsArray() ?? [])
        {
            var target = containers.FirstOrDefault(c => c!["name"]!.GetValue<string>() == pc!["name"]!.GetValue<string>())?.AsObject();
            if (target is null) return (422, Status(422, "Invalid", "container not found"));
            var resources = target["resources"]?.AsObject() ?? (JsonObject)(target["resources"] = new JsonObject());
            foreach (var kind in new[] { "requests", "limits" })
            {
                if (pc!["resources"]?[kind] is not JsonObject values) continue;
                var map = resources[kind]?.AsObject() ?? (JsonObject)(resources[kind] = new JsonObject());
                foreach (var (k, v) in values.ToList())
                {
                    if (v is null) map.Remove(k);
                    else map[k] = v.GetValue<string>();
                }
            }
        }
        d["metadata"]!["generation"] = d["metadata"]!["generation"]!.GetValue<long>() + 1;
        if (!StallRollouts)
        {
            // The rollout: every old pod replaced by one of the new template.
            foreach (var old in OwnedPods(ns, name)) { _pods.Remove((ns, old["metadata"]!["name"]!.GetValue<string>())); var r = Next(); old["metadata"]!["resourceVersion"] = r; Record(r, "DELETED", ns, old); }
            var hash = Hash();
            for (var i = 0; i < d["spec"]!["replicas"]!.GetValue<int>(); i++) CreatePod(d, hash, ready: true);
        }
        UpdateStatus(d);
        return (200, d.DeepClone());
    }

    // ---- HTTP ----

    private async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var query = req.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        string body;
        using (var reader = new StreamReader(req.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var recorded = new RecordedRequest(req.Method, req.Path.Value ?? "", query, body, req.ContentType);
        Requests.Enqueue(recorded);
        OnRequest?.Invoke(recorded);
        Changed.Changed();
        try
        {
            await AnswerAsync(ctx, req, query, body);
        }
        finally
        {
            Changed.Changed();
        }
    }

    private async Task AnswerAsync(HttpContext ctx, HttpRequest req, Dictionary<string, string> query, string body)
    {
        var parts = (req.Path.Value ?? "").Trim('/').Split('/');

        if (req.Path.Value?.TrimEnd('/') == "/version")
        {
            await Json(ctx, 200, new JsonObject { ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0-fake", ["platform"] = "linux/amd64" });
            return;
        }
        var ns = parts.Length > 3 && parts[^3] == "namespaces" ? parts[^2] : parts.Length > 4 && parts[^4] == "namespaces" ? parts[^3] : null;
        if (ns is not null && ForbiddenNamespaces.Contains(ns))
        {
            await Json(ctx, 403, Status(403, "Forbidden", $"pods is forbidden: User \"system:serviceaccount:fdr:harness\" cannot list resource \"pods\" in API group \"\" in the namespace \"{ns}\""));
            return;
        }

        if (parts.Length >= 2 && (ForbiddenResources.Contains(parts[^1]) || ForbiddenResources.Contains(parts[^2])))
        {
            await Json(ctx, 403, Status(403, "Forbidden", $"{parts[^2]} is forbidden: User \"system:serviceaccount:fdr:harness\" cannot get this resource"));
            return;
        }

        (int, JsonNode) answer;
        switch (parts)
        {
            case ["api", "v1", "namespaces", var n, "pods"] when req.Method == "GET":
                if (query.TryGetValue("watch", out var w) && w is "true" or "1")
                {
                    await WatchAsync(ctx, n, query);
                    return;
                }
                answer = (200, ListPods(n, query.GetValueOrDefault("labelSelector")));
                break;
            case ["api", "v1", "namespaces", var n, "pods", var name] when req.Method == "DELETE":
                lock (_gate)
                {
                    if (!_pods.TryGetValue((n, name), out var pod)) answer = (404, Status(404, "NotFound", $"pods \"{name}\" not found"));
                    else
                    {
                        var copy = pod.DeepClone();
                        DeletePod(n, name);
                        answer = (200, copy);
                    }
                }
                break;
            case ["apis", "apps", "v1", "namespaces", var n, "deployments"] when req.Method == "GET":
                lock (_gate)
                    answer = (200, List("DeploymentList", "apps/v1", _deployments.Where(d => d.Key.Ns == n).Select(d => d.Value)
                        .Where(d => Matches(d["metadata"]!["labels"]?.AsObject(), query.GetValueOrDefault("labelSelector")))));
                break;
            case ["apis", "apps", "v1", "namespaces", var n, "deployments", var name] when req.Method == "GET":
                lock (_gate)
                    answer = _deployments.TryGetValue((n, name), out var d) ? (200, d.DeepClone()) : (404, Status(404, "NotFound", $"deployments.apps \"{name}\" not found"));
                break;
            case ["apis", "apps", "v1", "namespaces", var n, "replicasets" or "statefulsets" or "daemonsets", var name] when req.Method == "GET":
                lock (_gate) answer = ReadOwner(parts[^2], n, name);
                break;
            case ["apis", "apps", "v1", "namespaces", var n, "deployments", var name] when req.Method == "PATCH":
                if (req.ContentType?.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal) != true)
                {
                    answer = (415, Status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"));
                    break;
                }
                lock (_gate) answer = Patch(n, name, body);
                break;
            case ["apis", "metrics.k8s.io", "v1beta1", "namespaces", var n, "pods"] when req.Method == "GET":
                lock (_gate)
                    answer = (200, new JsonObject
                    {
                        ["kind"] = "PodMetricsList",
                        ["apiVersion"] = "metrics.k8s.io/v1beta1",
                        ["metadata"] = new JsonObject(),
                        ["items"] = new JsonArray([.. _metrics.Where(m => m.Key.Ns == n).Select(m => (JsonNode)new JsonObject
                        {
                            ["metadata"] = new JsonObject { ["name"] = m.Key.Name, ["namespace"] = n, ["creationTimestamp"] = "2024-05-01T10:05:00Z" },
                            ["timestamp"] = "2024-05-01T10:04:45Z",
                            ["window"] = "15.034s",
                            ["containers"] = new JsonArray(new JsonObject
                            {
                                ["name"] = "rucio-daemons",
                                ["usage"] = new JsonObject { ["cpu"] = m.Value.Cpu, ["memory"] = m.Value.Memory },
                            }),
                        })]),
                    });
                break;
            default:
                answer = (404, Status(404, "NotFound", "the server could not find the requested resource"));
                break;
        }
        await Json(ctx, answer.Item1, answer.Item2);
    }

    /// <summary>A ReplicaSet, StatefulSet or DaemonSet, with its status counted from its pods.</summary>
    private (int, JsonNode) ReadOwner(string resource, string ns, string name)
    {
        var kind = resource switch { "replicasets" => "ReplicaSet", "statefulsets" => "StatefulSet", _ => "DaemonSet" };
        if (!_owners.TryGetValue((kind, ns, name), out var owner))
            return (404, Status(404, "NotFound", $"{resource}.apps \"{name}\" not found"));
        var pods = _pods.Values.Where(p => p["metadata"]!["ownerReferences"]?[0]?["uid"]?.GetValue<string>() == owner.Uid).ToList();
        var ready = pods.Count(p => p["status"]!["conditions"]!.AsArray().Any(c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True"));
        var metadata = new JsonObject { ["name"] = name, ["namespace"] = ns, ["uid"] = owner.Uid, ["resourceVersion"] = Next() };
        if (owner.Deployment is { } deployment)
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = deployment,
                ["uid"] = _deployments[(ns, deployment)]["metadata"]!["uid"]!.GetValue<string>(), ["controller"] = true, ["blockOwnerDeletion"] = true,
            });
        var result = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = kind, ["metadata"] = metadata };
        if (kind == "DaemonSet")
            result["status"] = new JsonObject { ["desiredNumberScheduled"] = owner.Replicas, ["currentNumberScheduled"] = pods.Count, ["numberReady"] = ready, ["numberMisscheduled"] = 0 };
        else
        {
            result["spec"] = new JsonObject { ["replicas"] = owner.Replicas };
            result["status"] = new JsonObject { ["replicas"] = pods.Count, ["readyReplicas"] = ready };
        }
        return (200, result);
    }

    private JsonObject ListPods(string ns, string? selector)
    {
        lock (_gate)
            return List("PodList", "v1", _pods.Where(p => p.Key.Ns == ns).OrderBy(p => p.Key.Name, StringComparer.Ordinal).Select(p => p.Value)
                .Where(p => IgnoreLabelSelectors || Matches(p["metadata"]!["labels"]?.AsObject(), selector)));
    }

    private JsonObject List(string kind, string apiVersion, IEnumerable<JsonObject> items) => new()
    {
        ["kind"] = kind,
        ["apiVersion"] = apiVersion,
        ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture) },
        ["items"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
    };

    private async Task WatchAsync(HttpContext ctx, string ns, Dictionary<string, string> query)
    {
        var from = long.Parse(query.GetValueOrDefault("resourceVersion") is { Length: > 0 } v ? v : "0", CultureInfo.InvariantCulture);
        var selector = query.GetValueOrDefault("labelSelector");
        Watch watch;
        JsonObject? gone = null;
        lock (_gate)
        {
            if (from < _compactedBelow)
                gone = Status(410, "Expired", $"too old resource version: {from} ({_compactedBelow})");
        }
        if (gone is not null)
        {
            await Json(ctx, 410, gone);
            return;
        }
        lock (_gate)
        {
            watch = new Watch(ns, selector, from, query.GetValueOrDefault("allowWatchBookmarks") is "true" or "1");
            foreach (var e in _history.Where(h => h.Rv > from && h.Ns == ns && Matches(h.Pod["metadata"]!["labels"]?.AsObject(), selector)))
                watch.Lines.Writer.TryWrite(Line(e.Type, e.Pod));
            _watches.Add(watch);
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.StartAsync();
        try
        {
            await foreach (var line in watch.Lines.Reader.ReadAllAsync(ctx.RequestAborted))
            {
                await ctx.Response.WriteAsync(line + "\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            lock (_gate) _watches.Remove(watch);
        }
    }

    private static async Task Json(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    // ---- helpers ----

    private void Store(JsonObject pod, string type)
    {
        var ns = pod["metadata"]!["namespace"]!.GetValue<string>();
        var name = pod["metadata"]!["name"]!.GetValue<string>();
        var rv = Next();
        pod["metadata"]!["resourceVersion"] = rv;
        _pods[(ns, name)] = pod;
        Record(rv, type, ns, pod);
    }

    private void Record(string rv, string type, string ns, JsonObject pod)
    {
        var copy = (JsonObject)pod.DeepClone();
        _history.Add((long.Parse(rv, CultureInfo.InvariantCulture), type, ns, copy));
        foreach (var w in _watches.Where(w => w.Namespace == ns && Matches(copy["metadata"]!["labels"]?.AsObject(), w.Selector)))
            w.Lines.Writer.TryWrite(Line(type, copy));
    }

    private static string Line(string type, JsonNode obj) => new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString();

    public static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
        ["message"] = message, ["reason"] = reason, ["code"] = code,
    };

    private static bool Matches(JsonObject? labels, string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return true;
        foreach (var term in selector.Split(','))
        {
            var kv = term.Split('=', 2);
            if (labels?[kv[0]]?.GetValue<string>() != kv[1]) return false;
        }
        return true;
    }

    private static JsonObject Map(Dictionary<string, string> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = v;
        return o;
    }

    private string Next() => (++_rv).ToString(CultureInfo.InvariantCulture);
    private string Hash() => $"{Interlocked.Increment(ref _names) * 7919 % 100000:x5}b9c";
    private string Suffix() => $"p{Interlocked.Increment(ref _names):x4}";

    /// <summary>A controller of pods; <paramref name="Deployment"/> names the Deployment owning a ReplicaSet.</summary>
    private sealed record Owner(string Kind, string Ns, string Name, int Replicas, string Uid, Dictionary<string, string> PodLabels, string? Deployment);

    private sealed class Watch(string ns, string? selector, long from, bool bookmarks)
    {
        public string Namespace { get; } = ns;
        public string? Selector { get; } = selector;
        public long From { get; } = from;
        public bool Bookmarks { get; } = bookmarks;
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();
    }
}

/// <summary>
/// Conditions a test awaits instead of polling: each is checked when registered and again after every change the
/// owner reports (<see cref="Changed"/>), so a test waits exactly as long as the work takes, never a fixed time.
/// </summary>
public sealed class Conditions
{
    /// <summary>How long a test waits for a state that does not come before it fails (a bound, never a pace).</summary>
    public static readonly TimeSpan FailAfter = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Holds, TaskCompletionSource Done)> _waiting = [];

    /// <summary>Completes once <paramref name="holds"/> is true; fails the test naming <paramref name="what"/> after <see cref="FailAfter"/>.</summary>
    public async Task When(Func<bool> holds, string what)
    {
        try
        {
            await Until(holds).WaitAsync(FailAfter);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no {what} within {FailAfter.TotalSeconds:0} s");
        }
    }

    /// <summary>Completes once <paramref name="holds"/> is true, however long that takes.</summary>
    public Task Until(Func<bool> holds)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (holds()) return Task.CompletedTask;
            _waiting.Add((holds, done));
        }
        return done.Task;
    }

    /// <summary>Called by the owner after each change: completes the conditions that now hold.</summary>
    public void Changed()
    {
        lock (_gate)
        {
            for (var i = _waiting.Count - 1; i >= 0; i--)
            {
                if (!_waiting[i].Holds()) continue;
                _waiting[i].Done.TrySetResult();
                _waiting.RemoveAt(i);
            }
        }
    }
}
