"""Bad input never stops the warehouse: generated inputs of every format, broken at random.

    .venv/bin/python scripts/fuzz_inputs.py [--seeds 10] [--first 1] [--rounds 2] [--keep]

Generates a small organisation once (`token-ledger generate`: canonical with bills and
outcomes, canonical CSV and Parquet, Claude Code OTel logs and transcripts, LiteLLM spend logs,
also as JSON Lines; and the fixtures of provider usage reports and key owners), then, for
each seed and round, copies it and breaks every file (people.csv too) the ways exports break:
most keep their shape and get JSON values of another type or shape (a number by an object, a
negative, a decimal, a string, a huge number; a field removed), or CSV cells likewise; the
others also get a byte changed, a line cut, doubled, emptied or removed, or are cut short.
Some are then gzipped or zstd-compressed (`.gz`, `.zst`; OpenTelemetry files also as a
Collector frames them with zstd), a few of those cut short.
Each round lands its copy into the seed's home and runs `token-ledger run` (the second lands
the same requests again, some changed), under a k chosen again (1-3), after erasing a person
about every other round. It checks what the contract promises: every command exits 0, prints
no traceback and no email address, every line of a per-record file is landed, quarantined or
skipped, no text file is quarantined whole because a reader failed on it, no erased address
is left in any table of the private warehouse, and the incremental tables the runs left equal
a full refresh. Prints one line per seed (`ok`, or
what failed, with the command's output); exits 1 when a seed failed. About a minute per seed
(two rounds) on 2 cores. Not part of `make test`:
each defect it found became a test of its own (tests/python/test_poison_pills.py,
test_scheduled_runs.py, test_registry.py).
"""

from __future__ import annotations

import argparse
import copy
import csv
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import zstandard

FORMATS = ("canonical", "canonical-csv", "canonical-parquet", "claude-code-otel", "claude-code-jsonl",
           "litellm-spendlogs")
# formats `generate` does not write: their fixtures, broken like the rest
FIXTURES = ("anthropic-usage-report/page-1.json", "anthropic-usage-report/page-2.json", "openai-usage/page-1.json",
            "api-key-owners/owners.csv", "anthropic-cost-report/analytics-cost.jsonl",
            "bedrock-invocation-logs/invocations.jsonl")
VALUES = [None, True, 0, -1, 1.5, 10**20, "", "12", " 5 ", "x" * 5000, [], [1], {}, {"a": 1}, "1e3", "NaN",
          "2026-13-45T99:00:00Z", "2026-10-02", "2026-10-02T10:00:00+14:00", "é", "\u0000", 2**63, "null"]
# optional fields a record may carry that the generated ones do not (added with a value of VALUES)
OPTIONAL = ("speed", "inference_geo", "web_search_requests", "service_tier", "api_base", "cache_hit",
            "input_audio_tokens", "output_audio_tokens")
OWNERS = "transcript-users.csv"
INCREMENTAL = ("restricted.fct_usage_events", "restricted.fct_person_usage_daily", "marts.fct_usage_daily",
               "marts.fct_focus_costs")
PER_RECORD = ("canonical", "litellm-spendlogs", "claude-code-jsonl")  # one record per line (CSV: per row)
PACKED = {".gz": (gzip.compress, gzip.decompress),
          ".zst": (lambda data: zstandard.ZstdCompressor().compress(data),
                   lambda data: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
                   .read())}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "token_ledger.cli", *args], capture_output=True, text=True)


def _leaves(doc: object, path: tuple = ()) -> list[tuple]:
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    return [leaf for key, value in children for leaf in _leaves(value, (*path, key))] + ([path] if path else [])


