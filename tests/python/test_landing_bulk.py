"""Bulk landing (many canonical JSON Lines files in one pass) lands exactly what landing each
file on its own, the careful way, lands: the same records with the same line numbers, the
same quarantine rows, the same duplicates dropped."""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import importlib
import io
import json
import os
import re
import shutil
import time
from pathlib import Path

import duckdb
import pytest
import zstandard
from blake3 import blake3

from conftest import query, run_cli, write_bad_file
from token_ledger import land, warehouse
from token_ledger.config import Home
from token_ledger.land import LandReport, _land_careful, contents, land_files, readers
from token_ledger.land import bulk as bulk_landing
from token_ledger.land.checksums import checksum
from token_ledger.land.detect import detect
from token_ledger.land.formats import FORMATS, LandingSpec
from token_ledger.pseudonym import configure

# each record with the file it came from (its batch's file_path)
RAW = ("select r.* exclude (_batch_id, _loaded_at, _line), b.file_path, r._line from raw.canonical_events as r "
       "inner join raw.load_batches as b on r._batch_id = b.batch_id order by b.file_path, r._line")
QUARANTINE = "select file_path, line_number, reason, raw_record from raw.quarantine order by all"
FIXTURES = Path(__file__).parents[1] / "fixtures"
BATCHES = ("select file_path, source_format, rows_landed, rows_quarantined, rows_skipped from raw.load_batches "
           "order by all")


def _tables(home: Home) -> dict[str, list]:
    with warehouse.private(home, read_only=True) as con:
        return {sql: con.execute(sql).fetchall() for sql in (RAW, QUARANTINE, BATCHES)}


def fresh(record: dict, suffix: str, **changes: object) -> str:
    """The record as a new request (its id with a suffix), with some fields changed."""
    return json.dumps({**record, "request_id": record["request_id"] + suffix, **changes})


def _tricky_files(inputs: Path, days: list[Path]) -> list[Path]:
    """Files the bulk pass must not land itself, and repeats it must drop."""
    records = [json.loads(line) for line in days[0].read_text().splitlines()[:6]]
    later = [json.loads(line) for line in days[1].read_text().splitlines()[:3]]

    def write(name: str, lines: list[str]) -> Path:
        path = inputs / name
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return path

    return [
        # spaces the careful path trims; an email in capitals
        write("padded.jsonl", [fresh(records[0], "-p1", provider=" anthropic "),
                               fresh(records[1], "-p2", input_tokens="  12 "),
                               fresh(records[2], "-p3", user_email=records[2]["user_email"].upper())]),
        # values the bulk pass checks once per distinct value, each alone in an otherwise clean
        # file: spaces around a provider, a model, an application, an email; an empty
        # application (the careful path lands NULL)
        write("value-provider.jsonl", [fresh(records[0], "-v1"), fresh(records[1], "-v2", provider="anthropic ")]),
        write("value-model.jsonl", [fresh(records[2], "-v3", model=" " + records[2]["model"])]),
        write("value-application.jsonl", [fresh(records[3], "-v4", application=records[3]["application"] + " ")]),
        write("value-email.jsonl", [fresh(records[4], "-v5", user_email=" " + records[4]["user_email"])]),
        write("value-empty.jsonl", [fresh(records[5], "-v6", application="")]),
        # a bad record, a blank line and a fractional token count among good ones
        write("bad.jsonl", [fresh(records[3], "-b1"), "{not json", fresh(records[4], "-b2"), "",
                            fresh(records[5], "-b3", output_tokens=12.5), fresh(records[0], "-b4")]),
        # an address the careful path rejects
        write("emails.jsonl", [fresh(records[1], "-e1", user_email="nobody"), fresh(records[2], "-e2")]),
        # counts DuckDB's own cast would take but the careful rules do not
        write("lenient.jsonl", [fresh(records[0], "-l1"), fresh(records[1], "-l2", input_tokens="+5"),
                                fresh(records[2], "-l3", input_tokens="0x10"),
                                fresh(records[3], "-l4", output_tokens="1_000"),
                                fresh(records[4], "-l5", output_tokens="7\t"),
                                fresh(records[5], "-l6", cache_read_tokens="99999999999999999999")]),
        # requests landed already from another file, twice within this one, and two new: the
        # same request id from two providers is two requests
        write("repeats.jsonl", [json.dumps(later[0]), json.dumps(later[1]), json.dumps(later[1]),
                                fresh(later[2], "-r1"), fresh(later[2], "-r1", provider="openai")]),
    ]


# line numbers are set a few files per statement: 2 makes statements whose rowid ranges span
# files the pass took out again (blank.jsonl, bad.jsonl, ...)
@pytest.mark.parametrize("files_per_update", [2, bulk_landing.FILES_PER_LINE_UPDATE])
def test_bulk_landing_equals_file_by_file_landing(tmp_path: Path, files_per_update: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_landing, "FILES_PER_LINE_UPDATE", files_per_update)
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "40", "--days", "4", "--seed", "5")
    days = sorted(inputs.glob("usage-*.jsonl"))
    # a blank line between two records, before three clean days in the same pass: that file
    # goes the careful way, and the days after it keep their own line numbers
    first = [json.loads(line) for line in days[0].read_text().splitlines()[:2]]
    blank = inputs / "blank.jsonl"
    blank.write_text("\n".join([fresh(first[0], "-k1"), "", fresh(first[1], "-k2")]) + "\n")
    files = [inputs / "people.csv", days[0], blank, *days[1:], *_tricky_files(inputs, days)]

    # a later delivery: two requests landed by the first call, one new
    old = days[2].read_text().splitlines()[:2]
    again = inputs / "later" / "again.jsonl"
    again.parent.mkdir()
    again.write_text("\n".join([*old, json.dumps({**json.loads(old[0]), "request_id": "req-new"})]) + "\n")

    bulk_home, careful_home = Home.resolve(str(tmp_path / "bulk")), Home.resolve(str(tmp_path / "careful"))
    with warehouse.private(bulk_home) as con:
        configure(con, bulk_home.root)
        bulk_report = land_files(con, files).merge(land_files(con, [again]))
    careful_report = _land_file_by_file(careful_home, [*files, again])

    assert not bulk_report.errors and not careful_report.errors
    bulk, careful = _tables(bulk_home), _tables(careful_home)
    assert bulk[RAW] == careful[RAW]
    assert bulk[QUARANTINE] == careful[QUARANTINE]
    assert bulk[BATCHES] == careful[BATCHES]
    assert (bulk_report.records_landed, bulk_report.records_quarantined, bulk_report.records_ignored) == (
        careful_report.records_landed, careful_report.records_quarantined, careful_report.records_ignored)

    # independently of either path: the quarantine holds the two bad lines of bad.jsonl, the
    # bad address, and every landed record sits at its line of its file
    assert [(Path(f).name, line) for f, line, _, _ in bulk[QUARANTINE]] == [
        ("bad.jsonl", 2), ("bad.jsonl", 5), ("emails.jsonl", 1),
        *(("lenient.jsonl", line) for line in range(2, 7))]
    texts = {path: path.read_text().splitlines() for path in [*files, again]}
    for row in bulk[RAW]:
        request_id, file_name, line = row[0], Path(row[-2]), row[-1]
        assert json.loads(texts[file_name][line - 1])["request_id"].strip() == request_id
    # repeats: the two already-landed requests and the second copy within the file are dropped
    repeats = [b for b in bulk[BATCHES] if b[0].endswith("repeats.jsonl")]
    assert [(landed, skipped) for _, _, landed, _, skipped in repeats] == [(2, 3)]
    assert [(b[2], b[4]) for b in bulk[BATCHES] if b[0].endswith("again.jsonl")] == [(1, 2)]
    files.append(again)
    lines = sum(len([t for t in p.read_text().splitlines() if t.strip()]) for p in files if p.suffix == ".jsonl")
    assert lines == sum(b[2] + b[3] + b[4] for b in bulk[BATCHES] if b[1] == "canonical")


def _generated(tmp_path: Path, days: int, seed: int) -> tuple[Path, list[Path], Home]:
    """A small generated input (its folder and daily usage files) and an empty home."""
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "20", "--days", str(days),
            "--seed", str(seed))
    return inputs, sorted(inputs.glob("usage-*.jsonl")), Home.resolve(str(tmp_path / "home"))


def test_files_landed_under_sha256_digests_are_still_skipped(tmp_path: Path) -> None:
    """A file is recorded by its BLAKE3 digest; a warehouse landed by an earlier version holds
    SHA-256 digests, and a file landed then is still skipped when it is delivered again."""
    inputs, days, home = _generated(tmp_path, 3, 9)
    with warehouse.private(home) as con:
        configure(con, home.root)
        first = land_files(con, [inputs / "people.csv", days[0], days[1]])
        recorded = dict(con.execute("select file_path, file_checksum from raw.load_batches").fetchall())
        assert recorded[str(days[0].resolve())] == "blake3:" + blake3(days[0].read_bytes()).hexdigest()
        # as an earlier version recorded them
        for path in (days[0], days[1]):
            con.execute("update raw.load_batches set file_checksum = ? where file_path = ?",
                        [hashlib.sha256(path.read_bytes()).hexdigest(), str(path.resolve())])
        landed = con.execute("select count(*) from raw.canonical_events").fetchone()[0]
        again = land_files(con, [days[1], days[0], days[2]])
        assert (again.files_skipped, again.files_landed) == (2, 1)
        assert con.execute("select count(*) from raw.canonical_events").fetchone()[0] == (
            landed + len(days[2].read_text().splitlines()) - again.records_ignored)
        # and a file landed under its new digest is skipped as well
        assert land_files(con, [days[2]]).files_skipped == 1
    assert not first.errors and not again.errors


