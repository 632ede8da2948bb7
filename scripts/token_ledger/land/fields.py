"""Field specs and the SQL rules that decide whether a landed record is good.

Every format is first turned into one relation of text values (`v_<field>`) plus `_line`
and `_raw`; the rules below then run as one vectorised SQL pass, and each record gets
the first reason it fails (NULL when it is good).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from token_ledger.errors import LedgerError

# the service tiers a record may name: OpenAI renamed its priority tier "fast" on 2026-07-30 (requests
# may give either name; staging reads its "fast" as "priority"). As APIs name the standard tier:
# OpenAI's responses "default" (its requests "auto"), Anthropic's requests "standard_only".
# "scale", OpenAI's Scale Tier, is paid for by reserved units: no price per token (unpriced)
SERVICE_TIERS = ("standard", "batch", "priority", "flex", "fast", "default", "auto", "standard_only", "scale")
# one definition of a valid count: a whole number of at most 13 digits (below 10^13: ten trillion
# tokens in one record or report bucket), so every cost (count × USD per million tokens) stays
# exact in DECIMAL(38) arithmetic
MAX_COUNT_DIGITS = 13
MAX_COUNT = 10**MAX_COUNT_DIGITS - 1
# one definition of a valid time: from TOKEN_LEDGER_EARLIEST_DATE (default 2020-01-01) to a day
# after landing. Clock errors (year 9999) and epoch milliseconds read as seconds are refused
LATEST_SQL = "(cast(now() as timestamp) + interval 1 day)"


def earliest_sql() -> str:
    raw = os.environ.get("TOKEN_LEDGER_EARLIEST_DATE", "2020-01-01").strip()
    try:
        return f"timestamp '{dt.date.fromisoformat(raw).isoformat()}'"
    except ValueError as exc:
        raise LedgerError(f"TOKEN_LEDGER_EARLIEST_DATE must be a date (YYYY-MM-DD), got {raw!r}") from exc


def in_window(typed: str) -> str:
    return f"({typed} between {earliest_sql()} and {LATEST_SQL})"
EMAIL_PATTERN = "'[^@\\s]+@[^@\\s]+'"  # SQL literal: something@something, no spaces
# characters that do not show yet make another string: soft hyphen, Mongolian vowel separator,
# zero-width spaces, joiners and direction marks, word joiner and invisible operators, BOM
INVISIBLE = "[\\x{00AD}\\x{180E}\\x{200B}-\\x{200F}\\x{202A}-\\x{202E}\\x{2060}-\\x{2064}\\x{FEFF}]"
IDENTITY_KINDS = ("email", "identity")  # kinds landed in identity_sql's normal form
# the fullwidth forms of ASCII (U+FF01-FF5E), which Unicode's compatibility normalisation folds
FULLWIDTH, ASCII = "".join(map(chr, range(0xFF01, 0xFF5F))), "".join(map(chr, range(0x21, 0x7F)))


def identity_sql(value: str) -> str:
    """A person's identity (an email, a user id, a login) in SQL: invisible characters removed,
    fullwidth forms folded, NFC, lower case, trimmed; NULL when nothing is left. The same as
    `identity.normal_identity` (NFKC) for every ASCII result and fullwidth form; landing folds
    the few values left with other characters in Python (`land.fold_identities`)."""
    return (f"nullif(trim(lower(nfc_normalize(translate(regexp_replace({value}, '{INVISIBLE}', '', 'g'), "
            f"{lit(FULLWIDTH)}, {lit(ASCII)})))), '')")
# SQL literal: a whole number as plain digits (no sign, exponent or fraction); a zero fraction
# is whole too (`1000.0`: pandas writes an integer column holding a missing value as floats,
# to CSV, JSON and Parquet alike)
ZERO_FRACTION = "([.]0+)?"
DIGITS_PATTERN = f"'[0-9]+{ZERO_FRACTION}'"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | email | identity | timestamp | date | count | decimal | tier | json_object | bool
    required: bool = False
    # nearly every value distinct (request ids): stored uncompressed, since DuckDB's dictionary
    # + FSST compression of such a column costs about 0.75 s per 10 M rows (for 180 MB of disk)
    mostly_unique: bool = False
    # few distinct values (providers, models): the bulk path checks each distinct value once,
    # after landing the records as read, instead of every record (see land.bulk)
    few_values: bool = False

    @property
    def col(self) -> str:
        return f"v_{self.name}"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _rules(field: Field) -> list[tuple[str, str]]:
    v = field.col
    rules: list[tuple[str, str]] = []
    if field.required:
        rules.append((f"nullif(trim({v}), '') is null", f"missing required field '{field.name}'"))
    present = f"nullif(trim({v}), '') is not null"
    if field.kind == "count":
        rules += [
            (f"{present} and regexp_full_match(trim({v}), '-' || {DIGITS_PATTERN})",
             f"field '{field.name}' is negative"),
            (f"{present} and not regexp_full_match(trim({v}), {DIGITS_PATTERN})",
             f"field '{field.name}' is not a whole number"),
            (f"{present} and coalesce(try_cast(trim({v}) as hugeint) > {MAX_COUNT}, true)",
             f"field '{field.name}' is out of range (at most {MAX_COUNT_DIGITS} digits)"),
        ]
    elif field.kind == "timestamp":
        rules.append((f"{present} and try_cast(trim({v}) as timestamptz) is null",
                      f"field '{field.name}' is not an ISO-8601 timestamp"))
        rules.append((f"{present} and not {in_window(typed_sql(field))}",
                      f"field '{field.name}' is outside the accepted time window (from "
                      "TOKEN_LEDGER_EARLIEST_DATE to a day after landing)"))
    elif field.kind == "date":
        rules.append((f"{present} and try_cast(trim({v}) as date) is null",
                      f"field '{field.name}' is not a date (YYYY-MM-DD)"))
    elif field.kind == "email":
        rules.append((f"{present} and not coalesce(regexp_full_match({identity_sql(v)}, {EMAIL_PATTERN}), false)",
                      f"field '{field.name}' is not an email address"))
    elif field.kind == "decimal":
        rules.append((f"{present} and try_cast(trim({v}) as decimal(18, 9)) is null",
                      f"field '{field.name}' is not a number (up to 9 decimals, below 1e9)"))
    elif field.kind == "tier":
        tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
        rules.append((f"{present} and lower(trim({v})) not in ({tiers})",
                      f"field '{field.name}' is not one of {', '.join(SERVICE_TIERS)}"))
    elif field.kind == "bool":
        rules.append((f"{present} and lower(trim({v})) not in ('true', 'false', '1', '0')",
                      f"field '{field.name}' is not true or false"))
    elif field.kind == "json_object":
        rules.append((f"{present} and coalesce(json_type(try_cast({v} as json)), '') <> 'OBJECT'",
                      f"field '{field.name}' is not a JSON object"))
    return rules


def is_count(value: str) -> str:
    """SQL true where `value`, a text, is a valid count (the fields' `count` rule, for a count
    nested in a JSON field): plain digits, at most MAX_COUNT."""
    return (f"coalesce(regexp_full_match({value}, {DIGITS_PATTERN}) and try_cast({value} as hugeint) <= {MAX_COUNT}, "
            "false)")


def good_sql(fields: list[Field]) -> str:
    """A cheap predicate true for a record whose every field is valid (most records): the
    detailed reasons are then only worked out for the few that are not."""
    checks = []
    for field in fields:
        v, t = f"nullif(trim({field.col}), '')", f"t_{field.name}"
        present = f"{v} is not null"
        ok = {
            # the digits rule as well: DuckDB's cast alone takes '+5', '12.5', '0x10', '1_000'
            "count": f"({t} is not null and {t} <= {MAX_COUNT} and regexp_full_match({v}, {DIGITS_PATTERN}))",
            "timestamp": f"{t} is not null and {in_window(t)}",
            "date": f"{t} is not null",
            "decimal": f"{t} is not null",
            "bool": f"{t} is not null",
            "tier": f"{t} in ({', '.join(repr(x) for x in SERVICE_TIERS)})",
            "json_object": f"json_type({t}) = 'OBJECT'",
            "email": f"regexp_full_match({identity_sql(v)}, {EMAIL_PATTERN})",
            "identity": "true",
            "text": "true",
        }[field.kind]
        checks.append(f"({ok})" if field.required else f"({v} is null or ({ok}))")
        if field.required:
            checks[-1] = f"({present} and {ok})"
    return " and ".join(checks) or "true"


def typed_sql(field: Field) -> str:
    """The field's value in its landed type, NULL when it does not convert."""
    v = f"nullif(trim({field.col}), '')"
    return {
        "text": v,
        "email": identity_sql(v),
        "identity": identity_sql(v),
        "timestamp": f"cast(try_cast({v} as timestamptz) as timestamp)",
        "date": f"try_cast({v} as date)",
        "count": f"try_cast({v} as ubigint)",
        "decimal": f"try_cast({v} as decimal(18, 9))",
        "tier": f"lower({v})",
        "json_object": f"try_cast({v} as json)",
        "bool": f"try_cast(lower({v}) as boolean)",
    }[field.kind]


