using Bogus;

namespace FdrHarness.Core.Synthetic;

/// <summary>The naming conventions of the ESCAPE sciences, chosen from an experiment's name or scope.</summary>
public enum NameStyle { Generic, Cta, Lsst, Ska, Virgo, Atlas, Lofar, Magic, Cms, Fair }

/// <summary>
/// Words and number bases for one experiment's file, dataset and container names. Bogus, seeded, builds the word
/// lists once; names are then composed by plain code from (index, per-file random words). Every name embeds a
/// number derived injectively from the file's index at a fixed position, so names are unique within the scope.
/// </summary>
public sealed class FileNameVocabulary
{
    private const int MaxNameLength = 512;

    // A file name's buffer: a stackalloc'd one is zeroed on every call (1 KiB, a tenth of a name's cost), this one is not;
    // each thread has its own, and a name is copied out of it (NameBuilder.ToString) before FileName returns.
    [ThreadStatic] private static char[]? t_nameBuffer;

    // LSSTCam's 21 science rafts × 9 sensors = 189 CCDs per visit.
    private static readonly string[] LsstRafts =
        ["R01", "R02", "R03", "R10", "R11", "R12", "R13", "R14", "R20", "R21", "R22", "R23", "R24", "R30", "R31", "R32", "R33", "R34", "R41", "R42", "R43"];
    private static readonly string[] LsstSensors = ["S00", "S01", "S02", "S10", "S11", "S12", "S20", "S21", "S22"];
    private static readonly string[] LsstBands = ["u", "g", "r", "i", "z", "y"];
    private static readonly string[] MagicWobbles = ["035", "125", "215", "305"];

    private readonly ulong _key;
    private readonly string[] _tiers;
    private readonly string[] _extensions; // one per tier
    private readonly string[] _instruments;
    private readonly string[] _targets;
    private readonly string[] _extras;
    private readonly string[] _extraExtensions;
    private readonly long _runBase;
    private readonly int _perRun;
    private readonly long _secondaryBase;
    private readonly int _secondary;

