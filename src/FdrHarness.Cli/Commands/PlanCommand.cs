using System.CommandLine;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Cli.Commands;

/// <summary>`fdr plan`: what a run of the scenario will do, on either target, without doing it.</summary>
public static class PlanCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenario = new ScenarioOptions();
        var format = new Option<string>("--format") { Description = "text (a summary per phase) or json (every operation, one JSON object per line).", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("plan", "Print the plan of a run: every operation with its instant, the same for both targets.") { format };
        scenario.AddTo(command);
        command.SetAction(parse =>
        {
            if (scenario.Resolve(parse, "plan", stdout, stderr, out _) is not { } s) return ExitCodes.InvalidInput;
            var plan = RunPlan.Create(s);
            var target = s.Target.Kind == TargetKind.Rucio ? "rucio" : "embedded";
            if (parse.GetValue(format) == "json") PlanWriter.WriteJsonLines(plan, target, stdout);
            else
            {
                PlanPrinter.Print(s, stdout);
                PrintText(plan, stdout);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The plan per phase: when it starts and ends and what it does; then the chaos firings.</summary>
    public static void PrintText(RunPlan plan, TextWriter o)
    {
        var c = plan.Counts;
        o.WriteLine($"Plan: {N(c.Files)} files in {N(c.Datasets)} datasets, {N(c.Rules)} rules, {N(c.RuleLifetimes + c.DidLifetimes)} lifetimes, " +
                    $"{N(c.NoiseFiles)} noise files, {N(c.ChaosFirings)} chaos firings within {Durations.Format(plan.Duration)}");
        foreach (var p in plan.Phases)
        {
            var kind = PhaseKind.For(p.Spec);
            var when = p.Start is { } start
                ? "from " + Durations.Format(start) + (kind.EndsWithItsWork ? p.End is { } end ? " to " + Durations.Format(end) : " past the run's end" : "")
                : "never (what it comes after does not end within the run)";
            o.WriteLine($"  {p.Name,-20} {p.Kind,-15} {when}: {N(plan.PhaseOperations[p.Index])} {kind.Counted}");
        }
        foreach (var group in plan.ChaosFirings.Where(f => f.Edge != ChaosEdge.End).GroupBy(f => f.Name))
        {
            var times = group.Select(f => Durations.Format(f.At)).ToList();
            o.WriteLine($"  chaos {group.Key} ({Core.Scenarios.DefaultNames.KindOf(group.First().Spec)}): {times.Count} firing{(times.Count == 1 ? "" : "s")} at " +
                        string.Join(", ", times.Take(6)) + (times.Count > 6 ? $", … ({times.Count - 6} more)" : ""));
        }
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
