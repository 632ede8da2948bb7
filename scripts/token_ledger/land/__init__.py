"""`token-ledger land`: files into the raw schema of the private warehouse.

A file is landed in one transaction: its good records into the raw table of its format,
its bad records into `raw.quarantine` (file, line, reason), and one row in
`raw.load_batches` (checksum, counts). Content already landed is skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from token_ledger import rebuild
from token_ledger.errors import LedgerError
from token_ledger.identity import EMAIL_IN_TEXT, normal_identity, recorded_path
from token_ledger.land import bulk, readers
from token_ledger.land import detect as detection
from token_ledger.land.checksums import (
    BATCH_COLUMNS,
    UNREADABLE,
    already_landed,
    batch_id,
    checksums,
    has_legacy,
    record_stamps,
    recorded_digests,
    stamps,
    unchanged,
)
from token_ledger.land.fields import IDENTITY_KINDS, SQL_TYPES, reason_sql, typed_sql
from token_ledger.land.formats import FORMATS, LandingSpec, replace_corrected, request_keys, still_writing
from token_ledger.land.readers import _quote
from token_ledger.pseudonym import hmac_sql

FORMAT_NAMES = ("auto", *FORMATS)
# what a file can do wrong: DuckDB's readers raise these for content they cannot read (and
# Python cannot decode DuckDB's message when it quotes bytes of the file that are not UTF-8:
# a Parquet JSON column's). Any other failure (out of memory, disk, a defect) is the
# warehouse's: nothing of the file is recorded, and the next run tries it again
BAD_INPUT = (LedgerError, duckdb.InvalidInputException, duckdb.ConversionException, UnicodeDecodeError)


@dataclass
class LandReport:
    files_landed: int = 0
    files_skipped: int = 0
    files_tried: int = 0  # quarantined whole before as the format they would be read as now: skipped
    records_landed: int = 0
    records_quarantined: int = 0
    records_ignored: int = 0
    records_corrected: int = 0  # landed records a provider's correction replaced
    files_quarantined: int = 0  # could not be used at all: one quarantine row each
    files_empty: int = 0
    files_writing: int = 0  # cut mid-line while their writer is at it (`still_writing`): next time
    files_passed_over: int = 0  # in folders, not named as data files: not read
    errors: list[str] = field(default_factory=list)  # the warehouse itself failed
    warnings: list[str] = field(default_factory=list)  # files quarantined or unreadable: the run goes on
    refused: list[str] = field(default_factory=list)  # files that need an option (--user) to land

    def add(self, landed: int, quarantined: int, ignored: int, corrected: int = 0, new_file: bool = True) -> None:
        """Count one landed file (`new_file`), or another format's records of a file counted."""
        self.files_landed += new_file
        self.records_landed += landed
        self.records_quarantined += quarantined
        self.records_ignored += ignored
        self.records_corrected += corrected

    def merge(self, other: LandReport) -> LandReport:
        return LandReport(
            files_landed=self.files_landed + other.files_landed,
            files_skipped=self.files_skipped + other.files_skipped,
            files_tried=self.files_tried + other.files_tried,
            records_landed=self.records_landed + other.records_landed,
            records_quarantined=self.records_quarantined + other.records_quarantined,
            records_ignored=self.records_ignored + other.records_ignored,
            records_corrected=self.records_corrected + other.records_corrected,
            files_quarantined=self.files_quarantined + other.files_quarantined,
            files_empty=self.files_empty + other.files_empty,
            files_writing=self.files_writing + other.files_writing,
            files_passed_over=self.files_passed_over + other.files_passed_over,
            errors=self.errors + other.errors,
            warnings=self.warnings + other.warnings,
            refused=self.refused + other.refused,
        )

    def line(self) -> str:
        return (
            f"landed {self.records_landed} records from {self.files_landed} files; "
            f"skipped {self.files_skipped} files already landed; "
            f"quarantined {self.records_quarantined} records"
            + (f"; ignored {self.records_ignored} records (replays, non-usage events, repeated CSV headers, "
               "erased people)" if self.records_ignored else "")
            + (f"; {self.records_corrected} landed records replaced by corrections"
               if self.records_corrected else "")
            + (f"; {self.files_quarantined} files could not be used (quarantined whole)"
               if self.files_quarantined else "")
            + (f"; skipped {self.files_tried} files quarantined whole before (--format reads one as another format)"
               if self.files_tried else "")
            + (f"; {self.files_empty} empty files skipped" if self.files_empty else "")
            + (f"; {self.files_writing} files still being written left for the next landing (cut mid-line, "
               "changed in the last 5 minutes)" if self.files_writing else "")
            + (f"; {self.files_passed_over} files in folders not read (not named as data files; name one "
               "to try it)" if self.files_passed_over else "")
            + (f"; {len(self.refused)} files need --user" if self.refused else "")
            + (f"; {len(self.errors)} files failed" if self.errors else "")
        )


