"""The warehouse end to end on the canonical format: totals, quarantine, idempotence."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import TOKEN_FIELDS, Month, dedup, query, read_jsonl, run_cli


def _good_records_of_bad_file(month: Month) -> list[dict]:
    records = []
    for line in month.bad_file.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("request_id", "").startswith("good-"):
            records.append(record)
    assert len(records) == month.good_in_bad_file
    return records


def _expected_records(month: Month) -> list[dict]:
    return dedup(read_jsonl(sorted(month.inputs.glob("usage-*.jsonl")))) + _good_records_of_bad_file(month)


def test_daily_totals_equal_generated_input(month: Month) -> None:
    records = _expected_records(month)
    expected = {f: sum(r.get(f, 0) for r in records) for f in TOKEN_FIELDS}
    expected["requests"] = len(records)

    row = query(month.published, f"select {', '.join(f'sum({c})' for c in [*TOKEN_FIELDS, 'requests'])} "
                                  "from fct_usage_daily")[0]
    actual = dict(zip([*TOKEN_FIELDS, "requests"], row, strict=True))
    assert actual == expected
    total = query(month.published, "select sum(total_tokens), sum(cache_write_tokens) from fct_usage_daily")[0]
    assert total[0] == sum(expected[f] for f in TOKEN_FIELDS)
    assert total[1] == expected["cache_write_5m_tokens"] + expected["cache_write_1h_tokens"]


def test_daily_totals_per_day_and_provider(month: Month) -> None:
    expected: Counter = Counter()
    for r in _expected_records(month):
        day = dt.datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00")).astimezone(dt.UTC).date()
        expected[(day, r["provider"])] += r["output_tokens"]
    rows = query(month.published, "select usage_date, provider, sum(output_tokens) from fct_usage_daily group by all")
    assert {(d, p): int(v) for d, p, v in rows} == dict(expected)


def test_planted_bad_records_are_quarantined_with_line_and_reason(month: Month) -> None:
    rows = query(month.private, "select line_number, reason from raw.quarantine where file_path = ? order by 1",
                 [str(month.bad_file.resolve())])
    assert dict(rows) == month.bad_lines
    landed = query(month.private, "select count(*) from raw.canonical_events where _batch_id in "
                   "(select batch_id from raw.load_batches where file_path = ?)", [str(month.bad_file.resolve())])[0][0]
    assert landed == month.good_in_bad_file
    batch = query(month.private, "select rows_landed, rows_quarantined from raw.load_batches where file_path = ?",
                  [str(month.bad_file.resolve())])
    assert batch == [(month.good_in_bad_file, len(month.bad_lines))]


def test_every_landed_record_is_accounted_for(month: Month) -> None:
    """Lines in = records landed + quarantined + skipped as re-delivered duplicates, per file."""
    batches = query(month.private, "select file_path, rows_landed, rows_quarantined, rows_skipped "
                                   "from raw.load_batches where source_format = 'canonical'")
    seen: set[tuple[str, str]] = set()
    for file_path, landed, quarantined, skipped in sorted(batches):
        lines = [line for line in Path(file_path).read_text(encoding="utf-8").splitlines() if line.strip()]
        assert landed + quarantined + skipped == len(lines), file_path
        if quarantined == 0:  # a generated file: its duplicates are the requests seen before
            records = [json.loads(line) for line in lines]
            keys = [(r["provider"], r["request_id"]) for r in records]
            duplicates = 0
            for key in keys:
                duplicates += key in seen
                seen.add(key)
            assert skipped == duplicates, file_path


def test_landing_twice_changes_nothing(month: Month) -> None:
    before = query(month.private, "select (select count(*) from raw.canonical_events), "
                                  "(select count(*) from raw.quarantine), (select count(*) from raw.load_batches)")
    result = run_cli(month.home, "land", str(month.inputs), str(month.bad_file))
    assert "landed 0 records from 0 files; skipped 35 files already landed" in result.out
    after = query(month.private, "select (select count(*) from raw.canonical_events), "
                                 "(select count(*) from raw.quarantine), (select count(*) from raw.load_batches)")
    assert after == before


def test_every_warehouse_table_is_a_dbt_node_and_the_macros_are_few_and_documented(month: Month) -> None:
    """Outside `raw` and `audit` (the CLI's), every table and view of the private warehouse is
    a node of dbt's graph: no state kept behind dbt's back; at most 14 macro files, each
    documented in macros/_macros.yml."""
    manifest = json.loads((month.home / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8"))
    owned = {(n["schema"], n.get("alias") or n["name"]) for n in manifest["nodes"].values()
             if n["resource_type"] in {"model", "seed", "snapshot"}}
    tables = set(query(month.private, "select schema_name, table_name from duckdb_tables() "
                                      "union all select schema_name, view_name from duckdb_views() "
                                      "where not internal"))
    assert {t for t in tables if t[0] not in {"raw", "audit", "main"}} - owned == set()
    assert {t for t in tables if t[0] == "main"} == set()

    macros = Path(__file__).parents[2] / "macros"
    files = {p.stem for p in macros.glob("*.sql")}
    documented = {m["name"] for m in yaml.safe_load((macros / "_macros.yml").read_text(encoding="utf-8"))["macros"]}
    assert len(files) <= 14
    assert files == documented


def test_usage_attributed_to_the_team_at_the_time(month: Month) -> None:
    import csv

    with (month.inputs / "people.csv").open(encoding="utf-8") as handle:
        directory = list(csv.DictReader(handle))
    history: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for row in directory:
        history[row["email"]].append((dt.date.fromisoformat(row["valid_from"]), row["team_id"]))
    movers = {email for email, rows in history.items() if len(rows) > 1}
    assert len(movers) > 50  # ~10% of 1,000 people change team during the month
    rows = query(month.private, "select user_email, occurred_at, team_id from restricted.fct_usage_events "
                                "where user_email in (select unnest(?))", [sorted(movers)])
    assert rows
    for email, occurred_at, team_id in rows:
        in_force = [team for start, team in sorted(history[email]) if start <= occurred_at.date()]
        assert team_id == in_force[-1]


def test_unknown_people_are_unattributed_not_dropped(month: Month) -> None:
    rows = query(month.private, "select count(*) from restricted.fct_usage_events where team_id = 'unattributed'")
    assert rows[0][0] > 0


def test_unreadable_file_is_quarantined_whole_and_not_tried_again(month: Month, tmp_path: Path) -> None:
    """A file that is not Parquet, and one whose JSON column holds a byte that is not UTF-8
    (fuzz seed 2402: DuckDB's message quotes it, and Python could not decode the message, so
    `land` stopped with a traceback)."""
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\x00\x17garbage" * 40)
    tagged = tmp_path / "tagged.parquet"
    duckdb.execute(f"""copy (select 'pq-1' as request_id, timestamp '2026-10-05 10:00:00' as occurred_at,
        'anthropic' as provider, 'claude-sonnet-4-6' as model, 'tagged@corp.example' as user_email,
        10 as input_tokens, 5 as output_tokens, '{{"project":"alpha"}}'::json as tags)
        to '{tagged}' (format parquet, compression uncompressed)""")
    tagged.write_bytes(tagged.read_bytes().replace(b'"project"', b'"pro\xadect"'))
    before = query(month.private, "select count(*) from raw.canonical_events")[0][0]
    result = run_cli(month.home, "land", str(broken), str(tagged))  # bad input is not a failure of the command
    assert "broken.parquet" in result.err and "quarantined" in result.err and "Traceback" not in result.err
    assert "tagged.parquet" in result.err and "alpha" not in result.err
    assert result.err.strip().count("\n") == 1
    assert query(month.private, "select count(*) from raw.canonical_events")[0][0] == before
    rows = query(month.private, "select line_number, reason from raw.quarantine where file_path like '%broken.parquet'")
    assert len(rows) == 1 and rows[0][0] is None and rows[0][1].startswith("cannot be read")
    assert query(month.private, "select line_number, reason from raw.quarantine where file_path like '%tagged.parquet'"
                 ) == [(None, "cannot be read (bytes that are not UTF-8 where text belongs)")]
    again = run_cli(month.home, "land", str(broken), str(tagged)).out
    assert "skipped 2 files quarantined whole before" in again and "quarantined 0 records" in again


def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "land", str(tmp_path / "nope.jsonl"), check=False)
    assert result.code != 0
    assert result.err.strip().count("\n") == 0 and "nope.jsonl" in result.err


@pytest.mark.parametrize("setting", [
    "TOKEN_LEDGER_ENV=production", "TOKEN_LEDGER_MIN_GROUP_SIZE=0", "TOKEN_LEDGER_MEMORY_LIMIT=4",
    "TOKEN_LEDGER_RETENTION_DAYS=ninety", "TOKEN_LEDGER_EARLIEST_DATE=2026-13-01", "TOKEN_LEDGER_TARGET=prod"])
def test_a_bad_setting_is_a_configuration_error_before_anything_runs(tmp_path: Path, setting: str) -> None:
    """README, exit codes: 2 is bad configuration, one line naming it. Each of these made a
    step fail later (exit 1 or 3: k as the build started, the retention period after the
    publish), or, for `production`, ran quietly as dev, with a generated key."""
    name, value = setting.split("=")
    home, people = tmp_path / "home", tmp_path / "people.csv"
    people.write_text("email,full_name,employee_id,team_id,team_name,cost_center,manager_email,valid_from\n"
                      "ada@corp.example,Ada Example,E1,T-PLATFORM,Platform,CC-ENG,,2025-01-01\n")
    result = run_cli(home, "run", str(people), env={name: value}, check=False)
    assert result.code == 2, result
    assert result.err.strip().splitlines() == [result.err.strip()] and result.err.startswith(f"error: {name} ")
    assert not (home / "token_ledger.duckdb").exists()  # nothing ran


def test_published_file_holds_only_public_marts(month: Month) -> None:
    tables = {r[0] for r in query(month.published, "select table_name from information_schema.tables")}
    assert {"fct_usage_daily", "dim_models"} <= tables
    assert not tables & {"fct_usage_events", "canonical_events", "people", "quarantine"}


def test_run_log_records_each_run(month: Month) -> None:
    rows = query(month.private, "select status, published, step_seconds from audit.run_log")
    assert rows and rows[0][0] == "succeeded" and rows[0][1] is True
    assert all(step in rows[0][2] for step in ["land", "build", "validate", "publish"])


def test_canonical_csv_and_parquet_land_like_jsonl(tmp_path: Path) -> None:
    totals = {}
    for fmt in ("canonical", "canonical-csv", "canonical-parquet"):
        home, inputs = tmp_path / fmt / "home", tmp_path / fmt / "in"
        run_cli(home, "generate", "--out", str(inputs), "--users", "40", "--days", "5", "--format", fmt)
        run_cli(home, "land", str(inputs))
        totals[fmt] = query(home / "token_ledger.duckdb",
                            "select count(*), sum(input_tokens), sum(cache_read_tokens), min(occurred_at), "
                            "count(distinct lower(user_email)), count(tags) from raw.canonical_events")
    assert totals["canonical"] == totals["canonical-csv"] == totals["canonical-parquet"]


def test_bad_csv_rows_are_quarantined_with_their_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "usage.csv"
    source.write_text(
        "request_id,occurred_at,provider,model,user_email,input_tokens,output_tokens\n"
        "r1,2026-10-01T10:00:00Z,anthropic,claude-sonnet-4-6,a.b@corp.example,10,20\n"
        "r2,2026-10-01T10:00:00Z,anthropic,claude-sonnet-4-6,a.b@corp.example,-3,20\n"
        "r3,2026-10-01T10:00:00Z,anthropic,claude-sonnet-4-6,a.b@corp.example,10,20,surplus\n"
        "r4,not-a-time,anthropic,claude-sonnet-4-6,a.b@corp.example,10,20\n"
        "r5,2026-10-01T11:00:00Z,openai,gpt-5.5,a.b@corp.example,1,2\n",
        encoding="utf-8",
    )
    result = run_cli(home, "land", str(source))
    assert "landed 2 records" in result.out and "quarantined 3 records" in result.out
    rows = query(home / "token_ledger.duckdb", "select line_number, reason from raw.quarantine order by 1")
    assert [r[0] for r in rows] == [3, 4, 5]
    assert rows[0][1] == "field 'input_tokens' is negative"
    assert rows[1][1].startswith("malformed CSV row")
    assert rows[2][1] == "field 'occurred_at' is not an ISO-8601 timestamp"
    landed = query(home / "token_ledger.duckdb", "select request_id, _line from raw.canonical_events order by 1")
    assert landed == [("r1", 2), ("r5", 6)]


def test_people_file_with_missing_column_cannot_be_read(tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("email,full_name,team_id\nx@corp.example,X,T1\n", encoding="utf-8")
    result = run_cli(tmp_path / "home", "land", "--format", "people", str(bad))
    assert "missing required column(s): valid_from" in result.err and "quarantined" in result.err
    assert query(tmp_path / "home" / "token_ledger.duckdb", "select count(*) from raw.people") == [(0,)]


def test_generate_is_deterministic(tmp_path: Path) -> None:
    for fmt in ("canonical", "canonical-csv", "canonical-parquet"):
        digests = []
        for attempt in ("a", "b"):
            out = tmp_path / fmt / attempt
            run_cli(tmp_path / "home", "generate", "--out", str(out), "--users", "30", "--days", "3", "--seed",
                    "11", "--format", fmt)
            digests.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
        assert digests[0] == digests[1], fmt
    shutil.rmtree(tmp_path / "canonical")


def test_file_names_with_glob_characters_land_their_own_records(tmp_path: Path) -> None:
    """DuckDB's file readers take glob patterns: `usage[1].jsonl` must be read as itself, not as
    `usage1.jsonl` beside it (both landing paths, and a CSV file whose pattern matches nothing),
    and a name with a backslash as itself."""
    home, generated, inputs = tmp_path / "home", tmp_path / "generated", tmp_path / "in"
    run_cli(home, "generate", "--out", str(generated), "--users", "12", "--days", "2")
    lines = [line for day in sorted(generated.glob("usage-*.jsonl")) for line in day.read_text().splitlines()]
    quarter = len(lines) // 4
    inputs.mkdir()
    files = {  # name: its lines
        "usage[1].jsonl": lines[:quarter],  # the bulk pass, beside a file its name matches as a pattern
        "usage1.jsonl": lines[quarter:2 * quarter],
        "late[2].jsonl": [*lines[2 * quarter:3 * quarter], "{not json"],  # the careful path
        "late2.jsonl": lines[3 * quarter:],
        # a Windows path unzipped here is one name holding backslashes: beside glob characters too
        "logs\\2026\\usage[1].jsonl": [line.replace('"request_id":"', '"request_id":"w-') for line in lines[:2]],
        "logs\\late[2].jsonl": [lines[2].replace('"request_id":"', '"request_id":"w-'), "{not json"],
    }
    for name, content in files.items():
        (inputs / name).write_text("".join(f"{line}\n" for line in content), encoding="utf-8")
    shutil.copy(generated / "people.csv", inputs / "people[all].csv")
    run_cli(home, "land", str(inputs))
    db = home / "token_ledger.duckdb"
    for name, content in files.items():
        expected = sorted(json.loads(line)["request_id"] for line in content if line.startswith('{"'))
        landed = query(db, "select request_id from raw.canonical_events where _batch_id in "
                       "(select batch_id from raw.load_batches where file_path = ?) order by 1",
                       [str((inputs / name).resolve())])
        assert [r[0] for r in landed] == expected, name
    assert sorted(query(db, "select file_path, line_number from raw.quarantine")) == [
        (str((inputs / "late[2].jsonl").resolve()), quarter + 1), (str((inputs / "logs\\late[2].jsonl").resolve()), 2)]
    people = len((generated / "people.csv").read_text().splitlines()) - 1
    assert query(db, "select count(*) from raw.people")[0][0] == people


OLD_CLIENT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select sum(requests), sum(total_tokens), sum(cost_usd)::varchar from fct_usage_daily").fetchone())
"""
# what a BI tool does through duckdb-engine (docs/bi.md): list the tables and columns, then query
SQLALCHEMY_CLIENT = """
import sys, sqlalchemy
engine = sqlalchemy.create_engine(f"duckdb:///{sys.argv[1]}?access_mode=read_only")
inspector = sqlalchemy.inspect(engine)
print("fct_usage_daily" in inspector.get_table_names(schema="main"))
print([c["name"] for c in inspector.get_columns("fct_usage_daily", schema="main")][:3])
with engine.connect() as con:
    print(tuple(con.execute(sqlalchemy.text(
        "select sum(requests), sum(total_tokens), sum(cost_usd)::varchar from fct_usage_daily")).fetchone()))
"""


def test_the_published_file_opens_in_duckdb_1_4_and_1_5(month: Month, tmp_path: Path) -> None:
    """BI drivers and other languages' packages embed older DuckDB builds than the project's;
    with 1.4 also the SQLAlchemy path of the BI recipe (docs/bi.md): duckdb-engine 0.17.0."""
    expected = query(month.published, "select sum(requests), sum(total_tokens), sum(cost_usd)::varchar "
                                      "from fct_usage_daily")[0]
    for version, extra in (("1.4.5", ["duckdb-engine==0.17.0", "SQLAlchemy==1.4.54"]), ("1.5.*", [])):
        venv = tmp_path / f"duckdb-{version[:3]}"
        # without pip of its own: this venv's pip installs into it (as in test_dbt_versions)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                        "--no-compile", "--disable-pip-version-check", f"duckdb=={version}", *extra], check=True)
        done = subprocess.run([str(venv / "bin" / "python"), "-c", OLD_CLIENT, str(month.published)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-500:]
        assert done.stdout.strip() == str(expected), version
        if extra:
            done = subprocess.run([str(venv / "bin" / "python"), "-c", SQLALCHEMY_CLIENT, str(month.published)],
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr[-500:]
            assert done.stdout.split("\n")[:3] == [
                "True", "['usage_date', 'team_id', 'cost_center']", str(expected)]


def test_the_dashboard_shows_a_month_of_1000_people_in_a_browser(month: Month, tmp_path: Path) -> None:
    from browser import assert_dashboard_equals_marts

    shown = assert_dashboard_equals_marts(month.home, tmp_path / "browser")
    assert len(shown["by_title"]["Spend per day by cost centre"]["traces"]) > 10  # a real organisation's spread


def test_one_line_messages_carry_no_quoted_values_or_terminal_colours() -> None:
    from token_ledger.errors import one_line

    # what dbt says when a unit test fails, as it colours it, and a message quoting a value
    assert one_line("\x1b[32mactual\x1b[0m differs from \x1b[31mexpected\x1b[0m:\n| a |") == (
        "actual differs from expected:")
    assert one_line("Conversion Error: could not convert 'ada@corp.example' to INT64") == (
        "Conversion Error: could not convert … to INT64")
