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
    private readonly List<(long Rv, string Type, string Ns, JsonObject Pod)> _history = [];
    private readonly List<Watch> _watches = [];
    private long _rv = 100;
    private long _compactedBelow;
    private int _names;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    /// <summary>Called with each request before it is answered.</summary>
    public Action<RecordedRequest>? OnRequest { get; set; }
    public HashSet<string> ForbiddenNamespaces { get; } = [];
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
    public void AddDaemonDeployment(string ns, string daemon, int replicas, string release = "rucio",
        Dictionary<string, string>? requests = null, Dictionary<string, string>? limits = null)
    {
        var app = "rucio-daemons-" + daemon;
        AddDeployment(ns, $"{(release.Contains("rucio-daemons") ? release : release + "-rucio-daemons")}-{daemon}", replicas, "rucio-daemons",
            deploymentLabels: new() { ["app"] = app, ["app-group"] = "rucio-daemons", ["release"] = release },
            podLabels: new() { ["app"] = app, ["app-group"] = "rucio-daemons", ["release"] = release, ["rucio-daemon"] = daemon },
            selector: new() { ["app"] = app, ["release"] = release },
            requests, limits);
    }

    public void AddDeployment(string ns, string name, int replicas, string container, Dictionary<string, string> deploymentLabels,
        Dictionary<string, string> podLabels, Dictionary<string, string> selector, Dictionary<string, string>? requests = null,
        Dictionary<string, string>? limits = null)
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
            for (var i = 0; i < replicas; i++) CreatePod(d, hash, ready: true);
            UpdateStatus(d);
        }
    }

    /// <summary>A pod of nobody (no owner), e.g. in kube-system.</summary>
    public void AddBarePod(string ns, string name, Dictionary<string, string> labels)
    {
        lock (_gate)
        {
            var pod = PodJson(ns, name, labels, null, null, new JsonObject(), ready: true);
            Store(pod, "ADDED");
        }
    }

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

    private void CreatePod(JsonObject deployment, string hash, bool ready)
    {
        var meta = deployment["metadata"]!;
        var ns = (string)meta["namespace"]!;
        var name = (string)meta["name"]!;
        var template = deployment["spec"]!["template"]!;
        var labels = (JsonObject)template["metadata"]!["labels"]!.DeepClone();
        labels["pod-template-hash"] = hash;
        var podName = $"{name}-{hash}-{Suffix()}";
        var containers = (JsonArray)template["spec"]!["containers"]!.DeepClone();
        var pod = PodJson(ns, podName, labels, $"{name}-{hash}", containers, null, ready);
        Store(pod, "ADDED");
    }

    private JsonObject PodJson(string ns, string name, object labels, string? replicaSet, JsonArray? containers, JsonObject? resources, bool ready)
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
        if (replicaSet is not null)
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = replicaSet, ["uid"] = Guid.NewGuid().ToString(),
                ["controller"] = true, ["blockOwnerDeletion"] = true,
            });
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

    private JsonObject ListPods(string ns, string? selector)
    {
        lock (_gate)
            return List("PodList", "v1", _pods.Where(p => p.Key.Ns == ns).OrderBy(p => p.Key.Name, StringComparer.Ordinal).Select(p => p.Value)
                .Where(p => Matches(p["metadata"]!["labels"]?.AsObject(), selector)));
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

    private sealed class Watch(string ns, string? selector, long from, bool bookmarks)
    {
        public string Namespace { get; } = ns;
        public string? Selector { get; } = selector;
        public long From { get; } = from;
        public bool Bookmarks { get; } = bookmarks;
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();
    }
}
