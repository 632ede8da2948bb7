"""Many files of one format landed in one pass of DuckDB's parallel readers.

The per-file path (`land._land_one`) reads a file (`readers.Read`), works out a reason for
every record and then inserts; that is the careful path, and the reference. This one is for
the bulk of scheduled work, clean files, in every format with a `Bulk` reader in the registry:
one `insert … select` over all of them, keeping only records that pass a cheap predicate
which never accepts what the careful path rejects. A file whose landed count then differs
from what it holds (a bad record, a blank line), or that holds a value the careful path would
reject or trim (emails and few-valued text such as providers are checked once per distinct
value, after the insert), is taken out again and returned, so the caller lands it the careful
way: quarantine rows with their lines and reasons come from one place only. The records are
committed as pending first, then checked, numbered and recorded in a second transaction (see
`land_bulk`).

A format whose every line is one usage record (canonical JSON Lines, LiteLLM CSV) is inserted
straight from the reader and numbered by its rows' places; the others (transcripts, whose
lines without usage are ignored; OTel, whose lines hold many records) are read into a temp
table first, with each record's line, and their lines counted per file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from token_ledger import rebuild
from token_ledger.identity import recorded_path
from token_ledger.land.checksums import BATCH_COLUMNS, batch_id
from token_ledger.land.contents import csv_records
from token_ledger.land.fields import (
    EMAIL_PATTERN,
    IDENTITY_KINDS,
    MAX_COUNT_DIGITS,
    SERVICE_TIERS,
    ZERO_FRACTION,
    Field,
    identity_sql,
    in_window,
    typed_sql,
)
from token_ledger.land.formats import LandingSpec, replace_corrected, request_keys
from token_ledger.land.readers import _quote, file_pattern
from token_ledger.pseudonym import hmac_sql
from token_ledger.warehouse import discard_pending

# files numbered per UPDATE: each row picks its file's range from a CASE this long
FILES_PER_LINE_UPDATE = 32


@dataclass(frozen=True)
class Pending:
    path: Path
    digest: str
    lines: int
    user: str | None = None  # the person of a format that carries no identity


@dataclass(frozen=True)
class Landed:
    path: Path
    landed: int
    ignored: int
    corrected: int = 0  # landed records this file's corrections replaced


@dataclass(frozen=True)
class Pass:
    """What a bulk pass did with its files."""

    landed: list[Landed]
    careful: list[Pending]  # to land the careful way, in this order
    later: list[Pending]  # to land in another pass, after this one (they share requests with it)


def _bare(v: str) -> str:
    """A value `nullif(trim(v), '')` leaves as it is (DuckDB's trim removes spaces)."""
    return f"({v} <> '' and not starts_with({v}, ' ') and not ends_with({v}, ' '))"


def _stored(field: Field) -> str:
    """The value landed: what the careful path lands whenever `_accepted` holds."""
    v = field.col
    return {
        "text": v,
        # lower case (exports mix cases); `_value_ok` sends anything else not normal the careful way
        "email": f"lower({v})",
        "identity": f"lower({v})",
        "json_object": v,  # a JSON-typed column holds the value's JSON text
        "tier": f"lower({v})",
        "count": f"try_cast({v} as bigint)",
    }.get(field.kind, typed_sql(field).replace(f"nullif(trim({v}), '')", v))


def _checked_per_value(field: Field) -> bool:
    """Checked once per distinct value after the insert (`_reject_unclean`), not per record:
    emails, and text with few distinct values. 10 M records: 0.5 s less in the insert, for
    0.1 s per distinct-value query."""
    return field.kind in IDENTITY_KINDS or (field.kind == "text" and field.few_values)


def _value_ok(field: Field) -> str:
    """A value `_checked_per_value` lets through: as `_stored` landed it, exactly what the careful
    path lands from it."""
    v = field.col
    # ASCII with nothing to trim, fold or remove once lower-cased (else the careful path lands
    # its normal form)
    normal = f"{v} = {identity_sql(v)} and not regexp_matches({v}, '[^\\x00-\\x7f]')"
    if field.kind == "email":
        return f"coalesce(regexp_full_match({v}, {EMAIL_PATTERN}) and {normal}, false)"
    if field.kind == "identity":
        return f"coalesce({normal}, false)"
    return _bare(v)


def _accepted(field: Field) -> str:
    """Cheap checks on the text: never true where the careful path would reject or land a
    different value (it may be false where the careful path accepts: that file then goes the
    careful way), but for the values checked per distinct value after the insert. Conversions
    of required fields, and every time's window, are checked after the insert too
    (`_unconverted`)."""
    v = field.col
    if _checked_per_value(field):
        return f"{v} is not null" if field.required else "true"
    tiers = ", ".join(f"'{tier}'" for tier in SERVICE_TIERS)
    ok = {
        "text": _bare(v),
        "tier": f"lower({v}) in ({tiers})",
        "json_object": f"starts_with({v}, '{{')",
        "bool": f"{v} in ('true', 'false')",
        # digits only, or a zero fraction (DuckDB's cast would take '+5', '12.5', '1e3', '0x10',
        # '1_000', '5\t'), within the bound of a valid count (a larger value goes the careful way)
        "count": f"regexp_full_match({v}, '[0-9]{{1,{MAX_COUNT_DIGITS}}}{ZERO_FRACTION}')",
    }.get(field.kind, "true" if field.required else f"{_stored(field)} is not null")
    return f"({v} is not null and {ok})" if field.required else f"({v} is null or ({ok}))"


def _accepted_record(spec: LandingSpec) -> str:
    """A record the pass may land: a usage record every field and cross-field check accepts."""
    checks = [f"not coalesce({condition}, false)" for condition, _ in spec.checks]
    return " and ".join(["_usage", *(_accepted(f) for f in spec.fields), *checks])


def _insert(con: duckdb.DuckDBPyConnection, spec: LandingSpec, files: list[Pending], batch_ids: list[str],
            loaded_at: dt.datetime) -> tuple[list[int], list[int]]:
    """Insert the accepted records of `files`; returns, for each file, how many records it should
    land (a file landing another number is unclean) and how many it held beside them (records
    the format ignores)."""
    assert spec.bulk is not None
    paths = [file_pattern(p.path) for p in files]
    reader = spec.bulk.read(con, spec.fields, paths)
    extra_cols, extra_vals = spec.extra_columns("$users[cast(file_index as bigint) + 1]")
    target = ", ".join(_quote(c) for c in [*(f.name for f in spec.fields), *extra_cols])
    values = ", ".join([*(_stored(f) for f in spec.fields), *extra_vals])
    params = {"files": paths, "batches": batch_ids, "loaded": loaded_at,
              **({"users": [p.user for p in files]} if extra_cols else {})}
    if spec.bulk.record_per_line:
        con.execute(
            f"""
            insert into raw.{spec.table} ({target}, _line, _batch_id, _loaded_at)
            -- file_index: the file's place in $files, from 0; _line is set from the rows' places
            select {values}, null, $batches[cast(file_index as bigint) + 1], $loaded
            from ({reader}) as source
            where {_accepted_record(spec)}
            """,
            params,
        )
        return [p.lines - spec.bulk.header_lines for p in files], [0] * len(files)
    # the line of a record: its row's place in its file (one row per line), the temp table
    # holding the rows in the order read; or, where a line holds several records, the lines
    # counted in each file from each line's first row, in the insert (a window over the read
    # itself runs it on one thread: reading 500 k OTel events, 6 s against 4 s; a running count
    # over the whole stored read, stored again, 1.3-1.5 s for 2 M events)
    con.execute(f"create or replace temp table bulk_source as {reader}", {"files": paths})
    if "_first" in {d[0] for d in con.execute("select * from bulk_source limit 0").description}:
        lines_read = "count(*) filter (where _first)"
        line = ("sum(cast(_first as integer)) over (partition by file_index order by rowid "
                "rows between unbounded preceding and current row)")
    else:
        lines_read, line = "count(*)", "rowid - $firsts[cast(file_index as bigint) + 1] + 1"
    # a file whose lines were all read (no blank or unreadable line) lands its records here;
    # the others land nothing here (first row -1)
    firsts, expected, ignored = [-1] * len(files), [-1] * len(files), [0] * len(files)
    for index, count, first, usage, other in con.execute(
            f"select file_index, {lines_read}, min(rowid), count(*) filter (where _usage), "
            "count(*) filter (where not _usage) from bulk_source group by 1").fetchall():
        ignored[index] = other
        if count == files[index].lines:
            firsts[index], expected[index] = first, usage
    con.execute(
        f"""
        insert into raw.{spec.table} ({target}, _line, _batch_id, _loaded_at)
        select {values}, _line, $batches[cast(file_index as bigint) + 1], $loaded
        from (select *, {line} as _line from bulk_source where $firsts[cast(file_index as bigint) + 1] >= 0)
        where {_accepted_record(spec)}
        """,
        {**{k: v for k, v in params.items() if k != "files"}, "firsts": firsts},
    )
    con.execute("drop table bulk_source")
    return expected, ignored


def _new_rows(spec: LandingSpec) -> str:
    return f"raw.{spec.table} where _loaded_at = $loaded and _batch_id in (select batch_id from bulk_files)"


def _unconverted(spec: LandingSpec) -> str:
    """A stored record the careful path would not land: a required value that did not convert,
    or a time outside the valid window (checked here, on the stored time: in the insert each
    time would be converted twice, 0.9 s of 14 s for 10 M records)."""
    return " or ".join([*(f"{_quote(f.name)} is null" for f in spec.fields if f.required),
                        *(f"not {in_window(_quote(f.name))}" for f in spec.fields if f.kind == "timestamp")]) or "false"


def _reject_unclean(con: duckdb.DuckDBPyConnection, spec: LandingSpec, files: list[Pending],
                    loaded: dt.datetime) -> set[str]:
    """Batches to take out again: count differs from what the file should land (where records
    may span lines, from its records: `Bulk.multiline_records`), rows not in file order (where
    lines are numbered by place), a record the careful path would not land (`_unconverted`),
    or a value checked per distinct value (an email, a provider) that the careful path would
    reject or trim."""
    con.execute(
        f"""
        create or replace temp table bulk_counts as
        select _batch_id as batch_id, count(*) as n, min(rowid) as first_row, max(rowid) as last_row,
            count(*) filter (where {_unconverted(spec)}) as unconverted
        from {_new_rows(spec)}
        group by 1
        """,
        {"loaded": loaded},
    )
    bad = set()
    for batch, seq, landed, recount in con.execute(
        """
        select f.batch_id, f.seq, coalesce(c.n, 0),
            $multiline and c.n < f.lines and c.unconverted = 0 and c.last_row - c.first_row + 1 = c.n
        from bulk_files as f left join bulk_counts as c using (batch_id)
        where coalesce(c.n, 0) <> f.lines or c.unconverted > 0
            or ($by_place and c.last_row - c.first_row + 1 <> c.n)
        """,
        {"by_place": spec.bulk.record_per_line, "multiline": spec.bulk.multiline_records},
    ).fetchall():
        if not (recount and csv_records(files[seq].path) - spec.bulk.header_lines == landed):
            bad.add(batch)
    # each identity column on its own (many values), the few-valued columns together
    per_value = [f for f in spec.fields if _checked_per_value(f)]
    groups = [[f] for f in per_value if f.kind in IDENTITY_KINDS] + [
        [f for f in per_value if f.kind not in IDENTITY_KINDS]]
    for group in filter(None, groups):
        columns = ", ".join(f"{_quote(f.name)} as {f.col}" for f in group)
        rejected = " or ".join(f"({f.col} is not null and not {_value_ok(f)})" for f in group)
        bad |= {row[0] for row in con.execute(
            f"""
            with seen as (select distinct _batch_id, {columns} from {_new_rows(spec)})
            select distinct _batch_id from seen where {rejected}
            """,
            {"loaded": loaded},
        ).fetchall()}
    return bad


def _delete_batches(con: duckdb.DuckDBPyConnection, spec: LandingSpec, batches: set[str], loaded: dt.datetime) -> None:
    if batches:
        con.execute(f"delete from raw.{spec.table} where _loaded_at = ? and list_contains(?, _batch_id)",
                    [loaded, sorted(batches)])
        con.execute("delete from bulk_files where list_contains(?, batch_id)", [sorted(batches)])


def _number_lines(con: duckdb.DuckDBPyConnection, spec: LandingSpec) -> None:
    """`_line` from the row's place: a clean file's records were inserted contiguously in file
    order (`_reject_unclean` checked it), so its rows are exactly rowids first_row..last_row.
    Updated by rowid ranges, which DuckDB reads directly (10 M rows: 0.3 s, against 1.3 s for
    a join on the batch id over the table), a few files per statement."""
    ranges = con.execute(
        "select first_row, last_row from bulk_counts where batch_id in (select batch_id from bulk_files) "
        "order by first_row"
    ).fetchall()
    for start in range(0, len(ranges), FILES_PER_LINE_UPDATE):
        group = [(int(first), int(last)) for first, last in ranges[start:start + FILES_PER_LINE_UPDATE]]
        lines = " ".join(f"when rowid <= {last} then rowid - {first - 1 - spec.bulk.header_lines}"
                         for first, last in group)
        con.execute(f"update raw.{spec.table} set _line = case {lines} end "
                    f"where rowid between {group[0][0]} and {group[-1][1]}")


def _drop_erased(con: duckdb.DuckDBPyConnection, spec: LandingSpec, loaded: dt.datetime) -> None:
    """Records of people erased earlier (their keyed pseudonym in `raw.erasures`) are not landed.
    A format landed for a `--user` or `--owners` person is checked by the caller (the careful
    path handles it)."""
    columns = [c for c in spec.identity_columns + spec.login_columns if c != spec.user_column]
    if not columns or not con.execute("select count(*) from raw.erasures").fetchone()[0]:
        return
    for name in columns:
        column = _quote(name)
        con.execute(
            f"""
            insert into bulk_ignored
            select _batch_id, rowid from {_new_rows(spec)}
                and {column} in (
                    select identity from (select distinct {column} as identity from {_new_rows(spec)})
                    where {hmac_sql('identity')} in (select subject_key from raw.erasures)
                )
            except
            select batch_id, row_id from bulk_ignored
            """,
            {"loaded": loaded},
        )


def _shared_requests(con: duckdb.DuckDBPyConnection, spec: LandingSpec, loaded: dt.datetime,
                     unclean: set[str]) -> tuple[set[str], set[str]]:
    """Files of the pass holding a request another file of it holds too (a session resumed
    copies the messages before it into a new transcript; a report delivered again): the
    repeat rule applies file after file, in the pass's order. Returns the batches to land the
    careful way and those to land in a later pass: each request lands from its first holder
    here, and a file holding a request an earlier file holds waits for the next pass, where
    that holder's records are landed before it (passes in a row, as few as the longest chain
    of files sharing requests). Where an unclean file holds a shared request, every file
    holding one goes the careful way, one after another (the careful files land after the
    pass). Fills `bulk_candidates`, the rows whose request appears more than once among the
    new rows (for `_settle_repeats`)."""
    con.execute("create or replace temp table bulk_candidates (_batch_id varchar, row_id bigint, "
                "provider_key varchar, request_id varchar, usage_total hugeint)")
    if not spec.request_key:
        return set(), set()
    provider, request_id, _ = spec.request_key
    total = spec.usage_total if spec.largest_stands else "0"
    con.execute(
        f"""
        insert into bulk_candidates
        -- read twice (to find repeated keys, then their rows), not materialised in between:
        -- DuckDB would copy every new row first (10 M rows: 1 s of the 2 s)
        with new_rows as not materialized (
            select _batch_id, rowid as row_id, {provider} as provider_key, {request_id} as request_id,
                {total} as usage_total
            -- a record the careful path would not land shares nothing
            from {_new_rows(spec)} and {request_id} is not null and not coalesce({_unconverted(spec)}, false)
        ),
        -- grouping 64-bit hashes of the request ids is far cheaper than grouping the keys (and
        -- than hashing the provider too: 0.7 s against 1.1 s for 10 M rows); a collision or the
        -- same id from two providers only adds a candidate, the keys themselves decide
        -- (a candidate alone with its key stands)
        repeated_hashes as (
            select hash(request_id) as key_hash from new_rows group by 1 having count(*) > 1
        )
        select _batch_id, row_id, provider_key, request_id, usage_total from new_rows
        where hash(request_id) in (select key_hash from repeated_hashes)
        """,
        {"loaded": loaded},
    )
    # each file holding a request another holds too, and whether an earlier file holds one of its
    holders = dict(con.execute(
        """
        with holders as (
            select distinct c.provider_key, c.request_id, c._batch_id, f.seq
            from bulk_candidates as c inner join bulk_files as f on f.batch_id = c._batch_id
        ),
        shared as (
            select _batch_id, seq > min(seq) over (partition by provider_key, request_id) as later
            from holders
            qualify count(*) over (partition by provider_key, request_id) > 1
        )
        select _batch_id, bool_or(later) from shared group by 1
        """
    ).fetchall())
    if unclean & holders.keys():
        return set(holders), set()
    return set(), {batch for batch, later in holders.items() if later}


def _settle_repeats(con: duckdb.DuckDBPyConnection, spec: LandingSpec, loaded: dt.datetime) -> None:
    """The repeat rule (`formats`) for the files of the pass, no two of which share a request
    (`_shared_requests`): repeats within a file (the last copy stands; the largest first where
    `largest_stands`) and replays of requests landed before (on any day) go to `bulk_ignored`;
    corrections of landed requests to `bulk_corrections`."""
    params = {"loaded": loaded}
    con.execute("create or replace temp table bulk_corrections (batch_id varchar, provider varchar, "
                "request_id varchar)")
    if not spec.request_key:
        return
    provider, request_id, occurred = spec.request_key
    total = spec.usage_total if spec.largest_stands else "0"
    con.execute(
        """
        insert into bulk_ignored
        select _batch_id, row_id from bulk_candidates
        where _batch_id in (select batch_id from bulk_files)
        qualify row_number() over (partition by provider_key, request_id order by usage_total desc, row_id desc) > 1
        except
        select batch_id, row_id from bulk_ignored
        """
    )
    landed_before = "not (_loaded_at = $loaded and _batch_id in (select batch_id from bulk_files))"
    if not con.execute(f"select count(*) from (select 1 from raw.request_keys where {landed_before} limit 1)",
                       params).fetchone()[0]:
        return
    not_larger = "bool_or(earlier.usage_total >= new_rows.usage_total)" if spec.largest_stands else "false"
    con.execute(
        f"""
        create or replace temp table bulk_repeats as
        with new_rows as (
            select _batch_id as batch_id, rowid as row_id, {provider} as provider, {request_id} as request_id,
                {occurred} as occurred_at, {spec.usage_signature} as usage_signature, {total} as usage_total
            from {_new_rows(spec)} and rowid not in (select row_id from bulk_ignored)
        )
        select
            new_rows.batch_id,
            new_rows.row_id,
            new_rows.provider,
            new_rows.request_id,
            bool_or(earlier.usage_signature = new_rows.usage_signature) as same_usage,
            bool_or(cast(earlier.occurred_at as date) = cast(new_rows.occurred_at as date)) as same_day,
            {not_larger} as not_larger
        from new_rows
        -- the pass's requests landed before, on any day: a replay may come weeks later
        inner join (
            select provider, request_id, occurred_at, usage_signature, usage_total
            from ({request_keys("new_rows")}) as landed
            where {landed_before}
        ) as earlier
            on new_rows.provider = earlier.provider and new_rows.request_id = earlier.request_id
        group by all
        """,
        params,
    )
    con.execute("insert into bulk_ignored select batch_id, row_id from bulk_repeats "
                "where same_usage or not same_day or not_larger")
    con.execute("insert into bulk_corrections select batch_id, provider, request_id from bulk_repeats "
                "where not same_usage and same_day and not not_larger")


def land_bulk(con: duckdb.DuckDBPyConnection, spec: LandingSpec, files: list[Pending],
              loaded_at: dt.datetime) -> Pass:
    """Land the clean files among `files` in one transaction; return what landed, the files to
    land the careful way and those for a later pass (`_shared_requests`). A file the reader
    cannot read at all makes the whole pass fail: the caller then lands the files in smaller
    groups."""
    batch_ids = [batch_id(loaded_at, p.digest) for p in files]
    # 1. the records, committed as pending: checking inside the inserting transaction would make
    #    DuckDB re-append every row at commit; a crash before step 2 leaves them to `discard_pending`
    con.execute("begin transaction")
    try:
        # one statement from lists (executemany costs about 1 ms a row: 4,000 transcript files, 4 s)
        con.execute("insert into raw.pending_batches select unnest($batches), $table, $loaded",
                    {"batches": batch_ids, "table": spec.table, "loaded": loaded_at})
        expected, ignored = _insert(con, spec, files, batch_ids, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    # 2. check, number lines, drop duplicates and erased people, record the batches
    con.execute("begin transaction")
    try:
        con.execute("create or replace temp table bulk_files (seq int, batch_id varchar, digest varchar, "
                    "file_path varchar, lines bigint, ignored bigint)")
        con.execute(
            "insert into bulk_files select unnest(range(len($batches))), unnest($batches), unnest($digests), "
            "unnest($paths), unnest($lines), unnest($ignored)",
            {"batches": batch_ids, "digests": [p.digest for p in files],
             "paths": [recorded_path(con, p.path) for p in files], "lines": expected, "ignored": ignored},
        )
        con.execute("create or replace temp table bulk_ignored (batch_id varchar, row_id bigint)")
        unclean = _reject_unclean(con, spec, files, loaded_at)
        shared, later = _shared_requests(con, spec, loaded_at, unclean)
        unclean |= shared
        _delete_batches(con, spec, unclean | later, loaded_at)
        if spec.bulk.record_per_line:
            _number_lines(con, spec)
        _drop_erased(con, spec, loaded_at)
        _settle_repeats(con, spec, loaded_at)
        con.execute(f"delete from raw.{spec.table} where _loaded_at = ? and rowid in "
                    "(select row_id from bulk_ignored)", [loaded_at])
        replace_corrected(con, "bulk_corrections", keep="_batch_id in (select batch_id from bulk_files)")
        rows = con.execute(
            """
            select f.file_path, coalesce(c.n, 0) - coalesce(i.n, 0), coalesce(i.n, 0) + f.ignored,
                f.batch_id, f.digest, coalesce(r.n, 0)
            from bulk_files as f
            left join bulk_counts as c using (batch_id)
            left join (select batch_id, count(*) as n from bulk_ignored group by 1) as i using (batch_id)
            left join (select batch_id, count(*) as n from bulk_corrections group by 1) as r using (batch_id)
            order by f.seq
            """
        ).fetchall()
        if rows:
            path, landed, ignored, batch, digest, _ = (list(column) for column in zip(*rows, strict=True))
            con.execute(
                f"insert into raw.load_batches {BATCH_COLUMNS} select unnest($batch), $format, unnest($path), "
                "unnest($digest), $loaded, unnest($landed), 0, unnest($ignored)",
                {"batch": batch, "format": spec.name, "path": path, "digest": digest, "loaded": loaded_at,
                 "landed": landed, "ignored": ignored},
            )
        con.execute("delete from raw.pending_batches where list_contains(?, batch_id)", [batch_ids])
        rebuild.queue_landed(con, spec, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        discard_pending(con)  # the inserted records go again; the caller lands the files another way
        raise
    landed = [Landed(Path(path), n, ignored, corrected) for path, n, ignored, _, _, corrected in rows]
    return Pass(landed, [p for p, b in zip(files, batch_ids, strict=True) if b in unclean],
                [p for p, b in zip(files, batch_ids, strict=True) if b in later])
