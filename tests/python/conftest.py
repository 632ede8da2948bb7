"""Shared fixtures: run the real CLI (a subprocess) against temporary home folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from operations import OperationsMonth


@dataclass
class Result:
    code: int
    out: str
    err: str


# what landing says of a LiteLLM record whose metadata holds a count that is not a whole number
LITELLM_COUNT_REASON = ("field 'metadata' holds a cached token, web search or audio token count that is not a "
                        "whole number")


def run_cli(home: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> Result:
    full_env = {**os.environ, "TOKEN_LEDGER_HOME": str(home), **(env or {})}
    for parses in SAVED_PARSES:
        full_env["DBT_PARTIAL_PARSE_FILE_PATH"] = parses.path_for(full_env)
    done = subprocess.run([sys.executable, "-m", "token_ledger.cli", *args], capture_output=True, text=True,
                          env=full_env, check=False)
    result = Result(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        raise AssertionError(f"token-ledger {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return result


def project_copy(target: Path, seeds: dict[str, str] | None = None) -> Path:
    """A copy of the dbt project (for TOKEN_LEDGER_PROJECT_DIR) with some seed files replaced."""
    from token_ledger.config import project_dir

    source = project_dir()
    target.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(source / name, target / name)
    for name in ("models", "macros", "seeds", "tests/generic", "tests/singular"):
        shutil.copytree(source / name, target / name)
    for name, text in (seeds or {}).items():
        (target / "seeds" / name).write_text(text, encoding="utf-8")
    return target


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


TOKEN_FIELDS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                "cache_write_1h_tokens"]


def read_jsonl(paths: Iterable[Path]) -> list[dict]:
    records = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle if line.strip()]
    return records


def dedup(records: list[dict]) -> list[dict]:
    """First record per (provider, request_id): at-least-once delivery counted once."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for record in records:
        key = (record["provider"].lower(), record["request_id"])
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


@dataclass
class Month:
    """A generated month of 1,000 people, with its Anthropic and OpenAI bills (one model-day
    overcharged: inputs/bills/MISPRICED.txt), run through the whole pipeline."""

    home: Path
    inputs: Path
    bad_file: Path
    bad_lines: dict[int, str]
    good_in_bad_file: int

    @property
    def private(self) -> Path:
        return self.home / "token_ledger.duckdb"

    @property
    def published(self) -> Path:
        return self.home / "analytics.duckdb"


BAD_RECORDS = {
    # line number -> (record text, expected reason)
    2: ('{"request_id": "bad-1", "occurred_at": "2026-10-05T10:00:00Z", "provider": "anthropic"',
        "invalid JSON"),
    3: ('{"request_id": "bad-2", "occurred_at": "2026-10-05T10:00:00Z", "provider": "anthropic", '
        '"user_email": "ada.abara.00001@corp.example", "input_tokens": 5, "output_tokens": 5}',
        "missing required field 'model'"),
    5: ('{"request_id": "bad-3", "occurred_at": "2026-10-05T10:00:00Z", "provider": "openai", "model": "gpt-5.5", '
        '"user_email": "ada.abara.00001@corp.example", "input_tokens": -40, "output_tokens": 5}',
        "field 'input_tokens' is negative"),
    6: ('{"request_id": "bad-4", "occurred_at": "2026-10-05T10:00:00Z", "provider": "openai", "model": "gpt-5.5", '
        '"user_email": "ada.abara.00001@corp.example", "input_tokens": 12.5, "output_tokens": 5}',
        "field 'input_tokens' is not a whole number"),
    8: ('{"request_id": "bad-5", "occurred_at": "yesterday at noon", "provider": "openai", "model": "gpt-5.5", '
        '"user_email": "ada.abara.00001@corp.example", "input_tokens": 1, "output_tokens": 5}',
        "field 'occurred_at' is not an ISO-8601 timestamp"),
    9: ('[1, 2, 3]', "record is not a JSON object"),
    10: ('{"request_id": "bad-6", "occurred_at": "2026-10-05T10:00:00Z", "provider": "openai", "model": "gpt-5.5", '
         '"user_email": "ada.abara.00001@corp.example", "input_tokens": 1, "output_tokens": "many"}',
         "field 'output_tokens' is not a whole number"),
}
GOOD_RECORD = ('{{"request_id": "good-{n}", "occurred_at": "2026-10-05T10:00:0{n}+02:00", "provider": "anthropic", '
               '"model": "claude-sonnet-4-6", "user_email": "extra.user@partner.example", "input_tokens": 100, '
               '"output_tokens": 50, "cache_read_tokens": 1000}}')


