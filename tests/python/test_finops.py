"""Budgets, forecasts, spike alerts and the FOCUS export, on planted data."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import project_copy, query, run_cli
from steady import CACHE_MISS_DAY, PEOPLE, SPIKE_DAYS, SPIKER, SWITCH_FROM, write_month

KEY = "finops-test-key"
ENV = {"TOKEN_LEDGER_PSEUDONYM_KEY": KEY}


def user_key(email: str) -> str:
    return hmac.new(KEY.encode(), email.encode(), hashlib.sha256).hexdigest()


def spike_key(email: str, day: dt.date) -> str:
    """A person's published spike: HMAC-SHA256 of `user_key/day` under the key (docs/privacy.md)."""
    return hmac.new(KEY.encode(), f"{user_key(email)}/{day:%Y-%m-%d}".encode(), hashlib.sha256).hexdigest()


def anomalies(home: Path) -> list[tuple]:
    return query(home / "analytics.duckdb",
                 "select usage_date, scope, scope_id, metric, detail, severity from fct_usage_anomalies "
                 "order by 1, 2, 3")


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("steady")
    write_month(root / "in", planted=False)
    run_cli(root / "home", "run", str(root / "in"), env=ENV)
    return root / "home"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    write_month(root / "in", planted=True)
    run_cli(root / "home", "run", str(root / "in"), env=ENV)
    return root / "home"


def test_a_steady_month_with_weekday_rhythm_raises_no_flag(steady: Path) -> None:
    assert anomalies(steady) == []
    weekday, weekend = query(steady / "analytics.duckdb", """
        select avg(c) filter (where isodow(d) < 6), avg(c) filter (where isodow(d) >= 6)
        from (select usage_date as d, sum(requests) as c from fct_usage_daily group by 1)""")[0]
    assert weekday > 5 * weekend  # the rhythm is really there


def test_planted_anomalies_are_found_and_nothing_else(planted: Path) -> None:
    flags = anomalies(planted)
    beta = {e for e, t in PEOPLE if t == "T-BETA"}
    alpha = {e for e, t in PEOPLE if t == "T-ALPHA"}
    found = {(d, scope, sid, metric) for d, scope, sid, metric, _, _ in flags}
    # each planted event is found at its own scope
    for day in SPIKE_DAYS:
        assert (day, "person", spike_key(SPIKER, day), "cost_usd") in found
    assert (SWITCH_FROM, "team", "T-BETA", "cost_usd") in found
    assert (SWITCH_FROM, "team", "T-BETA", "new_model_adoption") in found
    assert [f[4] for f in flags if f[3] == "new_model_adoption"] == ["claude-opus-4-7"]
    assert (CACHE_MISS_DAY, "team", "T-ALPHA", "cost_per_request") in found
    # and every flag is explained by a planted event: the same days, the scopes it touches
    for day, scope, sid, metric, _, _ in flags:
        # (only team Alpha uses claude-sonnet-4-6, so its spikes are that model's spikes too)
        spike = day in SPIKE_DAYS and (scope, sid) in {("person", spike_key(SPIKER, day)), ("team", "T-ALPHA"),
                                                     ("cost_center", "CC-ONE"), ("organisation", "organisation"),
                                                     ("model", "claude-sonnet-4-6")}
        switch = day >= SWITCH_FROM and ((scope == "person" and sid in {spike_key(e, day) for e in beta})
                                         or (scope, sid) in {
            ("team", "T-BETA"), ("cost_center", "CC-TWO"), ("organisation", "organisation"),
            ("model", "claude-opus-4-7")})
        cache_miss = day == CACHE_MISS_DAY and ((scope == "person" and sid in {spike_key(e, day) for e in alpha})
                                                or (scope, sid) in {
            ("team", "T-ALPHA"), ("cost_center", "CC-ONE"), ("organisation", "organisation"),
            ("model", "claude-sonnet-4-6")})
        assert spike or switch or cache_miss, (day, scope, metric)
    # people appear only as pseudonyms
    assert all(len(sid) == 64 for _, scope, sid, *_ in flags if scope == "person")


