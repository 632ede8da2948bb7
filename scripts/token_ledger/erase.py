"""`token-ledger erase --user EMAIL`: the right to erasure in the private warehouse.

Every raw table and identity column comes from the format registry (`land.formats`): the
person's records go from each raw table, references to them (a manager) are emptied, their
quarantined records go (matched on the identity as a whole value, never as a substring),
their address in the free text of other people's records (a manager named in `tags`) and in
file names is rewritten, and the incremental facts lose their rows. The erasure itself is
recorded by keyed pseudonym only, so later landings of old files drop the person's records.
The next build and publish carry it through the marts.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

import duckdb

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.identity import ERASED, normalize_email
from token_ledger.land.fields import identity_sql
from token_ledger.land.formats import FORMATS
from token_ledger.land.readers import _quote
from token_ledger.pseudonym import configure, hmac_sql

# the fields that hold free text, where an address may be written into another person's record
FREE_TEXT_KINDS = ("text", "json_object")
# the incremental facts keep history between builds: the person's rows go now
INCREMENTAL_FACTS = {"fct_usage_events": "user_email", "fct_person_usage_daily": "user_email"}


@dataclass
class Erasure:
    records: dict[str, int] = field(default_factory=dict)  # table -> rows removed
    references: int = 0  # rows that named the person as someone else's manager
    mentions: int = 0  # other people's records whose free text named the person
    quarantined: int = 0
    file_names: int = 0

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def line(self) -> str:
        tables = ", ".join(f"{n} from {t}" for t, n in sorted(self.records.items()) if n) or "no records"
        return (f"erased {self.total} records ({tables}); {self.quarantined} quarantined records; "
                f"{self.references} manager references emptied; {self.mentions} other records' free text "
                f"rewritten; {self.file_names} file names rewritten")


def _token_pattern(email: str) -> str:
    """A regular expression matching the address as a whole token in text (not `val@…` for `al@…`)."""
    return f"(^|[^a-z0-9._%+-]){re.escape(email)}($|[^a-z0-9.-])"


def _quarantined(con: duckdb.DuckDBPyConnection, email: str) -> int:
    """Quarantined records naming the person: any JSON string value equal to the address, or
    the address as a whole token in a record that is not JSON."""
    batches = con.execute(
        f"""
        delete from raw.quarantine
        where list_contains(
                list_transform(coalesce(json_extract_string(try_cast(raw_record as json), '$..*'), []),
                               lambda v: {identity_sql("v")}), $email)
            or regexp_matches(lower(raw_record), $pattern)
        returning batch_id
        """,
        {"email": email, "pattern": _token_pattern(email)},
    ).fetchall()
    # the batches' counts stay equal to what the quarantine holds, and every line stays accounted
    # for: the erased person's lines count as skipped, as at a landing after the erasure
    counts: dict[str, int] = {}
    for (batch,) in batches:
        counts[batch] = counts.get(batch, 0) + 1
    if counts:
        con.executemany("update raw.load_batches set rows_quarantined = rows_quarantined - ?, "
                        "rows_skipped = rows_skipped + ? where batch_id = ?",
                        [[n, n, batch] for batch, n in counts.items()])
    return len(batches)


def _mentions(con: duckdb.DuckDBPyConnection, email: str, raw_tables: set[str]) -> int:
    """Other people's records whose free text names the person (a manager in `tags`, an owner in
    LiteLLM's `metadata`): each mention of the address as a whole token becomes `[erased]`, the
    record stays, and its day is queued, so the next build rebuilds it from the rewritten text.
    Replaced twice: one pass leaves a mention whose leading separator ended the previous one."""
    pattern = _token_pattern(email).replace("@", r"(?:@|\\u0040)")  # JSON text may escape the at sign
    replaced = "regexp_replace({}, $pattern, $replacement, 'gi')"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rewritten = 0
    for spec in FORMATS.values():
        columns = [_quote(f.name) for f in spec.fields if f.kind in FREE_TEXT_KINDS]
        if spec.table not in raw_tables or not columns:
            continue
        day = f"cast({_quote(spec.dated_by)} as date)" if spec.dated_by else "cast(null as date)"
        days = con.execute(
            f"""
            update raw.{spec.table}
            set {", ".join(f"{c} = {replaced.format(replaced.format(c))}" for c in columns)}
            where {" or ".join(f"regexp_matches(lower({c}), $pattern)" for c in columns)}
            returning {day}
            """,
            {"pattern": pattern, "replacement": f"\\1{ERASED}\\2"},
        ).fetchall()
        rewritten += len(days)
        queued = sorted({d for (d,) in days if d is not None})
        if queued:
            con.executemany("insert into raw.rebuild_days values (?, 'erasure', ?)", [[d, now] for d in queued])
    return rewritten


def _file_names(con: duckdb.DuckDBPyConnection, email: str) -> int:
    pattern = re.escape(email)
    count = 0
    for table in ("load_batches", "quarantine"):
        count += con.execute(
            f"update raw.{table} set file_path = regexp_replace(file_path, $pattern, $erased, 'gi') "
            "where regexp_matches(lower(file_path), $pattern)",
            {"pattern": pattern, "erased": ERASED},
        ).fetchone()[0]
    return count


def _logins(con: duckdb.DuckDBPyConnection, email: str) -> list[str]:
    """The person's GitHub logins in the directory (lower case)."""
    return [r[0] for r in con.execute(
        "select distinct lower(trim(github_login)) from raw.people where lower(trim(email)) = ? "
        "and nullif(trim(github_login), '') is not null", [email]).fetchall()]


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall()}


