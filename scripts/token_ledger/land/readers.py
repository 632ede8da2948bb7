"""Turn one file into the temp table `src`: `_line`, `_raw` and text values `v_<field>`.

DuckDB's own readers do the work; nothing here loops over records in Python.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from token_ledger.errors import LedgerError
from token_ledger.land.fields import Field

LINE_READER = (
    "read_csv(?, columns = {'raw': 'VARCHAR'}, header = false, delim = '\x1f', quote = '', escape = '', "
    "auto_detect = false, strict_mode = false)"
)
JSONL_PRE_RULES = [
    ("not _valid", "'invalid JSON'"),
    ("_type <> 'OBJECT'", "'record is not a JSON object'"),
]
CSV_PRE_RULES = [("_csv_error is not null", "'malformed CSV row: ' || _csv_error")]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`lines(_line, _raw)`: every non-blank line of a text file, numbered from 1."""
    con.execute(
        f"""
        create or replace temp table lines as
        select _line, _raw from (
            select row_number() over () as _line, raw as _raw from {LINE_READER}
        ) where nullif(trim(_raw), '') is not null
        """,
        [str(path)],
    )


def jsonl(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field], paths: dict[str, str] | None = None,
          where: str = "true") -> list[tuple[str, str]]:
    """JSON Lines: one object per line; `paths` maps a field to its JSON path (default `$.name`)."""
    read_lines(con, path)
    json_paths = [(paths or {}).get(f.name, f"$.{f.name}") for f in fields]
    path_list = "[" + ", ".join(f"'{p}'" for p in json_paths) + "]"
    values = ",\n".join(f"_vals[{i + 1}] as {f.col}" for i, f in enumerate(fields))
    con.execute(
        f"""
        create or replace temp table src as
        with parsed as (
            select
                _line,
                _raw,
                json_valid(_raw) as _valid,
                case when json_valid(_raw) then json_type(_raw) end as _type
            from lines
        ),
        extracted as (
            select
                *,
                case when _type = 'OBJECT' then json_extract_string(_raw, {path_list}) end as _vals
            from parsed
        )
        select _line, _raw, _valid, _type, {values}
        from extracted
        where not (_type = 'OBJECT') or ({where})
        """
    )
    total, valid = con.execute("select count(*), count(*) filter (where _valid) from src").fetchone()
    if total and not valid:
        raise LedgerError(f"{path}: not JSON Lines (no line parses as JSON)")
    return JSONL_PRE_RULES


def _columns_by_name(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    names = [row[0] for row in con.execute(f"select column_name from (describe {relation})").fetchall()]
    return {n.strip().lower(): n for n in names}


def _value_columns(fields: list[Field], available: dict[str, str], path: Path) -> str:
    missing = [f.name for f in fields if f.required and f.name not in available]
    if missing:
        raise LedgerError(f"{path}: missing required column(s): {', '.join(missing)}")
    return ",\n".join(
        f"cast({_quote(available[f.name])} as varchar) as {f.col}" if f.name in available
        else f"cast(null as varchar) as {f.col}"
        for f in fields
    )


def csv(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> list[tuple[str, str]]:
    """CSV with a header row; malformed rows are kept as records with a `_csv_error`."""
    try:
        con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
        con.execute(
            "create or replace temp table csv_rows as select row_number() over () as _ord, * from "
            "read_csv(?, header = true, all_varchar = true, ignore_errors = true, store_rejects = true, "
            "rejects_table = 'reject_errors', rejects_scan = 'reject_scans')",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LedgerError(f"{path}: cannot be read as CSV ({str(exc).splitlines()[0]})") from exc
    available = _columns_by_name(con, "csv_rows")
    values = _value_columns(fields, available, path)
    # good rows take the line numbers that the rejected rows did not (header is line 1)
    con.execute(
        f"""
        create or replace temp table src as
        with rejected as (
            select distinct on (line) line as _line, csv_line as _raw, error_type as _csv_error
            from reject_errors order by line
        ),
        good_lines as (
            select row_number() over (order by n) as _ord, n as _line
            from range(2, (select count(*) from csv_rows) + (select count(*) from rejected) + 2) as r(n)
            where n not in (select _line from rejected)
        )
        select
            g._line,
            cast(to_json(c) as varchar) as _raw,
            cast(null as varchar) as _csv_error,
            {values}
        from csv_rows as c
        inner join good_lines as g on g._ord = c._ord
        union all
        select _line, _raw, _csv_error, {", ".join(f"null as {f.col}" for f in fields)}
        from rejected
        """
    )
    return CSV_PRE_RULES


def parquet(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> list[tuple[str, str]]:
    """Parquet: typed columns, cast to text so the same rules apply; `_line` is the row number."""
    try:
        con.execute(
            "create or replace temp table pq_rows as select * from read_parquet(?, file_row_number = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LedgerError(f"{path}: cannot be read as Parquet ({str(exc).splitlines()[0]})") from exc
    available = _columns_by_name(con, "pq_rows")
    values = _value_columns(fields, available, path)
    con.execute(
        f"""
        create or replace temp table src as
        select file_row_number + 1 as _line, cast(to_json(p) as varchar) as _raw, {values}
        from pq_rows as p
        """
    )
    return []
