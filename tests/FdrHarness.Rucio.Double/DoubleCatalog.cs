using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FdrHarness.Core.Rucio;

namespace FdrHarness.Rucio.Double;

/// <summary>
/// Rucio's catalog and the semantics of its REST calls as 1.31.7 shows them (../shared/reference/rucio.md, second pass):
/// checks in the server's order, one request applied whole or not at all, the server's own exception classes and texts.
/// Not thread-safe: <see cref="RucioDouble"/> calls it under one lock.
/// </summary>
internal sealed class DoubleCatalog(DoubleBehaviour behaviour, TimeProvider time, int seed)
{
    private const string Vo = "def";
    private const string DuplicateRuleText = "(sqlite3.IntegrityError) UNIQUE constraint failed: rules.scope, rules.name, rules.account, rules.rse_expression, rules.copies";
    private const string DuplicateContentText = "('(sqlite3.IntegrityError) UNIQUE constraint failed: contents.scope, contents.name, contents.child_scope, contents.child_name',)";

    private readonly Random _ids = new(seed);
    private readonly List<Rse> _rses = [];
    private readonly Dictionary<string, string> _scopes = new(StringComparer.Ordinal); // scope -> account
    private readonly Dictionary<string, Did> _dids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Replica>> _replicas = new(StringComparer.Ordinal);
    private readonly List<Rule> _rules = [];
    private readonly Dictionary<string, Rule> _rulesById = new(StringComparer.Ordinal);
    private readonly List<TransferRequest> _requests = [];
    private readonly HashSet<(string File, string Rse)> _queued = [];
    private readonly Dictionary<(string Account, string Rse), long> _limits = [];
    private readonly Dictionary<(string Account, string Rse), long> _usage = [];
    private readonly Dictionary<string, (string Account, string Identity, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);
    private readonly List<(string Username, string Password, string Account)> _userpass = [];

    public DoubleBehaviour Behaviour => behaviour;
    public List<HermesMessage> Messages { get; } = [];
    private DateTimeOffset Now => time.GetUtcNow();

    public string NewId()
    {
        Span<byte> b = stackalloc byte[16];
        _ids.NextBytes(b);
        return Convert.ToHexStringLower(b);
    }

    private void Emit(string type, JsonObject payload) => Messages.Add(new HermesMessage(type, payload, Wire.PyDate(Now)));

    // ------------------------------------------------------------------ auth

    public void AddUserpass(string username, string password, string account) => _userpass.Add((username, password, account));

    public (string Token, DateTimeOffset Expires) Authenticate(string? account, string? username, string? password)
    {
        if (!_userpass.Any(u => u.Username == username && u.Password == password && u.Account == account))
            throw new RucioError(401, "IdentityNotFound", "Cannot authenticate. Username/Password pair does not exist.");
        var token = $"{account}-{username}-unknown-{NewId()}";
        var expires = Now + TimeSpan.FromHours(1);
        _tokens[token] = (account!, username!, expires);
        return (token, expires);
    }

    /// <summary>The account a token authenticates, or null when it is unknown or expired.</summary>
    public string? AccountOf(string? token) =>
        token is not null && _tokens.TryGetValue(token, out var t) && t.Expires > Now ? t.Account : null;

    public string Validate(string? token)
    {
        if (string.IsNullOrEmpty(token)) throw new RucioError(500, "CannotAuthenticate", "No token was passed!");
        if (!_tokens.TryGetValue(token, out var t) || t.Expires <= Now) throw new RucioError(500, "CannotAuthenticate", "NoneType: None\n");
        return $"{{'account': {Wire.ReprString(t.Account)}, 'identity': {Wire.ReprString(t.Identity)}, 'lifetime': {Wire.PyDateRepr(t.Expires)}, 'audience': None, 'authz_scope': None, 'vo': 'def'}}";
    }

    /// <summary>Moves every token's expiry into the past (what the recorded server saw once its hour had passed).</summary>
    public void ExpireTokens()
    {
        foreach (var k in _tokens.Keys.ToList()) _tokens[k] = _tokens[k] with { Expires = Now - TimeSpan.FromMinutes(1) };
    }

    /// <summary>A token that is valid now, without a call (tests that do not exercise authentication).</summary>
    public string IssueToken(string account, string identity)
    {
        var token = $"{account}-{identity}-unknown-{NewId()}";
        _tokens[token] = (account, identity, Now + TimeSpan.FromHours(1));
        return token;
    }

    // ------------------------------------------------------------------ RSEs

    public Rse Rse(string name) => _rses.FirstOrDefault(r => r.Name == name)
        ?? throw new RucioError(404, "RSENotFound", $"RSE '{name}' cannot be found in vo '{Vo}'");

    public IReadOnlyList<string> RseNames => [.. _rses.Select(r => r.Name)];

    public void AddRse(string name, JsonObject? body)
    {
        if (_rses.Any(r => r.Name == name)) throw new RucioError(409, "Duplicate", $"RSE '{name}' already exists!");
        var rse = new Rse(name, NewId(), Now);
        Update(rse, body);
        _rses.Add(rse);
    }

    public void UpdateRse(string name, JsonObject? body)
    {
        var rse = Rse(name);
        Update(rse, body);
        rse.UpdatedAt = Now;
    }

    private static void Update(Rse rse, JsonObject? body)
    {
        if (body is null) return;
        foreach (var (k, v) in body)
        {
            var b = v is JsonValue jv && jv.TryGetValue<bool>(out var x) ? x : (bool?)null;
            switch (k)
            {
                case "deterministic" when b is { } d: rse.Deterministic = d; break;
                case "volatile" when b is { } vol: rse.Volatile = vol; break;
                case "staging_area" when b is { } s: rse.StagingArea = s; break;
                case "availability_read" when b is { } r: rse.Read = r; break;
                case "availability_write" when b is { } w: rse.Write = w; break;
                case "availability_delete" when b is { } del: rse.Delete = del; break;
                case "rse_type": rse.RseType = v?.GetValue<string>() ?? "DISK"; break;
            }
        }
    }

    public void SetAttribute(string rseName, string key, JsonNode? value)
    {
        var rse = Rse(rseName);
        object v = value is JsonValue jv && jv.TryGetValue<bool>(out var b) ? b : value?.ToString() ?? "";
        rse.SetAttribute(key, v);
    }

    public void AddProtocol(string rseName, DoubleProtocol protocol) => Rse(rseName).Protocols.Add(protocol);