    private FileNameVocabulary(NameStyle style, string scope, ulong key, Randomizer random)
    {
        Style = style;
        Scope = scope;
        _key = key;
        _extraExtensions = [];
        switch (style)
        {
            case NameStyle.Cta:
                _tiers = Pick(random, ["R0", "DL0", "DL1", "DL2", "DL3"], 3, 5);
                _extensions = _tiers.Select(t => t is "R0" or "DL0" ? ".fits.fz" : ".h5").ToArray();
                _instruments = Pick(random, ["LST1", "LST2", "LST3", "LST4", "MST01", "MST02", "MST03", "MST04", "SST01", "SST02", "SST03"], 3, 8);
                _targets = [];
                _extras = [];
                _runBase = random.Long(1_000, 20_000);
                _perRun = random.Int(100, 400);
                break;

            case NameStyle.Lsst:
                _tiers = Pick(random, ["raw", "postISRCCD", "calexp", "src", "icExp", "bkgd"], 3, 6);
                _extensions = _tiers.Select(_ => ".fits").ToArray();
                _instruments = Pick(random, ["LSSTCam", "LSSTComCam", "LATISS"], 1, 2);
                _targets = [];
                _extras = Enumerable.Range(0, random.Int(3, 6)).Select(_ => $"w_{random.Int(2020, 2025)}_{random.Int(1, 52):D2}").Distinct().ToArray();
                _runBase = random.Long(100_000, 999_999);
                _perRun = LsstRafts.Length * LsstSensors.Length;
                break;

            case NameStyle.Ska:
                _tiers = Pick(random, ["vis", "image", "cube", "cal", "pulsar"], 3, 5);
                _extensions = _tiers.Select(t => t switch { "vis" => ".ms.tar", "pulsar" => ".fil", _ => ".fits" }).ToArray();
                _instruments = Pick(random, ["SKA1-Low", "SKA1-Mid", "MeerKAT", "ASKAP", "MWA"], 2, 3);
                _targets = Pick(random, ["EoR0", "EoR1", "GLEAM-X", "SMC", "LMC", "GalacticCentre", "M87", "CenA"], 2, 4)
                    .Concat(Enumerable.Range(0, random.Int(4, 8)).Select(_ =>
                        $"J{random.Int(0, 23):D2}{random.Int(0, 59):D2}{(random.Bool() ? '+' : '-')}{random.Int(0, 89):D2}{random.Int(0, 59):D2}"))
                    .ToArray();
                _extras = [];
                _runBase = random.Long(10_000, 99_999);
                _perRun = random.Int(256, 1024);
                break;

            case NameStyle.Virgo:
                _tiers = Pick(random, ["V1Online", "HoftOnline", "V1O3Repro1A", "V1raw"], 2, 3);
                _extensions = _tiers.Select(_ => ".gwf").ToArray();
                _instruments = [];
                _targets = [];
                _extras = [];
                _perRun = random.Bool() ? 4096 : 100; // seconds per frame file
                _runBase = random.Long(1_200_000_000, 1_300_000_000) / _perRun * _perRun; // GPS start
                break;

            case NameStyle.Atlas:
                _tiers = ["RAW", .. Pick(random, ["AOD", "DAOD_PHYS", "DAOD_PHYSLITE", "ESD"], 1, 2)];
                _extensions = _tiers.Select(t => t == "RAW" ? ".data" : ".pool.root.1").ToArray();
                _instruments = Pick(random, ["data17_13TeV", "data18_13TeV", "data22_13p6TeV"], 1, 2); // projects
                _targets = Pick(random, ["physics_Main", "physics_MinBias", "express_express", "physics_BphysLS", "calibration_LArCells"], 2, 4); // streams
                _extras = [];
                _runBase = random.Long(300_000, 460_000);
                _perRun = 4 * random.Int(300, 900); // lumiblocks × 4 SFOs
                _secondaryBase = random.Long(10_000_000, 30_000_000); // production task ids
                _secondary = 10_000; // files per task
                break;

            case NameStyle.Lofar:
                _tiers = Pick(random, ["raw", "calibrated", "averaged"], 2, 3);
                _extensions = _tiers.Select(_ => ".tar").ToArray();
                _instruments = [];
                _targets = [];
                _extras = [];
                _runBase = random.Long(600_000, 800_000); // observation ids
                _perRun = random.Bool() ? 244 : 488; // subbands
                _secondary = random.Int(1, 3); // sub-array pointings
                break;

            case NameStyle.Magic:
                _tiers = Pick(random, ["D", "Y", "I", "S", "Q"], 3, 5);
                _extensions = _tiers.Select(t => t == "D" ? ".raw.gz" : ".root").ToArray();
                _instruments = [];
                _targets = Pick(random, ["CrabNebula", "Mrk421", "Mrk501", "1ES1959+650", "PG1553+113", "SgrA", "BLLac", "3C279", "PerseusMAGIC", "TXS0506+056"], 4, 7);
                _extras = [];
                _runBase = random.Long(5_000_000, 5_100_000);
                _perRun = random.Int(50, 999); // subruns per run (3 digits)
                _secondaryBase = new DateOnly(random.Int(2018, 2020), random.Int(1, 12), random.Int(1, 28)).DayNumber;
                _secondary = random.Int(15, 40); // runs per night
                break;

            case NameStyle.Cms:
                _tiers = Pick(random, ["RAW", "AOD", "MINIAOD", "NANOAOD"], 2, 4);
                _extensions = _tiers.Select(_ => ".root").ToArray();
                _instruments = Pick(random, ["Run2018A", "Run2018B", "Run2018C", "Run2018D"], 2, 4); // eras
                _targets = Pick(random, ["EGamma", "SingleMuon", "DoubleMuon", "JetHT", "MET", "ZeroBias", "Tau"], 3, 5); // primary datasets
                _extras = Pick(random, ["UL2018-v1", "UL2018-v2", "17Sep2018-v2", "PromptReco-v3"], 1, 3); // processings
                break;

            case NameStyle.Fair:
                _tiers = Pick(random, ["raw", "sim", "reco"], 2, 3);
                _extensions = _tiers.Select(_ => "").ToArray();
                _instruments = [];
                _targets = [];
                var experiments = Pick(random, ["mcbm", "r3b", "panda", "cbm"], 2, 3);
                _extras = experiments;
                _extraExtensions = experiments.Select(e => e switch { "mcbm" => ".tsa", "r3b" => ".lmd", _ => ".root" }).ToArray();
                _runBase = random.Long(1_000, 3_000);
                _perRun = random.Int(50, 500);
                break;

            default:
                var faker = new Faker("en") { Random = random };
                _tiers = Pick(random, ["raw", "calibrated", "reduced", "analysis", "simulation"], 2, 4);
                _extensions = _tiers.Select(_ => ".dat").ToArray();
                _instruments = [];
                _targets = [];
                _extras = faker.Lorem.Words(12).Select(Sanitize).Where(w => w.Length > 0).Distinct().ToArray();
                if (_extras.Length == 0) _extras = ["data"];
                _runBase = random.Long(10_000_000, 90_000_000);
                _perRun = 1_000;
                break;
        }
    }