def _land_one(con: duckdb.DuckDBPyConnection, path: Path, spec: LandingSpec, digest: str, lines: int,
              user: str | None, loaded_at: dt.datetime,
              companion: bool = False) -> tuple[tuple[int, int, int, int], int]:
    """Land one file the careful way; returns (landed, quarantined, ignored, corrected) and the
    lines it holds of its format's companion (`LandingSpec.companion`). `companion`: the file
    was detected as another format, which has quarantined what is neither's."""
    read = spec.read(con, path, lines)
    records = f"select * from ({read.records}) as records where {read.own}" if companion else read.records
    reason = reason_sql(spec.fields, read.rules, spec.checks)
    typed = ", ".join(f"{typed_sql(f)} as t_{f.name}" for f in spec.fields)
    con.execute(f"create or replace temp table checked as select *, {reason} as _reason "
                f"from (select *, {typed} from ({records}) as records) as typed")
    readers.attach_raw_lines(con, path)
    fold_identities(con, spec)
    erased = _drop_erased(con, spec, user)
    duplicates = _settle_repeats(con, spec)
    batch = batch_id(loaded_at, digest)
    file_name = recorded_path(con, path)
    columns = [f.name for f in spec.fields]
    casts = [f"cast(t_{f.name} as {SQL_TYPES[f.kind]})" if f.kind == "count" else f"t_{f.name}"
             for f in spec.fields]
    extra_cols, extra_vals = spec.extra_columns("$user")
    row = {"batch": batch, "loaded": loaded_at}  # what every landed record carries
    params = {**row, "file": file_name}
    insert_params = {**row, "user": user} if spec.user_column else row
    con.execute("begin transaction")
    try:
        corrected = replace_corrected(con, "corrections", keep="false")
        con.execute(
            f"insert into raw.{spec.table} ({', '.join(map(_quote, columns + extra_cols))}, "
            "_line, _batch_id, _loaded_at) "
            f"select {', '.join(casts + extra_vals)}, _line, $batch, $loaded "
            "from checked where _reason is null",
            insert_params,
        )
        con.execute(
            "insert into raw.quarantine select $batch, $format, $file, _line, _reason, _raw, $loaded "
            "from checked where _reason is not null",
            {**params, "format": spec.name},
        )
        landed, quarantined = con.execute(
            "select count(*) filter (where _reason is null), count(*) filter (where _reason is not null) from checked"
        ).fetchone()
        ignored = read.ignored + erased + duplicates
        con.execute(
            f"insert into raw.load_batches {BATCH_COLUMNS} values ($batch, $format, $file, $digest, $loaded, $landed, "
            "$quarantined, $ignored)",
            {**params, "format": spec.name, "digest": digest, "landed": landed, "quarantined": quarantined,
             "ignored": ignored},
        )
        rebuild.queue_landed(con, spec, loaded_at)
        if read.others and spec.companion and not companion:  # landed once the companion is too
            con.execute("insert into raw.pending_batches values (?, ?, ?)", [batch, spec.table, loaded_at])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return (landed, quarantined, ignored, corrected), read.others