    /// <summary>GET /rses/{rse}: the RSE with its protocols (json.dumps order).</summary>
    public JsonObject RseJson(Rse r, bool withAvailability = true)
    {
        var o = new JsonObject
        {
            ["availability_delete"] = r.Delete,
            ["availability_read"] = r.Read,
            ["availability_write"] = r.Write,
            ["credentials"] = null,
            ["deterministic"] = r.Deterministic,
            ["domain"] = new JsonArray("lan", "wan"),
            ["id"] = r.Id,
            ["lfn2pfn_algorithm"] = r.Lfn2Pfn,
            ["protocols"] = new JsonArray([.. r.Protocols.Select(p => (JsonNode)ProtocolJson(p))]),
            ["qos_class"] = null,
            ["rse"] = r.Name,
            ["rse_type"] = r.RseType,
            ["sign_url"] = null,
            ["staging_area"] = r.StagingArea,
            ["verify_checksum"] = true,
            ["volatile"] = r.Volatile,
            ["read_protocol"] = 1,
            ["write_protocol"] = 1,
            ["delete_protocol"] = 1,
            ["third_party_copy_read_protocol"] = 1,
            ["third_party_copy_write_protocol"] = 1,
        };
        if (withAvailability) o["availability"] = r.Availability;
        return o;
    }

    private static JsonObject ProtocolJson(DoubleProtocol p) => new()
    {
        ["hostname"] = p.Hostname,
        ["scheme"] = p.Scheme,
        ["port"] = p.Port,
        ["prefix"] = p.Prefix,
        ["impl"] = p.Impl,
        ["domains"] = new JsonObject
        {
            ["lan"] = new JsonObject { ["read"] = p.LanRead, ["write"] = p.LanWrite, ["delete"] = p.LanDelete },
            ["wan"] = new JsonObject
            {
                ["read"] = p.WanRead, ["write"] = p.WanWrite, ["delete"] = p.WanDelete,
                ["third_party_copy_read"] = p.ThirdPartyCopyRead, ["third_party_copy_write"] = p.ThirdPartyCopyWrite,
            },
        },
        ["extended_attributes"] = null,
    };

    /// <summary>GET /rses/{rse}/protocols: the JSON array of protocols; none is a 404, not an empty list.</summary>
    public JsonArray Protocols(string rseName)
    {
        var r = Rse(rseName);
        if (r.Protocols.Count == 0) throw new RucioError(404, "RSEProtocolNotSupported", "No protocols found for this RSE");
        return new JsonArray([.. r.Protocols.Select(p => (JsonNode)ProtocolJson(p))]);
    }

    /// <summary>GET /rses/ without an expression: one full RSE object per line.</summary>
    public IEnumerable<JsonObject> RseList() => _rses.Select(r => new JsonObject
    {
        ["id"] = r.Id, ["rse"] = r.Name, ["vo"] = Vo, ["rse_type"] = r.RseType, ["deterministic"] = r.Deterministic,
        ["volatile"] = r.Volatile, ["staging_area"] = r.StagingArea, ["city"] = null, ["region_code"] = null,
        ["country_name"] = null, ["continent"] = null, ["time_zone"] = null, ["ISP"] = null, ["ASN"] = null,
        ["longitude"] = null, ["latitude"] = null, ["availability"] = r.Availability, ["availability_read"] = r.Read,
        ["availability_write"] = r.Write, ["availability_delete"] = r.Delete, ["qos_class"] = null,
        ["created_at"] = Wire.Date(r.CreatedAt), ["updated_at"] = Wire.Date(r.UpdatedAt), ["deleted"] = false, ["deleted_at"] = null,
    });

    public JsonObject Attributes(string rseName)
    {
        var o = new JsonObject();
        foreach (var (k, v) in Rse(rseName).Attributes) o[k] = v is bool b ? JsonValue.Create(b) : JsonValue.Create((string)v);
        return o;
    }

    /// <summary>The RSEs an expression selects, in creation order (rse_expression_parser.parse_expression).</summary>
    public List<Rse> Resolve(string expression, bool onlyWritable)
    {
        if (!RseExpression.TryParse(expression, out var parsed, out _))
            throw new RucioError(400, "InvalidRSEExpression", "Expression does not comply to RSE Expression syntax");
        var pool = _rses.Where(r => !onlyWritable || r.Write).ToList();
        var views = pool.Select(r => (IRseAttributes)new RseAttributes(r.Name,
            r.Attributes.ToDictionary(a => a.Key, a => a.Value is bool b ? (b ? "True" : "False") : (string)a.Value, StringComparer.Ordinal))).ToList();
        var names = parsed.Evaluate(views);
        var result = pool.Where(r => names.Contains(r.Name)).ToList();
        if (result.Count == 0) throw new RucioError(400, "InvalidRSEExpression", "RSE Expression resulted in an empty set.");
        return result;
    }

    /// <summary>The Python repr of the RSE's settings, as RSEProtocolNotSupported quotes it.</summary>
    private string SettingsRepr(Rse r) => Wire.Repr(RseJson(r, withAvailability: false));

    // ------------------------------------------------------------------ scopes and limits

    public void AddScope(string account, string scope)
    {
        if (!_scopes.TryAdd(scope, account)) throw new RucioError(409, "Duplicate", $"Scope '{scope}' already exists!");
    }

    public IEnumerable<string> Scopes => _scopes.Keys.Order(StringComparer.Ordinal);

    public void SetLimit(string account, string rse, long bytes) => _limits[(account, Rse(rse).Name)] = bytes;

    public void DeleteLimit(string account, string rse) => _limits.Remove((account, Rse(rse).Name));

    public long? Limit(string account, string rse) => _limits.TryGetValue((account, Rse(rse).Name), out var b) ? b : null;

    /// <summary>abacus-account: folds the locks into the accounts' usage (without it, usage stays as it was).</summary>
    public void RunAbacus()
    {
        _usage.Clear();
        foreach (var rule in _rules)
            foreach (var l in rule.Locks)
                _usage[(rule.Account, l.Rse.Name)] = _usage.GetValueOrDefault((rule.Account, l.Rse.Name)) + l.Bytes;
    }

    // ------------------------------------------------------------------ DIDs

    public Did? FindDid(string scope, string name) => _dids.GetValueOrDefault(scope + ":" + name);

    public Did Did(string scope, string name) => FindDid(scope, name)
        ?? throw new RucioError(404, "DataIdentifierNotFound", $"Data identifier '{scope}:{name}' not found");

