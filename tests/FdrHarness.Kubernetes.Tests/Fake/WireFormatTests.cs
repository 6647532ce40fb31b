using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Tests.Fake;

/// <summary>The fake's JSON is what the client's own models read: the tests talk the real wire format.</summary>
public class WireFormatTests
{
    [Fact]
    public async Task Pods_deployments_metrics_and_status_deserialize_into_the_clients_models()
    {
        await using var api = await FakeKubeApi.StartAsync();
        api.AddDaemonDeployment("rucio", "judge-evaluator", 1, requests: new() { ["memory"] = "1Gi" });
        var podJson = api.Pods("rucio")[0];
        api.SetMetrics("rucio", (string)podJson["metadata"]!["name"]!, "250m", "123456Ki");

        var pod = KubernetesJson.Deserialize<V1Pod>(podJson.ToJsonString());
        Assert.Equal(("v1", "Pod", "rucio"), (pod.ApiVersion, pod.Kind, pod.Metadata.NamespaceProperty));
        Assert.Equal("judge-evaluator", pod.Metadata.Labels["rucio-daemon"]);
        Assert.Equal("ReplicaSet", pod.Metadata.OwnerReferences[0].Kind);
        Assert.Equal(0, pod.Status.ContainerStatuses[0].RestartCount);
        Assert.NotNull(pod.Status.ContainerStatuses[0].State.Running);
        Assert.Equal("1Gi", pod.Spec.Containers[0].Resources.Requests["memory"].ToString());

        var deployment = KubernetesJson.Deserialize<V1Deployment>(api.Deployment("rucio", "rucio-rucio-daemons-judge-evaluator").ToJsonString());
        Assert.Equal((1, 1L, 1), (deployment.Spec.Replicas, deployment.Status.ObservedGeneration, deployment.Status.AvailableReplicas));
        Assert.Equal("rucio-daemons-judge-evaluator", deployment.Spec.Selector.MatchLabels["app"]);

        var status = KubernetesJson.Deserialize<V1Status>(FakeKubeApi.Status(410, "Expired", "too old resource version").ToJsonString());
        Assert.Equal((410, "Expired"), (status.Code, status.Reason));

        using var http = new HttpClient { BaseAddress = api.Url };
        var metrics = KubernetesJson.Deserialize<PodMetricsList>(await http.GetStringAsync("/apis/metrics.k8s.io/v1beta1/namespaces/rucio/pods"));
        Assert.Equal("250m", metrics.Items.Single().Containers.Single().Usage["cpu"].ToString());

        var list = KubernetesJson.Deserialize<V1PodList>(await http.GetStringAsync("/api/v1/namespaces/rucio/pods?labelSelector=rucio-daemon%3Djudge-evaluator"));
        Assert.Single(list.Items);
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));
    }
}