def test_a_persons_published_spikes_tie_no_user_key_to_a_team(planted: Path) -> None:
    """The attack: a spike is dated, and the planted spiker's team (Alpha) is flagged on the
    same days. Named by its user_key, the days a person spiked, matched against the days each
    team spiked, tie the user_key to its team, and through it the person's months and rank on
    the leaderboard. A published spike names no user_key and no two days share a name; the
    private alerts still name the person."""
    flags = anomalies(planted)
    published = planted / "analytics.duckdb"
    user_keys = {r[0] for r in query(published, "select user_key from fct_user_usage_monthly "
                                                "union select user_key from rpt_token_leaderboard")}
    assert user_key(SPIKER) in user_keys  # the months are published: there is something to tie
    spiked: dict[str, set] = defaultdict(set)
    team_days: dict[str, set] = defaultdict(set)
    for day, scope, sid, *_ in flags:
        if scope == "person":
            spiked[sid].add(day)
        elif scope == "team":
            team_days[sid].add(day)
    tied = {(sid[:12], team) for sid, days in spiked.items() if sid in user_keys
            for team, flagged in team_days.items() if days <= flagged}
    assert tied == set()
    assert all(len(days) == 1 for days in spiked.values())
    assert {spike_key(SPIKER, day) for day in SPIKE_DAYS} <= set(spiked)


def test_focus_export_totals_equal_daily_usage(planted: Path) -> None:
    focus = query(planted / "analytics.duckdb", 'select sum("BilledCost"), sum("ListCost"), sum("ConsumedQuantity"), '
                                                'count(*), min("ConsumedUnit") from fct_focus_costs')[0]
    daily = query(planted / "analytics.duckdb",
                  "select sum(cost_usd), sum(list_cost_usd), sum(total_tokens), count(*) from fct_usage_daily")[0]
    assert focus[:4] == (daily[0], daily[1], Decimal(daily[2]), daily[3]) and focus[4] == "Tokens"
    columns = {r[0]: r[1] for r in query(planted / "analytics.duckdb",
               "select column_name, data_type from information_schema.columns where table_name = 'fct_focus_costs'")}
    for name in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert columns[name].startswith("DECIMAL")
    for name in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
        assert columns[name].startswith("TIMESTAMP")
    for name in ("ServiceName", "ProviderName", "SkuId", "SubAccountId", "ConsumedUnit", "BillingCurrency",
                 "ChargeCategory", "ServiceCategory"):
        assert columns[name] == "VARCHAR"


def test_chargeback_sums_to_the_month(planted: Path) -> None:
    rows = query(planted / "analytics.duckdb",
                 "select sum(chargeback_usd), sum(share_of_month) from rpt_cost_center_chargeback")[0]
    total = query(planted / "analytics.duckdb", "select sum(cost_usd) from fct_usage_daily")[0][0]
    assert rows[0] == total and abs(rows[1] - 1) < 1e-9


def expected_status(daily: dict[dt.date, Decimal], budget: Decimal, as_of: dt.date, thresholds: list[int]):
    """The budget rules, re-implemented: crossing days from cumulative spend, forecast from the
    average spend of each weekday over the 28 days to as_of."""
    spend, crossed = Decimal(0), {}
    day = dt.date(2026, 10, 1)
    while day <= as_of:
        spend += daily.get(day, Decimal(0))
        for t in thresholds:
            if t not in crossed and spend >= budget * t / 100:
                crossed[t] = day
        day += dt.timedelta(days=1)
    window = [as_of - dt.timedelta(days=i) for i in range(28)]
    rate = defaultdict(list)
    for d in window:
        rate[d.weekday()].append(daily.get(d, Decimal(0)))
    forecast = spend
    day = as_of + dt.timedelta(days=1)
    while day < dt.date(2026, 11, 1):
        values = rate[day.weekday()]
        forecast += sum(values) / len(values)
        day += dt.timedelta(days=1)
    return spend, forecast, crossed


