using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Tests;

public class LoadScheduleTests
{
    [Fact]
    public void Ramp_then_constant_gives_the_mean_rate_and_continues_until_the_total()
    {
        LoadSimulation[] load = [new RampingInject { Rate = 10, During = TimeSpan.FromHours(1) }, new Inject { Rate = 10, During = TimeSpan.FromHours(1) }];
        var ticks = LoadSchedule.Ticks(load, 1.0, 1).ToList();
        Assert.Equal(18_000 + 36_000, ticks.Sum(t => t.Operations));
        var capped = LoadSchedule.Ticks(load, 1.0, 1, untilTotal: 60_000).ToList();
        Assert.Equal(60_000, capped.Sum(t => t.Operations));
        Assert.True(capped[^1].At > TimeSpan.FromHours(2));
        Assert.True(capped.Zip(capped.Skip(1)).All(p => p.First.At < p.Second.At));
    }

    [Fact]
    public void Fractional_rates_carry_over_and_scale_multiplies()
    {
        var ticks = LoadSchedule.Ticks([new Inject { Rate = 0.4, During = TimeSpan.FromSeconds(100) }], 1.0, 1).ToList();
        Assert.Equal(40, ticks.Sum(t => t.Operations));
        Assert.Equal(400, LoadSchedule.Ticks([new Inject { Rate = 0.4, During = TimeSpan.FromSeconds(100) }], 10.0, 1).Sum(t => t.Operations));
    }

    [Fact]
    public void Random_rates_are_deterministic_per_seed()
    {
        LoadSimulation[] load = [new InjectRandom { MinRate = 0, MaxRate = 10, During = TimeSpan.FromMinutes(10) }, new Pause { During = TimeSpan.FromMinutes(1) }, new IterationsForInject { Rate = 5, Iterations = 100 }];
        Assert.Equal(LoadSchedule.Ticks(load, 1, 7).ToList(), LoadSchedule.Ticks(load, 1, 7).ToList());
        Assert.NotEqual(LoadSchedule.Ticks(load, 1, 7).ToList(), LoadSchedule.Ticks(load, 1, 8).ToList());
    }
}