def _settle_repeats(con: duckdb.DuckDBPyConnection, spec: LandingSpec) -> int:
    """The repeat rule (`formats`) for one file's good records: replays are dropped from `checked`
    (returns how many); corrections are listed in `corrections` (provider, request_id) for
    the landing transaction to replace."""
    con.execute("create or replace temp table corrections (provider varchar, request_id varchar)")
    if not spec.request_key:
        return 0
    provider, request_id, occurred = spec.request_key
    # the key is declared over the raw table's columns: here they are the typed values
    typed = ", ".join(f"t_{f.name} as {_quote(f.name)}" for f in spec.fields)
    con.execute(
        f"""
        create or replace temp table batch_keys as
        select _line, {provider} as provider, {request_id} as request_id,
            cast({occurred} as timestamp) as occurred_at, {spec.usage_signature} as usage_signature,
            {spec.usage_total if spec.largest_stands else '0'} as usage_total
        from (select _line, _reason, {typed} from checked) as records
        where _reason is null and {request_id} is not null
        """
    )
    if not con.execute("select count(*) from (select 1 from batch_keys limit 1)").fetchone()[0]:
        return 0
    # within the file, the last line of a request stands (or its largest: `largest_stands`)
    standing = "partition by provider, request_id order by usage_total desc, _line desc"
    con.execute(
        f"""
        create or replace temp table repeat_outcomes as
        with standing_lines as (
            select * from batch_keys
            qualify row_number() over ({standing}) = 1
        ),
        -- the file's requests landed before, on any day: a replay may come weeks later
        earlier as (
            select provider, request_id, occurred_at, usage_signature, usage_total
            from ({request_keys("standing_lines")}) as landed
        )
        select
            standing_lines._line,
            standing_lines.provider,
            standing_lines.request_id,
            bool_or(earlier.usage_signature = standing_lines.usage_signature) as same_usage,
            bool_or(cast(earlier.occurred_at as date) = cast(standing_lines.occurred_at as date)) as same_day,
            {'bool_or(earlier.usage_total >= standing_lines.usage_total)' if spec.largest_stands else 'false'}
                as not_larger
        from standing_lines
        inner join earlier
            on standing_lines.provider = earlier.provider and standing_lines.request_id = earlier.request_id
        group by all
        """
    )
    con.execute("insert into corrections select provider, request_id from repeat_outcomes "
                "where not same_usage and same_day and not not_larger")
    return con.execute(
        f"""
        delete from checked where _reason is null and _line in (
            select _line from batch_keys
            qualify row_number() over ({standing}) > 1
            union all
            select _line from repeat_outcomes where same_usage or not same_day or not_larger
        )
        """
    ).fetchone()[0]


def fold_identities(con: duckdb.DuckDBPyConnection, spec: LandingSpec) -> None:
    """Identities with characters beyond ASCII to Unicode NFKC (`identity.normal_identity`):
    once per distinct value, which are few (ASCII addresses need nothing more than SQL did)."""
    for identity in (f for f in spec.fields if f.kind in IDENTITY_KINDS):
        column = f"t_{identity.name}"
        values = con.execute(f"select distinct {column} from checked "
                             f"where regexp_matches({column}, '[^\\x00-\\x7f]')").fetchall()
        folded = [[value, normal] for (value,) in values if (normal := normal_identity(value)) != value]
        if folded:
            con.execute("create or replace temp table folded_identities (original varchar, folded varchar)")
            con.executemany("insert into folded_identities values (?, ?)", folded)
            con.execute(f"update checked set {column} = folded_identities.folded from folded_identities "
                        f"where checked.{column} = folded_identities.original")


def _drop_erased(con: duckdb.DuckDBPyConnection, spec: LandingSpec, user: str | None) -> int:
    """Remove records of people erased earlier (matched by keyed pseudonym) before they land."""
    if not (spec.identity_columns or spec.login_columns) or not con.execute(
            "select count(*) from raw.erasures").fetchone()[0]:
        return 0
    if spec.user_column:
        erased = con.execute(f"select {hmac_sql('?')} in (select subject_key from raw.erasures)", [user]).fetchone()
        return con.execute("delete from checked").fetchone()[0] if erased[0] else 0
    removed = 0
    for name in spec.identity_columns + spec.login_columns:  # erasures hold the keys of emails and logins
        column = f"t_{name}"  # in its normal form (identity kinds)
        con.execute(
            f"""
            create or replace temp table erased_identities as
            select identity from (select distinct {column} as identity from checked) as identities
            where {hmac_sql('identity')} in (select subject_key from raw.erasures)
            """
        )
        removed += con.execute(
            f"delete from checked where {column} in (select identity from erased_identities)"
        ).fetchone()[0]
    for name in spec.identity_references:  # a mention of an erased person (a manager) is emptied
        con.execute(f"update checked set v_{name} = null, t_{name} = null "
                    f"where {hmac_sql(f't_{name}')} in (select subject_key from raw.erasures)")
    # a record too broken to read its fields: an erased person's address anywhere in its text
    removed += con.execute(
        f"""
        delete from checked
        where _reason is not null and _raw is not null
            and list_has_any(
                list_transform(regexp_extract_all(lower(_raw), '{EMAIL_IN_TEXT}'), lambda e: {hmac_sql('e')}),
                (select list(subject_key) from raw.erasures))
        """
    ).fetchone()[0]
    return removed


