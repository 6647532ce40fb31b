using DotNet.Testcontainers.Containers;

namespace FdrHarness.Rucio.ContainerTests;

/// <summary>A fresh ActiveMQ container per test on a free port (Engine.ActiveMq), for the tests that need a broker.</summary>
public abstract class BrokerTests : IAsyncLifetime
{
    protected int Port { get; private set; }
    protected IContainer Broker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Engine.Require();
        Port = Engine.FreePort();
        Broker = Engine.ActiveMq(Port);
        await Broker.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Broker is not null) await Broker.DisposeAsync();
    }
}