def _json_line(rng: random.Random, line: str) -> str:
    try:
        doc = json.loads(line)
    except ValueError:
        return line
    if isinstance(doc, dict) and rng.random() < 0.2:
        doc[rng.choice(OPTIONAL)] = copy.deepcopy(rng.choice([*VALUES, "fast", "us", "True", 3]))
    for _ in range(rng.randrange(1, 3)):
        if not (paths := _leaves(doc)):
            break
        *parents, last = rng.choice(paths)
        parent = doc
        for key in parents:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.15:
            del parent[last]
        else:
            parent[last] = copy.deepcopy(rng.choice(VALUES))
    return json.dumps(doc)


def _byte_line(rng: random.Random, line: str) -> str:
    if not line:
        return "\ufffd"
    i = rng.randrange(len(line))
    return rng.choice([line[:i], line[:i] + chr(rng.randrange(1, 0x2FFF)) + line[i + 1:], line + "," + line,
                       line[:i] + "\x00" + line[i:], line.replace('"', "'", 1), line.replace("2026", "9999", 1)])


def _csv(rng: random.Random, text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(rng.randrange(1, 12)):
        row = rows[rng.randrange(1, len(rows)) if len(rows) > 1 else 0]
        row[rng.randrange(len(row))] = str(rng.choice(VALUES)) if rng.random() < 0.8 else ""
        if rng.random() < 0.1:
            row.append("extra")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _lines(rng: random.Random, text: str, values_only: bool) -> str:
    lines = text.split("\n")
    for _ in range(rng.randrange(1, 16)):
        j, choice = rng.randrange(len(lines)), 0.0 if values_only else rng.random()
        if choice < 0.5:
            lines[j] = _json_line(rng, lines[j])
        elif choice < 0.75:
            lines[j] = _byte_line(rng, lines[j])
        elif choice < 0.9:
            lines.insert(j, lines[j] if rng.random() < 0.5 else "")
        elif len(lines) > 1:
            lines.pop(j)
    return "\n".join(lines)


def _bytes(rng: random.Random, data: bytes) -> bytes:
    """A binary file (Parquet) as copies break it: cut short or a few bytes changed."""
    if rng.random() < 0.5:
        return data[: rng.randrange(len(data) + 1)]
    changed = bytearray(data)
    for _ in range(rng.randrange(1, 8)):
        changed[rng.randrange(len(changed))] = rng.randrange(256)
    return bytes(changed)


def break_files(rng: random.Random, folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != OWNERS)
    for path in files:
        # most files keep their shape and get values of another kind (a broken shape hides them)
        values_only = rng.random() < 0.7
        if path.suffix == ".parquet":
            if not values_only:
                path.write_bytes(_bytes(rng, path.read_bytes()))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json" and values_only:  # one document (a report page): a value or two
            text = _json_line(rng, json.dumps(json.loads(text)))
        elif path.suffix == ".csv":
            text = _csv(rng, text)
        else:
            text = _lines(rng, text, values_only)
        if not values_only and rng.random() < 0.2:
            text = text[: rng.randrange(len(text) + 1)]
        path.write_text(text, encoding="utf-8")
        if rng.random() < 0.15:
            _pack(rng, path)


def _pack(rng: random.Random, path: Path) -> None:
    """The file as object stores and log shippers keep one: gzipped or zstd-compressed under
    its name and `.gz` or `.zst`; an OpenTelemetry file, half the time, as a Collector's file
    exporter writes it with `compression: zstd` (each line compressed, after its length, under
    the same name); now and then cut short."""
    suffix = rng.choice(sorted(PACKED))
    if path.name.startswith("claude-code-otel") and rng.random() < 0.5:
        frames = [zstandard.ZstdCompressor().compress(line) for line in path.read_bytes().split(b"\n") if line]
        data, target = b"".join(len(frame).to_bytes(4, "big") + frame for frame in frames), path
    else:
        data, target = PACKED[suffix][0](path.read_bytes()), path.with_name(path.name + suffix)
    if rng.random() < 0.1:
        data = data[: rng.randrange(len(data) + 1)]
    path.unlink()
    target.write_bytes(data)


def _failed_reads(home: Path) -> list[str]:
    """Files of text formats quarantined whole because a reader failed on them (DuckDB's error,
    `cannot be read (... error ...)`): a bad line or value must quarantine that line, and the
    file's other lines land. A Parquet file that cannot be read is quarantined whole, rightly."""
    with duckdb.connect(str(home / "token_ledger.duckdb"), read_only=True) as con:
        rows = con.execute("select file_path, reason from raw.quarantine where line_number is null "
                           "and reason like 'cannot be read (%error%'").fetchall()
    return [f"{Path(name).name}: quarantined whole ({reason})" for name, reason in rows]


def _unaccounted(home: Path) -> list[str]:
    """Per-record files whose lines (rows) are not all landed, quarantined or skipped. A file
    quarantined whole (one quarantine row without a line: a CSV header missing a required
    column, a file that cannot be read) is accounted for by that row, whatever its lines."""
    with duckdb.connect(str(home / "token_ledger.duckdb"), read_only=True) as con:
        batches = con.execute(
            "select file_path, rows_landed + rows_quarantined + rows_skipped from raw.load_batches as b "
            "where source_format in $formats and not (rows_landed = 0 and rows_quarantined = 1 and rows_skipped = 0 "
            "and exists (select 1 from raw.quarantine as q where q.batch_id = b.batch_id and q.line_number is null))",
            {"formats": list(PER_RECORD)}).fetchall()
    wrong = []
    for name, counted in batches:
        path = Path(name)
        if path.suffix == ".parquet":  # rows, not lines: a Parquet file lands or is quarantined whole
            continue
        data = path.read_bytes()
        if path.suffix in PACKED:
            data, path = PACKED[path.suffix][1](data), path.with_suffix("")
        text = data.decode("utf-8", errors="replace")
        lines = (len(list(csv.reader(io.StringIO(text)))) - 1 if path.suffix == ".csv"
                 else sum(1 for line in text.split("\n") if line.strip()))
        if counted != lines:
            wrong.append(f"{path.name}: {counted} of {lines} lines accounted for")
    return wrong


def _emails(base: Path) -> list[str]:
    with (base / "canonical" / "people.csv").open(encoding="utf-8", newline="") as handle:
        return sorted({row["email"] for row in csv.DictReader(handle)})


def _still_named(home: Path, emails: list[str]) -> list[str]:
    """Tables of the private warehouse in which an erased address is still written, anywhere in
    any value (but the erasures' own keyed record)."""
    if not emails:
        return []
    pattern = "(^|[^a-z0-9._%+-])(" + "|".join(e.replace(".", "\\.") for e in emails) + ")($|[^a-z0-9.-])"
    found = []
    with duckdb.connect(str(home / "token_ledger.duckdb"), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE' and table_schema <> 'main'").fetchall()
        for schema, table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table]).fetchall()]
            text = " or ".join(f"regexp_matches(lower(cast(\"{c}\" as varchar)), $p)" for c in columns)
            if con.execute(f'select count(*) from "{schema}"."{table}" where {text}', {"p": pattern}).fetchone()[0]:
                found.append(f"{schema}.{table} still names an erased person")
    return found


