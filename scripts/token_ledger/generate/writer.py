"""Write generated usage and the people directory as files, formatted by DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from token_ledger.generate.org import Org

EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
COPY_OPTIONS = {"jsonl": "(format json)", "csv": "(format csv, header true)", "parquet": "(format parquet)"}

CANONICAL_SELECT = """
select
    case e.provider when 'anthropic' then 'req_' when 'openai' then 'chatcmpl-' else 'gen-' end
        || substr(md5($seed || ':' || e.seq), 1, 24) as request_id,
    strftime(
        $start::timestamp + to_days(e.day::integer) + to_milliseconds(e.millis),
        '%Y-%m-%dT%H:%M:%S.%gZ'
    ) as occurred_at,
    e.provider,
    e.model,
    case e.email_variant
        when 2 then 'contractor.' || lpad((e.person % 7)::varchar, 2, '0') || '@partner.example'
        when 1 then upper(p.email)
        else p.email
    end as user_email,
    e.application,
    'sess-' || substr(md5($seed || ':' || e.person || ':' || e.day || ':' || e.session_n), 1, 16) as session_id,
    e.input_tokens,
    e.output_tokens,
    e.cache_read_tokens,
    e.cache_write_5m_tokens,
    e.cache_write_1h_tokens,
    e.service_tier,
    json_object('project', 'proj-' || lpad(e.project::varchar, 2, '0'), 'env', 'prod') as tags
from events_with_sessions as e
inner join people as p on p.person = e.person
where e.day = $day
order by e.seq
"""


def prepare(con: duckdb.DuckDBPyConnection, org: Org, events: pd.DataFrame) -> None:
    """Register the generated frames and derive session numbers (25 requests per session)."""
    con.register("events_frame", events)
    con.register("people", org.people[["person", "email", "team"]])
    con.execute(
        """
        create or replace temp table events_with_sessions as
        select
            *,
            (dense_rank() over (partition by person, day order by seq) - 1) // 25 as session_n
        from events_frame
        """
    )


def write_canonical_day(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: str, seed: int, start: dt.date, day: int
) -> Path:
    date = start + dt.timedelta(days=day)
    target = out / f"usage-{date.isoformat()}.{EXTENSIONS[fmt]}"
    params = {"seed": str(seed), "start": start.isoformat(), "day": day}
    con.execute(f"copy ({CANONICAL_SELECT}) to '{target}' {COPY_OPTIONS[fmt]}", params)
    return target


def write_people(con: duckdb.DuckDBPyConnection, org: Org, out: Path, logins: dict[str, str] | None = None) -> Path:
    """people.csv; with `logins` (email -> GitHub login), a github_login column too."""
    target = out / "people.csv"
    columns = ["email", "full_name", "employee_id", "team_id", "team_name", "cost_center", "manager_email",
               "valid_from", "allowance_tier"]
    frame = org.directory[columns].assign(valid_from=org.directory["valid_from"].map(dt.date.isoformat))
    if logins:
        frame = frame.assign(github_login=frame["email"].map(logins))
    con.register("directory_frame", frame)
    con.execute(f"copy (select * from directory_frame) to '{target}' (format csv, header true)")
    con.unregister("directory_frame")
    return target
