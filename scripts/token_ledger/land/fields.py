"""Field specs and the SQL rules that decide whether a landed record is good.

Every format is first turned into one relation of text values (`v_<field>`) plus `_line`
and `_raw`; the rules below then run as one vectorised SQL pass, and each record gets
the first reason it fails (NULL when it is good).
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_TIERS = ("standard", "batch", "priority", "flex")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | email | timestamp | date | count | decimal | tier | json_object
    required: bool = False

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
            (f"{present} and regexp_full_match(trim({v}), '-[0-9]+')", f"field '{field.name}' is negative"),
            (f"{present} and not regexp_full_match(trim({v}), '[0-9]+')",
             f"field '{field.name}' is not a whole number"),
            (f"{present} and try_cast(trim({v}) as bigint) is null", f"field '{field.name}' is out of range"),
        ]
    elif field.kind == "timestamp":
        rules.append((f"{present} and try_cast(trim({v}) as timestamptz) is null",
                      f"field '{field.name}' is not an ISO-8601 timestamp"))
    elif field.kind == "date":
        rules.append((f"{present} and try_cast(trim({v}) as date) is null",
                      f"field '{field.name}' is not a date (YYYY-MM-DD)"))
    elif field.kind == "email":
        rules.append((f"{present} and not regexp_full_match(trim({v}), '[^@\\s]+@[^@\\s]+')",
                      f"field '{field.name}' is not an email address"))
    elif field.kind == "decimal":
        rules.append((f"{present} and try_cast(trim({v}) as double) is null", f"field '{field.name}' is not a number"))
    elif field.kind == "tier":
        tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
        rules.append((f"{present} and lower(trim({v})) not in ({tiers})",
                      f"field '{field.name}' is not one of {', '.join(SERVICE_TIERS)}"))
    elif field.kind == "json_object":
        rules.append((f"{present} and coalesce(json_type(try_cast({v} as json)), '') <> 'OBJECT'",
                      f"field '{field.name}' is not a JSON object"))
    return rules


def reason_sql(fields: list[Field], pre_rules: list[tuple[str, str]] | None = None) -> str:
    """A SQL expression giving the first failed rule's reason, or NULL.

    `pre_rules` are (condition, reason SQL expression) pairs checked first.
    """
    rules = list(pre_rules or [])
    for field in fields:
        rules += [(cond, lit(reason)) for cond, reason in _rules(field)]
    whens = "\n".join(f"        when {cond} then {reason}" for cond, reason in rules)
    return f"case\n{whens}\n    end"


def cast_sql(field: Field) -> str:
    """A SQL expression casting the text value to its landed type."""
    v = f"nullif(trim({field.col}), '')"
    return {
        "text": v,
        "email": v,
        "timestamp": f"cast(cast({v} as timestamptz) as timestamp)",
        "date": f"cast({v} as date)",
        "count": f"cast({v} as bigint)",
        "decimal": f"cast({v} as decimal(18, 9))",
        "tier": f"lower({v})",
        "json_object": f"cast({v} as json)",
    }[field.kind]


CANONICAL_FIELDS = [
    Field("request_id", "text", required=True),
    Field("occurred_at", "timestamp", required=True),
    Field("provider", "text", required=True),
    Field("model", "text", required=True),
    Field("user_email", "email", required=True),
    Field("application", "text"),
    Field("session_id", "text"),
    Field("input_tokens", "count", required=True),
    Field("output_tokens", "count", required=True),
    Field("cache_read_tokens", "count"),
    Field("cache_write_5m_tokens", "count"),
    Field("cache_write_1h_tokens", "count"),
    Field("service_tier", "tier"),
    Field("reported_cost_usd", "decimal"),
    Field("tags", "json_object"),
]

PEOPLE_FIELDS = [
    Field("email", "email", required=True),
    Field("full_name", "text"),
    Field("employee_id", "text"),
    Field("team_id", "text", required=True),
    Field("team_name", "text"),
    Field("cost_center", "text"),
    Field("manager_email", "email"),
    Field("valid_from", "date", required=True),
]