def test_a_file_given_the_wrong_format_lands_when_given_the_right_one(tmp_path: Path) -> None:
    """A file quarantined whole is not tried again as the same format (a scheduled run would
    quarantine it every hour), but a person who gave the wrong `--format` lands it by giving
    the right one, or none; once landed it is skipped. The LiteLLM fixture, worked by hand in
    its EXPECTED.md: lines 2-5 land, line 6 is quarantined."""
    spendlogs, home = FIXTURES / "litellm-spendlogs" / "spendlogs.csv", Home.resolve(str(tmp_path / "home"))
    notes = tmp_path / "notes.jsonl"
    notes.write_text("not json\nnor this\n", encoding="utf-8")
    with warehouse.private(home) as con:
        configure(con, home.root)
        reports = [land_files(con, [path], fmt) for path, fmt in (
            (spendlogs, "canonical"),  # the wrong format: quarantined whole
            (spendlogs, "canonical"),  # the same again: skipped, nothing recorded
            (spendlogs, "auto"),  # recognised: lands
            (spendlogs, "auto"), (spendlogs, "canonical"),  # landed: skipped
            (notes, "auto"), (notes, "auto"),  # no known format, twice: quarantined once
        )]
        landed = con.execute("select request_id from raw.litellm_spend_logs order by 1").fetchall()
        quarantined = con.execute("select source_format, line_number from raw.quarantine order by loaded_at").fetchall()
    assert landed == [(f"chatcmpl-00{n}",) for n in range(1, 5)]
    assert quarantined == [("canonical", None), ("litellm-spendlogs", 6), ("unknown", None)]
    assert [(r.records_landed, r.files_quarantined, r.files_tried, r.files_skipped) for r in reports] == [
        (0, 1, 0, 0), (0, 0, 1, 0), (4, 0, 0, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 1, 0, 0), (0, 0, 1, 0)]
    assert "skipped 1 files quarantined whole before (--format reads one as another format)" in reports[1].line()


def test_a_file_unchanged_since_it_landed_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduled run over a folder that keeps every file it was given reads only what is new
    or changed: a landed file whose stamp (size, modification and change times) is the one its
    batch recorded is skipped unread. A file appended to, rewritten in place, or rewritten with
    its size and modification time restored is read, and what is new lands; a file changed in
    the last 2 s (or dated ahead of the clock) is read next time too; batches of a warehouse
    landed before stamps were recorded get them when next read."""
    folder, home = tmp_path / "drops", Home.resolve(str(tmp_path / "home"))
    folder.mkdir()
    shutil.copy(FIXTURES / "litellm-spendlogs" / "spendlogs.csv", folder)
    record = {"request_id": "r-1", "occurred_at": "2026-10-01T10:00:00Z", "provider": "openai", "model": "gpt-5.5",
              "user_email": "ada@corp.example", "input_tokens": 100, "output_tokens": 20}
    usage = folder / "usage.jsonl"
    usage.write_text(json.dumps(record) + "\n", encoding="utf-8")
    files = [usage, folder / "spendlogs.csv"]
    # the clock an hour on, so every change made here is settled (a change time cannot be set back)
    clock = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: clock() + 3_600_000_000_000)
    read: list[str] = []
    # the module (the package's own `checksums` is its function of that name)
    monkeypatch.setattr(importlib.import_module("token_ledger.land.checksums"), "checksum",
                        lambda path: read.append(path.name) or checksum(path))

    def land_again() -> list[str]:
        read.clear()
        with warehouse.private(home) as con:
            configure(con, home.root)
            report = land_files(con, files)
        assert not report.errors
        return sorted(read)

    assert land_again() == ["spendlogs.csv", "usage.jsonl"]
    assert land_again() == []
    # appended to: read, the new record lands; dated ahead of the clock, it is read every time
    # until the clock has passed its time
    with usage.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({**record, "request_id": "r-2"}) + "\n")
    ahead = time.time() + 7200
    os.utime(usage, (ahead, ahead))
    assert land_again() == ["usage.jsonl"] and land_again() == ["usage.jsonl"]
    os.utime(usage, (ahead - 7260, ahead - 7260))
    assert land_again() == ["usage.jsonl"] and land_again() == []
    # rewritten the same size, its modification time put back: read, the correction replaces r-1
    mtime = usage.stat().st_mtime_ns
    usage.write_text(usage.read_text(encoding="utf-8").replace('"input_tokens": 100', '"input_tokens": 700', 1),
                     encoding="utf-8")
    os.utime(usage, ns=(mtime, mtime))
    assert land_again() == ["usage.jsonl"] and land_again() == []
    # a warehouse of an earlier version: its batches have no stamps until their files are read once
    with warehouse.private(home) as con:
        for column in ("file_size", "file_mtime_ns", "file_ctime_ns"):
            con.execute(f"alter table raw.load_batches drop column {column}")
    assert land_again() == ["spendlogs.csv", "usage.jsonl"] and land_again() == []
    with warehouse.private(home, read_only=True) as con:
        landed = con.execute("select request_id, input_tokens from raw.canonical_events order by 1").fetchall()
        requests = con.execute("select count(*) from raw.litellm_spend_logs").fetchone()[0]
    assert landed == [("r-1", 700), ("r-2", 100)] and requests == 4  # EXPECTED.md: lines 2-5 land


def test_raw_tables_of_earlier_versions_drop_their_per_record_file_column(tmp_path: Path) -> None:
    """Earlier versions kept each record's file path in the raw tables (`_file`); the batch's
    file_path says the same. Opening such a warehouse drops the column and nothing else."""
    inputs, days, home = _generated(tmp_path, 2, 4)
    with warehouse.private(home) as con:
        configure(con, home.root)
        assert not land_files(con, [inputs / "people.csv", days[0]]).errors
        # as an earlier version left it
        con.execute("alter table raw.canonical_events add column _file varchar")
        con.execute("update raw.canonical_events as r set _file = b.file_path from raw.load_batches as b "
                    "where r._batch_id = b.batch_id")
        before = con.execute("select * exclude (_file) from raw.canonical_events order by _batch_id, _line").fetchall()
    with warehouse.private(home) as con:
        columns = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = 'canonical_events'"
        ).fetchall()]
        after = con.execute("select * from raw.canonical_events order by _batch_id, _line").fetchall()
        report = land_files(con, [days[1]])
        total = con.execute("select count(*) from raw.canonical_events").fetchone()[0]
    assert "_file" not in columns
    assert after == before and len(before) > 0
    assert not report.errors and report.files_landed == 1
    assert total == len(before) + report.records_landed


def _lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _transcript_files(inputs: Path) -> tuple[list[Path], str]:
    """A person's transcripts, and files the bulk pass must leave to the careful path."""
    folder = sorted((inputs / "claude-code-jsonl").iterdir())[0]
    with (inputs / "transcript-users.csv").open(encoding="utf-8") as handle:
        user = next(row["user_email"] for row in csv.DictReader(handle) if row["folder"] == folder.name)
    files = sorted(folder.rglob("*.jsonl"))
    lines = _lines_of(files[0])
    usage = [json.loads(line) for line in lines if '"usage"' in line][:4]

    def renamed(record: dict, suffix: str, **usage_changes: object) -> str:
        message = {**record["message"], "id": record["message"]["id"] + suffix,
                   "usage": {**record["message"]["usage"], **usage_changes}}
        return json.dumps({**record, "requestId": record["requestId"] + suffix, "message": message})

    streamed = [renamed(usage[0], "-s", output_tokens=n) for n in (3, 41, 40)]  # the largest (41) stands
    extra = [
        _write(inputs / "more" / "blank.jsonl", [renamed(usage[0], "-b1"), "", renamed(usage[1], "-b2")]),
        _write(inputs / "more" / "broken.jsonl", [renamed(usage[1], "-x1"), "{not json", renamed(usage[2], "-x2")]),
        # a streamed message written three times, a message of Claude Code's own, usage that is not an object
        _write(inputs / "more" / "streamed.jsonl", [
            *streamed,
            json.dumps({**usage[3], "message": {**usage[3]["message"], "id": "m-syn", "model": "<synthetic>"}}),
            json.dumps({**usage[3], "requestId": "r-null", "message": {**usage[3]["message"], "usage": None}}),
        ]),
        _write(inputs / "more" / "fraction.jsonl", [renamed(usage[2], "-f1", input_tokens=12.5)]),
    ]
    return [*files, *extra], user


