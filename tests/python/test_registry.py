"""The format registry is the one list of formats: every raw table, source, fixture and
generated format has an entry, and erasure (generated from it) reaches every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from conftest import query, run_cli
from token_ledger.config import project_dir
from token_ledger.generate import SOURCE_FORMATS
from token_ledger.land.detect import detect
from token_ledger.land.formats import FORMATS

# what landing itself keeps beside the formats' tables (warehouse.RAW_DDL), written out here
LANDING_METADATA = {"load_batches", "quarantine", "pending_batches", "erasures", "erased_members", "request_keys",
                    "rebuild_days"}
FIXTURES = Path(__file__).parents[1] / "fixtures"

VICTIM, BYSTANDER = "al@corp.example", "val@corp.example"
ESCAPED = VICTIM.replace("@", "\\u0040")  # as JSON text may write it
TOKEN = re.compile(r"(^|[^a-z0-9._%+-])al@corp\.example($|[^a-z0-9.-])")


def test_every_raw_table_source_fixture_and_generated_format_has_a_registry_entry(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", *sorted(str(p) for p in FIXTURES.iterdir() if p.name != "claude-code-jsonl"))
    run_cli(home, "land", str(FIXTURES / "claude-code-jsonl"), "--user", "alice@corp.example")
    registered = {spec.table for spec in FORMATS.values()}
    tables = {r[0] for r in query(home / "token_ledger.duckdb",
                                  "select table_name from information_schema.tables where table_schema = 'raw'")}
    assert tables - registered - LANDING_METADATA == set()
    assert registered <= tables  # every entry's table is created

    for sources in project_dir().glob("models/staging/*/_*__sources.yml"):
        for source in yaml.safe_load(sources.read_text(encoding="utf-8"))["sources"]:
            if source.get("schema", source["name"]) == "raw":
                names = {t["name"] for t in source["tables"]}
                assert names - registered - LANDING_METADATA == set(), sources
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} <= set(FORMATS)
    assert set(SOURCE_FORMATS) <= set(FORMATS)
    # each fixture's files are recognised as the format of their folder
    for folder in (p for p in FIXTURES.iterdir() if p.is_dir()):
        for path in (p for p in folder.rglob("*") if p.suffix in {".json", ".jsonl", ".ndjson", ".csv"}):
            assert detect(path) == folder.name, path


def _otel_line(email: str, request_id: str) -> str:
    def attr(key: str, value: str, kind: str = "stringValue") -> dict:
        return {"key": key, "value": {kind: value}}

    record = {"timeUnixNano": "1759320000000000000", "body": {"stringValue": "claude_code.api_request"},
              "attributes": [attr("event.name", "api_request"), attr("event.timestamp", "2025-10-01T12:00:00Z"),
                             attr("user.email", email), attr("request_id", request_id),
                             attr("model", "claude-sonnet-4-5-20250929"), attr("input_tokens", "10", "intValue"),
                             attr("output_tokens", "20", "intValue")]}
    return json.dumps({"resourceLogs": [{"resource": {"attributes": []},
                                         "scopeLogs": [{"logRecords": [record]}]}]})


def _metric_line(email: str) -> str:
    point = {"attributes": [{"key": "user.email", "value": {"stringValue": email}}],
             "startTimeUnixNano": "1759395600000000000", "timeUnixNano": "1759399200000000000", "asInt": "2"}
    return json.dumps({"resourceMetrics": [{"resource": {"attributes": []}, "scopeMetrics": [{"metrics": [
        {"name": "claude_code.commit.count", "sum": {"aggregationTemporality": 1, "dataPoints": [point]}}]}]}]})


def _transcript(request_id: str) -> str:
    return json.dumps({"sessionId": "s-1", "uuid": f"u-{request_id}", "type": "assistant", "requestId": request_id,
                       "timestamp": "2025-10-02T09:00:00Z",
                       "message": {"id": f"msg_{request_id}", "model": "claude-sonnet-4-5-20250929",
                                   "usage": {"input_tokens": 5, "output_tokens": 7}}})


def _bedrock(email: str, request_id: str) -> str:
    role = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef"
    return json.dumps({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2025-10-04T11:00:00Z",
                       "accountId": "111122223333", "identity": {"arn": f"{role}/{email}"}, "region": "us-east-1",
                       "requestId": request_id, "operation": "Converse",
                       "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
                       "input": {"inputTokenCount": 10}, "output": {"outputTokenCount": 20}})


def _canonical(email: str, request_id: str, output_tokens: int = 20) -> str:
    return json.dumps({"request_id": request_id, "occurred_at": "2025-10-03T10:00:00Z", "provider": "anthropic",
                       "model": "claude-sonnet-4-5", "user_email": email, "input_tokens": 10,
                       "output_tokens": output_tokens})


def _inputs(folder: Path) -> dict[str, Path]:
    """One person (and a bystander whose address contains theirs) in every format that names people."""
    folder.mkdir()
    files = {
        "people": ("people.csv", "email,full_name,employee_id,team_id,team_name,cost_center,manager_email,valid_from,"
                   "github_login\n"
                   f"{VICTIM},Al Person,E1,T-A,Team A,CC-A,,2025-01-01,Al-GH\n"
                   f"{BYSTANDER},Val Person,E2,T-A,Team A,CC-A,{VICTIM},2025-01-01,val-gh\n"),
        "claude-code-otel-metrics": ("metrics.jsonl", f"{_metric_line(VICTIM)}\n{_metric_line(BYSTANDER)}\n"),
        "claude-code-analytics": ("analytics.json", json.dumps({"data": [
            {"date": "2025-10-02", "actor": {"type": "user_actor", "email_address": email}, "terminal_type": "vscode",
             "core_metrics": {"num_sessions": 1, "lines_of_code": {"added": 1, "removed": 0},
                              "commits_by_claude_code": 1, "pull_requests_by_claude_code": 0},
             "tool_actions": {"edit_tool": {"accepted": 1, "rejected": 0}}, "model_breakdown": []}
            for email in (VICTIM, BYSTANDER)], "has_more": False, "next_page": None})),
        "copilot-metrics": ("copilot.ndjson", "\n".join(json.dumps({
            "day": "2025-10-02", "user_id": n, "user_login": login, "code_generation_activity_count": 2,
            "code_acceptance_activity_count": 1, "loc_added_sum": 3, "loc_deleted_sum": 0, "ai_credits_used": 0.1})
            for n, login in ((1, "al-gh"), (2, "val-gh"))) + "\n"),
        # the file's folder is named after the person; one record of each person is quarantined
        "canonical": (f"{VICTIM}/usage.jsonl", "\n".join([
            _canonical(VICTIM, "req_c1"), _canonical(BYSTANDER, "req_c2"),
            _canonical(VICTIM, "req_c3", output_tokens=-1), _canonical(BYSTANDER, "req_c4", output_tokens=-1),
            _canonical(VICTIM, "req_c5", output_tokens=-2).replace("@", "\\u0040"),  # JSON-escaped
            # the same person written as a source or a user can: a trailing zero-width space, fullwidth
            # letters and at sign, capitals, a soft hyphen, a script l; all land as the one normal address
            _canonical(VICTIM + "\u200b", "req_c7"),
            _canonical(VICTIM.upper().replace("AL", "\uff21\uff2c").replace("@", "\uff20"), "req_c8"),
            _canonical(VICTIM.replace("@", "\u00ad@"), "req_c9"),
            _canonical(VICTIM.replace("l", "\u2113"), "req_c10"),  # a compatibility form: NFKC folds it
            '{"request_id": "req_c6", "user_email": "' + VICTIM + '", broken',
            # the bystander's record names the person in its free text: it stays, rewritten
            _canonical(BYSTANDER, "req_c11")[:-1] + ', "tags": {"manager": "AL@Corp.Example", "team": "A"}}']) + "\n"),
        "claude-code-otel": ("otel.jsonl", f"{_otel_line(VICTIM, 'req_o1')}\n{_otel_line(BYSTANDER, 'req_o2')}\n"),
        "litellm-spendlogs": ("spend.csv", "request_id,model,custom_llm_provider,user,end_user,startTime,"
                              "prompt_tokens,completion_tokens,metadata\n"
                              f"req_l1,gpt-4.1,openai,{VICTIM},,2025-10-04 10:00:00,100,10,\n"
                              f"req_l2,gpt-4.1,openai,{BYSTANDER},,2025-10-04 10:00:00,100,10,"
                              f'"{{""reviewer"": ""{VICTIM}"", ""cc"": ""{BYSTANDER},{ESCAPED}""}}"\n'
                              f"req_l3,gpt-4.1,openai,,{VICTIM},2025-10-04 10:00:00,100,10,\n"),
        "bedrock-invocation-logs": ("bedrock.jsonl",
                                    f"{_bedrock(VICTIM, 'req_b1')}\n{_bedrock(BYSTANDER, 'req_b2')}\n"),
        "api-key-owners": ("owners.csv", "key_type,key_id,owner_email,team_id,cost_center,valid_from\n"
                           f"anthropic_api_key,k1,{VICTIM},T-A,CC-A,2025-01-01\n"
                           f"anthropic_api_key,k2,{BYSTANDER},T-A,CC-A,2025-01-01\n"),
    }
    paths = {}
    for name, (file_name, text) in files.items():
        paths[name] = folder / file_name
        paths[name].parent.mkdir(exist_ok=True)
        paths[name].write_text(text, encoding="utf-8")
    for person, request_id in ((VICTIM, "req_t1"), (BYSTANDER, "req_t2")):
        paths[person] = folder / f"transcript-{request_id}.jsonl"
        paths[person].write_text(_transcript(request_id) + "\n", encoding="utf-8")
    return paths


def _victim_values(db: Path) -> list[tuple[str, str]]:
    """(table, column) of every raw value naming the victim as a whole address."""
    hits = []
    columns = query(db, "select table_name, column_name from information_schema.columns "
                        "where table_schema = 'raw' and data_type in ('VARCHAR', 'JSON')")
    for table, column in columns:
        for (value,) in query(db, f'select distinct lower("{column}") from raw."{table}" where "{column}" is not null'):
            if TOKEN.search(value.replace("\\u0040", "@")):
                hits.append((table, column))
    return hits


def _bystander_rows(db: Path) -> dict[str, int]:
    counts = {}
    for spec in FORMATS.values():
        if spec.identity_columns:
            named = " or ".join(f'lower("{column}") = $1' for column in spec.identity_columns)
            counts[spec.table] = query(db, f"select count(*) from raw.{spec.table} where {named}", [BYSTANDER])[0][0]
        for column in spec.login_columns:
            sql = f'select count(*) from raw.{spec.table} where "{column}" = ?'
            counts[spec.table] = query(db, sql, ["val-gh"])[0][0]
    counts["quarantine"] = query(db, "select count(*) from raw.quarantine where contains(raw_record, 'req_c4')")[0][0]
    return counts


def _land_all(home: Path, paths: dict[str, Path], env: dict[str, str]) -> None:
    run_cli(home, "land", *(str(p) for k, p in paths.items() if "@" not in k), env=env)
    for person in (VICTIM, BYSTANDER):
        run_cli(home, "land", str(paths[person]), "--user", person, env=env)


def test_erase_reaches_every_format_and_only_the_person(tmp_path: Path) -> None:
    home, env = tmp_path / "home", {"TOKEN_LEDGER_PSEUDONYM_KEY": "k" * 64}
    db = home / "token_ledger.duckdb"
    paths = _inputs(tmp_path / "in")
    _land_all(home, paths, env)
    found = {table for table, _ in _victim_values(db)}
    # the person is everywhere an identity can be: each format's table, the quarantine, a file name
    assert {"people", "canonical_events", "claude_code_otel_events", "claude_code_transcript_messages",
            "litellm_spend_logs", "bedrock_invocation_logs", "api_key_owners", "quarantine", "load_batches"} <= found
    bystander = _bystander_rows(db)
    assert all(bystander.values()), bystander
    variants = query(db, "select distinct user_email from raw.canonical_events "
                         "where request_id in ('req_c1', 'req_c7', 'req_c8', 'req_c9', 'req_c10')")
    assert variants == [(VICTIM,)]

    accounted = "select batch_id, rows_landed + rows_quarantined + rows_skipped from raw.load_batches order by 1"
    lines = query(db, accounted)

    first = run_cli(home, "erase", "--user", "  AL@Corp.Example ", env=env).out
    assert VICTIM not in first.lower().replace(BYSTANDER, "")
    # people 1, canonical 5, otel 1, transcript 1, litellm 2, bedrock 1, owners 1, metrics 1, analytics 1,
    # copilot (by login) 1
    assert "erased 15 records" in first
    assert "3 quarantined records" in first and "1 manager references emptied" in first
    assert "2 other records' free text rewritten" in first
    assert query(db, "select tags ->> 'manager', tags ->> 'team' from raw.canonical_events where request_id = 'req_c11'"
                 ) == [("[erased]", "A")]
    assert query(db, "select metadata from raw.litellm_spend_logs where request_id = 'req_l2'") == [
        (f'{{"reviewer": "[erased]", "cc": "{BYSTANDER},[erased]"}}',)]
    assert _victim_values(db) == []
    assert query(db, "select user_login from raw.copilot_user_days") == [("val-gh",)]  # the login, matched as a whole
    # the batches' quarantine counts still agree with the quarantine
    assert query(db, """select count(*) from raw.load_batches as b
                        left join (select batch_id, count(*) as n from raw.quarantine group by 1) as q using (batch_id)
                        where b.rows_quarantined <> coalesce(q.n, 0)""") == [(0,)]
    # and every line of each file is still accounted for: the quarantined lines erased count as skipped
    assert query(db, accounted) == lines

    again = run_cli(home, "erase", "--user", VICTIM, env=env).out
    assert "erased 0 records" in again
    assert query(db, "select count(*) from raw.erasures") == [(2,)]  # the email's key and the login's

    # every file again, changed by a trailing blank line so that it is not skipped: nothing of the person lands
    for path in paths.values():
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    _land_all(home, paths, env)
    assert _victim_values(db) == []
    assert query(db, "select distinct user_login from raw.copilot_user_days") == [("val-gh",)]
    # and a full refresh of every model brings nothing of them back
    run_cli(home, "build", "--", "--full-refresh", env=env)
    assert query(db, "select count(*) from restricted.fct_usage_events where user_email = ?", [VICTIM]) == [(0,)]
    assert query(db, "select count(*) from restricted.fct_usage_events where user_email = ?", [BYSTANDER]) != [(0,)]


def test_erase_refuses_anything_but_one_email(tmp_path: Path) -> None:
    for bad in ("@corp.example", "al", "a@b.example,c@d.example", "a b@corp.example"):
        result = run_cli(tmp_path / "home", "erase", "--user", bad, check=False)
        assert result.code != 0
        assert "must be one email address" in result.err
        assert "Traceback" not in result.err
    result = run_cli(tmp_path / "home", "land", str(FIXTURES / "claude-code-jsonl"), "--user", "alice", check=False)
    assert result.code != 0 and "must be one email address" in result.err