def write_bad_file(path: Path) -> tuple[dict[int, str], int]:
    lines = []
    good = 0
    for number in range(1, 12):
        if number in BAD_RECORDS:
            lines.append(BAD_RECORDS[number][0])
        elif number == 7:
            lines.append("")  # blank lines are not records
        else:
            good += 1
            lines.append(GOOD_RECORD.format(n=good))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {n: reason for n, (_, reason) in BAD_RECORDS.items()}, good


class SavedParses:
    """The project parsed once per pytest worker and value of k, for every home the tests make.

    A new home's first build parses the whole project (about 5 s on 2 cores), and the suite
    makes about a hundred homes. dbt reads a saved parse from DBT_PARTIAL_PARSE_FILE_PATH and
    parses again only what differs from it; a k of its own (TOKEN_LEDGER_MIN_GROUP_SIZE) is
    such a difference, costing nearly a whole parse, so each k gets its own saved parse. The
    builds are the same as without: only the parsing is done once instead of in every home."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: dict[str, str] = {}

    def path_for(self, env: Mapping[str, str]) -> str:
        from token_ledger.config import Home
        from token_ledger.dbt_runner import run_dbt

        k = env.get("TOKEN_LEDGER_MIN_GROUP_SIZE", "")
        if k not in self.paths:
            home = Home.resolve(str(self.root / f"k{k}"))
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv("DBT_PARTIAL_PARSE_FILE_PATH", raising=False)
                if k:
                    patch.setenv("TOKEN_LEDGER_MIN_GROUP_SIZE", k)
                else:
                    patch.delenv("TOKEN_LEDGER_MIN_GROUP_SIZE", raising=False)
                assert run_dbt(home, ["parse"], quiet=True) == 0
            self.paths[k] = str(home.root / "dbt" / "target" / "partial_parse.msgpack")
        return self.paths[k]


SAVED_PARSES: list[SavedParses] = []  # this worker's, once the session has begun


@pytest.fixture(scope="session", autouse=True)
def saved_parses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SavedParses]:
    """`run_cli` hands dbt the saved parse for its k; dbt started otherwise gets the default k's."""
    parses = SavedParses(tmp_path_factory.mktemp("parsed"))
    SAVED_PARSES.append(parses)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_PARTIAL_PARSE_FILE_PATH", parses.path_for(os.environ))
        yield parses
    SAVED_PARSES.remove(parses)


@pytest.fixture(scope="session")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    root = tmp_path_factory.mktemp("month")
    home, inputs = root / "home", root / "input"
    run_cli(home, "generate", "--out", str(inputs), "--users", "1000", "--days", "31", "--seed", "7",
            "--mispriced-bill")
    bad_dir = root / "bad"
    bad_dir.mkdir()
    bad_file = bad_dir / "late-delivery.jsonl"
    bad_lines, good = write_bad_file(bad_file)
    run_cli(home, "run", str(inputs), str(bad_file))
    return Month(home=home, inputs=inputs, bad_file=bad_file, bad_lines=bad_lines, good_in_bad_file=good)


@pytest.fixture(scope="session")
def ops_month(tmp_path_factory: pytest.TempPathFactory) -> OperationsMonth:
    from operations import operations_month as build

    return build(tmp_path_factory.mktemp("operations"))


# Work units for pytest-xdist's two workers: a module each, except modules that share a
# session-scoped fixture, which run on one worker so that it is made once (each worker makes
# its own: the `month` run took 30-34 s on each worker, `ops_month` 19-28 s). (Its own
# `--dist loadgroup` does not group under pytest 9: xdist 3.8 renames `item._nodeid`, which
# pytest 9 no longer reads.)
GROUPS = {
    "test_foundation.py": "month", "test_pricing.py": "month",
    "test_operations.py": "ops_month", "test_scheduled_runs.py": "ops_month",
}
# Units in decreasing running time (seconds, the sums of --durations=0 on 2 cores, 2026-12-04,
# with scheduled builds leaving unchanged seeds and views out), taken in this order
# (--no-loadscope-reorder), so that the two workers finish together: each takes the next unit
# as it finishes one. Unlisted units run last.
SLOWEST_FIRST = {
    "ops_month": 340,
    "test_privacy.py": 190,
    "month": 110,
    "test_sources.py": 110,
    "test_poison_pills.py": 105,
    "test_finops.py": 95,
    "test_dbt_process.py": 80,
    "test_outcomes.py": 60,
    "test_attacks.py": 60,
    "test_bench.py": 55,
    "test_demo.py": 45,
    "test_dbt_versions.py": 35,
    "test_landing_bulk.py": 35,
    "test_registry.py": 30,
}


def _unit(path: str) -> str:
    name = path.split("::")[0].rsplit("/", 1)[-1]
    return GROUPS.get(name, name)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class ByUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return ByUnit(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid), len(rank)))
