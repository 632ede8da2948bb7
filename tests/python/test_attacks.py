"""Attacks on k with the published file alone: differencing two publishes around a team crossing
k, and the first hourly run of a month. A hand-built organisation (canonical records, Claude Code
usage, so the outcome marts hold it too; Anthropic's bill of each October day, the whole
organisation's spend) where every secret is a figure no published table may show, as a value or
as a difference between two publishes."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import query, run_cli
from privacy import rounding

# team -> (cost centre, people); k = 5
TEAMS = {"TD": ("CC-A", 8), "TA": ("CC-A", 5), "TB": ("CC-A", 3), "TX": ("CC-X", 8), "TY": ("CC-X", 7)}
# Sonnet 4.6: USD 3 per million input tokens, 15 per million output tokens (Anthropic's price page)
INPUT_USD, OUTPUT_USD = Decimal("3") / 10**6, Decimal("15") / 10**6


def people() -> list[tuple[str, str, str]]:
    return [(f"{team.lower()}{i}@corp.example", team, centre)
            for team, (centre, size) in TEAMS.items() for i in range(1, size + 1)]


def active(email: str, team: str, day: int) -> bool:
    """Everyone every day, but TA's fifth person, who starts on 4 October: TA crosses k then."""
    return not (email == "ta5@corp.example" and day < 4)


def usage(n: int, day: int) -> tuple[int, int]:
    """Input and output tokens of person n on a day: distinct for every person and day."""
    return 100_003 + 7_919 * n + 104_729 * day, 1_009 + 13 * n + 101 * day


def record(email: str, n: int, when: str, day: int) -> dict:
    input_tokens, output_tokens = usage(n, day)
    return {"request_id": f"r-{n}-{when}", "occurred_at": when, "provider": "anthropic",
            "model": "claude-sonnet-4-6", "user_email": email, "application": "claude-code",
            "input_tokens": input_tokens, "output_tokens": output_tokens}


def write_directory(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "full_name", "employee_id", "team_id", "team_name", "cost_center",
                         "manager_email", "valid_from", "allowance_tier", "github_login"])
        for n, (email, team, centre) in enumerate(people()):
            writer.writerow([email, f"Person {n}", f"EMP-{n}", team, team, centre, "", "2026-01-01", "standard", ""])