def _keep_membership(con: duckdb.DuckDBPyConnection, email: str, facts: set[str], outcomes: set[str]) -> None:
    """Where the person was counted in the published groups (from the facts of the last build):
    their first day of each month per team, for usage and per outcome tool, under a random id.
    The roll-up counts them there still, so no group of those days changes: comparing the
    publishes before and after the erasure shows the person's own usage leaving, never the
    people left in a group that would otherwise have moved (docs/privacy.md)."""
    parts = []
    if "fct_person_usage_daily" in facts:
        usage = "restricted.fct_person_usage_daily where lower(user_email) = $email"
        parts += [f"select usage_date, null as tool, team_id, cost_center from {usage}",
                  f"select usage_date, 'claude-code', team_id, cost_center from {usage} "
                  "and application = 'claude-code'"]
    if "int_outcomes_person_days" in outcomes:
        parts.append("select usage_date, tool, team_id, cost_center from intermediate.int_outcomes_person_days "
                     "where lower(user_email) = $email")
    if parts:
        con.execute(
            "insert into raw.erased_members select $id, min(usage_date), tool, team_id, cost_center, $now "
            f"from ({' union all '.join(parts)}) group by date_trunc('month', usage_date), tool, team_id, cost_center",
            {"email": email, "id": str(uuid.uuid4()), "now": dt.datetime.now(dt.UTC).replace(tzinfo=None)})


def _erase_days(con: duckdb.DuckDBPyConnection, email: str, facts: set[str]) -> None:
    """The person's rows leave the incremental facts; their days are queued, so the next build
    rebuilds them from what is left (each incremental model first deletes the queued days: a day
    of nobody else stays gone)."""
    if "fct_person_usage_daily" in facts:
        con.execute("insert into raw.rebuild_days select distinct usage_date, 'erasure', ? "
                    "from restricted.fct_person_usage_daily where lower(user_email) = ?",
                    [dt.datetime.now(dt.UTC).replace(tzinfo=None), email])
    for table, column in INCREMENTAL_FACTS.items():
        if table in facts:
            con.execute(f"delete from restricted.{table} where lower({column}) = ?", [email])


def erase(home: Home, email: str) -> Erasure:
    normalized = normalize_email(email)
    result = Erasure()
    with warehouse.private(home) as con:
        raw_tables = _tables(con, "raw")
        facts = _tables(con, "restricted")
        con.execute("begin transaction")
        _keep_membership(con, normalized, facts, _tables(con, "intermediate"))
        logins = _logins(con, normalized) if "people" in raw_tables else []
        for spec in FORMATS.values():
            if spec.table not in raw_tables:
                continue
            for column in spec.login_columns:  # a GitHub login the directory ties to the person
                removed = con.execute(f'delete from raw.{spec.table} where list_contains(?, lower(trim("{column}")))',
                                      [logins]).fetchone()[0]
                result.records[spec.table] = result.records.get(spec.table, 0) + removed
            for column in spec.identity_columns:
                removed = con.execute(f"delete from raw.{spec.table} where {identity_sql(_quote(column))} = ?",
                                      [normalized]).fetchone()[0]
                result.records[spec.table] = result.records.get(spec.table, 0) + removed
            for column in spec.identity_references:
                result.references += con.execute(
                    f"update raw.{spec.table} set {_quote(column)} = null where {identity_sql(_quote(column))} = ?",
                    [normalized]).fetchone()[0]
        result.mentions = _mentions(con, normalized, raw_tables)
        result.quarantined = _quarantined(con, normalized)
        result.file_names = _file_names(con, normalized)
        _erase_days(con, normalized, facts)
        configure(con, home.root)
        for subject in [normalized, *logins]:  # later landings drop the person's records, by either
            already = con.execute(f"select count(*) from raw.erasures where subject_key = {hmac_sql('?')}",
                                  [subject]).fetchone()[0]
            if not already:
                con.execute(f"insert into raw.erasures select {hmac_sql('?')}, ?",
                            [subject, dt.datetime.now(dt.UTC).replace(tzinfo=None)])
        con.execute("commit")
    return result