def _otel_files(inputs: Path) -> list[Path]:
    days = sorted(inputs.glob("claude-code-otel-*.jsonl"))
    key = '"key":"request_id","value":{"stringValue":"'
    lines = [line.replace(key, key + "copy-") for line in _lines_of(days[0]) if key in line]  # new requests
    exponent = lines[3].replace('"key":"input_tokens","value":{"intValue":"', '"key":"input_tokens","value":'
                                '{"intValue":"1e')
    assert exponent != lines[3]
    # an attribute given twice: both paths take its first value, as the Collector's attribute maps
    # do (pdata Map.Get): "aa", before the real model, and the smaller of the two
    twice = lines[4].replace('{"key":"model",', '{"key":"model","value":{"stringValue":"aa"}},{"key":"model",', 1)
    assert twice != lines[4]
    # export requests of every shape, each line's records numbered by it: no records at all; an
    # empty resource, then one whose empty scope comes before two scopes of records, then another
    first, second, third = (json.loads(line)["resourceLogs"][0] for line in lines[5:8])
    first["scopeLogs"] = [{"logRecords": []}, *first["scopeLogs"], *second["scopeLogs"]]
    shapes = [json.dumps({"resourceLogs": []}), lines[8],
              json.dumps({"resourceLogs": [{"resource": third["resource"], "scopeLogs": []}, first, third]}), lines[9]]
    return [*days, _write(inputs / "more" / "shapes.jsonl", shapes), _write(inputs / "more" / "twice.jsonl", [twice]),
            _write(inputs / "more" / "not-export.jsonl", [lines[0], json.dumps({"resourceSpans": []})]),
            _write(inputs / "more" / "blank.jsonl", [lines[1], "", lines[2]]),
            _write(inputs / "more" / "exponent.jsonl", [exponent])]


def _litellm_files(inputs: Path) -> list[Path]:
    days = sorted(inputs.glob("litellm-spendlogs-*.csv"))
    header, *rows = list(csv.reader(_lines_of(days[0])))
    lines = _lines_of(days[0])[1:]
    # an OpenAI-style usage object whose cached tokens exceed the prompt's
    openai = next(i for i, line in enumerate(lines) if '""cached_tokens"":' in line)
    cached = re.sub(r'""cached_tokens"":\d+', '""cached_tokens"":999999', lines[openai])
    keep = [i for i, name in enumerate(header) if name != "end_user"]
    rows = [[f"{v}-{n}" if name == "request_id" else v for name, v in zip(header, row, strict=True)]
            for n, row in enumerate(rows)]  # new requests, not replays of the day's
    return [*days,
            _write(inputs / "more" / "reordered.csv", [_quoted(row[::-1]) for row in [header, *rows[:3]]]),
            _write(inputs / "more" / "no-end-user.csv", [_quoted([row[i] for i in keep])
                                                         for row in [header, *rows[3:5]]]),
            # a spreadsheet's export in a locale whose lists take semicolons
            _write(inputs / "more" / "semicolons.csv", [";".join(
                '"' + v.replace('"', '""') + '"' if any(c in v for c in ';"\n') else v for v in row)
                for row in [header, *rows[9:12]]]),
            _write(inputs / "more" / "cached.csv", [_lines_of(days[0])[0], _quoted(rows[-1]), cached]),
            # the prompts LiteLLM stores when asked: quoted fields holding newlines (records span lines)
            _write(inputs / "more" / "multiline.csv", [_quoted([*header, "messages"]), *(
                _quoted([*row, f"line one\nline two of {n}\n\nthe end" if n % 2 else "[]"])
                for n, row in enumerate(rows[5:9]))]),
            _write(inputs / "more" / "bad-time.csv", [_lines_of(days[0])[0],
                                                      lines[7].replace(",2026-", ",year 2026-", 1)])]


def _quoted(values: list[str]) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v for v in values)


@pytest.mark.parametrize("fmt", ["claude-code-jsonl", "claude-code-otel", "litellm-spendlogs"])
def test_bulk_landing_of_every_format_equals_file_by_file_landing(tmp_path: Path, fmt: str) -> None:
    """Each format with a bulk reader lands in one pass exactly what landing each file the
    careful way lands, its unclean files (a blank line, a line that is not JSON or not an
    export, a fractional or exponent count, a cached count above the prompt, a time that is no
    time) included; columns in another order, missing
    or separated by semicolons stay the same records."""
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "12", "--days", "2", "--seed", "3",
            "--format", fmt)
    user = None
    if fmt == "claude-code-jsonl":
        files, user = _transcript_files(inputs)
    else:
        files = _otel_files(inputs) if fmt == "claude-code-otel" else _litellm_files(inputs)
    spec = FORMATS[fmt]
    table = (f"select r.* exclude (_batch_id, _loaded_at), b.file_path from raw.{spec.table} as r "
             "inner join raw.load_batches as b on r._batch_id = b.batch_id order by all")
    bulk_home, careful_home = Home.resolve(str(tmp_path / "bulk")), Home.resolve(str(tmp_path / "careful"))
    with warehouse.private(bulk_home) as con:
        configure(con, bulk_home.root)
        calls, careful_files = [], []
        original, careful_one = bulk_landing.land_bulk, land._land_careful
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bulk_landing, "land_bulk", lambda *a, **k: calls.append(len(a[2])) or original(*a, **k))
            patch.setattr(land, "_land_careful", lambda *a: careful_files.append(a[1].name) or careful_one(*a))
            bulk_report = land_files(con, files, fmt=fmt, user=user)
    careful_report = _land_file_by_file(careful_home, files, spec, user)

    assert calls and calls[0] == len(files)  # one pass took every file, and left only the unclean ones
    assert sorted(careful_files) == {
        "claude-code-jsonl": ["blank.jsonl", "broken.jsonl", "fraction.jsonl"],
        "claude-code-otel": ["blank.jsonl", "exponent.jsonl", "not-export.jsonl"],
        "litellm-spendlogs": ["bad-time.csv", "cached.csv"]}[fmt]
    assert not bulk_report.errors and not careful_report.errors
    queries = (table, QUARANTINE, BATCHES)
    bulk, careful = ({sql: rows for sql, rows in _read(home, queries).items()} for home in (bulk_home, careful_home))
    for sql in queries:
        assert bulk[sql] == careful[sql]
    assert bulk_report.line() == careful_report.line()
    quarantined = {Path(f).name for f, _, _, _ in bulk[QUARANTINE]}
    assert quarantined == {"claude-code-jsonl": {"broken.jsonl", "fraction.jsonl"},
                           "claude-code-otel": {"not-export.jsonl", "exponent.jsonl"},
                           "litellm-spendlogs": {"cached.csv", "bad-time.csv"}}[fmt]
    if fmt == "claude-code-jsonl":  # the streamed message stands once, at its largest output (column 8)
        assert [row[8] for row in bulk[table] if str(row[0]).endswith("-s")] == [41]
        # the line that is not JSON, not its whole file: the lines around it land
        assert sorted((Path(f).name, n) for f, n, _, _ in bulk[QUARANTINE]) == [("broken.jsonl", 2),
                                                                                 ("fraction.jsonl", 1)]
        assert len([row for row in bulk[table] if Path(row[-1]).name == "broken.jsonl"]) == 2
    if fmt == "claude-code-otel":  # the model given twice (in the line's first record): its first value
        assert "aa" in [row[3] for row in bulk[table] if Path(row[-1]).name == "twice.jsonl"]


def test_bulk_landing_of_bedrock_logs_equals_file_by_file_landing(tmp_path: Path) -> None:
    """Bedrock's invocation logs (the fixture's lines): clean files land in one pass exactly as
    file by file, the caller derived from its ARN alike (a capitalised session name lowered),
    a failed invocation ignored alike; the file with a negative count lands the careful way."""
    lines = (FIXTURES / "bedrock-invocation-logs" / "invocations.jsonl").read_text(encoding="utf-8").splitlines()
    files = [_write(tmp_path / "in" / "a.json", lines[:4]),
             _write(tmp_path / "in" / "b.json", [line.replace("-4c70-", "-4c71-") for line in lines[3::-1]]),
             _write(tmp_path / "in" / "bad.json", [line.replace("-4c70-", "-4c72-") for line in lines[3:]])]
    spec = FORMATS["bedrock-invocation-logs"]
    table = (f"select r.* exclude (_batch_id, _loaded_at), b.file_path from raw.{spec.table} as r "
             "inner join raw.load_batches as b on r._batch_id = b.batch_id order by all")
    bulk_home, careful_home = Home.resolve(str(tmp_path / "bulk")), Home.resolve(str(tmp_path / "careful"))
    with warehouse.private(bulk_home) as con:
        configure(con, bulk_home.root)
        careful_files, careful_one = [], land._land_careful
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(land, "_land_careful", lambda *a: careful_files.append(a[1].name) or careful_one(*a))
            bulk_report = land_files(con, files)
    careful_report = _land_file_by_file(careful_home, files, spec)
    assert careful_files == ["bad.json"]
    bulk, careful = (_read(home, (table, QUARANTINE, BATCHES)) for home in (bulk_home, careful_home))
    assert bulk == careful
    assert bulk_report.line() == careful_report.line()
    assert sorted((Path(row[-1]).name, row[3], row[-2]) for row in bulk[table]) == [
        ("a.json", "ada@corp.example", 1), ("a.json", "bob@corp.example", 2), ("a.json", "i-0abc123def456", 4),
        ("b.json", "ada@corp.example", 4), ("b.json", "bob@corp.example", 3), ("b.json", "i-0abc123def456", 1),
        ("bad.json", "i-0abc123def456", 1)]
    assert [(Path(f).name, n, reason) for f, n, reason, _ in bulk[QUARANTINE]] == [
        ("bad.json", 2, "field 'output_tokens' is negative")]