def write_day(folder: Path, day: int) -> None:
    lines = [json.dumps(record(email, n, f"2026-10-0{day}T10:00:00Z", day))
             for n, (email, team, _) in enumerate(people()) if active(email, team, day)]
    (folder / f"usage-2026-10-0{day}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_bill(folder: Path, day: int) -> None:
    """Anthropic's cost report for a day of October: the organisation's whole spend (amounts in cents)."""
    people_today = [n for n, (email, team, _) in enumerate(people()) if active(email, team, day)]
    input_tokens = sum(usage(n, day)[0] for n in people_today)
    output_tokens = sum(usage(n, day)[1] for n in people_today)
    items = [{"currency": "USD", "amount": str(tokens * price * 100), "cost_type": "tokens",
              "model": "claude-sonnet-4-6", "service_tier": "standard", "token_type": token_type,
              "context_window": "0-200k", "workspace_id": None, "description": token_type}
             for token_type, tokens, price in (("uncached_input_tokens", input_tokens, INPUT_USD),
                                               ("output_tokens", output_tokens, OUTPUT_USD))]
    page = {"data": [{"starting_at": f"2026-10-0{day}T00:00:00Z", "ending_at": f"2026-10-0{day + 1}T00:00:00Z",
                      "results": items}], "has_more": False, "next_page": None}
    (folder / f"anthropic-cost-report-2026-10-0{day}.json").write_text(json.dumps(page), encoding="utf-8")


def figures(n: int, day: int) -> tuple[int, Decimal]:
    input_tokens, output_tokens = usage(n, day)
    return input_tokens + output_tokens, input_tokens * INPUT_USD + output_tokens * OUTPUT_USD


def group_secret(team: str, days: list[int]) -> tuple[int, Decimal]:
    tokens, cost = 0, Decimal(0)
    for n, (email, member_team, _) in enumerate(people()):
        for day in days:
            if member_team == team and active(email, member_team, day):
                t, c = figures(n, day)
                tokens, cost = tokens + t, cost + c
    return tokens, cost


def published_rows(db: Path) -> dict[str, dict[tuple, dict[str, Decimal]]]:
    """Every published table: its rows keyed by their non-numeric columns, numeric columns apart."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {}
        for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
            result = con.execute(f'select * from "{table}"')
            names = [d[0] for d in result.description]
            numeric = {d[0] for d in result.description
                       if str(d[1]).upper().startswith(("DECIMAL", "BIGINT", "INTEGER", "DOUBLE", "HUGEINT"))}
            rows = {}
            for row in result.fetchall():
                values = dict(zip(names, row, strict=True))
                key = tuple((k, str(v)) for k, v in values.items() if k not in numeric)
                rows[key] = {k: Decimal(str(v)) for k, v in values.items() if k in numeric and v is not None}
            tables[table] = rows
        return tables
    finally:
        con.close()


def visible(before: dict, after: dict) -> set[Decimal]:
    """Every figure of the later publish, and every difference between the two for the same row."""
    seen = set()
    for table, rows in after.items():
        for key, values in rows.items():
            earlier = before.get(table, {}).get(key, {})
            for column, value in values.items():
                seen.add(value)
                if column in earlier:
                    seen.add(value - earlier[column])
    return seen


def found(secrets: dict[str, tuple[int, Decimal]], seen: set[Decimal]) -> list[str]:
    return [name for name, (tokens, cost) in secrets.items()
            if Decimal(tokens) in seen or cost.quantize(Decimal("1e-9")) in seen]


def write_small_org(inputs: Path, staff: list[tuple[str, str, str]], days: tuple[int, ...]) -> None:
    """A directory of `staff` (email, team, cost centre) and a file per October day in which
    every one of them works at 10:00."""
    inputs.mkdir()
    with (inputs / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "full_name", "employee_id", "team_id", "team_name", "cost_center",
                         "manager_email", "valid_from", "allowance_tier", "github_login"])
        for n, (email, team, centre) in enumerate(staff):
            writer.writerow([email, f"Person {n}", f"EMP-{n}", team, team, centre, "", "2026-01-01", "standard", ""])
    for day in days:
        lines = [json.dumps(record(email, n, f"2026-10-0{day}T10:00:00Z", day))
                 for n, (email, _, _) in enumerate(staff)]
        (inputs / f"usage-2026-10-0{day}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def publishes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("attacks")
    home, inputs = root / "home", root / "input"
    inputs.mkdir()
    write_directory(inputs / "people.csv")
    for day in range(1, 5):
        write_day(inputs, day)
        write_bill(inputs, day)
    run_cli(home, "run", str(inputs))
    shutil.copy(home / "analytics.duckdb", root / "p1.duckdb")
    write_day(inputs, 5)
    write_bill(inputs, 5)
    run_cli(home, "run", str(inputs))
    shutil.copy(home / "analytics.duckdb", root / "p2.duckdb")
    # the first hourly run of November: one person so far
    (inputs / "usage-2026-11-01T00.jsonl").write_text(
        json.dumps(record("tx1@corp.example", 0, "2026-11-01T00:30:00Z", 31)) + "\n", encoding="utf-8")
    run_cli(home, "run", str(inputs))
    shutil.copy(home / "analytics.duckdb", root / "p3.duckdb")
    # an hour later four more, each of another team: five people, the remainder is published
    lines = [json.dumps(record(email, n, "2026-11-01T01:30:00Z", 31)) for n, (email, _, _) in enumerate(people())
             if email in {"td1@corp.example", "ta1@corp.example", "tb1@corp.example", "ty1@corp.example"}]
    (inputs / "usage-2026-11-01T01.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_cli(home, "run", str(inputs))
    shutil.copy(home / "analytics.duckdb", root / "p4.duckdb")
    return {"root": root, "home": home}


def test_differencing_two_publishes_around_a_team_crossing_k_isolates_nothing(publishes: dict) -> None:
    """TA has four people until its fifth starts on 4 October; TB three. Published after 4 October
    and again after 5 October: nothing published about 1-4 October changes, so no difference
    isolates TA's first days (four people) or TB (three), and TB's 5 October (alone in its cost
    centre's remainder) is withheld, not published as a remainder of three."""
    root = publishes["root"]
    p1, p2 = published_rows(root / "p1.duckdb"), published_rows(root / "p2.duckdb")
    for table in ("fct_usage_daily", "fct_outcomes_daily", "fct_focus_costs", "rpt_cost_reconciliation"):
        earlier = {key: values for key, values in p1[table].items()
                   if any("2026-10-01" <= v[:10] <= "2026-10-04" for _, v in key)}
        later = {key: values for key, values in p2[table].items() if key in earlier}
        assert later == earlier, table  # the first four days, as published before, in every table

    secrets = {
        **{f"TA on 1-4 Oct, day {d}": group_secret("TA", [d]) for d in range(1, 5)},
        "TA on 1-4 Oct": group_secret("TA", [1, 2, 3, 4]),
        **{f"TB day {d}": group_secret("TB", [d]) for d in range(1, 6)},
        "TB on 1-4 Oct": group_secret("TB", [1, 2, 3, 4]),
        "TB on 1-5 Oct": group_secret("TB", [1, 2, 3, 4, 5]),
    }
    assert found(secrets, visible(p1, p2)) == []
    assert found(secrets, visible({}, p1)) == []

    daily = query(root / "p2.duckdb", "select usage_date::varchar, team_id, cost_center, active_users "
                                      "from fct_usage_daily order by all")
    assert ("2026-10-05", "TA", "CC-A", 5) in daily  # TA as itself from the day after its fifth person
    assert not [r for r in daily if r[1] == "TA" and r[0] < "2026-10-05"]
    assert ("2026-10-02", "other", "CC-A", 7) in daily  # TA and TB together before
    assert not [r for r in daily if r[0] == "2026-10-05" and r[1] == "other"]  # TB alone: withheld
    # what is withheld is nowhere else either: the organisation's published spend is the sum of the rows
    spend = query(root / "p2.duckdb", "select spend_to_date_usd from fct_budget_status "
                                      "where owner_type = 'organisation' and period_start = '2026-10-01'")
    total = query(root / "p2.duckdb", "select sum(cost_usd) from fct_usage_daily")
    tb_day5 = group_secret("TB", [5])[1]
    assert spend == total and spend[0][0] > 0
    everything = sum(figures(n, d)[1] for n, (e, t, _) in enumerate(people()) for d in range(1, 6) if active(e, t, d))
    assert total[0][0] == everything - tb_day5
    # the bill is the organisation's whole spend: reconciled on the days nothing is withheld, not on 5 October
    bills = query(root / "p2.duckdb", "select usage_date::varchar, billed_cost_usd, computed_cost_usd, is_flagged "
                                      "from rpt_cost_reconciliation where billed_cost_usd is not null order by 1")
    assert [r[0] for r in bills] == ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
    assert all(billed == computed and not flagged for _, billed, computed, flagged in bills)


def test_the_first_hourly_run_of_a_month_publishes_no_group_of_one(publishes: dict) -> None:
    """At 00:30 on 1 November one person has used Claude Code: no table shows November's groups
    (usage, outcomes, FOCUS, budgets, anomalies, reconciliations), and that person's exact figures
    appear nowhere, as a value or as a difference from the October publish. An hour later five
    people of five teams have: the organisation-wide remainder is published, as one group of five."""
    root = publishes["root"]
    p2, p3 = published_rows(root / "p2.duckdb"), published_rows(root / "p3.duckdb")
    november = query(root / "p3.duckdb", """
        select 'daily', count(*) from fct_usage_daily where usage_date >= '2026-11-01'
        union all select 'outcomes', count(*) from fct_outcomes_daily where usage_date >= '2026-11-01'
        union all select 'value', count(*) from rpt_value_per_token where usage_month >= '2026-11-01'
        union all select 'focus', count(*) from fct_focus_costs where "ChargePeriodStart" >= '2026-11-01'
        union all select 'chargeback', count(*) from rpt_cost_center_chargeback where usage_month >= '2026-11-01'
        union all select 'recon', count(*) from rpt_cost_reconciliation where usage_date >= '2026-11-01'
        union all select 'anomalies', count(*) from fct_usage_anomalies
            where usage_date >= '2026-11-01' and scope != 'person'
        union all select 'budgets', count(*) from fct_budget_status
            where period_start >= '2026-11-01' and spend_to_date_usd > 0
    """)
    assert [name for name, rows in november if rows] == []
    assert found({"tx1 at 00:30": figures(0, 31)}, visible(p2, p3)) == []

    rows = query(root / "p4.duckdb", "select team_id, cost_center, active_users from fct_usage_daily "
                                     "where usage_date = '2026-11-01'")
    assert rows == [("other", "other", 5)]


def test_differencing_two_publishes_around_an_erasure_isolates_no_one_left(tmp_path: Path) -> None:
    """k = 2. CC-A: TA = {a1, a2}, published as itself from 2 October; TB = {b1} and TC = {c1},
    together CC-A's 'other' from 2 October. a1 is erased after the 3 October publish. Were the
    groups recounted without a1, TA (a2 alone) would join CC-A's 'other', and that row minus the
    same row before would be a2's exact usage. An erased person still counts in the groups of
    the days they were counted in; a group whose people left are fewer than k is withheld. The
    difference of the two publishes shows at most a1's own usage (it leaves every total)."""
    env = {"TOKEN_LEDGER_MIN_GROUP_SIZE": "2"}
    staff = [("a1@corp.example", "TA", "CC-A"), ("a2@corp.example", "TA", "CC-A"),
             ("b1@corp.example", "TB", "CC-A"), ("c1@corp.example", "TC", "CC-A")]
    home, inputs = tmp_path / "home", tmp_path / "input"
    write_small_org(inputs, staff, days=(1, 2, 3))
    for command in (["land", str(inputs)], ["build"], ["publish"]):  # a run's steps that publish
        run_cli(home, *command, env=env)
    shutil.copy(home / "analytics.duckdb", tmp_path / "before.duckdb")
    daily = "select usage_date::varchar, team_id, cost_center, active_users from fct_usage_daily order by all"
    assert query(tmp_path / "before.duckdb", daily) == [
        ("2026-10-01", "other", "other", 4), ("2026-10-02", "TA", "CC-A", 2), ("2026-10-02", "other", "CC-A", 2),
        ("2026-10-03", "TA", "CC-A", 2), ("2026-10-03", "other", "CC-A", 2)]

    for command in (["erase", "--user", "a1@corp.example"], ["build"], ["publish"]):
        run_cli(home, *command, env=env)
    after = home / "analytics.duckdb"
    # TA's 2 and 3 October (a2 alone) withheld; CC-A's 'other' as it was; 1 October without a1
    assert query(after, daily) == [
        ("2026-10-01", "other", "other", 3), ("2026-10-02", "other", "CC-A", 2), ("2026-10-03", "other", "CC-A", 2)]
    a2 = {f"a2 on {d} October": figures(1, d) for d in (1, 2, 3)}
    a2["a2 on 2-3 October"] = tuple(map(sum, zip(figures(1, 2), figures(1, 3), strict=True)))
    assert found(a2, visible(published_rows(tmp_path / "before.duckdb"), published_rows(after))) == []


def test_two_publishes_an_hour_apart_tie_no_user_key_to_a_team(tmp_path: Path) -> None:
    """k = 2. TA = {a1, a2} (CC-A) and TB = {b1, b2} (CC-B) work on 1 and 2 October; both teams are
    published as themselves from the 2nd. At 03:00 on the 3rd only a1 works, and the hourly run
    publishes. Were the month's per-person rows published while the month runs, the one user_key
    whose row changed and the one team whose rows changed would be a1 and TA: a1's pseudonym tied
    to a team, by the difference of two publishes. Per-person rows describe complete periods only:
    October's appear once October is over, all of them at once."""
    env = {"TOKEN_LEDGER_MIN_GROUP_SIZE": "2"}
    staff = [("a1@corp.example", "TA", "CC-A"), ("a2@corp.example", "TA", "CC-A"),
             ("b1@corp.example", "TB", "CC-B"), ("b2@corp.example", "TB", "CC-B")]
    home, inputs = tmp_path / "home", tmp_path / "input"
    write_small_org(inputs, staff, days=(1, 2))
    on_the_3rd = ["--", "--vars", "{as_of_date: '2026-10-03'}"]  # the builds run on 3 October
    for command in (["land", str(inputs)], ["build", *on_the_3rd], ["publish"]):
        run_cli(home, *command, env=env)
    shutil.copy(home / "analytics.duckdb", tmp_path / "p1.duckdb")
    (inputs / "usage-2026-10-03T03.jsonl").write_text(
        json.dumps(record("a1@corp.example", 0, "2026-10-03T03:00:00Z", 3)) + "\n", encoding="utf-8")
    for command in (["land", str(inputs)], ["build", *on_the_3rd], ["publish"]):
        run_cli(home, *command, env=env)

    def changed(before: Path, after: Path, sql: str) -> set:
        rows_before, rows_after = set(query(before, sql)), set(query(after, sql))
        return {row[0] for row in rows_before ^ rows_after}

    def tied(before: Path, after: Path) -> list[tuple]:
        """The attack: the user_keys whose per-person rows changed between two publishes, and the
        teams whose rows changed; one of each ties that user_key to that team."""
        keys = changed(before, after, "select user_key, usage_month, requests, total_tokens, cost_usd "
                                      "from fct_user_usage_monthly") | \
            changed(before, after, "select scope_id, usage_date, metric from fct_usage_anomalies "
                                   "where scope = 'person'")
        teams = changed(before, after, "select team_id || '/' || cost_center, usage_date, total_tokens "
                                       "from fct_usage_daily")
        return [(key, team) for key in keys for team in teams] if len(keys) == 1 and len(teams) == 1 else []

    daily = "select usage_date::varchar, team_id, active_users from fct_usage_daily order by all"
    assert query(home / "analytics.duckdb", daily) == [
        ("2026-10-01", "other", 4), ("2026-10-02", "TA", 2), ("2026-10-02", "TB", 2), ("2026-10-03", "TA", 1)]
    assert tied(tmp_path / "p1.duckdb", home / "analytics.duckdb") == []
    # October's rows come once it is over, all at once (dbt unit test publishes_complete_months_only;
    # test_privacy's leaderboard, as of the day the suite runs)


def test_a_person_who_alone_used_a_model_is_not_tied_to_the_team_by_its_rows(tmp_path: Path) -> None:
    """k = 5. Three teams of six work on 1-5 October with Claude Sonnet 4.6; a seventh person of
    TA works with Claude Haiku 4.5 only, which no one else uses. Their month is then Haiku's
    rows in fct_usage_daily, which name the team: the attack finds the one user_key whose
    (rounded) month equals the sum of a model's published rows and reads the team off those rows.
    A person's month is published only when one of its slices was shared by k people."""
    staff = [(f"t{team.lower()}{i}@corp.example", f"T{team}", f"CC-{team}") for team in "ABC" for i in range(1, 7)]
    home, inputs = tmp_path / "home", tmp_path / "input"
    write_small_org(inputs, staff, days=(1, 2, 3, 4, 5))
    with (inputs / "people.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["solo@corp.example", "Solo", "EMP-99", "TA", "TA", "CC-A", "", "2026-01-01",
                                     "standard", ""])
    solo = [dict(record("solo@corp.example", 99, f"2026-10-0{day}T1{hour}:00:00Z", day),
                 model="claude-haiku-4-5", application="chat", input_tokens=2_000 + 7 * day + hour, output_tokens=500)
            for day in range(1, 6) for hour in range(3)]  # a small month: under every cap
    (inputs / "solo.jsonl").write_text("".join(json.dumps(r) + "\n" for r in solo), encoding="utf-8")
    run_cli(home, "run", str(inputs))
    published = home / "analytics.duckdb"

    models = query(published, """
        select model_id, sum(total_tokens), sum(cost_usd), sum(requests),
            list(distinct team_id) filter (where team_id not in ('other', 'unattributed'))
        from fct_usage_daily where usage_date < '2026-11-01' group by model_id""")
    assert {m[0] for m in models} == {"claude-sonnet-4-6", "claude-haiku-4-5"}
    people = query(published, "select user_key, total_tokens, cost_usd, requests from fct_user_usage_monthly "
                              "where usage_month = '2026-10-01'")
    tied = [(key[:12], teams) for key, *figures in people for _, *totals, teams in models
            if len(teams) == 1 and all(abs(float(f) - float(t)) <= rounding(float(f), n != 1)
                                       for n, (f, t) in enumerate(zip(figures, totals, strict=True)))]
    assert tied == []
    assert len(people) == len(staff)  # everyone else's month is published