def fuzz(seed: int, base: Path, work: Path, rounds: int) -> list[str]:
    """What failed for one seed (nothing: the contract held). Each round lands another broken
    copy into the same home and runs, with k chosen again: the requests again, some of them
    changed. Before some runs a person is erased: their address must then be nowhere in the
    private warehouse, even after later rounds land their records again."""
    rng, home, results, erased = random.Random(seed), work / "home", [], []
    for n in range(rounds):
        # k may change between runs (reference data: every day is rebuilt under the new one)
        os.environ["TOKEN_LEDGER_MIN_GROUP_SIZE"] = rng.choice(("1", "2", "3"))
        inputs = work / f"in-{n + 1}"
        shutil.copytree(base, inputs)
        break_files(rng, inputs)
        _at_rest(inputs)
        for folder in sorted(inputs.iterdir()):
            if (folder / "people.csv").exists():
                results.append(_cli("land", "--home", str(home), str(folder / "people.csv")))
            owners = ["--owners", str(folder / OWNERS)] if (folder / OWNERS).exists() else []
            paths = [str(p) for p in sorted(folder.iterdir()) if p.name not in ("people.csv", OWNERS)]
            results.append(_cli("land", "--home", str(home), *owners, *paths))
        if rng.random() < 0.5:
            erased.append(rng.choice(_emails(base)))
            results.append(_cli("erase", "--home", str(home), "--user", erased[-1]))
        results.append(_cli("run", "--home", str(home)))
    failed = [f"`{' '.join(r.args[3:5])}` exited {r.returncode}:\n{(r.stdout + r.stderr)[-2000:]}"
              for r in results if r.returncode or "Traceback" in r.stdout + r.stderr or "@" in r.stdout + r.stderr]
    return (failed + _unaccounted(home) + _failed_reads(home) + _still_named(home, erased)
            + ([] if failed else _unlike_a_full_refresh(home)))