def _land_file_by_file(home: Home, files: list[Path], spec: LandingSpec | None = None, user: str | None = None,
                       owners: dict[str, str] | None = None) -> LandReport:
    """Land `files` one by one the careful way into `home`, as `spec` (None: the format each is
    detected as), each as `user` or as the owner of its folder; the report of them all."""
    report = LandReport()
    with warehouse.private(home) as con:
        configure(con, home.root)
        for path in files:
            digest, lines = checksum(path)
            _land_careful(con, path, spec or FORMATS[detect(path)], digest, lines,
                          owners[path.parent.name] if owners else user, report)
    return report


def _read(home: Home, queries: tuple[str, ...]) -> dict[str, list]:
    with warehouse.private(home, read_only=True) as con:
        return {sql: con.execute(sql).fetchall() for sql in queries}


def test_many_peoples_transcripts_land_in_one_call_as_with_one_user_each(tmp_path: Path) -> None:
    """`--owners` (folder,user_email) lands everyone's transcripts in one call, in one bulk
    pass, exactly as one `--user` call per person does, an erased person's included; a folder
    it does not list is refused, and a bad owners file is named by line and field only."""
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "12", "--days", "2", "--seed", "5",
            "--format", "claude-code-jsonl")
    with (inputs / "transcript-users.csv").open(encoding="utf-8") as handle:
        owners = {row["folder"]: row["user_email"] for row in csv.DictReader(handle)}
    folders = sorted(p for p in (inputs / "claude-code-jsonl").iterdir() if any(p.rglob("*.jsonl")))
    erased = owners[folders[1].name]
    table = ("select r.* exclude (_batch_id, _loaded_at), b.file_path from raw.claude_code_transcript_messages as r "
             "inner join raw.load_batches as b on r._batch_id = b.batch_id order by all")
    one_call, per_person = tmp_path / "one", tmp_path / "each"
    for home in (one_call, per_person):
        run_cli(home, "land", str(inputs / "people.csv"))
        run_cli(home, "erase", "--user", erased)
    landed = run_cli(one_call, "land", "--owners", str(inputs / "transcript-users.csv"),
                     str(inputs / "claude-code-jsonl")).out
    for folder in folders:
        run_cli(per_person, "land", "--user", owners[folder.name], str(folder))
    one, each = (_read(Home.resolve(str(home)), (table, BATCHES, QUARANTINE)) for home in (one_call, per_person))
    assert one == each
    assert one[table] and erased not in {row[-3] for row in one[table]}  # user_email, then _line, file_path
    assert f"from {sum(1 for f in folders for _ in f.rglob('*.jsonl'))} files" in landed

    partial = tmp_path / "partial.csv"  # the first folder's row left out
    partial.write_text("folder,user_email\n" + "".join(f"{f},{e}\n" for f, e in list(owners.items())[1:]),
                       encoding="utf-8")
    refused = run_cli(tmp_path / "refused", "land", "--owners", str(partial), str(inputs / "claude-code-jsonl"),
                      check=False)
    assert refused.code == 1 and f"{folders[0].name}/" in refused.err and "--owners" in refused.err
    assert "landed" in refused.out  # the other people's transcripts landed
    bad = tmp_path / "bad.csv"
    bad.write_text(f"folder,user_email\n{folders[0].name},{owners[folders[0].name]}\nx,not-an-address\n",
                   encoding="utf-8")
    result = run_cli(tmp_path / "bad", "land", "--owners", str(bad), str(inputs / "claude-code-jsonl"), check=False)
    assert result.code != 0 and "line 3" in result.err and "user_email" in result.err
    assert "not-an-address" not in result.out + result.err and "Traceback" not in result.err


def _zstd(data: bytes) -> bytes:
    """`data` zstd-compressed in two frames, as `cat a.zst b.zst` or a writer flushing makes."""
    middle = len(data) // 2
    return b"".join(zstandard.ZstdCompressor().compress(part) for part in (data[:middle], data[middle:]))


def _collector_zstd(data: bytes) -> bytes:
    """JSON lines as an OpenTelemetry Collector's file exporter writes them with `compression:
    zstd`, its feature gate `exporter.file.nativeCompression` and rotation: a frame per export."""
    return b"".join(zstandard.ZstdCompressor().compress(line) for line in data.splitlines(keepends=True))


def _collector_framed(data: bytes) -> bytes:
    """JSON lines as an OpenTelemetry Collector's file exporter writes them with `compression:
    zstd` without its native compression: each export compressed, after its length (4 bytes,
    big-endian), in a file named as the Collector's configuration says."""
    frames = (zstandard.ZstdCompressor().compress(line) for line in data.splitlines() if line.strip())
    return b"".join(len(frame).to_bytes(4, "big") + frame for frame in frames)