    /// <summary>POST /dids and POST /dids/{scope}/{name}: collections only, all or nothing.</summary>
    public void AddDids(JsonArray items, string account)
    {
        var created = new List<Did>();
        var conflict = false;
        var scopeMissing = false;
        foreach (var item in items)
        {
            if (item is not JsonObject d) throw new RawError(500, "'str' object has no attribute 'get'");
            var kind = (d.TryGetPropertyValue("type", out var t) ? t?.ToString() : throw new RawError(500, "'type'")) switch
            {
                "DATASET" => DidKind.Dataset,
                "CONTAINER" => DidKind.Container,
                "FILE" => throw new RucioError(409, "UnsupportedOperation", "Only collection (dataset/container) can be registered."),
                var other => throw new RawError(500, Wire.ReprString(other ?? "None")),
            };
            var scope = Text(d, "scope") ?? throw new RawError(500, "'scope'");
            var name = Text(d, "name") ?? throw new RawError(500, "'name'");
            DateTimeOffset? expires = d["lifetime"] is JsonValue lv && lv.TryGetValue<double>(out var secs) && secs != 0 ? Now + TimeSpan.FromSeconds(secs) : null;
            if (_dids.ContainsKey(scope + ":" + name) || created.Any(c => c.Scope == scope && c.Name == name)) { conflict = true; continue; }
            if (!_scopes.ContainsKey(scope)) { scopeMissing = true; continue; }
            created.Add(new Did(scope, name, kind, account, Now) { ExpiredAt = expires });
        }
        if (conflict || scopeMissing)
        {
            if (!behaviour.AllOrNothing) Commit(created, account);
            throw conflict
                ? new RucioError(409, "DataIdentifierAlreadyExists", "Data Identifier already exists!")
                : new RucioError(404, "ScopeNotFound", "Scope not found!");
        }
        Commit(created, account);
    }

    private void Commit(List<Did> created, string account)
    {
        foreach (var d in created)
        {
            _dids[d.Key] = d;
            Emit(d.Kind == DidKind.Container ? "create_cnt" : "create_dts", new JsonObject
            {
                ["account"] = account, ["scope"] = d.Scope, ["name"] = d.Name,
                ["expired_at"] = d.ExpiredAt is { } e ? Wire.PyDate(e) : null,
            });
        }
    }

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public JsonObject DidJson(Did d) => d.Kind == DidKind.File
        ? new JsonObject
        {
            ["scope"] = d.Scope, ["name"] = d.Name, ["type"] = "FILE", ["account"] = d.Account, ["bytes"] = d.Bytes,
            ["length"] = 1, ["md5"] = d.Md5, ["adler32"] = d.Adler32,
        }
        : new JsonObject
        {
            ["scope"] = d.Scope, ["name"] = d.Name, ["type"] = d.TypeWord, ["account"] = d.Account, ["open"] = d.Open,
            ["monotonic"] = false, ["expired_at"] = Wire.DateOrNull(d.ExpiredAt),
            // An open collection reports neither (observed with 1,000 files attached); closing it counts them.
            ["length"] = d.Open ? null : Files(d).Count(), ["bytes"] = d.Open ? null : Files(d).Sum(f => f.Bytes ?? 0),
        };

    /// <summary>GET /dids/{scope}/{name}/meta.</summary>
    public JsonObject MetaJson(Did d)
    {
        var o = new JsonObject
        {
            ["scope"] = d.Scope, ["name"] = d.Name, ["account"] = d.Account, ["did_type"] = d.TypeWord, ["is_open"] = d.Kind == DidKind.File ? null : d.Open,
            ["monotonic"] = false, ["hidden"] = false, ["obsolete"] = false, ["complete"] = null, ["is_new"] = true, ["availability"] = "AVAILABLE",
            ["suppressed"] = false, ["bytes"] = d.Kind == DidKind.File ? d.Bytes : null, ["length"] = d.Kind == DidKind.File ? 1 : null,
            ["md5"] = d.Md5, ["adler32"] = d.Adler32, ["expired_at"] = Wire.DateOrNull(d.ExpiredAt), ["purge_replicas"] = true,
            ["deleted_at"] = null, ["events"] = null, ["guid"] = null, ["project"] = null, ["datatype"] = null, ["run_number"] = null,
            ["stream_name"] = null, ["prod_step"] = null, ["version"] = null, ["campaign"] = null, ["task_id"] = null, ["panda_id"] = null,
            ["lumiblocknr"] = null, ["provenance"] = null, ["phys_group"] = null, ["transient"] = false, ["accessed_at"] = null,
            ["closed_at"] = null, ["eol_at"] = null, ["is_archive"] = null, ["constituent"] = null, ["access_cnt"] = null,
            ["created_at"] = Wire.Date(d.CreatedAt), ["updated_at"] = Wire.Date(d.UpdatedAt),
        };
        return o;
    }

    /// <summary>GET /dids/{scope}/{name}/dids: the direct children.</summary>
    public IEnumerable<JsonObject> Content(Did d) => d.Children.Select(k => _dids[k]).Select(c => new JsonObject
    {
        ["scope"] = c.Scope, ["name"] = c.Name, ["type"] = c.TypeWord, ["bytes"] = c.Bytes, ["adler32"] = c.Adler32, ["md5"] = c.Md5,
    });

    /// <summary>Every file under a DID (itself when it is a file), each once, sorted.</summary>
    private IEnumerable<Did> Files(Did d)
    {
        if (d.Kind == DidKind.File) return [d];
        var seen = new SortedDictionary<string, Did>(StringComparer.Ordinal);
        var stack = new Stack<Did>([d]);
        while (stack.Count > 0)
            foreach (var k in stack.Pop().Children)
            {
                if (!_dids.TryGetValue(k, out var c)) continue;
                if (c.Kind == DidKind.File) seen[k] = c; else stack.Push(c);
            }
        return seen.Values;
    }

    public IEnumerable<JsonObject> FilesJson(Did d) => Files(d).Select(f => new JsonObject
    {
        ["scope"] = f.Scope, ["name"] = f.Name, ["bytes"] = f.Bytes, ["adler32"] = f.Adler32, ["guid"] = null, ["events"] = null,
    });

    /// <summary>GET /dids/{scope}/dids/search?type=…&amp;name=…: names, sorted (wildcards * and ?).</summary>
    public IEnumerable<string> Search(string scope, string type, string pattern)
    {
        var regex = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$");
        bool Fits(Did d) => type switch
        {
            "all" => true,
            "collection" => d.Kind != DidKind.File,
            "dataset" => d.Kind == DidKind.Dataset,
            "container" => d.Kind == DidKind.Container,
            "file" => d.Kind == DidKind.File,
            _ => throw new RucioError(409, "UnsupportedOperation", $"Valid type are: ['all', 'collection', 'container', 'dataset', 'file']"),
        };
        return _dids.Values.Where(d => d.Scope == scope && Fits(d) && regex.IsMatch(d.Name)).Select(d => d.Name).Order(StringComparer.Ordinal);
    }

    /// <summary>PUT /dids/{scope}/{name}/status {"open": false}.</summary>
    public void SetStatus(Did d, bool open)
    {
        if (d.Open && !open)
        {
            d.Open = false;
            d.UpdatedAt = Now;
            var files = Files(d).ToList();
            Emit("close", new JsonObject { ["scope"] = d.Scope, ["name"] = d.Name, ["bytes"] = files.Sum(f => f.Bytes ?? 0), ["length"] = files.Count, ["events"] = 0 });
        }
        else if (open) d.Open = true;
    }

