using System.CommandLine;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Cli.Commands;

public static class SchemaCommand
{
    public static Command Create(TextWriter stdout)
    {
        var command = new Command("schema", "Print the JSON Schema of the scenario language (the one in scenarios/scenario.schema.json).");
        command.SetAction(_ =>
        {
            stdout.Write(SchemaGenerator.Generate());
            return 0;
        });
        return command;
    }
}