def _packed(source: Path, target: Path) -> None:
    """Every file of `source` written compressed to the same place under `target`, gzip
    (`name.gz`) and zstd (`name.zst`) by turns; the OpenTelemetry files as a Collector writes
    them with zstd, natively (logs) or framed (metrics)."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.name != "EXPECTED.md")
    for n, path in enumerate(files):
        suffix, pack = (".gz", gzip.compress) if n % 2 else (".zst", _zstd)
        if path.parent.name == "claude-code-otel":
            suffix, pack = ".zst", _collector_zstd
        elif path.parent.name == "claude-code-otel-metrics":
            suffix, pack = "", _collector_framed
        copy = target / path.relative_to(source).parent / (path.name + suffix)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(pack(path.read_bytes()))


def _landed(home: Path, root: Path) -> dict[str, list]:
    """Every raw table, the quarantine and the batches, file paths relative to `root`, `.gz` and `.zst` removed."""
    def path(column: str) -> str:
        return f"regexp_replace(replace({column}, '{root}/', ''), '[.](gz|zst)$', '')"
    tables = {
        **{spec.table: f"select r.* exclude (_batch_id, _loaded_at), {path('b.file_path')} from raw.{spec.table} "
                       "as r inner join raw.load_batches as b on r._batch_id = b.batch_id order by all"
           for spec in FORMATS.values()},
        "quarantine": f"select {path('file_path')}, source_format, line_number, reason from raw.quarantine "
                      "order by all",
        "batches": f"select {path('file_path')}, source_format, rows_landed, rows_quarantined, rows_skipped "
                   "from raw.load_batches order by all",
    }
    with warehouse.private(Home.resolve(str(home)), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in tables.items()}


def test_compressed_files_land_as_their_contents_do(tmp_path: Path) -> None:
    """Rotated logs and object-store exports arrive gzipped or zstd-compressed: every format's
    fixtures, generated days (landed in bulk) and a file of bad records land from `.gz` and
    `.zst` files, and a Collector's framed zstd, exactly as from the files themselves, found in
    folders and recognised; the bad
    records are quarantined at their lines (written out by hand in conftest), and the copies log
    rotation leaves are found. A compressed file that is corrupt or cut short, gzip or zstd
    under another name and another compression are quarantined whole, naming the file only,
    and the rest lands."""
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    shutil.copytree(FIXTURES, plain, ignore=shutil.ignore_patterns("EXPECTED.md"))
    run_cli(tmp_path / "gen", "generate", "--out", str(plain / "days"), "--users", "20", "--days", "3", "--seed", "4")
    (plain / "late").mkdir()
    bad_lines, _ = write_bad_file(plain / "late" / "late-delivery.jsonl")
    _packed(plain, packed)
    gzip_reason, zstd_reason = (f"not a readable {kind} file (corrupt, or cut short)" for kind in ("gzip", "zstd"))
    broken = {"days/cut-short.jsonl": gzip_reason, "days/not-gzip.csv": gzip_reason,
              "days/cut-short-zstd.jsonl": zstd_reason, "days/not-zstd.csv": zstd_reason,
              "days/renamed.jsonl": "gzip-compressed; land it decompressed, or gzipped under a name ending .gz",
              "days/renamed-zstd.jsonl": "zstd-compressed; land it decompressed, or under a name ending .zst",
              "archive.jsonl.bz2": "bzip2-compressed; land it decompressed, or gzipped under a name ending .gz"}
    first_day = (plain / "days" / "usage-2026-10-01.jsonl").read_bytes()
    (packed / "days" / "cut-short.jsonl.gz").write_bytes(gzip.compress(first_day)[:2000])
    (packed / "days" / "cut-short-zstd.jsonl.zst").write_bytes(_zstd(first_day)[:-2000])  # its second frame cut
    (packed / "days" / "not-gzip.csv.gz").write_text("request_id,occurred_at\n", encoding="utf-8")
    (packed / "days" / "not-zstd.csv.zst").write_text("request_id,model\n", encoding="utf-8")
    (packed / "days" / "renamed.jsonl").write_bytes(gzip.compress(b"{}\n"))
    (packed / "days" / "renamed-zstd.jsonl").write_bytes(_zstd(b"{}\n"))
    (packed / "archive.jsonl.bz2").write_bytes(bz2.compress(b"{}\n"))  # named: refused with its reason
    (packed / "days" / "archive.jsonl.bz2").write_bytes(bz2.compress(b"{}\n"))  # in a folder: not a data file
    # what log rotation leaves, beside the live file: numbered and dated copies, gzipped or not
    for rotated in ("usage.jsonl.1", "usage.jsonl.2.gz", "usage.jsonl-20261004.gz", "usage.jsonl.3.zst"):
        for root in (plain, packed):
            (root / "rotated").mkdir(exist_ok=True)
            record = json.dumps({"request_id": f"rotated-{rotated}", "occurred_at": "2026-10-04T10:00:00Z",
                                 "provider": "openai", "model": "gpt-5.5", "user_email": "rota@corp.example",
                                 "input_tokens": 1, "output_tokens": 2}) + "\n"
            name = rotated if root == packed else re.sub(r"[.](gz|zst)$", "", rotated)
            pack = {".gz": gzip.compress, ".zst": _zstd}.get(Path(name).suffix, lambda data: data)
            (root / "rotated" / name).write_bytes(pack(record.encode()))

    landed, messages, summary = {}, "", ""
    for name, root in (("plain", plain), ("packed", packed)):
        home = tmp_path / f"home-{name}"
        result = run_cli(home, "land", *(str(p) for p in sorted(root.iterdir()) if p.name != "claude-code-jsonl"))
        messages, summary = result.err, result.out
        run_cli(home, "land", "--user", "alice@corp.example", str(root / "claude-code-jsonl"))
        landed[name] = _landed(home, root)

    unusable = {row[0]: row[2:] for row in landed["packed"]["quarantine"] if row[0] in broken}
    assert unusable == {path: (None, reason) for path, reason in broken.items()}  # whole files, no line
    assert all(messages.count(reason) == list(broken.values()).count(reason) for reason in broken.values())
    assert "Traceback" not in messages
    assert "1 files in folders not read (not named as data files" in summary  # days/archive.jsonl.bz2
    rest = {**landed["packed"], "quarantine": [r for r in landed["packed"]["quarantine"] if r[0] not in broken],
            "batches": [r for r in landed["packed"]["batches"] if r[0] not in broken]}
    assert rest == landed["plain"]
    assert all(landed["plain"][spec.table] for spec in FORMATS.values())  # every format landed something
    assert len([row for row in landed["packed"]["canonical_events"] if row[0].startswith("rotated-")]) == 4
    quarantined = {row[2]: row[3] for row in landed["packed"]["quarantine"] if row[0] == "late/late-delivery.jsonl"}
    assert quarantined == bad_lines


def test_lines_longer_than_duckdbs_default_land(tmp_path: Path) -> None:
    """DuckDB's CSV reader stops at lines of 2 MB. A transcript line holding a large tool result,
    a Collector's export request of thousands of records, a prompt LiteLLM stores: each fixture
    (each with a bad line, so it is read the careful way) with such a 3 MB line appended lands
    as the fixture does, plus what that line holds: nothing (a user line, a prompt event) or
    its one request."""
    big = "x" * (3 * 2**20)
    transcript = (FIXTURES / "claude-code-jsonl" / "alice" / "session-a.jsonl").read_text(encoding="utf-8")
    export = (FIXTURES / "claude-code-otel" / "collector-export.jsonl").read_text(encoding="utf-8")
    spend_logs = (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").read_text(encoding="utf-8")
    prompt_event = {"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"logRecords": [{
        "timeUnixNano": "1759312800000000000", "body": {"stringValue": "claude_code.user_prompt"},
        "attributes": [{"key": "event.name", "value": {"stringValue": "user_prompt"}},
                       {"key": "prompt", "value": {"stringValue": big}}]}]}]}]}
    tool_result = {"type": "user", "sessionId": "sess-a", "uuid": "u-big", "timestamp": "2025-10-02T09:30:00.000Z",
                   "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                                            "content": big}]}}
    header, first, *_ = csv.reader(spend_logs.splitlines())
    row = {**dict(zip(header, first, strict=True)), "request_id": "chatcmpl-big",
           "metadata": json.dumps({"prompt": big})}
    stored = io.StringIO()
    csv.writer(stored, lineterminator="").writerow(row.values())
    cases = {  # file name, its text, the long line, --user
        "claude-code-jsonl": ("session-a.jsonl", transcript, json.dumps(tool_result), "alice.smith@corp.example"),
        "claude-code-otel": ("collector-export.jsonl", export, json.dumps(prompt_event), None),
        "litellm-spendlogs": ("spendlogs.csv", spend_logs, stored.getvalue(), None),
    }
    for fmt, (name, text, long_line, user) in cases.items():
        table = f"select * exclude (_batch_id, _loaded_at) from raw.{FORMATS[fmt].table} order by all"
        landed = {}
        for kind, contents_ in (("fixture", text), ("long", text.rstrip("\n") + "\n" + long_line + "\n")):
            (tmp_path / fmt / kind).mkdir(parents=True)
            (tmp_path / fmt / kind / name).write_text(contents_, encoding="utf-8")
            run_cli(tmp_path / fmt / f"home-{kind}", "land", *(["--user", user] if user else []),
                    str(tmp_path / fmt / kind / name))
            private = tmp_path / fmt / f"home-{kind}" / "token_ledger.duckdb"
            landed[kind] = (query(private, table), query(private, "select line_number, reason from raw.quarantine"))
        fixture, long = landed["fixture"], landed["long"]
        assert fixture[1] and long[1] == fixture[1]  # the fixture's bad lines, and no other
        if fmt == "litellm-spendlogs":
            assert [row for row in long[0] if row[0] != "chatcmpl-big"] == fixture[0]
            assert len(long[0]) == len(fixture[0]) + 1
        else:
            assert long[0] == fixture[0]


def test_json_arrays_land_as_json_lines_do(tmp_path: Path) -> None:
    """APIs and "export as JSON" write one JSON array of records: canonical records (a generated
    day and the bad records of conftest that are valid JSON) and LiteLLM spend logs land from
    an array, pretty-printed or gzipped, exactly as from JSON Lines of the same records, a
    record's place in the array being its line. Pretty-printed, the spend logs' tags stand one
    per line (`"prod"`): valid JSON, but not a record, so the document decides the format."""
    run_cli(tmp_path / "gen", "generate", "--out", str(tmp_path / "gen-in"), "--users", "20", "--days", "1",
            "--seed", "6")
    day = [json.loads(line) for line in _lines_of(tmp_path / "gen-in" / "usage-2026-10-01.jsonl")]
    bad = tmp_path / "bad.jsonl"
    _, good = write_bad_file(bad)
    valid = [json.loads(line) for line in _lines_of(bad) if _is_json(line)]
    with (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").open(encoding="utf-8", newline="") as handle:
        spend_logs = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]
    for row in spend_logs:  # as LiteLLM's GET /spend/logs returns them: metadata an object, tags a list
        row.update({k: json.loads(row[k]) for k in ("metadata", "request_tags")})
    as_lines, as_arrays = tmp_path / "lines", tmp_path / "arrays"
    as_lines.mkdir()
    as_arrays.mkdir()
    for name, records in (("usage", day + valid), ("spendlogs", spend_logs)):
        (as_lines / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (as_arrays / "usage.json.gz").write_bytes(gzip.compress(json.dumps(day + valid, indent=2).encode()))
    (as_arrays / "spendlogs.json").write_text(json.dumps(spend_logs, indent=2), encoding="utf-8")

    landed = {}
    for folder in (as_lines, as_arrays):
        home = tmp_path / f"home-{folder.name}"
        run_cli(home, "land", str(folder))
        with warehouse.private(Home.resolve(str(home)), read_only=True) as con:
            landed[folder.name] = {
                **{table: con.execute(f"select * exclude (_batch_id, _loaded_at) from raw.{table} order by all")
                   .fetchall() for table in ("canonical_events", "litellm_spend_logs")},
                "quarantine": con.execute("select source_format, line_number, reason from raw.quarantine "
                                          "order by all").fetchall()}
    assert landed["arrays"] == landed["lines"]
    # JSON Lines whose first line is an array: that line is quarantined, the rest lands
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("[1, 2, 3]\n" + json.dumps({**valid[0], "request_id": "after-an-array"}) + "\n", encoding="utf-8")
    run_cli(tmp_path / "home-mixed", "land", "--format", "canonical", str(mixed))
    private = tmp_path / "home-mixed" / "token_ledger.duckdb"
    assert query(private, "select line_number, reason from raw.quarantine") == [(1, "record is not a JSON object")]
    assert query(private, "select request_id, _line from raw.canonical_events") == [("after-an-array", 2)]
    assert len(landed["lines"]["canonical_events"]) == len({(r["provider"], r["request_id"]) for r in day}) + good
    # EXPECTED.md of the fixture: chatcmpl-005, its 5th record, has a start time that is not a time
    assert len(landed["lines"]["litellm_spend_logs"]) == len(spend_logs) - 1
    quarantined = [row[:2] for row in landed["lines"]["quarantine"]]
    assert quarantined.count(("canonical", None)) == 0 and len(quarantined) == len(valid) - good + 1
    assert ("litellm-spendlogs", 5) in quarantined


def test_pages_of_litellms_logs_api_land_as_json_lines_do(tmp_path: Path) -> None:
    """LiteLLM's logs API (`/spend/logs/v2`, `/spend/logs/ui`) answers a page at a time: the
    records under `data`, beside `total`, `page`, `page_size` and `total_pages`. Saved pages
    (one on a single line, one pretty-printed, and an empty last page) land as JSON Lines files
    of the same records do, a record's place in its page being its line; the empty page lands
    nothing and is not quarantined."""
    with (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").open(encoding="utf-8", newline="") as handle:
        spend_logs = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]
    for row in spend_logs:
        row.update({k: json.loads(row[k]) for k in ("metadata", "request_tags")})
    parts = [spend_logs[:4], spend_logs[4:]]
    pages, lines = tmp_path / "pages", tmp_path / "lines"
    pages.mkdir()
    lines.mkdir()
    for number, (part, indent) in enumerate(zip([*parts, []], [None, 2, None], strict=True), start=1):
        page = {"data": part, "total": len(spend_logs), "page": number, "page_size": 4, "total_pages": 2}
        (pages / f"spend-logs-page-{number}.json").write_text(json.dumps(page, indent=indent), encoding="utf-8")
    for number, part in enumerate(parts, start=1):
        (lines / f"spend-logs-{number}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part),
                                                         encoding="utf-8")
    landed = {}
    for folder in (pages, lines):
        home = tmp_path / f"home-{folder.name}"
        run_cli(home, "land", str(folder))
        with warehouse.private(Home.resolve(str(home)), read_only=True) as con:
            landed[folder.name] = (
                con.execute("select * exclude (_batch_id, _loaded_at) from raw.litellm_spend_logs order by all")
                .fetchall(),
                con.execute("select source_format, line_number, reason from raw.quarantine order by all").fetchall())
    assert landed["pages"] == landed["lines"]
    # EXPECTED.md of the fixture: its 5th record's start time is not a time: the first of page 2
    assert [row[:2] for row in landed["pages"][1]] == [("litellm-spendlogs", 1)]
    assert len(landed["pages"][0]) == len(spend_logs) - 1


def test_counts_pandas_writes_as_floats_land_as_the_whole_numbers_they_are(tmp_path: Path) -> None:
    """pandas writes an integer column holding a missing value as floats: `1000.0` in CSV and
    JSON Lines, DOUBLE in Parquet. Those counts land as from the same records written with
    integers (each folder in one call: its clean file in the bulk pass); a fraction (`12.5`,
    in a file of its own) is still no count."""
    import pandas as pd

    records = [{"request_id": f"r{n}", "occurred_at": f"2026-10-05T10:0{n}:00Z", "provider": "anthropic",
                "model": "claude-sonnet-4-6", "user_email": "ok.person@corp.example", "input_tokens": 100 + n,
                "output_tokens": 5, "cache_read_tokens": cached} for n, cached in enumerate([1000, None, 250, 12.5])]
    files = {"usage": records[:3], "fraction": records[3:]}
    reference = tmp_path / "integers"
    reference.mkdir()
    for name, rows in files.items():
        (reference / f"{name}.jsonl").write_text("".join(json.dumps(
            {k: v for k, v in r.items() if v is not None}) + "\n" for r in rows), encoding="utf-8")
    for layout in ("csv", "jsonl", "parquet"):
        (tmp_path / layout).mkdir()
        for name, rows in files.items():
            frame, path = pd.DataFrame(rows), tmp_path / layout / f"{name}.{layout}"
            assert str(frame["cache_read_tokens"].dtype) == "float64"
            if layout == "csv":
                frame.to_csv(path, index=False)
            elif layout == "jsonl":
                frame.to_json(path, orient="records", lines=True)
            else:
                duckdb.execute(f"copy (select * from frame) to '{path}' (format parquet)")
    assert '"cache_read_tokens":1000.0' in (tmp_path / "jsonl" / "usage.jsonl").read_text()
    landed = {}
    for folder in ("integers", "csv", "jsonl", "parquet"):
        run_cli(tmp_path / f"home-{folder}", "land", str(tmp_path / folder))
        private = tmp_path / f"home-{folder}" / "token_ledger.duckdb"
        landed[folder] = (
            query(private, "select * exclude (_batch_id, _loaded_at, _line) from raw.canonical_events order by all"),
            query(private, "select parse_filename(file_path, true), reason from raw.quarantine"))
    rows, quarantined = landed.pop("integers")
    assert [(row[0], row[9]) for row in rows] == [("r0", 1000), ("r1", None), ("r2", 250)]  # cache_read_tokens
    assert quarantined == [("fraction", "field 'cache_read_tokens' is not a whole number")]
    assert landed == {layout: (rows, quarantined) for layout in ("csv", "jsonl", "parquet")}


def test_csv_separated_by_semicolons_or_tabs_lands_as_with_commas(tmp_path: Path) -> None:
    """Spreadsheets in many locales write `;`, and "text" exports a tab: canonical records and
    LiteLLM spend logs (two files of each, so the bulk pass reads them) are recognised and land
    as their comma-separated copies do, at the same lines. The two files of each joined with
    `cat` land the same records: the second header is ignored, not quarantined."""
    run_cli(tmp_path / "gen", "generate", "--out", str(tmp_path / "gen-in"), "--users", "20", "--days", "1",
            "--seed", "6")
    records = [json.loads(line) for line in _lines_of(tmp_path / "gen-in" / "usage-2026-10-01.jsonl")]
    columns = ["request_id", "occurred_at", "provider", "model", "user_email", "input_tokens", "output_tokens",
               "cache_read_tokens"]
    with (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").open(encoding="utf-8", newline="") as handle:
        spend_logs = list(csv.reader(handle))
    landed = {}
    for name, delimiter in (("commas", ","), ("semicolons", ";"), ("tabs", "\t")):
        folder = tmp_path / name
        folder.mkdir()
        for half in (0, 1):
            with (folder / f"usage-{half}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, columns, delimiter=delimiter, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(records[half::2])
            with (folder / f"spendlogs-{half}.csv").open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle, delimiter=delimiter).writerows([spend_logs[0], *spend_logs[1 + half::2]])
    joined = tmp_path / "joined"
    joined.mkdir()
    for stem in ("usage", "spendlogs"):
        (joined / f"{stem}.csv").write_bytes(b"".join((tmp_path / "commas" / f"{stem}-{half}.csv").read_bytes()
                                                      for half in (0, 1)))
    for name in ("commas", "semicolons", "tabs", "joined"):
        home = tmp_path / f"home-{name}"
        run_cli(home, "land", str(tmp_path / name))
        with warehouse.private(Home.resolve(str(home)), read_only=True) as con:
            landed[name] = {sql: con.execute(sql).fetchall() for sql in (
                "select r.* exclude (_batch_id, _loaded_at), parse_filename(b.file_path) from raw.canonical_events "
                "as r inner join raw.load_batches as b on r._batch_id = b.batch_id order by all",
                "select r.* exclude (_batch_id, _loaded_at), parse_filename(b.file_path) from raw.litellm_spend_logs "
                "as r inner join raw.load_batches as b on r._batch_id = b.batch_id order by all",
                "select parse_filename(file_path), line_number, reason from raw.quarantine order by all",
                "select sum(rows_skipped) from raw.load_batches")}
    assert landed["semicolons"] == landed["commas"] and landed["tabs"] == landed["commas"]
    canonical, spend, quarantine, skipped = landed["commas"].values()
    assert len(canonical) == len({(r["provider"], r["request_id"]) for r in records})
    # EXPECTED.md of the fixture: of its 5 rows, chatcmpl-005 is quarantined (the first file's 3rd row, line 4)
    assert len(spend) == len(spend_logs) - 2 and [row[:2] for row in quarantine] == [("spendlogs-0.csv", 4)]
    # joined: the same records (the second half's lines after the first's), one header skipped per file
    records_of = {name: [sorted(row[:-2] for row in rows) for rows in list(landed[name].values())[:2]]
                  for name in ("commas", "joined")}
    assert records_of["joined"] == records_of["commas"]
    _, _, joined_quarantine, joined_skipped = landed["joined"].values()
    assert [row[:2] for row in joined_quarantine] == [("spendlogs.csv", 4)]
    assert joined_skipped == [(skipped[0][0] + 2,)]


def test_csv_nulls_written_as_backslash_n_land_as_empty_fields_do(tmp_path: Path) -> None:
    """Snowflake's unload (its default NULL_IF), Postgres' text COPY, MySQL and Hive write a
    missing value as `\\N`: the people directory, LiteLLM spend logs and canonical records
    (two files, so the bulk pass reads them, and one with a bad record, read the careful way)
    land as their copies with empty fields do, and no record is quarantined for it."""
    run_cli(tmp_path / "gen", "generate", "--out", str(tmp_path / "gen-in"), "--users", "20", "--days", "1",
            "--seed", "8")
    records = [json.loads(line) for line in _lines_of(tmp_path / "gen-in" / "usage-2026-10-01.jsonl")]
    columns = ["request_id", "occurred_at", "provider", "model", "user_email", "input_tokens", "output_tokens",
               "cache_read_tokens", "service_tier", "application"]
    for n, record in enumerate(records):  # a missing value in every optional column, in turn
        record.pop(columns[7 + n % 3], None)
    with (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").open(encoding="utf-8", newline="") as handle:
        spend_logs = list(csv.reader(handle))
    with (FIXTURES / "people" / "directory.csv").open(encoding="utf-8", newline="") as handle:
        people = list(csv.reader(handle))
    landed = {}
    for name, null in (("empty", ""), ("backslash-n", "\\N")):
        folder = tmp_path / name
        folder.mkdir()
        for file_name, rows in (("spendlogs.csv", spend_logs), ("directory.csv", people)):
            with (folder / file_name).open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows([rows[0], *([value or null for value in row] for row in rows[1:])])
        for part, chosen in (("0", records[0::3]), ("1", records[1::3]), ("bad", records[2::3])):
            with (folder / f"usage-{part}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, columns, restval=null, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(chosen + ([{**chosen[0], "request_id": "bad-1", "input_tokens": -1}]
                                           if part == "bad" else []))
        home = Home.resolve(str(tmp_path / f"home-{name}"))
        with warehouse.private(home) as con:
            configure(con, home.root)
            report = land_files(con, sorted(folder.iterdir()))
            landed[name] = [con.execute(sql).fetchall() for sql in (
                "select * exclude (_batch_id, _loaded_at) from raw.canonical_events order by all",
                "select * exclude (_batch_id, _loaded_at) from raw.litellm_spend_logs order by all",
                "select * exclude (_batch_id, _loaded_at) from raw.people order by all",
                "select parse_filename(file_path), line_number, reason from raw.quarantine order by all")]
        assert not report.errors
    assert landed["backslash-n"] == landed["empty"]
    canonical, spend, directory, quarantine = landed["empty"]
    assert len(canonical) == len({(r["provider"], r["request_id"]) for r in records})  # replays once
    assert len(directory) == len(people) - 1
    # EXPECTED.md of the LiteLLM fixture: line 6 is quarantined; the planted bad record at its line
    assert [row[:2] for row in quarantine] == [("spendlogs.csv", 6), ("usage-bad.csv", len(records[2::3]) + 2)]
    assert len(spend) == len(spend_logs) - 2


def test_one_collector_file_of_logs_and_metrics_lands_as_both(tmp_path: Path) -> None:
    """A Collector whose one `file` exporter serves both the logs and the metrics pipeline
    writes both kinds of export request into one file. The two OTel fixtures interleaved, each
    signal first: every record lands as when its fixture lands alone (EXPECTED.md of each), at
    the line the interleaving put it on, with the same quarantine reasons; the file counts as
    one, and is skipped when landed again."""
    fixtures = {"logs": FIXTURES / "claude-code-otel" / "collector-export.jsonl",
                "metrics": FIXTURES / "claude-code-otel-metrics" / "metrics.jsonl"}
    sources = {kind: _lines_of(path) for kind, path in fixtures.items()}
    tables = {"logs": "claude_code_otel_events", "metrics": "claude_code_otel_metric_points"}

    def landed(home: Path) -> dict[str, list]:
        private = home / "token_ledger.duckdb"
        return {kind: query(private, f"select * exclude (_batch_id, _loaded_at, _line), _line from raw.{table} "
                                     "order by all") for kind, table in tables.items()}

    alone = tmp_path / "home-alone"
    run_cli(alone, "land", str(FIXTURES / "people"), *(str(p) for p in fixtures.values()))
    expected = landed(alone)
    # EXPECTED.md: 3 requests (lines 1, 2, 4); 23 outcome points (lines 1-7)
    assert [row[-1] for row in expected["logs"]] == [1, 2, 4] and len(expected["metrics"]) == 23
    quarantined_alone = {(kind, line, reason) for kind, fmt in (("logs", "claude-code-otel"),
                                                                ("metrics", "claude-code-otel-metrics"))
                         for line, reason in query(alone / "token_ledger.duckdb", "select line_number, reason "
                                                   "from raw.quarantine where source_format = ?", [fmt])}
    assert quarantined_alone == {("logs", 2, "field 'input_tokens' is negative"), ("logs", 3, "invalid JSON"),
                                 ("metrics", 8, "invalid JSON")}

    for first in ("logs", "metrics"):
        second = "metrics" if first == "logs" else "logs"
        # (kind, its line in its fixture) for each line: alternately, then the rest of the longer
        order = [(kind, i + 1) for i in range(max(map(len, sources.values())))
                 for kind in (first, second) if i < len(sources[kind])]
        mixed = tmp_path / f"{first}-first" / "collector.jsonl"
        mixed.parent.mkdir()
        mixed.write_text("".join(sources[kind][line - 1] + "\n" for kind, line in order), encoding="utf-8")
        home = tmp_path / f"home-{first}-first"
        run_cli(home, "land", str(FIXTURES / "people"))
        out = run_cli(home, "land", str(mixed)).out
        assert "landed 26 records from 1 files" in out and "quarantined 3 records" in out, out
        at = {place: number for number, place in enumerate(order, start=1)}
        got = landed(home)
        for kind in tables:
            assert [row[:-1] for row in got[kind]] == [row[:-1] for row in expected[kind]], (first, kind)
            assert [row[-1] for row in got[kind]] == [at[kind, row[-1]] for row in expected[kind]]
        quarantined = set(query(home / "token_ledger.duckdb", "select line_number, reason from raw.quarantine"))
        assert quarantined == {(at[kind, line], reason) for kind, line, reason in quarantined_alone}, first
        assert "skipped 1 files already landed" in run_cli(home, "land", str(mixed)).out


def test_a_collector_file_whose_metrics_failed_to_land_lands_whole_next_time(tmp_path: Path) -> None:
    """The warehouse fails after a mixed Collector file's logs landed and before its metrics
    did: the file does not count as landed, and the next landing lands it whole, once, as a
    landing without the failure does."""
    mixed = tmp_path / "in" / "collector.jsonl"
    mixed.parent.mkdir()
    mixed.write_text("".join(line + "\n" for path in (FIXTURES / "claude-code-otel" / "collector-export.jsonl",
                                                      FIXTURES / "claude-code-otel-metrics" / "metrics.jsonl")
                             for line in _lines_of(path)), encoding="utf-8")
    queries = ("select * exclude (_batch_id, _loaded_at) from raw.claude_code_otel_events order by all",
               "select * exclude (_batch_id, _loaded_at) from raw.claude_code_otel_metric_points order by all",
               "select source_format, line_number, reason from raw.quarantine order by all",
               "select source_format, file_path, rows_landed, rows_quarantined, rows_skipped from raw.load_batches "
               "order by all")
    clean = tmp_path / "clean"
    run_cli(clean, "land", str(mixed))
    expected = [query(clean / "token_ledger.duckdb", sql) for sql in queries]
    assert len(expected[0]) == 3 and len(expected[1]) == 23 and len(expected[3]) == 2  # EXPECTED.md of each

    failed = Home.resolve(str(tmp_path / "failed"))
    original = land._land_one

    def failing(*args: object) -> object:
        if args[7]:  # the landing as the companion: the warehouse fails
            raise duckdb.IOException("IO Error: could not write to the database file")
        return original(*args)

    with warehouse.private(failed) as con, pytest.MonkeyPatch.context() as patch:
        patch.setattr(land, "_land_one", failing)
        report = land_files(con, [mixed])
    assert len(report.errors) == 1 and report.records_landed == 3  # the logs landed, then the failure
    out = run_cli(failed.root, "land", str(mixed)).out
    assert "landed 26 records from 1 files" in out, out
    assert [query(failed.private_db, sql) for sql in queries] == expected
    assert "skipped 1 files already landed" in run_cli(failed.root, "land", str(mixed)).out


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def _cut_last_line(path: Path, stopped_minutes_ago: int = 10) -> int:
    """Cut the file's last line in the middle, with no newline after it, as a writer stopped
    mid-line leaves it (`stopped_minutes_ago`; 0: as one still writing it shows it); returns
    that line's number."""
    lines = _lines_of(path)
    path.write_text("".join(f"{line}\n" for line in lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    stopped = time.time() - 60 * stopped_minutes_ago
    os.utime(path, (stopped, stopped))
    return len(lines)


def test_a_file_still_being_written_waits_for_its_writer(tmp_path: Path) -> None:
    """An exporter appends to one file (a Collector's file exporter, batch after batch), and a
    scheduled landing may read it mid-line. A file cut mid-line and written to in the last five
    minutes is left for the next landing: nothing of it lands or is quarantined (no alert for a
    line its writer is finishing), and nothing is recorded, so the next landing reads it again.
    Whole by then, it lands every record and quarantines nothing; cut and left alone longer, its
    last line is quarantined as a cut file's is. Before 2026-12-06 the first landing quarantined
    the line, and the row and its alert stayed after the line had landed."""
    inputs, home = tmp_path / "in", tmp_path / "home"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "12", "--days", "2", "--seed", "7")
    live, dead = sorted(inputs.glob("usage-*.jsonl"))
    whole = live.read_bytes()
    reference = tmp_path / "reference" / live.name  # the same file, landed whole elsewhere
    reference.parent.mkdir()
    reference.write_bytes(whole)
    run_cli(tmp_path / "reference-home", "land", str(reference))
    _cut_last_line(live, stopped_minutes_ago=0)
    cut = _cut_last_line(dead, stopped_minutes_ago=0)
    first = run_cli(home, "land", str(live), str(dead)).out
    assert "landed 0 records from 0 files" in first and "2 files still being written" in first
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.quarantine") == [(0,)]
    live.write_bytes(whole)  # its writer finished the line
    stopped = time.time() - 600  # the other's stopped ten minutes ago
    os.utime(dead, (stopped, stopped))
    second = run_cli(home, "land", str(live), str(dead)).out
    assert "still being written" not in second
    assert [(Path(f).name, n, reason) for f, n, reason in query(
        home / "token_ledger.duckdb", "select file_path, line_number, reason from raw.quarantine")] == [
        (dead.name, cut, "invalid JSON")]
    landed = "select * exclude (_batch_id, _loaded_at) from raw.canonical_events where _batch_id in " \
             "(select batch_id from raw.load_batches where file_path like '%/in/' || ? or file_path like " \
             "'%/reference/' || ?) order by all"
    assert query(home / "token_ledger.duckdb", landed, [live.name] * 2) == query(
        tmp_path / "reference-home" / "token_ledger.duckdb", landed, [live.name] * 2)


@pytest.mark.parametrize("fmt", ["canonical", "claude-code-otel", "claude-code-jsonl", "litellm-spendlogs"])
def test_a_file_cut_mid_line_lands_the_careful_way_in_one_bulk_pass(tmp_path: Path, fmt: str) -> None:
    """A file whose last line was cut mid-write is left out of the bulk pass (its
    read would fail the pass, which was then halved until the file was found: about 2 log2(N)
    passes) and lands the careful way: what the same file without that line lands, plus one
    quarantine row at that line. The other files land in one pass, a whole file without a
    newline after its last line among them (many exporters write none)."""
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "12", "--days", "6", "--seed", "7",
            "--format", fmt)
    owners = None
    if fmt == "claude-code-jsonl":  # everyone's transcripts, each folder its person's
        with (inputs / "transcript-users.csv").open(encoding="utf-8") as handle:
            owners = {row["folder"]: row["user_email"] for row in csv.DictReader(handle)}
        files = sorted((inputs / "claude-code-jsonl").rglob("*.jsonl"))
    else:
        files = sorted(inputs.glob("*.jsonl") if fmt != "litellm-spendlogs" else inputs.glob("litellm-*.csv"))
    assert len(files) > 2
    cut = files[1]
    whole = tmp_path / "whole" / cut.relative_to(inputs)
    whole.parent.mkdir(parents=True)
    whole.write_text("".join(f"{line}\n" for line in _lines_of(cut)[:-1]), encoding="utf-8")
    line = _cut_last_line(cut)
    assert not cut.read_bytes().endswith(b"\n")
    files[2].write_bytes(files[2].read_bytes().rstrip(b"\r\n"))  # whole, no newline at its end

    passes: list[list[str]] = []  # the files of each bulk pass
    original = bulk_landing.land_bulk
    landed, quarantine = {}, {}
    for name, paths in {"cut": files, "whole": [whole]}.items():
        home = Home.resolve(str(tmp_path / name))
        with warehouse.private(home) as con, pytest.MonkeyPatch.context() as patch:
            configure(con, home.root)
            patch.setattr(bulk_landing, "land_bulk", lambda *a, **k: passes.append([p.path.name for p in a[2]])
                          or original(*a, **k))
            assert not land_files(con, paths, fmt=fmt, owners=owners).errors
            landed[name] = con.execute(
                f"select r.* exclude (_batch_id, _loaded_at) from raw.{FORMATS[fmt].table} as r inner join "
                "raw.load_batches as b on r._batch_id = b.batch_id where b.file_path like ? order by all",
                [f"%/{cut.relative_to(inputs)}"]).fetchall()
            quarantine[name] = con.execute("select file_path, line_number, reason from raw.quarantine").fetchall()
        if name == "cut":  # one pass, without the cut file
            assert passes == [[p.name for p in files if p != cut]]
    assert [(Path(f), n) for f, n, _ in quarantine["cut"]] == [(cut, line)], quarantine["cut"]
    assert "JSON" in quarantine["cut"][0][2] or "CSV" in quarantine["cut"][0][2]
    assert quarantine["whole"] == []
    assert landed["cut"] == landed["whole"] and landed["cut"]


