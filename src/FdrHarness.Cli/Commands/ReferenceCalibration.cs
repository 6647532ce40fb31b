using System.CommandLine;
using System.Globalization;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Decisions.Calibration;

namespace FdrHarness.Cli.Commands;

/// <summary>fdr calibrate --reference TABLE --scenario SCENARIO --out FILE: the scenario's daemon models fitted to measured usage instead of a run.</summary>
public sealed class ReferenceCalibration
{
    public Option<string?> Reference { get; } = new("--reference") { Description = "Calibrate against a table of measured usage (the seed's daemons-during-fdr.csv: service, usage_cpu, usage_memory) instead of a run." };
    public Option<string?> Scenario { get; } = new("--scenario") { Description = "With --reference: the scenario whose daemon models are fitted (e.g. scenarios/escape-fdr-2020.yaml)." };
    public Option<string?> Matrix { get; } = new("--matrix") { Description = "With --reference: the measured transfer matrix (done/submitted %); default: transfer-matrix.csv beside the table, when there." };

    public static ReferenceCalibration Options() => new();

    public int Run(ParseResult parse, string? runDir, string? output, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(parse);
        int Refuse(string message)
        {
            stderr.WriteLine($"fdr calibrate: {message}");
            return ExitCodes.InvalidInput;
        }
        var table = parse.GetValue(Reference);
        var scenarioPath = parse.GetValue(Scenario);
        if (table is null) return Refuse("--scenario and --matrix go with --reference TABLE");
        if (runDir is not null) return Refuse($"give either RUN_DIR or --reference, not both ({runDir})");
        if (scenarioPath is null) return Refuse("--reference needs --scenario SCENARIO: the scenario whose daemon models are fitted");
        if (output is null) return Refuse("--reference needs --out FILE: where the overlay goes (the closeness table goes beside it)");
        if (InputFile.Problem(table) is { } tableProblem) return Refuse($"--reference {table}: {tableProblem}");
        var matrix = parse.GetValue(Matrix) ?? (Path.Combine(Path.GetDirectoryName(Path.GetFullPath(table))!, "transfer-matrix.csv") is var beside && File.Exists(beside) ? beside : null);
        if (matrix is not null && InputFile.Problem(matrix) is { } matrixProblem) return Refuse($"--matrix {matrix}: {matrixProblem}");
        if (Directory.Exists(output) || Path.GetDirectoryName(Path.GetFullPath(output)) is not { } parent || !Directory.Exists(parent))
            return Refuse($"--out {output}: {(Directory.Exists(output) ? "is a folder; give a file name" : "its folder does not exist")}");
        var loaded = ScenarioLoader.Load(scenarioPath);
        if (!loaded.Ok) return Refuse($"--scenario {scenarioPath}: not a valid scenario ({loaded.Diagnostics[0]})");
        ReferenceTable reference;
        try
        {
            reference = ReferenceTable.Read(table, matrix);
        }
        catch (CalibrationInputException e)
        {
            return Refuse(e.Message);
        }
        var unknown = reference.Daemons.Where(d => !Core.Rucio.RucioDaemons.IsKnown(d.Daemon)).Select(d => $"{d.Service} (line {d.Line})").ToList();
        if (unknown.Count > 0) return Refuse($"{table}: services this harness does not know: {string.Join(", ", unknown)}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ReferenceCalibrator.Run(loaded.Scenario!, reference);
        var closeness = Path.Combine(parent, Path.GetFileNameWithoutExtension(output) + ".closeness.csv");
        File.WriteAllText(output, ReferenceCalibrator.Yaml(result));
        File.WriteAllText(closeness, ReferenceCalibrator.Csv(result));
        stdout.Write(ReferenceCalibrator.Text(result));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nCalibrated against {table} in {clock.Elapsed.TotalSeconds:0.0} s ({result.Runs} lake runs): {Path.GetFullPath(output)}, {Path.GetFullPath(closeness)}"));
        return ExitCodes.Success;
    }
}
