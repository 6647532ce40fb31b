using System.Net;
using FdrHarness.Kubernetes.Prometheus;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>Answers the real Prometheus of these tests does not give: a proxy's page, special values, a string result.</summary>
public class PrometheusResponseTests
{
    [Fact]
    public void AProxyPageIsAnHttpErrorThatSaysWhatCame()
    {
        var e = Assert.Throws<PrometheusException>(() => PrometheusClient.Parse("<html><body>502 Bad Gateway</body></html>", HttpStatusCode.BadGateway));
        Assert.Equal("http", e.ErrorType);
        Assert.Contains("HTTP 502, not a Prometheus answer: <html><body>502 Bad Gateway", e.Message);
    }

    [Fact]
    public void NaNAndInfinitiesSurviveAndTimesKeepMilliseconds()
    {
        var series = PrometheusClient.Parse("""
            {"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"pod":"p"},"values":[[1700000000.125,"NaN"],[1700000001,"+Inf"],[1700000002,"-Inf"],[1700000003,"1e3"]]}]}}
            """, HttpStatusCode.OK);
        var points = Assert.Single(series).Points;
        Assert.True(double.IsNaN(points[0].Value));
        Assert.Equal([double.PositiveInfinity, double.NegativeInfinity, 1000], points.Skip(1).Select(p => p.Value));
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1700000000).AddMilliseconds(125), points[0].Time);
    }

    [Fact]
    public void AStringResultIsRefused()
    {
        var e = Assert.Throws<PrometheusException>(() => PrometheusClient.Parse(
            """{"status":"success","data":{"resultType":"string","result":[1700000000,"x"]}}""", HttpStatusCode.OK));
        Assert.Equal("invalid_response", e.ErrorType);
    }
}