def _land_bulk(con: duckdb.DuckDBPyConnection, spec: LandingSpec, files: list[bulk.Pending],
               report: LandReport) -> None:
    """Clean files in one pass, and the files holding requests it landed in passes after it; a
    file DuckDB's reader rejects outright is found by halving."""
    # files landed for an erased person: the careful path counts what it does not land
    erased = _erased_users(con, {p.user for p in files}) if spec.user_column else set()
    careful = [p for p in files if p.user in erased]
    files = [p for p in files if p.user not in erased]
    done = bulk.Pass([], [], [])
    try:
        if files:
            done = bulk.land_bulk(con, spec, files, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    except (duckdb.Error, UnicodeDecodeError):
        if len(files) > 1:
            half = len(files) // 2
            _land_bulk(con, spec, files[:half], report)
            _land_bulk(con, spec, files[half:], report)
            files = []
        done = bulk.Pass([], files, [])
    for item in done.landed:
        report.add(item.landed, 0, item.ignored, item.corrected)
    for item in careful + done.careful:
        _land_careful(con, item.path, spec, item.digest, item.lines, item.user, report)
    if done.later:
        _land_bulk(con, spec, done.later, report)


def _erased_users(con: duckdb.DuckDBPyConnection, users: set[str | None]) -> set[str | None]:
    """Those of `users` (`--user` or `--owners` emails) erased earlier."""
    if not any(users):
        return set()
    return {row[0] for row in con.execute(
        f"select u from (select unnest($users) as u) where {hmac_sql('u')} in (select subject_key from raw.erasures)",
        {"users": sorted(u for u in users if u is not None)}).fetchall()}


def _land_careful(con: duckdb.DuckDBPyConnection, path: Path, spec: LandingSpec, digest: str, lines: int,
                  user: str | None, report: LandReport, companion: bool = False) -> None:
    """One file the careful way; what it does wrong quarantines it whole, a failure of the
    warehouse is reported and nothing of the file is recorded. A file holding lines of its
    format's companion then lands as the companion too (`companion`: this is that landing),
    in a batch of its own; until it has, the first landing is pending (`discard_pending`), so a
    failure in between leaves the file to land whole next time."""
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        counts, others = _land_one(con, path, spec, digest, lines, user, loaded_at, companion)
    except BAD_INPUT as exc:
        _quarantine_file(con, path, spec.name, digest, _reason(exc, path), report)
        return
    except duckdb.Error as exc:
        report.errors.append(f"{path}: {_reason(exc, path).replace('cannot be read', 'could not be landed')}")
        return
    report.add(*counts, new_file=not companion)
    if others and spec.companion and not companion:
        failures = len(report.errors)
        _land_careful(con, path, FORMATS[spec.companion], digest, lines, user, report, companion=True)
        if len(report.errors) == failures:  # landed (or quarantined) as the companion too
            con.execute("delete from raw.pending_batches where batch_id = ?", [batch_id(loaded_at, digest)])


def _reason(exc: Exception, path: Path) -> str:
    """Why a file could not be used, naming a line where one is known, never its content: our
    own messages name only file, line and field; DuckDB's may quote a record, so only its kind
    and line are kept."""
    if isinstance(exc, LedgerError):
        return str(exc).removeprefix(f"{path}: ")
    if isinstance(exc, UnicodeDecodeError):
        return "cannot be read (bytes that are not UTF-8 where text belongs)"
    line = re.search(r"\bline:? (\d+)", str(exc), flags=re.IGNORECASE)
    kind = type(exc).__name__.removesuffix("Exception").removesuffix("Error").lower() or "read"
    return f"cannot be read ({kind} error" + (f" at line {line.group(1)})" if line else ")")


def _quarantine_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, digest: str, reason: str,
                     report: LandReport) -> None:
    """A file that cannot be used at all: one quarantine row and a batch with its digest, so it
    is not tried again until its content changes; the rest of the run goes on."""
    loaded = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch = batch_id(loaded, digest)
    params = {"batch": batch, "format": fmt, "file": recorded_path(con, path), "loaded": loaded}
    con.execute("begin transaction")
    try:
        con.execute("insert into raw.quarantine values ($batch, $format, $file, null, $reason, null, $loaded)",
                    {**params, "reason": reason})
        con.execute(f"insert into raw.load_batches {BATCH_COLUMNS} values ($batch, $format, $file, $digest, $loaded, "
                    "0, 1, 0)",
                    {**params, "digest": digest})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    report.files_quarantined += 1
    report.records_quarantined += 1
    report.warnings.append(f"{path}: {reason}; the file is quarantined")