    /// <summary>POST /dids/{scope}/{name}/meta/{key}; "lifetime" sets expired_at = now + value (null clears it).</summary>
    public void SetMeta(string scope, string name, string key, JsonNode? value)
    {
        if (key == "lifetime")
        {
            DateTimeOffset? expires = null;
            if (value is not null)
            {
                double seconds;
                if (value is JsonValue v && v.TryGetValue<double>(out var n)) seconds = n;
                else if (value is JsonValue sv && sv.TryGetValue<string>(out var s))
                {
                    if (!double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out seconds))
                        throw new RawError(500, $"could not convert string to float: {Wire.ReprString(s)}");
                }
                else throw new RucioError(400, "InvalidValueForKey",
                    $"float() argument must be a string or a real number, not '{(value is JsonArray ? "list" : value is JsonObject ? "dict" : "bool")}'");
                expires = Now + TimeSpan.FromSeconds(seconds);
            }
            var d = FindDid(scope, name) ?? throw new RucioError(404, "DataIdentifierNotFound", $"Data identifier '{scope}:{name}' not found");
            d.ExpiredAt = expires;
            d.UpdatedAt = Now;
            return;
        }
        Did(scope, name).Meta[key] = value?.ToString();
    }

    /// <summary>undertaker: every DID whose lifetime ran out is erased (one "erase" message each).</summary>
    public int RunUndertaker()
    {
        var expired = _dids.Values.Where(d => d.ExpiredAt is { } e && e <= Now).OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
        foreach (var d in expired)
        {
            _dids.Remove(d.Key);
            foreach (var p in _dids.Values) p.Children.Remove(d.Key);
            Emit("erase", new JsonObject { ["account"] = d.Account, ["scope"] = d.Scope, ["name"] = d.Name });
        }
        return expired.Count;
    }

    // ------------------------------------------------------------------ attachments

    /// <summary>The list limit of Rucio's JSON schemas: InvalidObject quoting the whole list.</summary>
    public void CheckItems(string schema, JsonArray items, int status)
    {
        if (items.Count <= behaviour.MaxItems) return;
        throw new RucioError(status, "InvalidObject",
            $"Problem validating {schema} : {Wire.Repr(items)} is too long\n\nFailed validating 'maxItems' in schema['items']:\n    {{'maxItems': {behaviour.MaxItems}, 'minItems': 0, 'type': 'array'}}\n\nOn instance:\n    {Wire.Repr(items)}");
    }

    /// <summary>POST /dids/attachments (and POST /dids/{scope}/{name}/dids as one attachment): all or nothing.</summary>
    public void Attach(IReadOnlyList<(string Scope, string Name, JsonArray Dids)> attachments, bool ignoreDuplicate, string account)
    {
        var plan = new List<(Did Parent, Did Child)>();
        try
        {
            foreach (var (scope, name, dids) in attachments)
            {
                var parent = Did(scope, name);
                if (parent.Kind == DidKind.File) throw new RucioError(409, "UnsupportedOperation", $"The did {scope}:{name} is of type FILE");
                foreach (var c in dids.OfType<JsonObject>())
                {
                    var child = Did(Text(c, "scope") ?? "", Text(c, "name") ?? "");
                    var already = parent.Children.Contains(child.Key) || plan.Any(p => p.Parent == parent && p.Child == child);
                    if (parent.Kind == DidKind.Dataset)
                    {
                        if (child.Kind != DidKind.File) throw new RucioError(409, "UnsupportedOperation", $"The did {child.Scope}:{child.Name} is not a file");
                        if (already)
                        {
                            if (ignoreDuplicate) continue;
                            throw new RucioError(409, "FileAlreadyExists", DuplicateContentText);
                        }
                    }
                    else if (already) throw new RucioError(409, "DuplicateContent", DuplicateContentText); // ignore_duplicate covers files only
                    plan.Add((parent, child));
                }
            }
        }
        catch (RucioError) when (!behaviour.AllOrNothing)
        {
            Apply(plan, account);
            throw;
        }
        Apply(plan, account);
    }

    private void Apply(List<(Did Parent, Did Child)> plan, string account)
    {
        foreach (var (parent, child) in plan)
        {
            parent.Children.Add(child.Key);
            if (parent.Kind == DidKind.Container)
                Emit("register_cnt", new JsonObject
                {
                    ["account"] = account, ["scope"] = parent.Scope, ["name"] = parent.Name,
                    ["childscope"] = child.Scope, ["childname"] = child.Name, ["childtype"] = child.TypeWord,
                });
        }
        foreach (var rule in _rules.Where(r => plan.Any(p => p.Parent == r.Did) && r.State != "INJECT").ToList())
            Evaluate(rule); // judge-evaluator's work, done at once
    }

    /// <summary>DELETE /dids/{scope}/{name}/dids: detach.</summary>
    public void Detach(Did parent, JsonArray dids)
    {
        foreach (var c in dids.OfType<JsonObject>())
        {
            var key = $"{Text(c, "scope")}:{Text(c, "name")}";
            if (!parent.Children.Remove(key) || !_dids.TryGetValue(key, out var child)) continue;
            if (parent.Kind != DidKind.Container) continue;
            Emit("erase_cnt", new JsonObject
            {
                ["scope"] = parent.Scope, ["name"] = parent.Name, ["childscope"] = child.Scope, ["childname"] = child.Name, ["childtype"] = child.TypeWord,
            });
            Emit("detach", new JsonObject
            {
                ["scope"] = parent.Scope, ["name"] = parent.Name, ["did_type"] = "DIDType." + parent.TypeWord,
                ["child_scope"] = child.Scope, ["child_name"] = child.Name, ["child_type"] = "DIDType." + child.TypeWord,
            });
        }
    }

    // ------------------------------------------------------------------ replicas

    /// <summary>lfn2pfn: "hash" (md5 of scope:name) or "identity"; user.* and group.* scopes have their dots turned into slashes.</summary>
    public static string Lfn2Pfn(string algorithm, string scope, string name)
    {
        var hash = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"{scope}:{name}")));
        var dir = scope.StartsWith("user", StringComparison.Ordinal) || scope.StartsWith("group", StringComparison.Ordinal) ? scope.Replace('.', '/') : scope;
        return algorithm == "identity" ? $"{dir}/{name}" : $"{dir}/{hash[..2]}/{hash[2..4]}/{name}";
    }

    /// <summary>POST /replicas: creates the files' DIDs and their replicas on one RSE; what exists is skipped silently.</summary>
    public void AddReplicas(string rseName, JsonArray files, bool ignoreAvailability, string account)
    {
        foreach (var f in files.OfType<JsonObject>()) f["type"] = "FILE"; // the API marks them so before validating
        CheckItems("dids", files, 500);
        var rse = Rse(rseName);
        if (rse.Volatile) throw new RucioError(500, "UnsupportedOperation", $"Cannot add replicas on volatile RSE {rse.Name} ");
        if (!rse.Write && !ignoreAvailability) throw new RucioError(503, "ResourceTemporaryUnavailable", $"{rse.Name} is temporary unavailable for writing");
        var list = files.OfType<JsonObject>().ToList();
        if (!rse.Deterministic && list.Any(f => !f.ContainsKey("pfn")))
            throw new RucioError(500, "UnsupportedOperation", $"PFN needed for this (non deterministic) RSE {rse.Name} ");
        if (behaviour.SqliteReplicaLimit is { } limit && list.Count > limit)
            throw new RucioError(500, "DatabaseException", "An unknown Database Exception has ocurred.");
        if (list.Any(f => !_scopes.ContainsKey(Text(f, "scope") ?? ""))) throw new RucioError(404, "ScopeNotFound", "Scope not found!");
        if (behaviour.CheckPfns && rse.Deterministic) CheckPfns(rse, list);

        foreach (var f in list)
        {
            var scope = Text(f, "scope")!;
            var name = Text(f, "name")!;
            var key = scope + ":" + name;
            if (!_dids.TryGetValue(key, out var did))
            {
                did = new Did(scope, name, DidKind.File, account, Now)
                {
                    Bytes = f["bytes"] is JsonValue b && b.TryGetValue<long>(out var n) ? n : null,
                    Adler32 = Text(f, "adler32"),
                    Md5 = Text(f, "md5"),
                };
                _dids[key] = did;
            }
            var replicas = _replicas.TryGetValue(key, out var rs) ? rs : _replicas[key] = [];
            if (replicas.All(r => r.Rse != rse))
            {
                replicas.Add(new Replica(scope, name, rse, "AVAILABLE"));
                ReplicasRegistered++;
            }
        }
    }

    /// <summary>Replicas POST /replicas has added (not counting the ones it skipped as already there).</summary>
    public long ReplicasRegistered { get; private set; }

    private void CheckPfns(Rse rse, List<JsonObject> files)
    {
        var schemes = files.Select(f => Text(f, "pfn")).OfType<string>().Select(p => p.Split(':')[0]).Distinct().ToList();
        foreach (var scheme in schemes)
        {
            // core/replica.py reads file['pfn'] of every file here: one without is a KeyError, answered as a bare 500.
            if (files.Any(f => !f.ContainsKey("pfn"))) throw new RawError(500, "'pfn'");
            var mine = files.Where(f => Text(f, "pfn")!.StartsWith(scheme, StringComparison.Ordinal)).ToList();
            var protocols = rse.Protocols.Where(p => p.Scheme == scheme && (p.WanWrite > 0 || p.LanWrite > 0)).ToList();
            if (protocols.Count == 0)
                throw new RucioError(500, "RSEProtocolNotSupported", $"No protocol for provided settings found : {SettingsRepr(rse)}.");
            var expected = protocols.SelectMany(p => mine.Select(f => p.Pfn(Lfn2Pfn(rse.Lfn2Pfn, Text(f, "scope")!, Text(f, "name")!)))).ToHashSet(StringComparer.Ordinal);
            var wrong = mine.Select(f => Text(f, "pfn")!).Where(p => !expected.Contains(p)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (wrong.Count > 0)
            {
                var given = new JsonArray([.. wrong.Select(w => (JsonNode)JsonValue.Create(w)!)]);
                var lfns = new JsonArray([.. mine.Select(f => (JsonNode)new JsonObject { ["scope"] = Text(f, "scope"), ["name"] = Text(f, "name") })]);
                throw new RucioError(400, "InvalidPath", $"One of the PFNs provided does not match the Rucio expected PFN : {Wire.Repr(given)} ({Wire.Repr(lfns)})");
            }
        }
    }

    /// <summary>PUT /replicas: replica states (A = AVAILABLE); a COPYING replica made AVAILABLE completes its locks.</summary>
    public void UpdateReplicas(string rseName, JsonArray files)
    {
        var rse = Rse(rseName);
        foreach (var f in files.OfType<JsonObject>())
        {
            var key = $"{Text(f, "scope")}:{Text(f, "name")}";
            var state = Text(f, "state") switch { "A" or "AVAILABLE" => "AVAILABLE", "U" or "UNAVAILABLE" => "UNAVAILABLE", var s => s ?? "AVAILABLE" };
            var replica = _replicas.GetValueOrDefault(key)?.FirstOrDefault(r => r.Rse == rse)
                ?? throw new RucioError(404, "ReplicaNotFound", $"No row was found for {key} on {rse.Name}");
            replica.State = state;
            if (state == "AVAILABLE") Transferred(key, rse);
        }
    }

    /// <summary>conveyor: every queued transfer done (replicas AVAILABLE, locks OK, rules OK with their notifications).</summary>
    public int CompleteTransfers()
    {
        var done = _requests.Where(r => r.State == "QUEUED").ToList();
        foreach (var r in done) _replicas[r.Scope + ":" + r.Name].First(x => x.Rse == r.Destination).State = "AVAILABLE";
        Transferred([.. done.Select(r => (r.Scope + ":" + r.Name, r.Destination.Name))]);
        return done.Count;
    }

    private void Transferred(string fileKey, Rse rse) => Transferred([(fileKey, rse.Name)]);

    private void Transferred(HashSet<(string File, string Rse)> done)
    {
        foreach (var d in done) _queued.Remove(d);
        _requests.RemoveAll(q => done.Contains((q.Scope + ":" + q.Name, q.Destination.Name)));
        foreach (var rule in _rules)
        {
            var changed = false;
            foreach (var l in rule.Locks.Where(l => l.State == "REPLICATING" && done.Contains((l.Scope + ":" + l.Name, l.Rse.Name))))
            {
                l.State = "OK";
                changed = true;
            }
            if (!changed || rule.LocksReplicating > 0 || rule.LocksStuck > 0) continue;
            rule.State = "OK";
            rule.UpdatedAt = Now;
            if (rule.Notification == "YES") NotifyOk(rule);
        }
    }

    private void NotifyOk(Rule rule)
    {
        Emit("rule_ok", new JsonObject { ["scope"] = rule.Did.Scope, ["name"] = rule.Did.Name, ["rule_id"] = rule.Id });
        if (rule.Grouping == "NONE" || rule.Did.Kind == DidKind.File) return;
        foreach (var rse in rule.Locks.Select(l => l.Rse).Distinct())
            Emit("datasetlock_ok", new JsonObject { ["scope"] = rule.Did.Scope, ["name"] = rule.Did.Name, ["rse"] = rse.Name, ["rse_id"] = rse.Id, ["rule_id"] = rule.Id });
    }

    /// <summary>POST /replicas/list (and GET /replicas/{scope}/{name}): one line per file, sorted by scope and name.</summary>
    public IEnumerable<JsonObject> ListReplicas(IEnumerable<(string Scope, string Name)> dids, string? rseExpression, bool allStates)
    {
        var files = new SortedDictionary<string, Did>(StringComparer.Ordinal);
        foreach (var (scope, name) in dids)
            if (FindDid(scope, name) is { } d)
                foreach (var f in Files(d)) files[f.Key] = f;
        var within = rseExpression is null ? null : Resolve(rseExpression, onlyWritable: false).ToHashSet();
        foreach (var f in files.Values.OrderBy(f => f.Scope, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal))
        {
            var states = new JsonObject();
            var pfns = new List<(string Pfn, Rse Rse, int Priority)>();
            foreach (var r in _replicas.GetValueOrDefault(f.Key) ?? [])
            {
                if (within is not null && !within.Contains(r.Rse)) continue;
                if (!allStates && r.State != "AVAILABLE") continue;
                states[r.Rse.Name] = r.State;
                if (ReadProtocol(r.Rse) is { } p) pfns.Add((p.Pfn(Lfn2Pfn(r.Rse.Lfn2Pfn, f.Scope, f.Name)), r.Rse, p.WanRead));
            }
            var ordered = pfns.OrderBy(p => p.Priority).ThenBy(p => p.Pfn, StringComparer.Ordinal).ToList();
            var pfnJson = new JsonObject();
            var rses = new JsonObject();
            for (var i = 0; i < ordered.Count; i++)
            {
                var (pfn, rse, _) = ordered[i];
                pfnJson[pfn] = new JsonObject
                {
                    ["rse_id"] = rse.Id, ["rse"] = rse.Name, ["type"] = rse.RseType, ["volatile"] = rse.Volatile, ["domain"] = "wan",
                    ["priority"] = i + 1, ["client_extract"] = false,
                };
                ((rses[rse.Name] as JsonArray) ?? (JsonArray)(rses[rse.Name] = new JsonArray())).Add(pfn);
            }
            yield return new JsonObject
            {
                ["scope"] = f.Scope, ["name"] = f.Name, ["bytes"] = f.Bytes, ["md5"] = f.Md5, ["adler32"] = f.Adler32,
                ["pfns"] = pfnJson, ["rses"] = rses, ["states"] = states,
            };
        }
    }

    /// <summary>
    /// The protocol list_replicas builds a PFN with: the best wan read priority. Among equals Rucio shuffles
    /// (rsemanager.select_protocol); the double takes the one added last, which is what the recorded server picked.
    /// </summary>
    private static DoubleProtocol? ReadProtocol(Rse rse) =>
        rse.Protocols.Where(p => p.WanRead > 0).OrderBy(p => p.WanRead).ThenByDescending(p => rse.Protocols.IndexOf(p)).FirstOrDefault();

    // ------------------------------------------------------------------ rules

    public Rule Rule(string id)
    {
        var norm = NormalizeRuleId(id) ?? throw new RucioError(500, "RucioException", $"Badly formatted rule id ({id})");
        return _rulesById.GetValueOrDefault(norm) ?? throw new RucioError(404, "RuleNotFound", $"No rule with the id {id} found");
    }

    public static string? NormalizeRuleId(string id)
    {
        var hex = id.Replace("-", "", StringComparison.Ordinal);
        return hex.Length == 32 && hex.All(Uri.IsHexDigit) ? hex.ToLowerInvariant() : null;
    }

    /// <summary>POST /rules/: one rule per DID, in order; the request is applied whole or not at all.</summary>
    public List<string> AddRules(JsonObject body)
    {
        var dids = body["dids"] as JsonArray ?? throw new RucioError(400, "KeyError", "'dids' not defined");
        var account = Text(body, "account") ?? throw new RucioError(400, "KeyError", "'account' not defined");
        if (!body.ContainsKey("copies")) throw new RucioError(400, "KeyError", "'copies' not defined");
        var copies = body["copies"]!.GetValue<int>();
        var expression = Text(body, "rse_expression") ?? throw new RucioError(400, "KeyError", "'rse_expression' not defined");
        if (copies <= 0) throw new RucioError(500, "InvalidValueForKey", "The number of copies for a replication rule should be greater than 0.");
        var ignoreAvailability = Flag(body, "ignore_availability");
        var ignoreLimit = Flag(body, "ignore_account_limit");

        List<Rse> rses;
        try { rses = Resolve(expression, onlyWritable: !ignoreAvailability); }
        catch (RucioError e) { throw new RucioError(409, e.ExceptionClass, e.Message); } // 409 inside a rule, 400 on GET /rses/
        if (rses.Count < copies)
            throw new RucioError(409, "InsufficientTargetRSEs", $"Target RSE set not sufficient for number of copies. ({copies} copies requested, RSE set size {rses.Count})");
        var quota = rses.Where(r => !behaviour.EnforceAccountLimits || ignoreLimit || QuotaLeft(account, r) > 0).ToList();
        if (quota.Count < copies)
            throw new RucioError(409, "InsufficientAccountLimit", "There is insufficient quota on any of the target RSE's to fullfill the operation.");

        var lifetime = body["lifetime"] is JsonValue lv && lv.TryGetValue<double>(out var l) ? l : (double?)null;
        var asynchronous = Flag(body, "asynchronous") || body["delay_injection"] is JsonValue;
        var created = new List<Rule>();
        foreach (var item in dids.OfType<JsonObject>())
        {
            var scope = Text(item, "scope") ?? "";
            var name = Text(item, "name") ?? "";
            var did = FindDid(scope, name) ?? throw new RucioError(404, "DataIdentifierNotFound", $"Data identifier {scope}:{name} is not valid.");
            if (behaviour.DuplicateRules && _rules.Concat(created).Any(r => r.Did == did && r.Account == account && r.RseExpression == expression && r.Copies == copies))
                throw new RucioError(409, "DuplicateRule", DuplicateRuleText);
            var rule = new Rule(NewId(), account, did, expression, copies, Now)
            {
                Grouping = Text(body, "grouping") is "ALL" or "NONE" ? Text(body, "grouping")! : "DATASET",
                Notification = Text(body, "notify") switch { "Y" => "YES", "C" => "CLOSE", "P" => "PROGRESS", _ => "NO" },
                Activity = Text(body, "activity") ?? "User Subscriptions",
                SourceReplicaExpression = Text(body, "source_replica_expression"),
                Locked = Flag(body, "locked"),
                PurgeReplicas = Flag(body, "purge_replicas"),
                IgnoreAvailability = ignoreAvailability,
                IgnoreAccountLimit = ignoreLimit,
                Weight = body["weight"] is JsonValue wv && wv.TryGetValue<double>(out var w) ? w : null,
                Priority = body["priority"] is JsonValue pv && pv.TryGetValue<int>(out var p) ? p : 3,
                Comments = Text(body, "comment"),
                Meta = body["meta"]?.ToJsonString(),
                ExpiresAt = lifetime is { } secs ? Now + TimeSpan.FromSeconds(secs) : null,
            };
            // Planned before anything is stored: a later DID's refusal leaves no rule, lock or request behind.
            if (!asynchronous) Plan(rule, quota);
            created.Add(rule);
        }
        foreach (var rule in created)
        {
            _rules.Add(rule);
            _rulesById[rule.Id] = rule;
            if (!asynchronous) Apply(rule, Plan(rule, quota));
        }
        return [.. created.Select(r => r.Id)];
    }

    private static bool Flag(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private long QuotaLeft(string account, Rse rse) =>
        _limits.TryGetValue((account, rse.Name), out var limit) ? (limit < 0 ? long.MaxValue : limit - _usage.GetValueOrDefault((account, rse.Name))) : 0;

    /// <summary>Where each group of files goes (RSESelector.select_rse): enough quota, RSEs that hold the data first.</summary>
    private List<(List<Did> Files, List<Rse> Rses)> Plan(Rule rule, List<Rse> candidates)
    {
        var units = new List<List<Did>>();
        var did = rule.Did;
        if (did.Kind == DidKind.File || rule.Grouping == "NONE") units.AddRange(Files(did).Select(f => new List<Did> { f }));
        else if (did.Kind == DidKind.Container && rule.Grouping == "DATASET")
        {
            foreach (var child in did.Children.Select(k => _dids[k]))
                units.Add([.. Files(child)]);
        }
        else units.Add([.. Files(did)]);

        var plan = new List<(List<Did>, List<Rse>)>();
        foreach (var files in units.Where(u => u.Count > 0))
        {
            var size = files.Sum(f => f.Bytes ?? 0);
            var fit = candidates.Where(r => !behaviour.EnforceAccountLimits || rule.IgnoreAccountLimit || QuotaLeft(rule.Account, r) > size).ToList();
            if (fit.Count < rule.Copies)
                throw new RucioError(409, "InsufficientAccountLimit", "There is insufficient quota on any of the target RSE's to fullfill the operation.");
            long Present(Rse r) => files.Where(f => _replicas.GetValueOrDefault(f.Key)?.Any(x => x.Rse == r && x.State == "AVAILABLE") == true).Sum(f => f.Bytes ?? 0);
            plan.Add((files, fit.OrderByDescending(Present).ThenBy(_rses.IndexOf).Take(rule.Copies).ToList()));
        }
        return plan;
    }

    /// <summary>Locks for every file and target: OK where an AVAILABLE replica is, else REPLICATING with a queued transfer.</summary>
    private void Apply(Rule rule, List<(List<Did> Files, List<Rse> Rses)> plan)
    {
        foreach (var (files, rses) in plan)
            foreach (var rse in rses)
                foreach (var f in files)
                {
                    if (rule.Locks.Any(l => l.Scope == f.Scope && l.Name == f.Name && l.Rse == rse)) continue;
                    var replicas = _replicas.TryGetValue(f.Key, out var rs) ? rs : _replicas[f.Key] = [];
                    var replica = replicas.FirstOrDefault(r => r.Rse == rse);
                    if (replica is { State: "AVAILABLE" })
                    {
                        rule.Locks.Add(new ReplicaLock(f.Scope, f.Name, rse, "OK", f.Bytes ?? 0));
                        continue;
                    }
                    if (replica is null) replicas.Add(new Replica(f.Scope, f.Name, rse, "COPYING"));
                    rule.Locks.Add(new ReplicaLock(f.Scope, f.Name, rse, "REPLICATING", f.Bytes ?? 0));
                    if (!_queued.Add((f.Key, rse.Name))) continue;
                    var request = new TransferRequest(NewId(), f.Scope, f.Name, rse, rule, f.Bytes ?? 0, f.Adler32, Now);
                    _requests.Add(request);
                    Emit("transfer-queued", new JsonObject
                    {
                        ["request-id"] = request.Id, ["request-type"] = "transfer", ["scope"] = f.Scope, ["name"] = f.Name,
                        ["dst-rse-id"] = rse.Id, ["dst-rse"] = rse.Name, ["state"] = "queued", ["retry-count"] = null,
                        ["rule-id"] = rule.Id, ["activity"] = rule.Activity, ["file-size"] = f.Bytes, ["bytes"] = f.Bytes,
                        ["checksum-md5"] = f.Md5, ["checksum-adler"] = f.Adler32, ["queued_at"] = Wire.PyDate(Now),
                    });
                }
        var before = rule.State;
        rule.State = rule.LocksReplicating > 0 ? "REPLICATING" : "OK";
        if (before != rule.State) rule.UpdatedAt = Now;
        if (rule.State == "OK" && before != "OK" && rule.Notification == "YES") NotifyOk(rule);
    }

    /// <summary>judge-evaluator: a rule's DID gained files.</summary>
    private void Evaluate(Rule rule)
    {
        var candidates = Resolve(rule.RseExpression, onlyWritable: !rule.IgnoreAvailability);
        try { Apply(rule, Plan(rule, candidates)); }
        catch (RucioError) { rule.State = "STUCK"; }
    }

    /// <summary>judge-injector: every INJECT rule is applied as a synchronous one would have been.</summary>
    public int RunInjector()
    {
        var pending = _rules.Where(r => r.State == "INJECT").ToList();
        foreach (var rule in pending)
        {
            try
            {
                var candidates = Resolve(rule.RseExpression, onlyWritable: !rule.IgnoreAvailability)
                    .Where(r => !behaviour.EnforceAccountLimits || rule.IgnoreAccountLimit || QuotaLeft(rule.Account, r) > 0).ToList();
                Apply(rule, Plan(rule, candidates));
            }
            catch (RucioError) { rule.State = "STUCK"; }
        }
        return pending.Count;
    }

    /// <summary>DELETE /rules/{id}: soft; the rule stays with expires_at = min(its own, now + 1 h) until judge-cleaner runs.</summary>
    public void DeleteRule(Rule rule)
    {
        var soon = Now + TimeSpan.FromHours(1);
        rule.ExpiresAt = rule.ExpiresAt is { } e && e < soon ? e : soon;
        rule.UpdatedAt = Now;
    }

    /// <summary>PUT /rules/{id} {"options": {...}}.</summary>
    public void UpdateRule(Rule rule, JsonObject options)
    {
        if (options.TryGetPropertyValue("lifetime", out var l))
            rule.ExpiresAt = l is JsonValue v && v.TryGetValue<double>(out var secs) ? Now + TimeSpan.FromSeconds(secs) : null;
        if (Text(options, "comment") is { } c) rule.Comments = c;
        if (options["locked"] is JsonValue lk && lk.TryGetValue<bool>(out var locked)) rule.Locked = locked;
        if (Text(options, "activity") is { } a) rule.Activity = a;
        rule.UpdatedAt = Now;
    }

    /// <summary>judge-cleaner: rules past expires_at go, with their locks and queued transfers.</summary>
    public int RunCleaner()
    {
        var expired = _rules.Where(r => r.ExpiresAt is { } e && e <= Now).ToList();
        foreach (var rule in expired)
        {
            _rules.Remove(rule);
            _rulesById.Remove(rule.Id);
            foreach (var q in _requests.Where(q => q.Rule == rule)) _queued.Remove((q.Scope + ":" + q.Name, q.Destination.Name));
            _requests.RemoveAll(q => q.Rule == rule);
            foreach (var l in rule.Locks.Where(l => l.State != "OK"))
            {
                var key = l.Scope + ":" + l.Name;
                if (_rules.Any(r => r.Locks.Any(x => x.Scope == l.Scope && x.Name == l.Name && x.Rse == l.Rse))) continue;
                _replicas.GetValueOrDefault(key)?.RemoveAll(r => r.Rse == l.Rse && r.State == "COPYING");
            }
        }
        return expired.Count;
    }

    public IEnumerable<Rule> Rules => _rules;

    public IEnumerable<Rule> RulesOf(Did did) => _rules.Where(r => r.Did == did);

    public static JsonObject RuleJson(Rule r) => new()
    {
        ["id"] = r.Id, ["subscription_id"] = null, ["account"] = r.Account, ["scope"] = r.Did.Scope, ["name"] = r.Did.Name,
        ["did_type"] = r.Did.TypeWord, ["state"] = r.State, ["error"] = null, ["rse_expression"] = r.RseExpression, ["copies"] = r.Copies,
        ["expires_at"] = Wire.DateOrNull(r.ExpiresAt), ["weight"] = r.Weight, ["locked"] = r.Locked, ["locks_ok_cnt"] = r.LocksOk,
        ["locks_replicating_cnt"] = r.LocksReplicating, ["locks_stuck_cnt"] = r.LocksStuck,
        ["source_replica_expression"] = r.SourceReplicaExpression, ["activity"] = r.Activity, ["grouping"] = r.Grouping,
        ["notification"] = r.Notification, ["stuck_at"] = null, ["purge_replicas"] = r.PurgeReplicas,
        ["ignore_availability"] = r.IgnoreAvailability, ["ignore_account_limit"] = r.IgnoreAccountLimit, ["priority"] = r.Priority,
        ["comments"] = r.Comments, ["child_rule_id"] = null, ["eol_at"] = null, ["split_container"] = false, ["meta"] = r.Meta,
        ["created_at"] = Wire.Date(r.CreatedAt), ["updated_at"] = Wire.Date(r.UpdatedAt),
    };

    public static IEnumerable<JsonObject> LocksJson(Rule r) => r.Locks.Select(l => new JsonObject
    {
        ["scope"] = l.Scope, ["name"] = l.Name, ["rse_id"] = l.Rse.Id, ["rse"] = l.Rse.Name, ["state"] = l.State, ["rule_id"] = r.Id,
    });

    // ------------------------------------------------------------------ requests

    public TransferRequest Request(string scope, string name, string rse) =>
        _requests.FirstOrDefault(q => q.Scope == scope && q.Name == name && q.Destination.Name == rse)
        ?? throw new RucioError(404, "RequestNotFound", $"No request found for DID {scope}:{name} at RSE {rse}");

    /// <summary>GET /requests/list: by source, destination and state letters; a queued request has no source yet.</summary>
    public IEnumerable<JsonObject> ListRequests(string? src, string? dst, string? states)
    {
        var wanted = (states ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s switch { "Q" => "QUEUED", "S" => "SUBMITTED", "D" => "DONE", "F" => "FAILED", _ => s }).ToHashSet();
        return _requests.Where(q => q.Source?.Name == src && q.Destination.Name == dst && (wanted.Count == 0 || wanted.Contains(q.State))).Select(RequestJson);
    }

    public JsonObject RequestJson(TransferRequest q) => new()
    {
        ["dest_rse_id"] = q.Destination.Id, ["previous_attempt_id"] = null, ["started_at"] = null, ["staging_started_at"] = null,
        ["source_rse_id"] = q.Source?.Id, ["rule_id"] = q.Rule.Id, ["transferred_at"] = null, ["staging_finished_at"] = null,
        ["attributes"] = new JsonObject
        {
            ["activity"] = q.Rule.Activity, ["source_replica_expression"] = q.Rule.SourceReplicaExpression, ["lifetime"] = null,
            ["ds_scope"] = q.Rule.Did.Kind == DidKind.File ? null : q.Rule.Did.Scope, ["ds_name"] = q.Rule.Did.Kind == DidKind.File ? null : q.Rule.Did.Name,
            ["bytes"] = q.Bytes, ["md5"] = null, ["adler32"] = q.Adler32, ["priority"] = q.Rule.Priority, ["allow_tape_source"] = true,
        },
        ["activity"] = q.Rule.Activity, ["estimated_at"] = null, ["account"] = q.Rule.Account, ["request_type"] = "TRANSFER", ["state"] = q.State,
        ["bytes"] = q.Bytes, ["submitter_id"] = null, ["requested_at"] = null, ["id"] = q.Id, ["external_id"] = null, ["md5"] = null,
        ["priority"] = q.Rule.Priority, ["created_at"] = Wire.Date(q.CreatedAt), ["scope"] = q.Scope, ["external_host"] = null,
        ["adler32"] = q.Adler32, ["estimated_started_at"] = null, ["transfertool"] = null, ["name"] = q.Name, ["retry_count"] = 0,
        ["dest_url"] = null, ["estimated_transferred_at"] = null, ["updated_at"] = Wire.Date(q.CreatedAt), ["did_type"] = "FILE",
        ["err_msg"] = null, ["submitted_at"] = null, ["source_rse"] = q.Source?.Name, ["dest_rse"] = q.Destination.Name,
    };

    // ------------------------------------------------------------------ inspection

    public CatalogSnapshot Snapshot() => new(
        _dids.Values.ToDictionary(d => d.Key, d => d.Kind, StringComparer.Ordinal),
        _replicas.SelectMany(kv => kv.Value.Where(r => r.State == "AVAILABLE").Select(r => (kv.Key, r.Rse.Name))).ToHashSet(),
        _dids.Values.SelectMany(d => d.Children.Select(c => (d.Key, c))).ToHashSet(),
        [.. _rules.Select(r => new RuleView(r.Id, r.Did.Key, r.Account, r.RseExpression, r.Copies, r.State, r.ExpiresAt, r.LocksOk, r.LocksReplicating))],
        _dids.Values.Where(d => d.Kind != DidKind.File).ToDictionary(d => d.Key, d => d.ExpiredAt, StringComparer.Ordinal));

    public (bool Read, bool Write, bool Delete) Availability(string rse)
    {
        var r = Rse(rse);
        return (r.Read, r.Write, r.Delete);
    }
}
