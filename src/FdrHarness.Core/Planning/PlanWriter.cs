using System.Globalization;
using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>
/// A plan as JSON lines (`fdr plan --format json`): a header, then every operation in time order, one object per
/// line, files one per line, streamed. Fields a target does not have are written only for it: for a live Rucio, the
/// suffix noise names get and whether a chaos action is applied there.
/// </summary>
public static class PlanWriter
{
    public static void WriteJsonLines(RunPlan plan, string target, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(output);
        var live = target == "rucio";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using var w = new Utf8JsonWriter(buffer);

        void Line()
        {
            w.Flush();
            output.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
            output.Write('\n');
            buffer.Clear();
            w.Reset(buffer);
        }

        w.WriteStartObject();
        w.WriteString("plan", plan.Scenario.Run.Name);
        w.WriteString("target", target);
        w.WriteNumber("seed", plan.Seed);
        w.WriteNumber("scale", plan.Scale);
        w.WriteNumber("duration", Seconds(plan.Duration));
        w.WriteNumber("files", plan.Counts.Files);
        w.WriteNumber("rules", plan.Counts.Rules);
        w.WriteNumber("noise_files", plan.Counts.NoiseFiles);
        w.WriteNumber("chaos_firings", plan.Counts.ChaosFirings);
        w.WriteEndObject();
        Line();

        foreach (var op in plan.Operations())
        {
            var phase = op.Phase >= 0 ? plan.Phases[op.Phase].Name : null;
            switch (op)
            {
                case InjectFiles inject:
                    foreach (var f in inject.Files)
                    {
                        Head(w, "inject", op, phase);
                        var e = plan.Experiments[f.Experiment];
                        w.WriteString("scope", f.File.Scope);
                        w.WriteString("name", f.File.Name);
                        w.WriteNumber("bytes", f.File.Bytes);
                        w.WriteString("adler32", f.File.Adler32Hex);
                        w.WriteString("dataset", f.File.Dataset);
                        if (f.File.Container is { } c) w.WriteString("container", c); else w.WriteNull("container");
                        w.WriteString("rse", e.WriteRses[f.WriteRseStart]);
                        w.WriteEndObject();
                        Line();
                    }
                    break;
                case AddRule add:
                    Head(w, "add_rule", op, phase);
                    w.WriteNumber("rule", add.Rule);
                    Did(w, plan, add.Did);
                    Rule(w, add.Spec);
                    if (add.Replaces is { } r) w.WriteNumber("replaces", r);
                    w.WriteEndObject();
                    Line();
                    break;
                case SetRuleLifetime lifetime:
                    Head(w, lifetime.Lifetime is null ? "remove_rule" : "set_rule_lifetime", op, phase);
                    w.WriteNumber("rule", lifetime.Rule);
                    if (lifetime.Lifetime is { } l) w.WriteNumber("lifetime", Seconds(l));
                    w.WriteEndObject();
                    Line();
                    break;
                case SetDidLifetime lifetime:
                    Head(w, "set_did_lifetime", op, phase);
                    Did(w, plan, lifetime.Did);
                    w.WriteNumber("lifetime", Seconds(lifetime.Lifetime));
                    w.WriteEndObject();
                    Line();
                    break;
                case NoiseRound noise:
                    var spec = (NoisePhase)plan.Phases[noise.Phase].Spec;
                    foreach (var f in noise.Files)
                    {
                        Head(w, "noise", op, phase);
                        w.WriteNumber("round", noise.Round);
                        w.WriteString("scope", f.Scope);
                        w.WriteString("name", f.Name);
                        if (live) w.WriteString("name_suffix", ".<run start, yyyyMMddTHHmmss>");
                        w.WriteNumber("bytes", f.Bytes);
                        w.WriteString("adler32", f.Adler32.ToString("x8", CultureInfo.InvariantCulture));
                        w.WriteString("source", f.Source);
                        w.WriteString("destination", f.Destination);
                        w.WriteNumber("lifetime", Seconds(spec.Lifetime));
                        w.WriteString("activity", spec.Activity);
                        w.WriteEndObject();
                        Line();
                    }
                    break;
                case ChaosFiring firing:
                    Head(w, DefaultNames.KindOf(firing.Spec), op, null);
                    w.WriteString("name", firing.Name);
                    w.WriteNumber("occurrence", firing.Occurrence);
                    if (firing.Edge != ChaosEdge.Instant) w.WriteString("edge", firing.Edge == ChaosEdge.Begin ? "begin" : "end");
                    ChaosKind.For(firing.Spec).WriteFields(w, firing.Spec);
                    w.WriteString("draw_key", firing.DrawKey.ToString("x16", CultureInfo.InvariantCulture));
                    if (live) Applied(w, plan, firing.Spec);
                    w.WriteEndObject();
                    Line();
                    break;
            }
        }
    }

    private static double Seconds(TimeSpan t) => t.Ticks / (double)TimeSpan.TicksPerSecond;

    private static void Head(Utf8JsonWriter w, string op, PlannedOperation operation, string? phase)
    {
        w.WriteStartObject();
        w.WriteString("op", op);
        w.WriteNumber("at", Seconds(operation.At));
        if (phase is not null) w.WriteString("phase", phase);
    }

    private static void Did(Utf8JsonWriter w, RunPlan plan, PlannedDid did)
    {
        w.WriteString("scope", plan.ScopeOf(did));
        w.WriteString("name", plan.NameOf(did));
        w.WriteString("did_type", did.Kind.ToString().ToUpperInvariant());
    }

    private static void Rule(Utf8JsonWriter w, RuleSpec r)
    {
        w.WriteNumber("copies", r.Copies);
        w.WriteString("rse_expression", r.RseExpression.Text);
        w.WriteString("grouping", r.Grouping.ToString().ToUpperInvariant());
        if (r.Lifetime is { } l) w.WriteNumber("lifetime", Seconds(l));
        w.WriteString("activity", r.Activity);
        w.WriteBoolean("asynchronous", r.Asynchronous);
        if (r.SourceReplicaExpression is { } s) w.WriteString("source_replica_expression", s.Text);
        w.WriteString("notify", r.Notify.ToString());
        w.WriteNumber("priority", r.Priority);
    }

    /// <summary>What a live run does with a chaos action: pod kills and limit changes need target.kubernetes, an RSE outage is Rucio's own availability change, a link degradation has no live action.</summary>
    private static void Applied(Utf8JsonWriter w, RunPlan plan, ChaosAction action)
    {
        var (applied, note) = ChaosKind.For(action).Live(plan.Scenario);
        w.WriteBoolean("applied", applied);
        if (note is not null) w.WriteString("note", note);
    }
}
