"""Bulk landing (many canonical JSON Lines files in one pass) lands exactly what landing each
file on its own, the careful way, lands: the same records with the same line numbers, the
same quarantine rows, the same duplicates dropped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from blake3 import blake3

from conftest import run_cli
from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.land import LandReport, _land_careful, land_files
from token_ledger.land import bulk as bulk_landing
from token_ledger.land.checksums import checksum
from token_ledger.land.detect import detect
from token_ledger.land.formats import FORMATS
from token_ledger.pseudonym import configure

# each record with the file it came from (its batch's file_path)
RAW = ("select r.* exclude (_batch_id, _loaded_at, _line), b.file_path, r._line from raw.canonical_events as r "
       "inner join raw.load_batches as b on r._batch_id = b.batch_id order by b.file_path, r._line")
QUARANTINE = "select file_path, line_number, reason, raw_record from raw.quarantine order by all"
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
        # spaces the careful path trims; a whole number written as 12.0; an email in capitals
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
                            fresh(records[5], "-b3", output_tokens=12.0), fresh(records[0], "-b4")]),
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
    careful_report = LandReport()
    with warehouse.private(careful_home) as con:
        configure(con, careful_home.root)
        for path in [*files, again]:
            digest, lines = checksum(path)
            _land_careful(con, path, FORMATS[detect(path)], digest, lines, None, careful_report)

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
