using System.Globalization;
using FdrHarness.Core.Quantities;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>Kubernetes quantity strings both ways: the Core parsers where they fit, the client's own for the rest ("12345678n", "1e3").</summary>
public static class KubeQuantities
{
    /// <summary>"4", "700m": the form Kubernetes writes back.</summary>
    public static string Cpu(CpuQuantity cpu) => cpu.ToString();

    /// <summary>An exact form Kubernetes accepts: "2500Mi", "3Gi", or bytes.</summary>
    public static string Memory(ByteSize size)
    {
        string[] units = ["Ki", "Mi", "Gi", "Ti"];
        for (var i = units.Length; i >= 1; i--)
        {
            var factor = 1L << (10 * i);
            if (size.Bytes != 0 && size.Bytes % factor == 0) return (size.Bytes / factor).ToString(CultureInfo.InvariantCulture) + units[i - 1];
        }
        return size.Bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Cores from "250m", "2", "12345678n".</summary>
    public static double CpuCores(string quantity) =>
        CpuQuantity.TryParse(quantity, out var cpu, out _) ? cpu.Cores : (double)new ResourceQuantity(quantity).ToDecimal();

    /// <summary>Bytes from "123456Ki", "2Gi", "1G", "512".</summary>
    public static long MemoryBytes(string quantity) =>
        ByteSize.TryParse(quantity, out var size, out _) ? size.Bytes : (long)new ResourceQuantity(quantity).ToDecimal();

    public static double? CpuCores(IDictionary<string, ResourceQuantity>? resources) =>
        resources is not null && resources.TryGetValue("cpu", out var q) && q is not null ? CpuCores(q.ToString()) : null;

    public static long? MemoryBytes(IDictionary<string, ResourceQuantity>? resources) =>
        resources is not null && resources.TryGetValue("memory", out var q) && q is not null ? MemoryBytes(q.ToString()) : null;
}
