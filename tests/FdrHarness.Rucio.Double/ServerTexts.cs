namespace FdrHarness.Rucio.Double;

/// <summary>Texts the recorded server answered that the double repeats verbatim.</summary>
internal static class ServerTexts
{
    /// <summary>DELETE /rules/{id} with an id that is no UUID: SQLAlchemy's error, as a bare 500 (transcript 150).</summary>
    public const string BadRuleIdSql = """
(builtins.ValueError) badly formed hexadecimal UUID string
[SQL: SELECT rules.id AS rules_id, rules.subscription_id AS rules_subscription_id, rules.account AS rules_account, rules.scope AS rules_scope, rules.name AS rules_name, rules.did_type AS rules_did_type, rules.state AS rules_state, rules.error AS rules_error, rules.rse_expression AS rules_rse_expression, rules.copies AS rules_copies, rules.expires_at AS rules_expires_at, rules.weight AS rules_weight, rules.locked AS rules_locked, rules.locks_ok_cnt AS rules_locks_ok_cnt, rules.locks_replicating_cnt AS rules_locks_replicating_cnt, rules.locks_stuck_cnt AS rules_locks_stuck_cnt, rules.source_replica_expression AS rules_source_replica_expression, rules.activity AS rules_activity, rules.grouping AS rules_grouping, rules.notification AS rules_notification, rules.stuck_at AS rules_stuck_at, rules.purge_replicas AS rules_purge_replicas, rules.ignore_availability AS rules_ignore_availability, rules.ignore_account_limit AS rules_ignore_account_limit, rules.priority AS rules_priority, rules.comments AS rules_comments, rules.child_rule_id AS rules_child_rule_id, rules.eol_at AS rules_eol_at, rules.split_container AS rules_split_container, rules.meta AS rules_meta, rules.created_at AS rules_created_at, rules.updated_at AS rules_updated_at 
FROM rules 
WHERE rules.id = ?]
""";

    public const string MethodNotAllowed = """
<!doctype html>
<html lang=en>
<title>405 Method Not Allowed</title>
<h1>Method Not Allowed</h1>
<p>The method is not allowed for the requested URL.</p>

""";

    public const string NotFound = """
<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>

""";

    public static string Redirecting(string target) => $"""
<!doctype html>
<html lang=en>
<title>Redirecting...</title>
<h1>Redirecting...</h1>
<p>You should be redirected automatically to the target URL: <a href="{target}">{target}</a>. If not, click the link.

""";

    /// <summary>The start of jsonschema's text when POST /dids/{scope}/{name}/dids carries a key the schema does not allow (131).</summary>
    public static string AdditionalProperties(string key) => $"Problem validating attachment : Additional properties are not allowed ('{key}' was unexpected)\n\n" +
        "Failed validating 'additionalProperties' in schema:\n" +
        "    {'additionalProperties': False,\n" +
        "     'description': 'Attachement',\n" +
        "     'properties': {'dids': {'description': 'Array of Data '\n" +
        "                                            'Identifiers',\n" +
        "                             'items': {'description': 'Data Identifier',\n" +
        "                                       'type': 'object'},\n" +
        "                             'maxItems': 1000,\n" +
        "                             'minItems': 1,\n" +
        "                             'type': 'array'},\n" +
        "                    'name': {'type': 'string'},\n" +
        "                    'rse': {'type': ['string', 'null']},\n" +
        "                    'scope': {'type': 'string'}},\n" +
        "     'type': 'object'}";
}