    public NameStyle Style { get; }
    public string Scope { get; }

    /// <summary>Data tiers (or products, frame types): each dataset has one, and its files show it where the convention does.</summary>
    public IReadOnlyList<string> Tiers => _tiers;
    public IReadOnlyList<string> Instruments => _instruments;
    public IReadOnlyList<string> Targets => _targets;
    public long RunBase => _runBase;

    /// <summary>Guesses the naming convention from the experiment's name and scope (ESCAPE's sciences; anything else is generic).</summary>
    public static NameStyle StyleFor(string experimentName, string scope)
    {
        var text = (experimentName + " " + scope).ToLowerInvariant();
        if (text.Contains("lsst") || text.Contains("rubin")) return NameStyle.Lsst;
        if (text.Contains("virgo") || text.Contains("ego")) return NameStyle.Virgo;
        if (text.Contains("atlas")) return NameStyle.Atlas;
        if (text.Contains("lofar")) return NameStyle.Lofar;
        if (text.Contains("magic")) return NameStyle.Magic;
        if (text.Contains("cta")) return NameStyle.Cta;
        if (text.Contains("ska")) return NameStyle.Ska;
        if (text.Contains("cms")) return NameStyle.Cms;
        if (text.Contains("fair") || text.Contains("cbm") || text.Contains("r3b") || text.Contains("panda")) return NameStyle.Fair;
        return NameStyle.Generic;
    }

    /// <summary>Builds the vocabulary for one experiment; the same (seed, name, scope) always gives the same words.</summary>
    public static FileNameVocabulary Create(long runSeed, string experimentName, string scope)
    {
        ArgumentNullException.ThrowIfNull(experimentName);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        var key = StableHash.Of(StableHash.Of((ulong)runSeed, "names"), scope);
        return Create(StyleFor(experimentName, scope), scope, key);
    }

