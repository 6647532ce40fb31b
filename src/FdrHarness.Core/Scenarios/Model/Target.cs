using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model;

public enum TargetKind { Embedded, Rucio }

public sealed record TargetSettings
{
    [Doc("embedded (the simulated data lake) or rucio (a real instance).")]
    public TargetKind Kind { get; init; } = TargetKind.Embedded;

    public RucioConnection? Rucio { get; init; }
    public KubernetesConnection? Kubernetes { get; init; }
}

public enum AuthMethod { Userpass, X509, Token }

public enum InjectionMode { Register, Upload }

public sealed record RucioConnection
{
    [RequiredKey, Doc("Rucio server URL.")]
    public Uri Url { get; init; } = null!;

    [Doc("Auth server URL when separate.")]
    public Uri? AuthUrl { get; init; }

    [RequiredKey] public string Account { get; init; } = "";

    [Doc("VO of a multi-VO server (X-Rucio-VO).")]
    public string? Vo { get; init; }

    [RequiredKey] public RucioAuth Auth { get; init; } = new();

    [Doc("PEM bundle of CAs to trust.")]
    public string? CaBundle { get; init; }

    [Doc("register (catalog only) or upload (content written to storage).")]
    public InjectionMode Injection { get; init; } = InjectionMode.Register;

    [Doc("Files per bulk call.")]
    public int BatchSize { get; init; } = 1000;

    [Doc("Concurrent API calls.")]
    public int Concurrency { get; init; } = 8;

    [Doc("Where Hermes delivers events.")]
    public BrokerConnection? Broker { get; init; }

    [Doc("A test instance the harness may set up: `fdr live prepare` creates the scopes, RSE attributes and account limits the scenario needs only when this is true. Never set it on a production Rucio.")]
    public bool Disposable { get; init; }

    [Doc("After the planned end, operations still running (a server that hangs, errors retried) get this long; then they are cut off and the run is reported.")]
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>How to authenticate; secrets are named by where they live, never written here.</summary>
public sealed record RucioAuth
{
    public AuthMethod Method { get; init; } = AuthMethod.Userpass;
    public string? Username { get; init; }
    [SecretSource, Doc("Environment variable holding the password.")] public string? PasswordEnv { get; init; }
    [SecretSource, Doc("File holding the password.")] public string? PasswordFile { get; init; }
    [Doc("x509: client certificate (PEM or PKCS#12).")] public string? Certificate { get; init; }
    [Doc("x509: private key (PEM), when not inside the certificate file.")] public string? Key { get; init; }
    [SecretSource, Doc("Token from this file (e.g. issued by IAM).")] public string? TokenFile { get; init; }
    [SecretSource, Doc("Token from this environment variable.")] public string? TokenEnv { get; init; }
}

public sealed record BrokerConnection
{
    [RequiredKey, Doc("stomp://host:61613 or stomp+ssl://host:61614")]
    public Uri Url { get; init; } = null!;
    public string Destination { get; init; } = "/topic/rucio.events";
    [SecretSource] public string? UsernameEnv { get; init; }
    [SecretSource] public string? PasswordEnv { get; init; }

    [Doc("No message and no heart-beat for this long is reported, and stops the run (exit 99) when a threshold has abort_on_fail. 0s: never.")]
    public TimeSpan MaxSilence { get; init; } = TimeSpan.FromSeconds(60);
}

public sealed record KubernetesConnection
{
    [Doc("Path of the kubeconfig; in-cluster configuration when omitted.")]
    public string? Kubeconfig { get; init; }
    public string? Context { get; init; }

    [Doc("Namespaces the harness may touch (kube-system never).")]
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    [Doc("Helm release name of the rucio-daemons chart.")]
    public string Release { get; init; } = "rucio";

    [Doc("Prometheus base URL for usage samples.")]
    public Uri? PrometheusUrl { get; init; }

    [Doc("Never more than this share of an owner's pods (a Deployment's, a StatefulSet's, ...) down at once.")]
    public double MaxUnavailable { get; init; } = 0.5;

    [Doc("Pods chaos may kill: those of these owners (Deployment, StatefulSet, DaemonSet, ReplicaSet); any other pod only when named in a selector's pods.")]
    public IReadOnlyList<string> OwnerKinds { get; init; } = ["Deployment"];
}
