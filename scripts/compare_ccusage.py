"""Token Ledger against ccusage on the same generated Claude Code transcripts.

    .venv/bin/python scripts/compare_ccusage.py [--users 200] [--days 30] [--per-person] [--keep]

Generates transcripts (`token-ledger generate --format claude-code-jsonl`), then:
- ccusage 20.0.24 (npm; a comparison tool only, run with npx) reads them as Claude Code's
  config folder (`CLAUDE_CONFIG_DIR/projects/...`): `ccusage claude daily --json --offline -z UTC`;
- Token Ledger lands them into a fresh home and builds, as `token-ledger run` does (dbt gets
  ready while the files land; the build runs the data tests): by default everyone's in one call,
  each folder its person's (`token-ledger land --owners transcript-users.csv`); with
  `--per-person`, each person's folder with its own `--user` (one landing call per person).
Prints both tools' token totals per token type (they must be identical: both count a message
once per message id + request id) and both wall times. Needs node/npm on the PATH.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from token_ledger.config import Home
from token_ledger.dbt_runner import Dbt, build, run_dbt
from token_ledger.landing import land_paths

T = TypeVar("T")
CCUSAGE = "ccusage@20.0.24"
TYPES = {"input": "inputTokens", "output": "outputTokens", "cache_write": "cacheCreationTokens",
         "cache_read": "cacheReadTokens"}


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.monotonic()
    result = action()
    return result, time.monotonic() - start


def ccusage_totals(transcripts: Path, work: Path) -> tuple[dict[str, int], float]:
    config = work / "claude-config"
    config.mkdir()
    (config / "projects").symlink_to(transcripts.resolve())
    npx = shutil.which("npx")
    if not npx:
        sys.exit("error: npx (Node.js) is needed to run ccusage")
    subprocess.run([npx, "--yes", CCUSAGE, "--version"], check=True, capture_output=True)  # install first
    done, seconds = _timed(lambda: subprocess.run(
        [npx, "--yes", CCUSAGE, "claude", "daily", "--json", "--offline", "-z", "UTC"],
        env={**os.environ, "CLAUDE_CONFIG_DIR": str(config)}, check=True, capture_output=True, text=True))
    days = json.loads(done.stdout)["daily"]
    return {name: sum(day[key] for day in days) for name, key in TYPES.items()}, seconds


def ledger_totals(inputs: Path, work: Path, per_person: bool) -> tuple[dict[str, int], float, float]:
    home = Home.resolve(str(work / "home"))
    with (inputs / "transcript-users.csv").open(encoding="utf-8") as handle:
        users = {row["folder"]: row["user_email"] for row in csv.DictReader(handle)}

    def land() -> None:
        land_paths(home, [str(inputs / "people.csv")])
        if not per_person:  # everyone's in one call
            land_paths(home, [str(inputs / "claude-code-jsonl")], owners=str(inputs / "transcript-users.csv"))
            return
        for folder in sorted((inputs / "claude-code-jsonl").iterdir()):
            land_paths(home, [str(folder)], user=users[folder.name])

    run_dbt(home, ["parse"], quiet=True)  # once, untimed, as in any deployment (as `token-ledger bench`)
    with Dbt(home) as dbt:  # as `token-ledger run` does: dbt gets ready while the files land
        _, land_seconds = _timed(land)
        code, build_seconds = _timed(lambda: build(home, [], dbt=dbt))
    if code != 0:
        sys.exit(f"error: the build failed (exit {code}); see {home.root / 'dbt' / 'logs' / 'dbt.log'}")
    con = duckdb.connect(str(home.private_db), read_only=True)
    try:
        row = con.execute("""
            select sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens),
                   sum(cache_read_tokens)
            from restricted.fct_usage_events where source_format = 'claude-code-jsonl'""").fetchone()
    finally:
        con.close()
    return dict(zip(TYPES, (int(v or 0) for v in row), strict=True)), land_seconds, build_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and the home")
    parser.add_argument("--per-person", action="store_true",
                        help="land each person's folder with its own --user (one call per person)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="compare-ccusage-"))
    try:
        inputs = work / "in"
        subprocess.run([sys.executable, "-m", "token_ledger.cli", "generate", "--out", str(inputs), "--users",
                        str(args.users), "--days", str(args.days), "--format", "claude-code-jsonl"],
                       check=True, capture_output=True)
        files = sorted((inputs / "claude-code-jsonl").rglob("*.jsonl"))
        lines = sum(sum(1 for _ in f.open("rb")) for f in files)
        size = sum(f.stat().st_size for f in files)
        theirs, ccusage_seconds = ccusage_totals(inputs / "claude-code-jsonl", work)
        ours, land_seconds, build_seconds = ledger_totals(inputs, work, args.per_person)
        print(f"{lines:,} transcript lines in {len(files):,} files, {size / 1e6:,.1f} MB")
        print(f"{'tokens':<12}{'ccusage':>16}{'token-ledger':>16}  same")
        for name in TYPES:
            print(f"{name:<12}{theirs[name]:>16,}{ours[name]:>16,}  {'yes' if theirs[name] == ours[name] else 'NO'}")
        ledger_seconds = land_seconds + build_seconds
        print(f"wall time: ccusage {ccusage_seconds:.1f} s; token-ledger {ledger_seconds:.1f} s (land "
              f"{land_seconds:.1f} s + build {build_seconds:.1f} s), {ledger_seconds / ccusage_seconds:.1f}x")
        return 0 if theirs == ours else 1
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
