"""Governed marts: nothing personal reaches analytics.duckdb; pseudonyms are keyed; k holds."""

from __future__ import annotations

import csv
import hashlib
import hmac
import itertools
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import project_copy, query, run_cli
from privacy import directory_identifiers, rounding, scan, unkeyed_digests

KEY_A = "test-key-a-0123456789abcdef"
KEY_B = "test-key-b-fedcba9876543210"


def write_leaky_records(people_csv: Path, target: Path, leak_provider: bool = True) -> None:
    """Valid usage records that hide directory identities in every free-text field."""
    with people_csv.open(encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))[:25]
    lines = []
    for i, person in enumerate(people):
        email = person["email"]
        lines.append(json.dumps({
            "request_id": f"leak-{i}",
            "occurred_at": "2026-10-03T09:00:00Z",
            "provider": f"{email}" if leak_provider and i % 2 == 0 else "anthropic",
            "model": f"claude-sonnet-4-6-{email.upper()}",
            "user_email": email.upper(),
            "application": f"app for {email}",
            "session_id": f"session-{email}-{person['employee_id']}",
            "input_tokens": 10, "output_tokens": 10,
            "tags": {"owner": email, "name": person["full_name"], "employee": person["employee_id"],
                     "nested": {"manager": person["manager_email"] or email}},
        }))
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("privacy")
    home, inputs = root / "home", root / "input"
    # with outcomes (OTel metrics, the analytics report, Copilot by GitHub login): every attack
    # below runs over the outcome marts too
    run_cli(home, "generate", "--out", str(inputs), "--users", "120", "--days", "10", "--seed", "3", "--outcomes")
    leaky = root / "leaky" / "leaky.jsonl"
    leaky.parent.mkdir()
    write_leaky_records(inputs / "people.csv", leaky)
    run_cli(home, "run", str(inputs), str(leaky), env={"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_A})
    return {"home": home, "inputs": inputs, "leaky": leaky}


def test_published_file_holds_no_identity_in_any_form(org: dict) -> None:
    identifiers = directory_identifiers(org["inputs"] / "people.csv")
    identifiers |= {"contractor.", "partner.example", "corp.example"}
    published = org["home"] / "analytics.duckdb"
    assert scan(published, identifiers) == []
    # the same scan does find them in the private warehouse: it is a real scan
    assert scan(org["home"] / "token_ledger.duckdb", {next(iter(identifiers))})


def test_unkeyed_hashes_of_emails_match_no_published_value(org: dict) -> None:
    emails = {i for i in directory_identifiers(org["inputs"] / "people.csv") if "@" in i}
    assert scan(org["home"] / "analytics.duckdb", unkeyed_digests(emails)) == []


def test_user_key_is_hmac_sha256_of_the_email_under_the_key(org: dict) -> None:
    with (org["inputs"] / "people.csv").open(encoding="utf-8") as handle:
        emails = {row["email"].lower() for row in csv.DictReader(handle)}
    expected = {hmac.new(KEY_A.encode(), e.encode(), hashlib.sha256).hexdigest() for e in emails}
    published = {r[0] for r in query(org["home"] / "analytics.duckdb", "select user_key from fct_user_usage_monthly")}
    assert published and published <= expected | {
        hmac.new(KEY_A.encode(), f"contractor.{i:02d}@partner.example".encode(), hashlib.sha256).hexdigest()
        for i in range(7)}


def test_pseudonyms_change_with_the_key(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "run", str(org["inputs"]), env={"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_B})
    sql = "select user_key, requests from fct_user_usage_monthly order by requests, user_key"
    under_a = {r[0] for r in query(org["home"] / "analytics.duckdb", sql)}
    under_b = {r[0] for r in query(home / "analytics.duckdb", sql)}
    assert len(under_b) > 100 and not under_a & under_b
    # stable under one key: rebuilding with key B gives the same pseudonyms
    run_cli(home, "build", env={"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_B})
    assert {r[0] for r in query(home / "token_ledger.duckdb",
                                "select user_key from marts.fct_user_usage_monthly")} == under_b


def test_key_never_stored_in_either_duckdb_file(org: dict) -> None:
    inner_hex = bytes(b ^ 0x36 for b in KEY_A.encode().ljust(64, b"\0")).hex()
    for name in ("token_ledger.duckdb", "analytics.duckdb"):
        data = (org["home"] / name).read_bytes()
        assert KEY_A.encode() not in data and inner_hex.encode() not in data, name
    logs = org["home"] / "dbt"
    for path in logs.rglob("*"):
        if path.is_file():
            assert KEY_A.encode() not in path.read_bytes(), path


def test_prod_without_key_stops_the_build_with_a_clear_error(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copy(org["home"] / "token_ledger.duckdb", home.mkdir() or home / "token_ledger.duckdb")
    result = run_cli(home, "build", env={"TOKEN_LEDGER_ENV": "prod", "TOKEN_LEDGER_PSEUDONYM_KEY": ""}, check=False)
    assert result.code != 0
    assert "TOKEN_LEDGER_PSEUDONYM_KEY is not set" in result.err and "Traceback" not in result.err


def test_prod_refuses_weak_keys_and_takes_a_strong_one(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copy(org["home"] / "token_ledger.duckdb", home.mkdir() or home / "token_ledger.duckdb")
    # brute-forceable keys: one character, four digits, 31 hex bytes, a long run of one letter
    for weak in ("a", "1234", "ab" * 31, "k" * 64, "x" * 31):
        result = run_cli(home, "build", env={"TOKEN_LEDGER_ENV": "prod", "TOKEN_LEDGER_PSEUDONYM_KEY": weak},
                         check=False)
        assert result.code != 0, weak
        assert "too weak" in result.err and "openssl rand -hex 32" in result.err and "Traceback" not in result.err
        assert len(weak) < 4 or weak not in result.err
    strong = "5f" * 16 + "0123456789abcdef" * 2  # 64 hex digits: 32 bytes, as `openssl rand -hex 32` makes
    people = tmp_path / "people.csv"
    people.write_text("email,team_id,valid_from\nnew.person@corp.example,T-NEW,2026-01-01\n", encoding="utf-8")
    run_cli(home, "land", str(people), env={"TOKEN_LEDGER_ENV": "prod", "TOKEN_LEDGER_PSEUDONYM_KEY": strong})


def test_no_published_group_is_smaller_than_k(org: dict) -> None:
    """Recounted from the person facts: a team published as itself on a day had k people of the
    month before that day; the organisation-wide remainder, k people of the month that day
    included (else withheld, and the published totals are the private ones less it)."""
    db = org["home"] / "token_ledger.duckdb"
    small = query(db, """
        with people as (
            select distinct usage_date, team_id, cost_center, user_email
            from restricted.fct_person_usage_daily where user_email is not null
        )
        select d.usage_date, d.team_id, count(distinct p.user_email) as people
        from (select distinct usage_date, team_id, cost_center from marts.fct_usage_daily) as d
        left join people as p
            on p.team_id = d.team_id and p.cost_center = d.cost_center and p.usage_date < d.usage_date
            and date_trunc('month', p.usage_date) = date_trunc('month', d.usage_date)
        where d.team_id not in ('other', 'unattributed')
        group by all
        having count(distinct p.user_email) < 5
    """)
    assert small == []
    remainders = query(db, """
        select usage_date, count(distinct team_id), min(group_people), bool_and(is_published)
        from restricted.dim_org_groups_daily
        where published_team_id = 'other' and published_cost_center = 'other'
        group by all
    """)
    assert remainders and all(people >= 5 for _, _, people, published in remainders if published)
    withheld = query(db, """
        select coalesce(sum(p.cost_usd), 0) from restricted.fct_person_usage_daily as p
        inner join restricted.dim_org_groups_daily as g using (usage_date, team_id, cost_center)
        where not g.is_published
    """)[0][0]
    private = query(db, "select sum(cost_usd) from restricted.fct_person_usage_daily")[0][0]
    published = query(org["home"] / "analytics.duckdb", "select sum(cost_usd) from fct_usage_daily")[0][0]
    assert published == private - withheld
    teams = {r[0] for r in query(org["home"] / "analytics.duckdb", "select distinct team_id from fct_usage_daily")}
    assert "other" in teams  # the first day of the month, when no team has had k people yet


def test_subset_sums_of_per_person_rows_recover_no_team(org: dict) -> None:
    """The attack: find the user_keys whose rows in fct_user_usage_monthly add up to a team's
    month in fct_usage_daily (tokens, cost, requests) or in rpt_value_per_token (tokens, cost per
    tool). Per-person figures are rounded to two significant figures, and a team's first days are
    in a remainder: the members' sums never equal a team's totals exactly; and within the
    rounding, wherever the true members are consistent with a team's totals, each of them can be
    swapped for someone outside the team and stay consistent, so no member is recovered."""
    private, published = org["home"] / "token_ledger.duckdb", org["home"] / "analytics.duckdb"
    metrics = ("total_tokens", "cost_usd", "requests")
    persons: dict = {}
    for month, key, *values in query(published, "select usage_month, user_key, total_tokens, cost_usd, requests "
                                                "from fct_user_usage_monthly"):
        persons.setdefault(month, {})[key] = [float(v or 0) for v in values]
    targets = {(month, "usage", team, centre): [float(v or 0) for v in values]
               for month, team, centre, *values in query(published, """
                   select date_trunc('month', usage_date)::date, team_id, cost_center,
                       sum(total_tokens), sum(cost_usd), sum(requests)
                   from fct_usage_daily where team_id not in ('other', 'unattributed') group by all""")}
    targets |= {(month, tool, team, centre): [float(v or 0) for v in values]
                for month, tool, team, centre, *values in query(published, """
                    select usage_month, tool, team_id, cost_center, total_tokens, cost_usd
                    from rpt_value_per_token where team_id not in ('other', 'unattributed')""")}
    members: dict = {}
    for month, team, centre, key in query(private, """
            select distinct date_trunc('month', p.usage_date)::date, g.published_team_id, g.published_cost_center,
                p.user_key
            from restricted.fct_person_usage_daily as p
            inner join restricted.dim_org_groups_daily as g using (usage_date, team_id, cost_center)
            where g.is_published and p.user_key is not null"""):
        members.setdefault((month, team, centre), set()).add(key)
    assert len(targets) > 20 and len(persons) == 1

    def consistent(month, subset: set, target: list[float]) -> bool:
        for m, total in enumerate(target):
            values = [persons[month][key][m] for key in subset]
            if abs(sum(values) - total) > sum(rounding(v, metrics[m] != "cost_usd") for v in values) + 1e-9:
                return False
        return True

    recovered = []
    for (month, _, team, centre), target in targets.items():
        team_members = members[(month, team, centre)] & set(persons[month])  # a withheld month is no one's
        sums = [sum(persons[month][key][m] for key in team_members) for m in range(len(target))]
        assert all(abs(s - t) > 1e-6 for s, t in zip(sums, target, strict=True)), (team, "exact sum")
        if consistent(month, team_members, target):
            outside = [key for key in persons[month] if key not in team_members]
            recovered += [(team, key) for key in team_members if not any(
                consistent(month, team_members - {key} | {other}, target) for other in outside)]
    assert recovered == []


def test_no_person_is_tied_to_a_group_by_being_larger_than_the_others(org: dict) -> None:
    """The bound attack: a person's month fits only in a group whose month is at least as large
    in every published figure (requests, each token type, cost, active days), less the person's
    rounding. Whoever used more than all groups but one (the top of the leaderboard: the
    generated organisation's lognormal spread has one) is tied to that group, or to its cost
    centre. Every person's row, in fct_user_usage_monthly and the leaderboard, must fit in groups
    of at least two cost centres."""
    published = org["home"] / "analytics.duckdb"
    figures = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
               "total_tokens", "cost_usd")
    groups: dict = {}
    for month, team, centre, *values in query(published, f"""
            select date_trunc('month', usage_date)::date, team_id, cost_center,
                {", ".join(f"sum({f})" for f in figures)}, count(distinct usage_date)
            from fct_usage_daily group by all having sum(active_users) > 0"""):
        groups.setdefault(month, []).append((team, centre, [float(v or 0) for v in values]))

    people = query(published, f"select usage_month, user_key, {', '.join(figures)}, active_days, is_capped "
                              "from fct_user_usage_monthly")
    leaderboard = query(published, "select usage_month, user_key, total_tokens, cost_usd, requests from "
                                    "rpt_token_leaderboard")
    assert len(people) > 100 and {(r[0], r[1]) for r in leaderboard} == {(r[0], r[1]) for r in people}
    assert {r[:5] for r in leaderboard} == {(r[0], r[1], r[7], r[8], r[2]) for r in people}  # the same figures
    assert any(r[-1] for r in people)  # the spread has people larger than all groups but one: capped
    tied = []
    for month, key, *values, _ in people:
        # the smallest true figure each published one may stand for
        floor = [float(v or 0) - rounding(float(v or 0), f != "cost_usd")
                 for f, v in zip((*figures, "active_days"), values, strict=True)]
        fits = {centre for _, centre, totals in groups[month]
                if all(t >= f for t, f in zip(totals, floor, strict=True))}
        if len(fits) < 2:
            tied.append((key[:12], sorted(fits)))
    assert tied == []


def test_no_published_outcome_group_is_smaller_than_k(org: dict) -> None:
    """fct_outcomes_daily: a team published under its own name had at least k people active with
    that tool in the month (Claude Code usage or outcomes; Copilot activity)."""
    db = org["home"] / "token_ledger.duckdb"
    small = query(db, """
        with active as (
            select date_trunc('month', usage_date) as usage_month, tool, team_id, cost_center, user_email
            from intermediate.int_outcomes_person_days where user_email is not null
            union
            select date_trunc('month', usage_date), 'claude-code', team_id, cost_center, user_email
            from restricted.fct_person_usage_daily where application = 'claude-code'
        )
        select published.tool, published.team_id, count(distinct active.user_email)
        from marts.fct_outcomes_daily as published
        inner join active
            on active.usage_month = date_trunc('month', published.usage_date) and active.tool = published.tool
            and active.team_id = published.team_id and active.cost_center = published.cost_center
        where published.team_id not in ('other', 'unattributed')
        group by all
        having count(distinct active.user_email) < 5
    """)
    assert small == []
    tools = query(org["home"] / "analytics.duckdb", "select tool, count(distinct team_id) from fct_outcomes_daily "
                                                    "group by 1 order by 1")
    assert [t for t, _ in tools] == ["claude-code", "copilot"] and all(n > 1 for _, n in tools)


def test_k_is_configurable(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(org["inputs"]))
    run_cli(home, "build", env={"TOKEN_LEDGER_MIN_GROUP_SIZE": "1000"})
    # 120 people: with k = 1000 not even the whole organisation is a group of k, so nothing is published
    assert query(home / "token_ledger.duckdb", "select count(*) from marts.fct_usage_daily") == [(0,)]
    assert query(home / "token_ledger.duckdb", "select count(*), bool_or(is_published) "
                                               "from restricted.dim_org_groups_daily")[0][1] is False


def test_per_person_tables_carry_no_quasi_identifiers(org: dict) -> None:
    for table in ("fct_user_usage_monthly", "rpt_token_leaderboard"):
        columns = {r[0] for r in query(org["home"] / "analytics.duckdb",
                                       "select column_name from information_schema.columns where table_name = ?",
                                       [table])}
        assert not columns & {"team_id", "cost_center", "team_name", "provider", "model_id", "application"}


def test_leaderboard_ranks_everyone_by_tokens(org: dict) -> None:
    rows = query(org["home"] / "analytics.duckdb",
                 "select rank, total_tokens, percentile from rpt_token_leaderboard order by rank")
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(rows))
    assert rows[0][2] == 100.0
    monthly = query(org["home"] / "analytics.duckdb", "select count(*), sum(total_tokens) from fct_user_usage_monthly")
    assert monthly == [(len(rows), sum(r[1] for r in rows))]


@pytest.mark.parametrize("meta", ["        config: {meta: {pii: email}}\n", ""])
def test_build_fails_when_a_public_model_exposes_personal_data(org: dict, tmp_path: Path, meta: str) -> None:
    project = project_copy(tmp_path / "project")
    (project / "models" / "marts" / "leaky_mart.sql").write_text(
        "select user_email, sum(cost_usd) as cost_usd from {{ ref('fct_usage_events') }} group by 1\n")
    (project / "models" / "marts" / "_leaky.yml").write_text(textwrap.dedent("""\
        version: 2
        models:
          - name: leaky_mart
            description: A mart someone made public by mistake.
            config: {access: public, contract: {enforced: true}}
            columns:
              - name: user_email
                data_type: varchar
        """) + meta + "      - name: cost_usd\n        data_type: decimal(38, 15)\n")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(org["home"] / "token_ledger.duckdb", home / "token_ledger.duckdb")
    env = {"TOKEN_LEDGER_PROJECT_DIR": str(project), "TOKEN_LEDGER_PSEUDONYM_KEY": KEY_A}
    result = run_cli(home, "build", "--", "--select", "leaky_mart", "assert_public_models_mask_personal_data",
                     env=env, check=False)
    assert result.code != 0
    assert "fail: test assert_public_models_mask_personal_data" in result.out


def test_erasure_carries_through_to_the_next_publish(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_A}
    shutil.copytree(org["home"], home)  # the organisation, run once
    # the heaviest user whom another person's leaky record names in its free text (a manager
    # in `tags`): erasure rewrites the mention, and the other person's record stays
    leaky = [json.loads(line) for line in org["leaky"].read_text(encoding="utf-8").splitlines()]
    named = {record["tags"]["nested"]["manager"].lower() for record in leaky
             if record["tags"]["nested"]["manager"].lower() != record["user_email"].lower()}
    victim, requests = next(row for row in query(home / "token_ledger.duckdb",
                                                 "select user_email, count(*) from restricted.fct_usage_events "
                                                 "where team_id <> 'unattributed' group by 1 order by 2 desc, 1")
                            if row[0] in named)
    own = sum(record["user_email"].lower() == victim for record in leaky)  # the victim's own leaky record
    leaky_landed = query(home / "token_ledger.duckdb",
                         "select count(*) from raw.canonical_events where starts_with(request_id, 'leak-')")[0][0]
    victim_key = hmac.new(KEY_A.encode(), victim.encode(), hashlib.sha256).hexdigest()
    before = query(home / "analytics.duckdb", "select sum(requests) from fct_usage_daily")[0][0]
    assert query(home / "analytics.duckdb", "select count(*) from fct_user_usage_monthly where user_key = ?",
                 [victim_key]) == [(1,)]

    result = run_cli(home, "erase", "--user", victim.upper(), env=env)
    assert victim not in result.out + result.err
    run_cli(home, "run", env=env)
    assert query(home / "analytics.duckdb", "select count(*) from fct_user_usage_monthly where user_key = ?",
                 [victim_key]) == [(0,)]
    assert query(home / "analytics.duckdb", "select sum(requests) from fct_usage_daily")[0][0] == before - requests
    assert scan(home / "token_ledger.duckdb", {victim}) == []
    # the records that named the victim stay, rewritten
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.canonical_events "
                                               "where starts_with(request_id, 'leak-')")[0][0] == leaky_landed - own
    # landing the same person's records again (a new file) does not bring them back
    again = tmp_path / "again.jsonl"
    lines = [line for line in (org["inputs"] / "usage-2026-10-02.jsonl").read_text().splitlines() if victim in line]
    again.write_text("\n".join(line.replace("req_", "req_again_") for line in lines) + "\n")
    run_cli(home, "run", str(again), env=env)
    assert query(home / "analytics.duckdb", "select count(*) from fct_user_usage_monthly where user_key = ?",
                 [victim_key]) == [(0,)]


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    import os
    reads = errors = 0
    messages = []
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            # two tables of one publish agree (the FOCUS rows are fct_usage_daily's, one each)
            daily = con.execute("select count(*), sum(total_tokens) from fct_usage_daily").fetchone()
            focus = con.execute('select count(*), sum("ConsumedQuantity") from fct_focus_costs').fetchone()
            con.close()
            expected = {"fct_usage_daily", "fct_user_usage_monthly", "rpt_token_leaderboard", "dim_models"}
            if not expected <= tables or daily != focus or not daily[0]:
                errors += 1
                messages.append(f"inconsistent: {sorted(tables)} {daily} {focus}")
            reads += 1
        except Exception as exc:
            errors += 1
            messages.append(repr(exc))
        time.sleep(0.01)
    print(reads, errors, messages[:3])
""")


def test_readers_never_see_errors_while_runs_publish(org: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_A}
    shutil.copytree(org["home"], home)  # published once
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(home / "analytics.duckdb"), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(2):  # two publishes while the reader reads
            run_cli(home, "run", env=env)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    reads, errors, messages = out.split(" ", 2)
    assert int(reads) > 20 and int(errors) == 0, messages


def _leaky_source_records(folder: Path, people: list[dict]) -> None:
    """Valid records of the source formats that hide identities in every free-text field."""
    otel_lines, litellm_rows = [], []
    for i, person in enumerate(people[:10]):
        email = person["email"]
        attrs = [
            {"key": "event.name", "value": {"stringValue": "api_request"}},
            {"key": "event.timestamp", "value": {"stringValue": "2026-10-02T10:00:00Z"}},
            {"key": "session.id", "value": {"stringValue": f"session of {email.upper()}"}},
            {"key": "user.email", "value": {"stringValue": email}},
            {"key": "user.account_uuid", "value": {"stringValue": person["employee_id"]}},
            {"key": "request_id", "value": {"stringValue": f"req_leak_{i}"}},
            {"key": "model", "value": {"stringValue": f"claude-sonnet-4-6 for {person['full_name']}"}},
            {"key": "input_tokens", "value": {"intValue": "10"}},
            {"key": "output_tokens", "value": {"intValue": "10"}},
        ]
        resource = [{"key": "team.id", "value": {"stringValue": email}}]
        otel_lines.append(json.dumps({"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": [
            {"logRecords": [{"body": {"stringValue": "claude_code.api_request"}, "attributes": attrs}]}]}]}))
        litellm_rows.append([f"litellm-leak-{i}", "acompletion", f"sk-{email}", "0.01", "20", "10", "10",
                             "2026-10-02 10:00:00", "2026-10-02 10:00:01", f"openai/{email}", "gpt-5.5", "openai",
                             f"user-{person['employee_id']}", email, email,
                             "org-1", json.dumps({"requester": email, "name": person["full_name"]}),
                             json.dumps([email]), "success"])
    for i, person in enumerate(people[10:15]):  # no person known: a team named by the source only
        litellm_rows.append([f"litellm-team-{i}", "acompletion", f"sk-team-{i}", "0.01", "20", "10", "10",
                             "2026-10-02 10:00:00", "2026-10-02 10:00:01", "gpt-5.5", "gpt-5.5", "openai",
                             f"service-{i}", "", person["full_name"] if i % 2 else person["email"].upper(),
                             "org-1", "{}", "[]", "success"])
    # a directory team named after a person, in a cost centre named by an email: six people, every day
    header = "email,full_name,employee_id,team_id,team_name,cost_center,manager_email,valid_from,allowance_tier"
    named = [f"named.{i}@corp.example,Named Person {i},EMP-N{i},{people[0]['full_name']} team,x,"
             f"{people[1]['email']},,2026-01-01,standard" for i in range(6)]
    (folder / "people-named.csv").write_text("\n".join([header, *named]) + "\n", encoding="utf-8")
    (folder / "named-usage.jsonl").write_text("\n".join(json.dumps({
        "request_id": f"named-{i}-{day}", "occurred_at": f"2026-10-0{day}T09:00:00Z", "provider": "anthropic",
        "model": "claude-sonnet-4-6", "user_email": f"named.{i}@corp.example", "input_tokens": 10,
        "output_tokens": 10}) for i in range(6) for day in (1, 2, 3)) + "\n", encoding="utf-8")
    (folder / "leaky-otel.jsonl").write_text("\n".join(otel_lines) + "\n", encoding="utf-8")
    with (folder / "leaky-litellm.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens",
                         "completion_tokens", "startTime", "endTime", "model", "model_group", "custom_llm_provider",
                         "user", "end_user", "team_id", "organization_id", "metadata", "request_tags", "status"])
        writer.writerows(litellm_rows)


def test_no_identity_reaches_the_published_file_from_any_format(tmp_path: Path) -> None:
    home, env = tmp_path / "home", {"TOKEN_LEDGER_PSEUDONYM_KEY": KEY_A}
    identifiers: set[str] = set()
    for seed, fmt in enumerate(("canonical", "claude-code-otel", "claude-code-jsonl", "litellm-spendlogs",
                                "anthropic-usage-report", "openai-usage")):
        out = tmp_path / fmt  # another seed each: other traffic, so no format's requests are all duplicates
        run_cli(home, "generate", "--out", str(out), "--users", "40", "--days", "3", "--format", fmt,
                "--seed", str(40 + seed))
        identifiers |= directory_identifiers(out / "people.csv")
        if fmt == "claude-code-jsonl":  # everyone's folder in one call
            run_cli(home, "land", "--owners", str(out / "transcript-users.csv"), str(out / "claude-code-jsonl"),
                    env=env)
            run_cli(home, "land", str(out / "people.csv"), env=env)
        else:
            run_cli(home, "land", str(out), env=env)
        for owners in out.glob("api-key-owners.csv"):
            with owners.open(encoding="utf-8") as handle:
                identifiers |= {r["key_id"].lower() for r in csv.DictReader(handle) if r["key_type"] == "openai_user"}
        for spend in out.glob("litellm-spendlogs-*.csv"):
            with spend.open(encoding="utf-8") as handle:
                identifiers |= {r["api_key"].lower() for r in csv.DictReader(handle)}
    with (tmp_path / "canonical" / "people.csv").open(encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    _leaky_source_records(leaky, people)
    write_leaky_records(tmp_path / "canonical" / "people.csv", leaky / "leaky-canonical.jsonl", leak_provider=False)
    run_cli(home, "run", str(leaky), env=env)
    formats = query(home / "token_ledger.duckdb",
                    "select count(distinct source_format) from restricted.fct_usage_events")
    assert formats == [(6,)]
    assert scan(home / "analytics.duckdb", identifiers | {"corp.example", "partner.example"}) == []
    # teams named by a source are 'unknown'; a directory team or cost centre named after a person is a keyed id
    labels = query(home / "analytics.duckdb", "select distinct team_id, cost_center from fct_usage_daily")
    assert ("unknown", "unknown") in labels
    named = [(t, c) for t, c in labels if t.startswith("team-")]
    assert len(named) == 1 and named[0][1].startswith("cc-")
    emails = {i for i in identifiers if "@" in i}
    assert scan(home / "analytics.duckdb", unkeyed_digests(emails)) == []