    public static FileNameVocabulary Create(NameStyle style, string scope, ulong key)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        // Bogus's Randomizer wraps a seeded System.Random, which is stable across .NET versions.
        var random = new Randomizer(unchecked((int)(key ^ (key >> 32))));
        return new FileNameVocabulary(style, scope, key, random);
    }

    /// <summary>Index into <see cref="Tiers"/> of a dataset (a pure function of the dataset's index).</summary>
    public int TierOf(long datasetIndex) => Below(StableHash.Combine(_key ^ 0x7469657273UL, (ulong)datasetIndex), _tiers.Length);

    /// <summary><c>&lt;scope&gt;.fdr.&lt;tier&gt;.ds000123</c></summary>
    public string DatasetName(long datasetIndex)
    {
        var b = new NameBuilder(stackalloc char[MaxNameLength]);
        b.Append(Scope);
        b.Append(".fdr.");
        b.Append(_tiers[TierOf(datasetIndex)]);
        b.Append(".ds");
        b.Append(datasetIndex, 6);
        return b.ToString();
    }

    /// <summary><c>&lt;scope&gt;.fdr.cont00012</c></summary>
    public string ContainerName(long containerIndex)
    {
        var b = new NameBuilder(stackalloc char[MaxNameLength]);
        b.Append(Scope);
        b.Append(".fdr.cont");
        b.Append(containerIndex, 5);
        return b.ToString();
    }

    /// <summary>
    /// The name of file <paramref name="index"/> whose dataset has tier <paramref name="tier"/>; decorations that carry
    /// no identity (telescope, wobble, checksum-like suffixes) come from <paramref name="rng"/>.
    /// </summary>
    public string FileName(long index, int tier, ref SplitMix64 rng) => new(FileNameChars(index, tier, ref rng));

    /// <summary><see cref="FileName"/> in this thread's name buffer: valid until the thread's next name.</summary>
    public ReadOnlySpan<char> FileNameChars(long index, int tier, scoped ref SplitMix64 rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var b = new NameBuilder(t_nameBuffer ??= new char[MaxNameLength]);
        var tierWord = _tiers[tier];
        var ext = _extensions[tier];
        switch (Style)
        {
            case NameStyle.Cta:
            {
                // cta.run012345.LST1.DL1.subrun0042.h5
                b.Append("cta.run");
                b.Append(_runBase + index / _perRun, 6);
                b.Append('.');
                b.Append(_instruments[rng.NextBelow(_instruments.Length)]);
                b.Append('.');
                b.Append(tierWord);
                b.Append(".subrun");
                b.Append(index % _perRun, 4);
                b.Append(ext);
                break;
            }
            case NameStyle.Lsst:
            {
                // calexp_LSSTCam_r_00904010_R22_S11_w_2020_44.fits (one band per visit)
                var visit = _runBase + index / _perRun;
                var ccd = (int)(index % _perRun);
                b.Append(tierWord);
                b.Append('_');
                b.Append(_instruments[rng.NextBelow(_instruments.Length)]);
                b.Append('_');
                b.Append(LsstBands[Below(StableHash.Combine(_key, (ulong)visit), LsstBands.Length)]);
                b.Append('_');
                b.Append(visit, 8);
                b.Append('_');
                b.Append(LsstRafts[ccd / LsstSensors.Length]);
                b.Append('_');
                b.Append(LsstSensors[ccd % LsstSensors.Length]);
                b.Append('_');
                b.Append(_extras[rng.NextBelow(_extras.Length)]);
                b.Append(ext);
                break;
            }
            case NameStyle.Ska:
            {
                // SKA1-Low_EoR0_eb0012345_image_ch0042.fits
                var eb = _runBase + index / _perRun;
                b.Append(_instruments[Below(StableHash.Combine(_key, (ulong)eb), _instruments.Length)]);
                b.Append('_');
                b.Append(_targets[Below(StableHash.Combine(_key + 1, (ulong)eb), _targets.Length)]);
                b.Append("_eb");
                b.Append(eb, 7);
                b.Append('_');
                b.Append(tierWord);
                b.Append("_ch");
                b.Append(index % _perRun, 4);
                b.Append(ext);
                break;
            }
            case NameStyle.Virgo:
            {
                // V-V1Online-1234567890-4096.gwf: consecutive frames
                b.Append("V-");
                b.Append(tierWord);
                b.Append('-');
                b.Append(_runBase + index * _perRun);
                b.Append('-');
                b.Append(_perRun);
                b.Append(ext);
                break;
            }
            case NameStyle.Atlas when tierWord == "RAW":
            {
                // data18_13TeV.00358031.physics_Main.daq.RAW._lb0123._SFO-1._0001.data
                var run = _runBase + index / _perRun;
                var inRun = index % _perRun;
                b.Append(_instruments[Below(StableHash.Combine(_key, (ulong)run), _instruments.Length)]);
                b.Append('.');
                b.Append(run, 8);
                b.Append('.');
                b.Append(_targets[Below(StableHash.Combine(_key + 1, (ulong)run), _targets.Length)]);
                b.Append(".daq.RAW._lb");
                b.Append(inRun / 4 + 1, 4);
                b.Append("._SFO-");
                b.Append(inRun % 4 + 1);
                b.Append("._0001");
                b.Append(ext);
                break;
            }
            case NameStyle.Atlas:
            {
                // AOD.12345678._000042.pool.root.1
                b.Append(tierWord);
                b.Append('.');
                b.Append(_secondaryBase + index / _secondary, 8);
                b.Append("._");
                b.Append(index % _secondary + 1, 6);
                b.Append(ext);
                break;
            }
            case NameStyle.Lofar:
            {
                // L654321_SAP001_SB123_uv.MS_1a2b3c4d.tar
                var sb = index % _perRun;
                b.Append('L');
                b.Append(_runBase + index / _perRun, 6);
                b.Append("_SAP");
                b.Append(sb * _secondary / _perRun, 3);
                b.Append("_SB");
                b.Append(sb, 3);
                b.Append("_uv.MS_");
                b.AppendHex(rng.NextUInt64(), 8, upperCase: false);
                b.Append(ext);
                break;
            }
            case NameStyle.Magic:
            {
                // 20191123_M1_05086952.001_Y_CrabNebula-W0.40+035.root
                var runOffset = index / _perRun;
                var run = _runBase + runOffset;
                var date = DateOnly.FromDayNumber((int)(_secondaryBase + runOffset / _secondary));
                b.Append(date.Year, 4);
                b.Append(date.Month, 2);
                b.Append(date.Day, 2);
                b.Append("_M");
                b.Append(1 + rng.NextBelow(2));
                b.Append('_');
                b.Append(run, 8);
                b.Append('.');
                b.Append(index % _perRun + 1, 3);
                b.Append('_');
                b.Append(tierWord);
                b.Append('_');
                b.Append(_targets[Below(StableHash.Combine(_key, (ulong)run), _targets.Length)]);
                b.Append("-W0.40+");
                b.Append(MagicWobbles[rng.NextBelow(MagicWobbles.Length)]);
                b.Append(ext);
                break;
            }
            case NameStyle.Cms:
            {
                // Run2018D_EGamma_MINIAOD_UL2018-v2_0B5E8B1B-29C4-A74F-9D0E-5C1F3A2B4D6E.root; the first 64 GUID bits
                // are a bijection of the index, so GUIDs never repeat in a scope.
                var unique = SplitMix64.Mix(_key + (ulong)index);
                var random = rng.NextUInt64();
                b.Append(_instruments[rng.NextBelow(_instruments.Length)]);
                b.Append('_');
                b.Append(_targets[rng.NextBelow(_targets.Length)]);
                b.Append('_');
                b.Append(tierWord);
                b.Append('_');
                b.Append(_extras[rng.NextBelow(_extras.Length)]);
                b.Append('_');
                b.AppendHex(unique >> 32, 8, upperCase: true);
                b.Append('-');
                b.AppendHex(unique >> 16, 4, upperCase: true);
                b.Append('-');
                b.AppendHex(unique, 4, upperCase: true);
                b.Append('-');
                b.AppendHex(random >> 48, 4, upperCase: true);
                b.Append('-');
                b.AppendHex(random, 12, upperCase: true);
                b.Append(ext);
                break;
            }
            case NameStyle.Fair:
            {
                // mcbm_run02391_0042.tsa (the experiment is a property of the run)
                var run = _runBase + index / _perRun;
                var which = Below(StableHash.Combine(_key, (ulong)run), _extras.Length);
                b.Append(_extras[which]);
                b.Append("_run");
                b.Append(run, 5);
                b.Append('_');
                b.Append(index % _perRun, 4);
                b.Append(_extraExtensions[which]);
                break;
            }
            default:
            {
                // <scope>.raw.run12345678.lorem._000042.dat
                b.Append(Scope);
                b.Append('.');
                b.Append(tierWord);
                b.Append(".run");
                b.Append(_runBase + index / _perRun, 8);
                b.Append('.');
                b.Append(_extras[rng.NextBelow(_extras.Length)]);
                b.Append("._");
                b.Append(index % _perRun, 6);
                b.Append(ext);
                break;
            }
        }
        return b.Text;
    }

    private static int Below(ulong hash, int n) => (int)Math.BigMul(hash, (ulong)n, out _);

    private static string[] Pick(Randomizer random, string[] words, int min, int max)
    {
        // Keep the vocabulary's order so a dataset's tier reads naturally (RAW before AOD); only the subset is random.
        var chosen = random.ListItems(words, random.Int(min, Math.Min(max, words.Length)));
        return words.Where(chosen.Contains).ToArray();
    }

    private static string Sanitize(string word) =>
        new(word.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
}