def reason_sql(fields: list[Field], pre_rules: list[tuple[str, str]] | None = None,
               post_rules: list[tuple[str, str]] | None = None) -> str:
    """A SQL expression giving the first failed rule's reason, or NULL.

    `pre_rules` are (condition, reason SQL expression) pairs checked first.
    """
    rules = list(pre_rules or [])
    for field in fields:
        rules += [(cond, lit(reason)) for cond, reason in _rules(field)]
    rules += [(cond, lit(reason)) for cond, reason in post_rules or []]
    whens = "\n".join(f"        when {cond} then {reason}" for cond, reason in rules)
    fast = " and ".join(f"not ({cond})" for cond, _ in (pre_rules or [])) or "true"
    post = " and ".join(f"not ({cond})" for cond, _ in (post_rules or [])) or "true"
    return f"case when ({fast}) and ({good_sql(fields)}) and ({post}) then null else case\n{whens}\n    end end"


SQL_TYPES = {
    "text": "varchar", "email": "varchar", "identity": "varchar", "timestamp": "timestamp", "date": "date",
    "count": "bigint", "decimal": "decimal(18, 9)", "tier": "varchar", "json_object": "json", "bool": "boolean",
}


def table_ddl(table: str, fields: list[Field], extra: list[str]) -> str:
    """CREATE TABLE for a raw table: the typed fields, extra columns, then the load metadata."""
    columns = [f"{f.name} {SQL_TYPES[f.kind]}" + (" using compression uncompressed" if f.mostly_unique else "")
               for f in fields] + [f"{c} varchar" for c in extra]
    # the file a record came from is raw.load_batches.file_path of its _batch_id
    columns += ["_line bigint", "_batch_id varchar", "_loaded_at timestamp"]
    return f"create table if not exists raw.{table} ({', '.join(columns)})"
