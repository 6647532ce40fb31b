using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// The embedded lake carries out the plan exactly, as the live target does on the Rucio double (Rucio.Tests'
/// PlanOnTheDoubleTests, same scenario): each planned file registered on the RSE the plan chose, each planned rule on
/// its DID — and nothing else.
/// </summary>
public sealed class PlanOnTheLakeTests
{
    [Fact]
    public void The_lean_plan_the_lake_runs_is_the_full_plan_without_names_and_checksums()
    {
        var plan = RunPlan.Create(TestScenarios.Load("ci-smoke.yaml"));
        var full = plan.Operations().ToList();
        var lean = plan.Operations(FileDetail.Lean).ToList();
        Assert.Equal(full.Count, lean.Count);
        var files = 0;
        for (var i = 0; i < full.Count; i++)
        {
            Assert.Equal((full[i].GetType(), full[i].At, full[i].Phase), (lean[i].GetType(), lean[i].At, lean[i].Phase));
            if (full[i] is not InjectFiles f) continue;
            var l = Assert.IsType<InjectFiles>(lean[i]);
            Assert.Equal((f.At, f.Phase, f.Files.Count), (l.At, l.Phase, l.Files.Count));
            for (var k = 0; k < f.Files.Count; k++)
            {
                var (a, b) = (f.Files[k], l.Files[k]);
                Assert.Equal(("", "", null, 0u), (b.File.Name, b.File.Dataset, b.File.Container, b.File.Adler32));
                Assert.Equal(a with { File = a.File with { Name = "", Dataset = "", Container = null, Adler32 = 0 } }, b);
                Assert.Equal(a.File.Name, plan.Experiments[a.Experiment].Files.FileName(a.File.Index));
                Assert.Equal(a.File.Adler32, plan.Experiments[a.Experiment].Files.Adler32Of(a.File.Index, a.File.Bytes));
                Assert.Equal(a.File.Dataset, plan.Experiments[a.Experiment].DatasetName(a.Dataset));
                files++;
            }
        }
        Assert.True(files > 100);
    }

    [Fact]
    public void The_transient_plan_gives_the_lean_plans_files_when_read_as_it_goes()
    {
        var plan = RunPlan.Create(TestScenarios.Load("ci-smoke.yaml"));
        var lean = plan.Operations(FileDetail.Lean).ToList();
        var i = 0;
        foreach (var operation in plan.Operations(FileDetail.LeanTransient))
        {
            Assert.Equal((lean[i].GetType(), lean[i].At, lean[i].Phase), (operation.GetType(), operation.At, operation.Phase));
            if (operation is InjectFiles t) Assert.Equal(((InjectFiles)lean[i]).Files, t.Files.ToList());
            i++;
        }
        Assert.Equal(lean.Count, i);
    }

    [Fact]
    public void The_lake_registers_exactly_the_plans_files_on_the_plans_rses_and_its_rules()
    {
        var loaded = ScenarioLoader.Load(Path.Combine(RepoPaths.Root, "tests", "Shared", "plan-on-both-targets.yaml"));
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        // The lake's servers need a few virtual minutes to start: the same plan, a longer run.
        var scenario = loaded.Scenario! with
        {
            Target = loaded.Scenario!.Target with { Kind = TargetKind.Embedded },
            Run = loaded.Scenario.Run with { Duration = TimeSpan.FromHours(1) },
        };
        var plan = RunPlan.Create(scenario);
        var files = plan.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).ToList();
        var planned = plan.Operations().OfType<AddRule>().ToList();

        HashSet<(string File, string Rse)> registered = [];
        List<(string Did, string Phase)> rules = [];
        EmbeddedLake.Run(plan, new RecordingSink(), null, CancellationToken.None, lake =>
        {
            var replicas = lake.Replicas.Table;
            var dids = lake.Dids;
            for (var r = 0; r < replicas.Count; r++)
                if (replicas.Primary[r])
                {
                    var f = replicas.File[r];
                    registered.Add(($"{dids.ExperimentOfFile(f).Scope}:{dids.FileName(f)}", lake.Rses[replicas.Rse[r]].Name));
                }
            rules.AddRange(lake.Rules.All.Select(r => ($"{dids.DidScope(r.Kind, r.Did)}:{dids.DidName(r.Kind, r.Did)}", plan.Phases[r.Phase].Name)));
        });

        Assert.Equal(420, files.Count);
        var expected = files.Select(f => ($"{f.File.Scope}:{f.File.Name}", plan.Experiments[f.Experiment].WriteRses[f.WriteRseStart])).ToHashSet();
        Assert.Equal(expected.OrderBy(x => x), registered.OrderBy(x => x));
        Assert.True(planned.Count > 5);
        Assert.Equal(planned.Select(r => ($"{plan.ScopeOf(r.Did)}:{plan.NameOf(r.Did)}", plan.Phases[r.Phase].Name)).Order(), rules.Order());
    }
}
