using System.CommandLine;
using FdrHarness.Core.Planning;

namespace FdrHarness.Cli.Commands;

/// <summary>--shard INDEX/COUNT: this process's part of a job split over the pods of an Indexed Job; fdr merge joins the parts.</summary>
public static class ShardOption
{
    public static Option<ShardSpec?> Create(string description) => new("--shard")
    {
        Description = description,
        CustomParser = r =>
        {
            if (ShardSpec.TryParse(r.Tokens.Single().Value, out var s, out var error)) return s;
            r.AddError(error);
            return null;
        },
    };
}