def test_resumed_sessions_land_in_passes_as_file_after_file(tmp_path: Path) -> None:
    """A resumed Claude Code session copies the messages before it into a new transcript (a
    new session id), and may be resumed again: files sharing requests. Each request lands from
    its first file in the first bulk pass, the files after it in the passes after (three files
    holding one request: three passes), none of them the careful way, and exactly as landing
    file after file does: the copies are replays, a message written again larger a correction
    (about 8 times faster on 3,857 files, a tenth of them resumed)."""
    inputs = tmp_path / "in"
    run_cli(tmp_path / "gen", "generate", "--out", str(inputs), "--users", "12", "--days", "3", "--seed", "3",
            "--format", "claude-code-jsonl")
    with (inputs / "transcript-users.csv").open(encoding="utf-8") as handle:
        owners = {row["folder"]: row["user_email"] for row in csv.DictReader(handle)}
    files = sorted((inputs / "claude-code-jsonl").rglob("*.jsonl"))
    original = max(files, key=lambda p: len(_lines_of(p)))
    lines = _lines_of(original)

    def resumed(source: list[str], session: str, grow: bool = False) -> list[str]:
        copies = [json.loads(line) for line in source[: len(source) // 2 + 1]]
        for record in copies:
            record["sessionId"] = session
        usage = [r for r in copies if r.get("message", {}).get("usage")]
        if grow:  # its last message written again, with more output: a correction of it
            usage[-1]["message"]["usage"]["output_tokens"] += 1_000_000
        return [json.dumps(record) for record in copies]

    first = _write(original.parent / "resumed-1.jsonl", resumed(lines, "s-resumed-1"))
    second = _write(original.parent / "resumed-2.jsonl", resumed(_lines_of(first), "s-resumed-2", grow=True))
    files = [*files, first, second]  # in this order: each resumed file after the file it copies

    passes: list[list[str]] = []
    careful_files: list[str] = []
    original_pass, careful_one = bulk_landing.land_bulk, land._land_careful
    bulk_home, careful_home = Home.resolve(str(tmp_path / "bulk")), Home.resolve(str(tmp_path / "careful"))
    with warehouse.private(bulk_home) as con, pytest.MonkeyPatch.context() as patch:
        configure(con, bulk_home.root)
        patch.setattr(bulk_landing, "land_bulk", lambda *a, **k: passes.append([p.path.name for p in a[2]])
                      or original_pass(*a, **k))
        patch.setattr(land, "_land_careful", lambda *a: careful_files.append(a[1].name) or careful_one(*a))
        bulk_report = land_files(con, files, owners=owners)
    careful_report = _land_file_by_file(careful_home, files, FORMATS["claude-code-jsonl"], owners=owners)

    assert passes == [[p.name for p in files], [first.name, second.name], [second.name]]
    assert careful_files == []
    table = ("select r.* exclude (_batch_id, _loaded_at), b.file_path from raw.claude_code_transcript_messages as r "
             "inner join raw.load_batches as b on r._batch_id = b.batch_id order by all")
    bulk, careful = (_read(home, (table, QUARANTINE, BATCHES)) for home in (bulk_home, careful_home))
    assert bulk == careful
    assert bulk_report.line() == careful_report.line()
    # the copies landed nothing of their own but the larger message, which replaced its first write
    landed = {Path(row[0]).name: row[2] for row in bulk[BATCHES]}
    assert (landed[first.name], landed[second.name]) == (0, 1)
    assert bulk_report.records_corrected == 1


@pytest.mark.parametrize("text", [
    'a,b\n1,"x\ny"\n2,z\n',  # a quoted field holding a newline
    'a,b\r\n1,"say ""hi""\r\nthen go"\r\n2,z',  # doubled quotes, CRLF, no newline at the end
    'a,b\n1,"\n\n"\n',  # a field of newlines only
    'a\n',  # the header alone
    '\na,b\r\n\r\n1,"\r\n\r\n"\r\n\n2,z\n\n',  # blank lines: before the header, CRLF and LF, at the end
])
def test_csv_records_are_counted_as_pythons_csv_reader_reads_them(tmp_path: Path, text: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Records and blank rows, also read 1, 2 and 3 bytes at a time (a newline, a quote or a
    blank line at every place a read can end)."""
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for chunk in (1, 2, 3, contents.CHUNK):
        monkeypatch.setattr(contents, "CHUNK", chunk)
        assert contents.csv_records(path) == len(rows)
        assert contents.csv_blank_records(path) == [n for n, row in enumerate(rows, start=1) if not row]


@pytest.mark.parametrize(("text", "whole"), [
    ('a,b\n1,"{""k"": 2}"', True),  # the last record, no newline after it
    ('a;b\r\n1;2', True),  # the header's delimiter, CRLF
    ('a,b\n1,"{""k', False),  # cut inside a quoted field
    ('a,b\n1,2,', False),  # a field too many: not the header's shape
    ('a,b\n1', False),  # cut before its last field
    ('a,b\n1,"x\ny"', False),  # the end of a field spanning lines: taken for cut (the careful way)
])
def test_a_csv_files_last_line_is_whole_when_its_quotes_close_on_the_headers_fields(
        tmp_path: Path, text: str, whole: bool) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    assert readers.whole_csv_row(path, text.encode().rsplit(b"\n", 1)[-1]) is whole