def test_budgets_crossed_mid_month_and_alerts_sent_once(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    files = write_month(inputs, planted=False, days=22)
    home = tmp_path / "home"
    run_cli(home, "land", str(inputs / "people.csv"), *map(str, files[:20]), env=ENV)
    run_cli(home, "build", env=ENV)
    daily_rows = query(home / "token_ledger.duckdb", "select usage_date, team_id, sum(cost_usd) "
                                                     "from restricted.fct_usage_events group by all")
    # k = 5 (docs/privacy.md): a team's budget counts the spend published under its name, from the
    # day after its fifth person of the month first used AI
    firsts: dict[str, list] = defaultdict(list)
    for team, first in query(home / "token_ledger.duckdb", "select team_id, min(usage_date) from "
                             "restricted.fct_usage_events where user_email is not null group by team_id, user_email"):
        firsts[team].append(first)
    published_from = {team: sorted(days)[4] + dt.timedelta(days=1) for team, days in firsts.items() if len(days) >= 5}
    by_team: dict[str, dict] = defaultdict(dict)
    for day, team, cost in daily_rows:
        if team in published_from and day >= published_from[team]:
            by_team[team][day] = cost
    month_alpha = sum(by_team["T-ALPHA"].values())
    # a budget of the first 20 days' spend x 1.2: 50% and 80% are crossed by Oct 20, 100% is forecast
    alpha_budget = (month_alpha * Decimal("1.2")).quantize(Decimal("0.01"))
    beta_budget = Decimal("100000")
    project = project_copy(tmp_path / "project", {"budgets.csv": (
        "budget_id,owner_type,owner_id,period,valid_from,valid_to,budget_usd,budget_tokens,thresholds_pct,note\n"
        f"alpha,team,T-ALPHA,month,2026-01-01,9999-12-31,{alpha_budget},,50|80|100,\n"
        f"beta,team,T-BETA,month,2026-01-01,9999-12-31,{beta_budget},,50|80|100,\n")})
    env = {**ENV, "TOKEN_LEDGER_PROJECT_DIR": str(project)}
    run_cli(home, "run", env=env)

    rows = {r[0]: r[1:] for r in query(home / "analytics.duckdb",
            "select owner_id, spend_to_date_usd, forecast_usd, threshold_crossed_pct, threshold_crossed_on, status, "
            "as_of_date from fct_budget_status where period_start = date '2026-10-01'")}
    as_of = dt.date(2026, 10, 20)
    spend, forecast, crossed = expected_status(by_team["T-ALPHA"], alpha_budget, as_of, [50, 80, 100])
    got = rows["T-ALPHA"]
    assert got[5] == as_of
    assert abs(got[0] - spend) < Decimal("0.000001") and abs(got[1] - forecast) < Decimal("0.0001")
    assert max(crossed) == 80 and got[2] == 80 and got[3] == crossed[80]
    assert forecast > alpha_budget and got[4] == "forecast_to_exceed"
    assert rows["T-BETA"][2] is None and rows["T-BETA"][4] == "ok"

    alert_files = sorted((home / "alerts").glob("*.jsonl"))
    alerts = [json.loads(line) for f in alert_files for line in f.read_text().splitlines()]
    budget_alerts = [a for a in alerts if a["kind"] == "budget_threshold"]
    assert [(a["owner_id"], a["threshold_pct"], a["crossed_on"]) for a in budget_alerts] == [
        ("T-ALPHA", 80, crossed[80].isoformat())]
    assert all("@" not in json.dumps(a) for a in alerts)

    # a second run sends nothing again
    result = run_cli(home, "run", env=env)
    assert "sent 0 new alerts" in result.out
    # two more days cross 100%: exactly one new alert, for the new threshold
    result = run_cli(home, "run", *map(str, files[20:22]), env=env)
    new = [json.loads(line) for f in sorted((home / "alerts").glob("*.jsonl")) if f not in alert_files
           for line in f.read_text().splitlines()]
    new_budget = [(a["owner_id"], a["threshold_pct"]) for a in new if a["kind"] == "budget_threshold"]
    status = query(home / "analytics.duckdb", "select threshold_crossed_pct, status from fct_budget_status "
                                              "where owner_id = 'T-ALPHA'")[0]
    if status[0] == 100:
        assert new_budget == [("T-ALPHA", 100)] and status[1] == "exceeded"
    else:
        assert new_budget == []
