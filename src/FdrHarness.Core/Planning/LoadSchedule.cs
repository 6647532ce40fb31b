using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

/// <summary>A batch of operations started at one instant (an offset from the phase start).</summary>
public readonly record struct LoadTick(TimeSpan At, long Operations);

/// <summary>
/// Turns NBomber-style load simulations into the instants operations start at: one <see cref="LoadTick"/> per interval,
/// deterministic for a stream key (<see cref="PlanStreams"/>: one per phase). Rates are multiplied by the scale; fractional rates carry over to the next interval so the
/// totals are exact (0.4 per second gives 2 operations every 5 seconds).
/// </summary>
/// <remarks>
/// - inject: rate per interval for during. ramping_inject: linear from the previous step's rate (0 at the start),
///   the midpoint of each interval, so the total is the mean rate × intervals.
/// - inject_random: uniform in [min_rate, max_rate] per interval, from the stream key.
/// - iterations_for_inject: rate per interval until iterations (× scale) have started.
/// - keep_constant / ramping_constant (closed models): the schedule cannot know how long an operation lasts, so it
///   assumes one operation per worker per second.
/// - pause: nothing for during.
/// When <c>untilTotal</c> is given and the steps end first, the last step that started operations repeats at its
/// rate until the total is reached ("inject until every file is written"); the schedule never exceeds it.
/// </remarks>
public static class LoadSchedule
{
    public static IEnumerable<LoadTick> Ticks(IReadOnlyList<LoadSimulation> steps, double scale, ulong streamKey, long? untilTotal = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var rng = new SplitMix64(streamKey);
        var t = TimeSpan.Zero;
        var carry = 0.0;
        var total = 0L;
        var previousRate = 0.0;
        (double Rate, TimeSpan Interval)? last = null;

        // The operations an interval at this rate starts (0: none), not an iterator: one object per interval was
        // 13 MiB of a day's plan at 1 s intervals.
        long Take(double rate)
        {
            carry += rate * scale;
            var n = (long)Math.Floor(carry + 1e-9);
            carry -= n;
            if (untilTotal is { } max) n = Math.Min(n, max - total);
            if (n <= 0) return 0;
            total += n;
            return n;
        }

        foreach (var step in steps)
        {
            if (untilTotal is { } m && total >= m) yield break;
            switch (step)
            {
                case Inject s:
                    foreach (var k in Intervals(s.During, s.Interval))
                        if (Take(s.Rate) is > 0 and var started) yield return new LoadTick(t + k * s.Interval, started);
                    t += s.During;
                    previousRate = s.Rate;
                    last = (s.Rate, s.Interval);
                    break;
                case RampingInject s:
                {
                    var n = IntervalCount(s.During, s.Interval);
                    for (var k = 0; k < n; k++)
                    {
                        var rate = previousRate + (s.Rate - previousRate) * (k + 0.5) / n;
                        if (Take(rate) is > 0 and var started) yield return new LoadTick(t + k * s.Interval, started);
                    }
                    t += s.During;
                    previousRate = s.Rate;
                    last = (s.Rate, s.Interval);
                    break;
                }
                case InjectRandom s:
                    foreach (var k in Intervals(s.During, s.Interval))
                    {
                        var rate = s.MinRate + (s.MaxRate - s.MinRate) * rng.NextDouble();
                        if (Take(rate) is > 0 and var started) yield return new LoadTick(t + k * s.Interval, started);
                    }
                    t += s.During;
                    previousRate = (s.MinRate + s.MaxRate) / 2;
                    last = (previousRate, s.Interval);
                    break;
                case IterationsForInject s:
                {
                    var target = total + (long)Math.Round(s.Iterations * scale);
                    if (untilTotal is { } max) target = Math.Min(target, max);
                    var k = 0;
                    while (total < target && s.Rate > 0)
                    {
                        carry += s.Rate * scale;
                        var n = Math.Min((long)Math.Floor(carry + 1e-9), target - total);
                        carry -= Math.Floor(carry + 1e-9);
                        if (n > 0)
                        {
                            total += n;
                            yield return new LoadTick(t + k * s.Interval, n);
                        }
                        k++;
                    }
                    t += k * s.Interval;
                    previousRate = s.Rate;
                    last = (s.Rate, s.Interval);
                    break;
                }
                case KeepConstant s:
                    foreach (var k in Intervals(s.During, TimeSpan.FromSeconds(1)))
                        if (Take(s.Copies) is > 0 and var started) yield return new LoadTick(t + TimeSpan.FromSeconds(k), started);
                    t += s.During;
                    previousRate = s.Copies;
                    last = (s.Copies, TimeSpan.FromSeconds(1));
                    break;
                case RampingConstant s:
                {
                    var n = IntervalCount(s.During, TimeSpan.FromSeconds(1));
                    for (var k = 0; k < n; k++)
                    {
                        var rate = previousRate + (s.Copies - previousRate) * (k + 0.5) / n;
                        if (Take(rate) is > 0 and var started) yield return new LoadTick(t + TimeSpan.FromSeconds(k), started);
                    }
                    t += s.During;
                    previousRate = s.Copies;
                    last = (s.Copies, TimeSpan.FromSeconds(1));
                    break;
                }
                case Pause s:
                    t += s.During;
                    break;
                default:
                    throw new NotSupportedException($"load simulation {step.GetType().Name}");
            }
        }

        if (untilTotal is { } until && last is { Rate: > 0 } l && scale > 0)
        {
            for (var k = 0; total < until; k++)
                if (Take(l.Rate) is > 0 and var started) yield return new LoadTick(t + k * l.Interval, started);
        }
    }

    private static int IntervalCount(TimeSpan during, TimeSpan interval) =>
        interval <= TimeSpan.Zero ? 0 : (int)Math.Ceiling(during / interval - 1e-9);

    private static IEnumerable<int> Intervals(TimeSpan during, TimeSpan interval) => Enumerable.Range(0, IntervalCount(during, interval));
}
