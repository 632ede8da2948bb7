"""The dbt process that gets ready while files land: it parses the project without opening
the warehouse, runs the one command it is given with that parse, and exits with dbt's code."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pytest

from conftest import project_copy, query, read_jsonl, run_cli

KEY = "test-key-dbt-process"
PARSE_REPORT = '"command_name": "parse", "command_success": true'


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_LEDGER_PSEUDONYM_KEY", KEY)


def _wait_for(log: Path, text: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="ignore"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {log} after {seconds} s")


def test_dbt_gets_ready_while_the_warehouse_is_being_written(tmp_path: Path) -> None:
    from token_ledger import warehouse
    from token_ledger.config import Home
    from token_ledger.dbt_runner import Dbt

    home = Home.resolve(str(tmp_path / "home"))
    run_cli(home.root, "generate", "--out", str(tmp_path / "in"), "--users", "20", "--days", "2")
    run_cli(home.root, "land", str(tmp_path / "in"))
    log = home.root / "dbt" / "logs" / "dbt.log"
    with Dbt(home) as dbt:
        with warehouse.private(home) as con:
            # the warehouse is held for writing, as landing holds it, until dbt has parsed the project
            _wait_for(log, PARSE_REPORT)
            con.execute("create table raw.written_meanwhile as select 1 as one")
        parsed_at = log.read_text().count("Running with dbt")
        # at debug level, the file log would say if the build parsed the project again
        assert dbt.run(["build", "--log-level-file", "debug", "--select", "+fct_usage_events",
                        "--exclude", "resource_type:test"]) == 0

    invocations = log.read_text().split("Running with dbt")
    assert len(invocations) == parsed_at + 2  # what came before, the parse, the build
    build_log = invocations[-1]
    assert "partial parsing" not in build_log and "full parse" not in build_log  # it used that parse
    assert not Path(f"{home.private_db}.wal").exists()  # and left the warehouse checkpointed
    landed = query(home.private_db, "select count(*) from raw.canonical_events")[0][0]
    built = query(home.private_db, "select count(*), count(distinct event_id) from restricted.fct_usage_events")
    assert landed > 0 and built == [(landed, landed)]
    assert query(home.private_db, "select one from raw.written_meanwhile") == [(1,)]


def test_dbt_with_nothing_to_run_exits_without_touching_the_warehouse(tmp_path: Path) -> None:
    from token_ledger.config import Home
    from token_ledger.dbt_runner import Dbt

    home = Home.resolve(str(tmp_path / "home"))
    dbt = Dbt(home)
    _wait_for(home.root / "dbt" / "logs" / "dbt.log", PARSE_REPORT)
    assert dbt.close() == 0
    assert not home.private_db.exists()


def test_dbt_exit_codes_reach_the_caller(tmp_path: Path) -> None:
    home = tmp_path / "home"
    usage = run_cli(home, "build", "--", "--no-such-option", check=False)
    assert usage.code == 2 and "No such option" in usage.err
    # a model that fails to build: what it reads was never built
    failed = run_cli(home, "build", "--", "--select", "rpt_token_leaderboard", check=False)
    assert failed.code == 1 and "0 passed, 1 failed" in failed.out
    # dbt's own log stays in the home; the terminal has the one-screen summary, no traceback
    assert "error: model rpt_token_leaderboard — Catalog Error" in failed.out
    assert "Traceback" not in failed.out + failed.err and "START sql" not in failed.out
    assert "START sql" in (home / "dbt" / "logs" / "dbt.log").read_text()


def test_the_unit_tests_pass_and_scheduled_builds_leave_them_out(tmp_path: Path) -> None:
    """A run builds and tests the data; the dbt unit tests (hand-worked k roll-up, remainder,
    forecast, pricing …) test the code: they run when selected, and every one passes."""
    home = tmp_path / "home"
    fixtures = Path(__file__).parents[1] / "fixtures"
    ran = run_cli(home, "run", str(fixtures / "litellm-spendlogs"))
    assert "unit test" not in ran.err + ran.out
    tested = run_cli(home, "build", "--", "--resource-type", "model", "unit_test")
    line = next(x for x in (tested.err + tested.out).splitlines() if x.startswith("dbt: "))
    units = sum(1 for p in (Path(__file__).parents[2] / "models").rglob("_*__unit_tests.yml")
                for x in p.read_text(encoding="utf-8").splitlines() if x.startswith("  - name: "))
    assert units >= 11
    models = sum(1 for _ in (Path(__file__).parents[2] / "models").rglob("*.sql"))
    assert line.startswith(f"dbt: {models} models, {units} unit tests in ")
    assert f": {models + units} passed, 0 failed" in line


def test_scheduled_builds_keep_the_views_until_the_models_change(tmp_path: Path) -> None:
    """With nothing changed since the last complete build, a scheduled build leaves the views
    (staging, intermediate) as they are and still runs their tests; an edited model re-creates
    them and rebuilds every day. The views over every usage event are tested on the days a
    build rebuilds: a request stored twice on such a day fails their key test."""
    home, inputs = tmp_path / "home", tmp_path / "in"
    private = home / "token_ledger.duckdb"
    run_cli(home, "generate", "--out", str(inputs), "--users", "20", "--days", "2")
    run_cli(home, "land", str(inputs))
    applications = {r.get("application") or "unknown" for r in read_jsonl(sorted(inputs.glob("usage-*.jsonl")))}
    facts = "select distinct application from restricted.fct_usage_events"

    def scheduled_build(project: Path | None = None) -> tuple[set[str], str]:
        """The nodes the build ran, and what it said."""
        env = {"TOKEN_LEDGER_PROJECT_DIR": str(project)} if project else None
        done = run_cli(home, "build", env=env)
        results = json.loads((home / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
        return {r["unique_id"] for r in results["results"]}, done.err

    first, _ = scheduled_build()
    view, view_test = "model.token_ledger.stg_canonical__usage_events", "primary_key_int_usage_events_priced_event_id"
    assert view in first and any(view_test in n for n in first)
    again, said = scheduled_build()
    views = {n for n in first if n.startswith(("model.token_ledger.stg_", "model.token_ledger.int_usage_events_"))}
    assert len(views) > 16 and not views & again
    assert any(view_test in n for n in again) and "model.token_ledger.fct_usage_events" in again
    assert "reference data changed" not in said
    assert {a for (a,) in query(private, facts)} == applications

    edited = project_copy(tmp_path / "project")
    model = edited / "models" / "staging" / "canonical" / "stg_canonical__usage_events.sql"
    application = "coalesce(application, 'unknown')"
    model.write_text(model.read_text(encoding="utf-8").replace(f"{application} as", f"{application} || '-v2' as"),
                     encoding="utf-8")
    ran, said = scheduled_build(edited)
    assert view in ran and "reference data changed (models and macros): every day is rebuilt" in said
    assert {a for (a,) in query(private, facts)} == {f"{a}-v2" for a in applications}

    con = duckdb.connect(str(private))
    try:  # a request of the last day also in a gateway's log (landing never stores that), that day queued
        day = con.execute("select max(cast(occurred_at as date)) from raw.canonical_events").fetchall()[0][0]
        con.execute("insert into raw.litellm_spend_logs by name select request_id, occurred_at as starttime, model, "
                    "provider as custom_llm_provider, user_email as user, input_tokens as prompt_tokens, "
                    "output_tokens as completion_tokens, _line, _batch_id, _loaded_at from raw.canonical_events "
                    "where cast(occurred_at as date) = ? order by request_id limit 1", [day])
        con.execute("insert into raw.rebuild_days values (?, 'test', now()::timestamp)", [day])
    finally:
        con.close()
    failed = run_cli(home, "build", env={"TOKEN_LEDGER_PROJECT_DIR": str(edited)}, check=False)
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    keys = {r["unique_id"].split(".")[2]: r["failures"] for r in results
            if r["unique_id"].startswith("test.token_ledger.primary_key_int_usage_events_")}
    assert failed.code == 1 and view not in {r["unique_id"] for r in results}
    # the first view's key test finds the one key twice; the views after it are not built on it
    assert keys == {f"primary_key_int_usage_events_{m}_event_id": 1 if m == "unioned" else None
                    for m in ("unioned", "completed", "attributed", "reconciled", "priced")}