def _at_rest(folder: Path) -> None:
    """Every file as a drops folder holds it, written ten minutes ago: a file cut mid-line and
    written to in the last five minutes waits for its writer (`formats.still_writing`)."""
    written = time.time() - 600
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (written, written))


def _unlike_a_full_refresh(home: Path) -> list[str]:
    """The incremental tables the runs left, against the same tables rebuilt from scratch."""
    def tables() -> dict[str, list[tuple]]:
        with duckdb.connect(str(home / "token_ledger.duckdb"), read_only=True) as con:
            return {name: con.execute(f"select * from {name} order by all").fetchall() for name in INCREMENTAL}

    incremental = tables()
    rebuilt = _cli("build", "--home", str(home), "--", "--full-refresh", "--exclude", "resource_type:test",
                   "resource_type:unit_test")
    if rebuilt.returncode:
        return [f"`build --full-refresh` exited {rebuilt.returncode}:\n{(rebuilt.stdout + rebuilt.stderr)[-2000:]}"]
    return [f"{name}: the incremental runs differ from a full refresh"
            for name, rows in tables().items() if rows != incremental[name]]


def _extra_inputs(base: Path) -> None:
    """The fixtures of the formats `generate` does not write, and LiteLLM's rows as JSON Lines
    (as its API returns them)."""
    fixtures = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
    for name in FIXTURES:
        target = base / "fixtures" / name.replace("/", "-")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fixtures / name, target)
    typed = {"spend": float, "total_tokens": int, "prompt_tokens": int, "completion_tokens": int,
             "metadata": json.loads, "request_tags": json.loads}
    for source in sorted((base / "litellm-spendlogs").glob("litellm-*.csv")):
        with source.open(encoding="utf-8", newline="") as handle:
            rows = [{k: typed[k](v) if k in typed and v else v for k, v in row.items()}
                    for row in csv.DictReader(handle)]
        target = base / "litellm-json" / source.with_suffix(".jsonl").name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        target.with_name("people.csv").write_bytes((source.parent / "people.csv").read_bytes())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="broken copies landed into each home, each run")
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the inputs and homes (printed)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fuzz-inputs-"))
    base = root / "base"
    for fmt in FORMATS:
        extra = ["--bills", "--outcomes"] if fmt == "canonical" else []
        done = _cli("generate", "--home", str(root / "generated"), "--out", str(base / fmt), "--users",
                    str(args.users), "--days", str(args.days), "--seed", "9", "--format", fmt, *extra)
        if done.returncode:
            sys.exit(done.stderr)
    _extra_inputs(base)
    bad = 0
    for seed in range(args.first, args.first + args.seeds):
        failed = fuzz(seed, base, root / f"seed-{seed}", args.rounds)
        bad += bool(failed)
        print(f"seed {seed}: " + ("ok" if not failed else "FAILED\n" + "\n".join(failed)), flush=True)
    if args.keep:
        print(f"inputs and homes: {root}")
    else:
        shutil.rmtree(root)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
