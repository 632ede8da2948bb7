"""Helpers for the privacy tests: what counts as personal data, and a scan of a DuckDB file."""

from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path

import duckdb


def directory_identifiers(people_csv: Path) -> set[str]:
    """Every email, full name, employee id and GitHub login of the directory, lower-cased."""
    found: set[str] = set()
    with people_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for column in ("email", "full_name", "employee_id", "manager_email", "github_login"):
                if row.get(column):
                    found.add(row[column].strip().lower())
    return found


def unkeyed_digests(emails: set[str]) -> set[str]:
    """What a dictionary attack would try: plain hashes of each email as-is and lower-cased."""
    digests = set()
    for email in emails:
        for variant in {email, email.lower(), email.strip().lower()}:
            data = variant.encode()
            for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "sha3_256"):
                digests.add(hashlib.new(name, data).hexdigest())
    return digests


def scan(db: Path, needles: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle found, case-insensitively, as a substring of any
    value a table stores, or of a view's definition ('sql'). A view stores nothing but its SQL:
    what it shows comes from the tables (scanning each column of a view would compute the view
    again, and its views under it: 16 s, against under a second, on a 120-person private file)."""
    needles = {n.lower() for n in needles if n}
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("create temp table needles (needle varchar)")
        con.executemany("insert into needles values (?)", [[n] for n in sorted(needles)])
        hits = [(view, "sql", needle) for view, needle in con.execute(
            "select view_name, needle from duckdb_views() inner join needles on contains(lower(sql), needle) "
            "where not internal and database_name = current_database()").fetchall()]
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "inner join information_schema.tables using (table_catalog, table_schema, table_name) "
            "where table_catalog = current_database() and table_type = 'BASE TABLE'").fetchall()
        for schema, table, column in columns:
            rows = con.execute(
                f"""
                with values_ as (
                    select distinct lower(cast("{column}" as varchar)) as value
                    from "{schema}"."{table}" where "{column}" is not null
                )
                select distinct needle from values_ inner join needles on contains(values_.value, needles.needle)
                """
            ).fetchall()
            hits += [(table, column, r[0]) for r in rows]
        return hits
    finally:
        con.close()


def rounding(value: float, integer: bool) -> float:
    """The most a published per-person figure is off: half a unit of its second significant
    figure (counts below 100 are exact)."""
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) - 1
    return 0.0 if integer and exponent < 0 else 0.5 * 10**exponent