def owner(path: Path, owners: dict[str, str]) -> str | None:
    """The person whose transcripts `path` is (`--owners`): its nearest folder listed."""
    return next((owners[folder.name] for folder in path.parents if folder.name in owners), None)


def land_files(con: duckdb.DuckDBPyConnection, files: list[Path], fmt: str = "auto", user: str | None = None,
               progress=None, owners: dict[str, str] | None = None) -> LandReport:
    """Land each file. A file that cannot be used at all is quarantined as a whole (one row,
    its reason) and not tried again as that format until its content changes (`--format`
    reads it as another); an empty file is skipped.
    A format that carries no identity lands for `user`, or for the `owners` entry (folder
    name -> email) of the file's nearest folder listed there.

    The files of a format with a bulk reader land together in one pass per format (`bulk`),
    after the rest; the rest, and any file that pass finds unclean, one at a time."""
    if fmt not in FORMAT_NAMES:
        raise LedgerError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMAT_NAMES)}")
    report = LandReport()
    stamped = stamps(files)  # before any is read
    kept = unchanged(con, stamped)
    report.files_skipped += len(kept)
    if progress is not None and kept:
        progress.update(len(kept))
    files = [path for path in files if path not in kept]
    sums = checksums(files)
    legacy = has_legacy(con)
    recorded = recorded_digests(con, [s[0] for s in sums.values() if not isinstance(s, OSError)])
    seen: set[str] = set()
    together: dict[str, list[bulk.Pending]] = {}
    for path in files:
        if progress is not None:
            progress.update(1)
        if isinstance(sums[path], OSError):  # not recorded: tried again next time
            report.warnings.append(f"{path}: cannot be read ({sums[path].strerror}); skipped")
            continue
        digest, lines = sums[path]
        if digest in seen or already_landed(con, digest, path, legacy, recorded.landed):
            report.files_skipped += 1
            continue
        tried = recorded.quarantined_whole.get(digest, set())  # given the wrong --format: lands with the right one
        name = fmt if fmt != "auto" else "unknown"
        try:
            if lines == UNREADABLE:
                raise LedgerError(detection.unreadable(path))
            if fmt == "auto":
                name = detection.detect(path)
            if name in tried:
                report.files_tried += 1
                continue
            if still_writing(path):  # not recorded: read again next time
                report.files_writing += 1
                continue
            spec = FORMATS[name]
            person = (user or owner(path, owners or {})) if spec.needs_user else None
            if spec.needs_user and not person:  # not recorded: lands once its person is given
                report.refused.append(f"{path}: format {name} carries no identity; pass --user EMAIL "
                                      "or list its folder in --owners")
                continue
            seen.add(digest)
            if spec.bulk and spec.bulk.takes(path):
                together.setdefault(name, []).append(bulk.Pending(path, digest, lines, person))
            else:
                _land_careful(con, path, spec, digest, lines, person, report)
        except detection.EmptyFile:
            report.files_empty += 1
        except LedgerError as exc:  # no known format
            seen.add(digest)
            if name in tried:
                report.files_tried += 1
                continue
            _quarantine_file(con, path, name, digest, _reason(exc, path), report)
    for name in FORMATS:  # in the registry's order
        if name in together:
            _land_bulk(con, FORMATS[name], together[name], report)
    record_stamps(con, [(str(path.resolve()), sums[path][0], stamped[path]) for path in files
                        if stamped[path] is not None and not isinstance(sums[path], OSError)])
    return report
