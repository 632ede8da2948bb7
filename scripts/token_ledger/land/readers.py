"""How DuckDB's readers read each format.

The careful readers read one file and return what they read (`Read`): the SQL of its records
(`_line`, `_raw` and text values `v_<field>`), the rules that quarantine a record before its
fields are checked, and how many records the format skips. The bulk readers (at the end)
return the SQL of one relation over many files of a format (`land.bulk`). DuckDB's own
readers do the work; nothing here loops over records in Python. What a reader materialises
on the way (the file's `lines`, a CSV's rows) is its own temp table, read only by the SQL it
returns.
"""

from __future__ import annotations

import csv as pycsv
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from token_ledger.errors import LedgerError
from token_ledger.land.contents import CHUNK, compression, csv_blank_records, first_character, is_framed, open_data
from token_ledger.land.fields import Field, lit

# the longest line (a record, or an export request of many) the careful path reads: DuckDB's
# CSV reader stops at 2 MB by default, and a transcript line holding a pasted image or a large
# tool result, a Collector's batch of 8,192 log records or a stored prompt is often longer. Its
# buffer is as large (by default 16 lines: 2 GB, which a gzipped file takes whole)
MAX_LINE_BYTES = 128 * 2**20
LONG_LINES = f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES}"
LINE_READER = (
    "read_csv(?, columns = {'raw': 'VARCHAR'}, header = false, delim = '\x1f', quote = '', escape = '', "
    f"auto_detect = false, strict_mode = false, {LONG_LINES})"
)
# a CSV's missing values: an empty field, or `\N`, which Snowflake's unload (its default
# NULL_IF), Postgres' text COPY, MySQL's INTO OUTFILE and Hive write for NULL
CSV_NULLS = "nullstr = ['', '\\N']"
BOM, REPLACEMENT = "\ufeff", "\ufffd"
JSONL_PRE_RULES = [
    (f"coalesce(contains(_raw, '{REPLACEMENT}'), false)", "'invalid UTF-8'"),
    ("not _valid", "'invalid JSON'"),
    ("_type <> 'OBJECT'", "'record is not a JSON object'"),
    # DuckDB's JSON functions read the first of two equal keys, Python and JavaScript the last:
    # a record that gives a field twice is ambiguous, and quarantined
    ("_dup_key is not null", "'duplicate JSON key for field ''' || _dup_key || ''''"),
]
CSV_PRE_RULES = [("_csv_error is not null", "'malformed CSV row: ' || _csv_error")]


@dataclass(frozen=True)
class Read:
    """What a careful reader read from one file."""

    # SQL of its records: `_line`, `_raw`, the columns `rules` test and the text values `v_<field>`
    records: str
    # (condition, reason SQL) that quarantine a record before its fields' own rules are checked
    rules: list[tuple[str, str]]
    # records the format skips (other OTel events, transcript lines without usage, other metrics)
    ignored: int = 0
    # lines of another format the file holds beside this one's (an OTel Collector's one file
    # for logs and metrics), left out of `records` for that format to land (`LandingSpec.companion`)
    others: int = 0
    # SQL over `records`: the record comes from a line of this format. Landing a file as a
    # companion keeps only these: the format the file was detected as quarantines the rest
    own: str = "true"


def file_pattern(path: Path | str) -> str:
    """A path as DuckDB's file readers take it: they read a glob pattern, so `*`, `?` and `[`
    in a file's own name are matched literally (`[*]`, `[?]`, `[[]`). Unescaped, a file named
    `usage[1].jsonl` would be read as `usage1.jsonl`. A path with a backslash (a Windows path
    unzipped here: `logs\\usage.jsonl` is one name) is passed as it is: DuckDB's glob matches
    nothing through a backslash, and a pattern that matches nothing is read as the path itself."""
    if "\\" in str(path):
        return str(path)
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`lines(_line, _raw)`: every non-blank line of a text file, numbered from 1, a byte-order
    mark removed. A file with bytes that are not UTF-8 is read from a copy where each becomes
    U+FFFD, so only its lines with such bytes are quarantined (`JSONL_PRE_RULES`); a
    Collector's framed zstd file, which no DuckDB reader decompresses, from a copy of its
    exports, one per line (`contents.unframe`)."""
    sql = f"""
        create or replace temp table lines as
        select _line, case when _line = 1 then ltrim(_raw, '{BOM}') else _raw end as _raw from (
            select row_number() over () as _line, raw as _raw from {LINE_READER}
        ) where nullif(trim(ltrim(_raw, '{BOM}')), '') is not null
    """
    try:
        if not is_framed(path):
            con.execute(sql, [file_pattern(path)])
            return
        with tempfile.TemporaryDirectory() as folder, open_data(path) as handle:
            unframed = Path(folder) / "unframed.jsonl"
            with unframed.open("wb") as copy:
                shutil.copyfileobj(handle, copy, CHUNK)
            con.execute(sql, [file_pattern(unframed)])
    except duckdb.InvalidInputException:
        with tempfile.TemporaryDirectory() as folder:
            repaired = Path(folder) / "repaired.txt"
            with open_data(path) as handle:
                repaired.write_bytes(handle.read().decode("utf-8", errors="replace").encode("utf-8"))
            con.execute(sql, [file_pattern(repaired)])


def _duplicated(fields: list[Field], json_paths: list[str]) -> tuple[str, str]:
    """SQL for the keys of every object holding a field (one parse per record: `_keys`, a list
    per parent path) and for the first field whose key appears twice in its object (else NULL)."""
    parents = list(dict.fromkeys(p.rpartition(".")[0] for p in json_paths))
    keys = "json_keys(_raw, [" + ", ".join(f"'{parent}'" for parent in parents) + "])"
    checks = ", ".join(
        f"case when len(list_filter(_keys[{parents.index(p.rpartition('.')[0]) + 1}], "
        f"lambda k: k = '{p.rpartition('.')[2]}')) > 1 then '{f.name}' end"
        for f, p in zip(fields, json_paths, strict=True)
    )
    return keys, f"coalesce({checks})"


def extract_json(con: duckdb.DuckDBPyConnection, fields: list[Field], paths: dict[str, str] | None = None,
                 where: str = "true") -> Read:
    """The JSON objects of `lines` as records: each object's fields as text (`paths` maps a field to
    its JSON path, default `$.name`). Objects failing `where` are not usage records: skipped,
    and counted as ignored."""
    json_paths = [(paths or {}).get(f.name, f"$.{f.name}") for f in fields]
    path_list = "[" + ", ".join(f"'{p}'" for p in json_paths) + "]"
    values = ",\n".join(f"_vals[{i + 1}] as {f.col}" for i, f in enumerate(fields))
    keys, duplicated = _duplicated(fields, json_paths)
    object_ = "case when json_valid(_raw) then json_type(_raw) end = 'OBJECT'"
    # `where` is asked of objects only (CASE, not AND, which DuckDB may reorder): its JSON
    # functions fail on a line that is not JSON, and the whole file would then be unreadable
    ignored = 0 if where == "true" else con.execute(
        f"select count(*) from lines where coalesce(case when {object_} then not coalesce({where}, false) end, false)"
    ).fetchone()[0]
    records = f"""
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
                case when _type = 'OBJECT' then json_extract_string(_raw, {path_list}) end as _vals,
                case when _type = 'OBJECT' then {keys} end as _keys
            from parsed
        )
        select _line, _raw, _valid, _type, case when _type = 'OBJECT' then {duplicated} end as _dup_key,
            {values}
        from extracted
        where _type is distinct from 'OBJECT' or coalesce(case when _type = 'OBJECT' then {where} end, false)
    """
    return Read(records, JSONL_PRE_RULES, ignored)


def jsonl_fast(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field], lines: int) -> Read | None:
    """DuckDB's parallel JSON reader for a clean file of top-level fields: every line an object,
    no blank lines (so row numbers are line numbers). None when the file needs the careful path."""
    columns = "{" + ", ".join(f"'{f.name}': 'VARCHAR'" for f in fields) + "}"
    values = ", ".join(f'"{f.name}" as {f.col}' for f in fields)
    try:
        con.execute(
            f"""
            create or replace temp table fast_records as
            select row_number() over () as _line, cast(null as varchar) as _raw, true as _valid,
                'OBJECT' as _type, cast(null as varchar) as _dup_key, {values}
            from read_json(?, format = 'newline_delimited', records = 'true', columns = {columns})
            """,
            [file_pattern(path)],
        )
    except duckdb.Error:
        return None
    if con.execute("select count(*) from fast_records").fetchone()[0] != lines:
        return None
    return Read("select * from fast_records", JSONL_PRE_RULES)


def attach_raw_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Fill `_raw` of the records that failed a rule, from the file's lines (fast path only)."""
    if not con.execute("select count(*) from checked where _reason is not null and _raw is null").fetchone()[0]:
        return
    read_lines(con, path)
    con.execute("update checked set _raw = lines._raw from lines where checked._line = lines._line "
                "and checked._reason is not null")


def _may_be_page(path: Path) -> bool:
    """Whether a file that opens with `{` may be one JSON document of records under `data` (an
    API's page) rather than JSON Lines: its first line is an object holding a `data` list (a
    page on one line), or neither of its first two lines is a whole object (a pretty-printed
    document; JSON Lines with a broken first line is not read whole to find out)."""
    with open_data(path) as handle:
        lines = [raw for raw, _ in zip((raw for raw in handle if raw.strip()), range(2), strict=False)]
    for number, line in enumerate(lines):
        try:
            doc = json.loads(line.decode("utf-8").lstrip(BOM))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict):
            return number == 0 and isinstance(doc.get("data"), list)
    return True


def read_array(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """`lines(_line, _raw)` from a file that is one JSON array, pretty-printed or not (as APIs and
    "export as JSON" write records), or one page of an API that lists them under `data`
    (LiteLLM's `/spend/logs/v2`: `{"data": [...], "total": ..., "page": ...}`): one row per
    element, `_line` its place in the array (from 1). False, and nothing read, when the file is
    neither."""
    opens = first_character(path)
    if opens != b"[" and not (opens == b"{" and _may_be_page(path)):
        return False
    try:
        with open_data(path) as handle:
            text = handle.read().decode("utf-8").lstrip(BOM)
    except UnicodeDecodeError:
        return False
    array = "t" if opens == b"[" else "json_extract(t, '$.data')"
    valid = f"select case when json_valid(t) then json_type({array}) = 'ARRAY' else false end from (select ? as t)"
    if not con.execute(valid, [text]).fetchone()[0]:  # the text handed over once: an export can be large
        return False
    con.execute("create or replace temp table lines as select row_number() over () as _line, cast(e as varchar) "
                f"as _raw from (select unnest(cast({array} as json[])) as e from (select cast(? as json) as t))",
                [text])
    return True


def jsonl(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field], paths: dict[str, str] | None = None,
          where: str = "true", lines: int | None = None) -> Read:
    """JSON Lines: one object per line; or one JSON array of objects (`read_array`)."""
    if paths is None and where == "true" and lines and (fast := jsonl_fast(con, path, fields, lines)):
        return fast
    if not read_array(con, path):
        read_lines(con, path)
        total, valid = con.execute("select count(*), count(*) filter (where json_valid(_raw)) from lines").fetchone()
        if total and not valid:
            raise LedgerError(f"{path}: not JSON Lines (no line parses as JSON)")
    return extract_json(con, fields, paths, where)


OTEL_ATTRIBUTES = {
    "event_name": "event.name", "event_timestamp": "event.timestamp", "request_id": "request_id",
    "session_id": "session.id", "model": "model", "input_tokens": "input_tokens", "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens", "cache_creation_tokens": "cache_creation_tokens",
    "cost_usd": "cost_usd", "duration_ms": "duration_ms", "user_email": "user.email",
    "account_uuid": "user.account_uuid", "organization_id": "organization.id",
    "team_id": "resource.team.id", "cost_center": "resource.cost_center", "speed": "speed",
}
OTEL_VALUE = ("coalesce(a -> 'value' ->> 'stringValue', a -> 'value' ->> 'intValue', "
              "a -> 'value' ->> 'doubleValue', a -> 'value' ->> 'boolValue')")


NANOS_TO_ISO = ("strftime(make_timestamp(cast(try_cast({} as hugeint) // 1000 as bigint)), "
                "'%Y-%m-%dT%H:%M:%S.%fZ')")


def _otlp_export(signal: str) -> str:
    """SQL: the line `_raw` is an OTLP/JSON export request of `signal` (`resourceLogs`,
    `resourceMetrics`). A Collector whose one `file` exporter serves both the logs and the
    metrics pipeline writes both kinds of line into one file."""
    return f"coalesce(case when json_valid(_raw) then json_type(_raw, '$.{signal}') = 'ARRAY' end, false)"


# the lists of an OTLP/JSON export request, under each element of its top list (field, JSON path)
OTLP_LISTS = {
    "resourceLogs": (("attributes", ".resource.attributes"), ("scopeLogs", ".scopeLogs"),
                     ("logRecords", ".scopeLogs[*].logRecords"),
                     ("attributes", ".scopeLogs[*].logRecords[*].attributes")),
    "resourceMetrics": (("attributes", ".resource.attributes"), ("scopeMetrics", ".scopeMetrics"),
                        ("metrics", ".scopeMetrics[*].metrics"),
                        ("dataPoints", ".scopeMetrics[*].metrics[*].sum.dataPoints"),
                        ("attributes", ".scopeMetrics[*].metrics[*].sum.dataPoints[*].attributes")),
}
MISSHAPEN_RULE = ("_misshapen is not null", "'field ''' || _misshapen || ''' is not a JSON array'")


def _misshapen(signal: str) -> str:
    """SQL: for a line `_raw` that is an OTLP/JSON export request of `signal`, the first of its
    lists (`OTLP_LISTS`) that holds a value other than an array (an object, a number, …);
    else NULL. Such a line is quarantined, not unnested: DuckDB cannot read the value as a
    list, and the whole file would fail to read."""
    cases = " ".join(f"when not coalesce(list_bool_and(list_transform(json_extract(_raw, '$.{signal}[*]{path}'), "
                     f"lambda v: json_type(v) in ('ARRAY', 'NULL'))), true) then '{name}'"
                     for name, path in OTLP_LISTS[signal])
    return f"case when {_otlp_export(signal)} then case {cases} end end"


def _read_shaped(con: duckdb.DuckDBPyConnection, signal: str, unnesting: Callable[[str], str]) -> str:
    """Run the SQL `unnesting(shape)`, which unnests the export requests of `signal` where
    `shape` (SQL, `_misshapen`) is NULL; returns the `shape` it ran with. A file is read
    unchecked first: checking every line cost a file of a day's logs and metrics (39 MB) 40%
    more; only where DuckDB cannot read a list as one are its lines checked, and it is read
    again."""
    shape = "cast(null as varchar)"
    try:
        con.execute(unnesting(shape))
    except duckdb.ConversionException:
        shape = _misshapen(signal)
        con.execute(unnesting(shape))
    return shape


def _attribute(holder: str, key: str) -> str:
    """SQL: the value of attribute `key` of an OTLP object's `attributes` array, as text."""
    found = (f"list_filter(cast(coalesce(json_extract({holder}, '$.attributes'), '[]') as json[]), "
             f"lambda a: a ->> 'key' = '{key}')[1]")
    return OTEL_VALUE.replace("a -> ", f"{found} -> ")


def otel_metrics(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                 metrics: tuple[str, ...], attributes: dict[str, str]) -> Read:
    """OTLP/JSON metrics, one MetricsData per line; one record per data point of a `sum` metric
    in `metrics` (others are counted as ignored). `attributes` maps a field to the data-point
    attribute it comes from (the resource's when the point has none). Logs export requests
    among the lines are left to `otel` (`Read.others`)."""
    read_lines(con, path)
    wanted = ", ".join(f"'{m}'" for m in metrics)
    values = {
        "metric": "metric",
        "aggregation_temporality": "aggregation_temporality",
        "started_at": NANOS_TO_ISO.format("p ->> 'startTimeUnixNano'"),
        "occurred_at": NANOS_TO_ISO.format("p ->> 'timeUnixNano'"),
        "value": "coalesce(p ->> 'asInt', p ->> 'asDouble')",
        "resource_attributes": "cast(json_extract(resource, '$.attributes') as varchar)",
        "point_attributes": "cast(json_extract(p, '$.attributes') as varchar)",
        # a point's attribute, else its resource's
        **{name: f"coalesce({_attribute('p', key)}, {_attribute('resource', key)})"
           for name, key in attributes.items()},
    }
    columns = ", ".join(f"{values[f.name]} as {f.col}" for f in fields)
    is_export, is_logs = _otlp_export("resourceMetrics"), _otlp_export("resourceLogs")
    misshapen = _read_shaped(con, "resourceMetrics", lambda shape: f"""
        create or replace temp table otel_points as
        with resource_metrics as (
            select _line, unnest(cast(json_extract(_raw, '$.resourceMetrics') as json[])) as rm
            from lines where {is_export} and {shape} is null
        ),
        -- each list read once, before it is unnested, and each point carrying only its resource
        -- and its metric's name and temporality (as `otel`)
        scope_metrics as (
            select _line, resource, unnest(scopes) as sm
            from (
                select _line, rm -> 'resource' as resource,
                    cast(coalesce(json_extract(rm, '$.scopeMetrics'), '[]') as json[]) as scopes
                from resource_metrics
            )
        ),
        metrics as (
            select _line, resource, unnest(metric_list) as m
            from (
                select _line, resource, cast(coalesce(json_extract(sm, '$.metrics'), '[]') as json[]) as metric_list
                from scope_metrics
            )
        ),
        points as (
            select _line, resource, metric, aggregation_temporality, unnest(data_points) as p
            from (
                select _line, resource, m ->> 'name' as metric,
                    m -> 'sum' ->> 'aggregationTemporality' as aggregation_temporality,
                    cast(coalesce(json_extract(m, '$.sum.dataPoints'), '[]') as json[]) as data_points
                from metrics
            )
        )
        select _line, cast(p as varchar) as _raw, metric in ({wanted}) as _wanted, {columns}
        from points
        """)
    nulls = ", ".join(f"null as {f.col}" for f in fields)
    total, valid = con.execute("select count(*), count(*) filter (where json_valid(_raw)) from lines").fetchone()
    if total and not valid:
        raise LedgerError(f"{path}: not OTLP/JSON lines (no line parses as JSON)")
    records = f"""
        select _line, _raw, true as _valid, 'OBJECT' as _type, cast(null as varchar) as _dup_key, true as _is_export,
            cast(null as varchar) as _misshapen, * exclude (_line, _raw, _wanted)
        from otel_points where _wanted
        union all
        select _line, _raw, json_valid(_raw), case when json_valid(_raw) then json_type(_raw) end, null, {is_export},
            {misshapen}, {nulls}
        from lines where not ({is_export} and {misshapen} is null) and not {is_logs}
        order by _line
    """
    ignored = con.execute("select count(*) filter (where not _wanted) from otel_points").fetchone()[0]
    others = con.execute(f"select count(*) from lines where {is_logs}").fetchone()[0]
    rules = [*JSONL_PRE_RULES, MISSHAPEN_RULE,
             ("not _is_export", "'not an OTLP metrics export request (no resourceMetrics)'")]
    return Read(records, rules, ignored, others, own="_is_export")


def _placed_attributes(holder: str, path: str, prefix: str) -> str:
    """SQL: each attribute of the OTLP object `holder` (at JSON `path`, in `records`) as
    `_rec`, its key (after `prefix`), its value as text, and its place in its list."""
    return f"""
        select _rec, '{prefix}' || (a ->> 'key') as key, {OTEL_VALUE} as value, place
        from (select _rec, unnest(l) as a, generate_subscripts(l, 1) as place
              from (select _rec, cast(coalesce(json_extract({holder}, '{path}'), '[]') as json[]) as l
                    from records))
    """


def otel(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> Read:
    """OTLP/JSON logs, one ExportLogsServiceRequest per line; one record per `claude_code.api_request`.
    An attribute given twice takes its first value, as the Collector's own attribute maps do
    (pdata `Map.Get`). Metrics export requests among the lines are left to `otel_metrics`
    (`Read.others`)."""
    read_lines(con, path)
    is_logs, is_metrics = _otlp_export("resourceLogs"), _otlp_export("resourceMetrics")
    pivots = ",\n".join(f"arg_min_null(value, place) filter (where key = '{key}') as {name}"
                        for name, key in OTEL_ATTRIBUTES.items())
    misshapen = _read_shaped(con, "resourceLogs", lambda shape: f"""
        create or replace temp table otel_records as
        with parsed as (
            select _line, _raw, json_valid(_raw) as _valid,
                case when json_valid(_raw) then json_type(_raw) end as _type,
                {is_logs} and {shape} is null as _is_export
            from lines
        ),
        resource_logs as (
            select _line, unnest(cast(json_extract(_raw, '$.resourceLogs') as json[])) as rl
            from parsed where _is_export
        ),
        -- each list read once, before it is unnested, and each record carrying only its
        -- resource's attributes: carried with each of its records, a resource of 8,192 records
        -- was read again for each of them
        scope_logs as (
            select _line, resource_attributes, unnest(scopes) as sl
            from (
                select _line, json_extract(rl, '$.resource.attributes') as resource_attributes,
                    cast(coalesce(json_extract(rl, '$.scopeLogs'), '[]') as json[]) as scopes
                from resource_logs
            )
        ),
        records as (
            select row_number() over () as _rec, *
            from (
                select _line, resource_attributes, unnest(log_records) as lr
                from (
                    select _line, resource_attributes,
                        cast(coalesce(json_extract(sl, '$.logRecords'), '[]') as json[]) as log_records
                    from scope_logs
                )
            )
        ),
        -- each attribute with its place in its list: a key given twice takes its first value
        attributes as (
            {_placed_attributes("lr", "$.attributes", "")}
            union all
            {_placed_attributes("resource_attributes", "$", "resource.")}
        ),
        pivoted as (
            select _rec, {pivots}
            from attributes
            group by _rec
        )
        select
            r._rec, r._line, cast(r.lr as varchar) as _raw,
            coalesce(p.event_name, json_extract_string(r.lr, '$.body.stringValue')) as event_name,
            coalesce(p.event_timestamp, {NANOS_TO_ISO.format("json_extract_string(r.lr, '$.timeUnixNano')")})
                as occurred_at,
            p.* exclude (_rec, event_name, event_timestamp)
        from records as r
        left join pivoted as p on p._rec = r._rec
        """)
    is_usage = "event_name in ('api_request', 'claude_code.api_request')"
    values = ", ".join(f"{f.name} as {f.col}" for f in fields)
    nulls = ", ".join(f"null as {f.col}" for f in fields)
    total, valid = con.execute("select count(*), count(*) filter (where json_valid(_raw)) from lines").fetchone()
    if total and not valid:
        raise LedgerError(f"{path}: not OTLP/JSON lines (no line parses as JSON)")
    records = f"""
        select _line, _raw, true as _valid, 'OBJECT' as _type, cast(null as varchar) as _dup_key,
            true as _is_export, cast(null as varchar) as _misshapen, {values}
        from otel_records where {is_usage}
        union all
        select _line, _raw, json_valid(_raw), case when json_valid(_raw) then json_type(_raw) end, null, {is_logs},
            {misshapen}, {nulls}
        from lines
        where not ({is_logs} and {misshapen} is null) and not {is_metrics}
        order by _line
    """
    ignored = con.execute(f"select count(*) from otel_records where not coalesce({is_usage}, false)").fetchone()[0]
    others = con.execute(f"select count(*) from lines where {is_metrics}").fetchone()[0]
    rules = [*JSONL_PRE_RULES, MISSHAPEN_RULE,
             ("not _is_export", "'not an OTLP logs export request (no resourceLogs)'")]
    return Read(records, rules, ignored, others, own="_is_export")


def _text(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """A file's whole text (decompressed); None when it is not UTF-8."""
    try:
        if compression(path):  # read_text does not decompress
            with open_data(path) as handle:
                return handle.read().decode("utf-8")
        return con.execute("select content from read_text(?)", [file_pattern(path)]).fetchone()[0]
    except (UnicodeDecodeError, duckdb.InvalidInputException):
        return None


def report_pages(con: duckdb.DuckDBPyConnection, path: Path, bucket_sql: str | None, element_sql: str = "b",
                 result_sql: str = "r") -> None:
    """`lines`: one row per result of a usage-report page file, as {"bucket": ..., "result": ...};
    `unpaged`: the lines of a JSON Lines file of pages that are not pages (not JSON, not an
    object, no `data` array: a page lost on the way, an error the API answered), each with its
    line in the file, to be quarantined: a bill missing a page must say so.

    A file holds one page (JSON object), an array of pages, or JSON Lines of pages; `_line` is the
    result's ordinal in the file. `bucket_sql` rewrites the bucket (`b`) without its results;
    without it, each element of `data` is a row of its own (`_line` its ordinal). `element_sql`
    rewrites each element of `data` (`b`) first, `result_sql` each result (`r`).
    """
    text = _text(con, path)
    page = "coalesce(case when json_valid(_raw) then json_type(_raw, '$.data') = 'ARRAY' end, false)"
    if text is not None and con.execute("select json_valid(?)", [text]).fetchone()[0]:
        con.execute(
            "create or replace temp table pages as select unnest(case when json_type(cast(? as json)) = 'ARRAY' "
            "then cast(cast(? as json) as json[]) else [cast(? as json)] end) as page",
            [text, text, text],
        )
        con.execute("create or replace temp table unpaged (_line bigint, _raw varchar)")
    else:
        read_lines(con, path)  # a line with bytes that are not UTF-8 is one of `unpaged`
        if not con.execute("select count(*) filter (where json_valid(_raw)) from lines").fetchone()[0]:
            raise LedgerError(f"{path}: not a usage report (not JSON)")
        con.execute(f"create or replace temp table pages as select cast(_raw as json) as page from lines "
                    f"where {page} order by _line")
        con.execute(f"create or replace temp table unpaged as select _line, _raw from lines where not {page}")
    if not con.execute("select count(*) from pages where json_type(page, '$.data') = 'ARRAY'").fetchone()[0]:
        raise LedgerError(f"{path}: not a usage report page (no data array)")
    data = ("select unnest(cast(json_extract(page, '$.data') as json[])) as b from pages "
            "where json_type(page, '$.data') = 'ARRAY'")
    if bucket_sql is None:
        con.execute(f"create or replace temp table lines as select row_number() over () as _line, "
                    f"cast(b as varchar) as _raw from ({data})")
        return
    con.execute(
        f"""
        create or replace temp table lines as
        select row_number() over () as _line,
            cast(json_object('bucket', bucket, 'result', {result_sql}) as varchar) as _raw
        from (
            select bucket, unnest(results) as r
            -- each bucket read once, before its results are unnested: carried with each of its
            -- 3,000 results and read again for each, a week of such buckets ran out of memory
            from (
                select
                    {bucket_sql} as bucket,
                    -- a bucket without a results array is one record, quarantined (`NOT_A_RESULT`)
                    case when json_type(b, '$.results') = 'ARRAY' then cast(b -> '$.results' as json[])
                        else [cast('null' as json)] end as results
                from (select {element_sql} as b from ({data}))
            )
        )
        """
    )


# a record of a bucketed report (`report_pages`) that is no result: its bucket had no results
# array (a page cut short, another API's page), or the result is not an object
NOT_A_RESULT = ("coalesce(json_type(_raw, '$.result'), 'NULL') <> 'OBJECT'",
                "'a bucket without a results array of objects'")


def _report_records(con: duckdb.DuckDBPyConnection, fields: list[Field], paths: dict[str, str],
                    bucketed: bool = True) -> Read:
    """The records of `lines` (`report_pages`), and its `unpaged` lines, each quarantined."""
    read = extract_json(con, fields, paths)
    nulls = ", ".join(f"cast(null as varchar) as {f.col}" for f in fields)
    unpaged = f"""
        select _line, _raw, json_valid(_raw) as _valid, case when json_valid(_raw) then json_type(_raw) end as _type,
            cast(null as varchar) as _dup_key, {nulls}, true as _unpaged
        from unpaged
    """
    records = f"select *, false as _unpaged from ({read.records}) union all by name {unpaged}"
    # (CASE: an unpaged line may not be JSON, and DuckDB may reorder an AND)
    results = [(f"case when _unpaged then false else {NOT_A_RESULT[0]} end", NOT_A_RESULT[1])] if bucketed else []
    return Read(records, [*read.rules, ("_unpaged", "'not a report page (no data array)'"), *results], read.ignored)


# A row of the Usage and Cost Analytics API (`/v1/organizations/analytics/cost` and `/usage`):
# its period, a `group` of the dimensions it is broken out by, and a `cost` or `usage` object
ANALYTICS_ROW = "json_type({0}, '$.group') = 'OBJECT' and json_type({0}, '$.results') is distinct from 'ARRAY'"


def _analytics_row(metric: str, values: str) -> str:
    """A row of `metric` (`cost`, `usage`) rewritten as a report's bucket of one result, so it
    lands as the report's results do: its group's dimensions and `values`, the row's metrics
    (JSON of `b`); `analytics` marks it. Other elements of `data` are left as they are."""
    return (f"case when {ANALYTICS_ROW.format('b')} and json_type(b, '$.{metric}') = 'OBJECT' then json_object("
            "'starting_at', b -> '$.starting_at', 'ending_at', b -> '$.ending_at', 'analytics', true, 'results', "
            f"json_array(json_merge_patch(b -> '$.group', {values}))) else b end")


# an Anthropic report's bucket (or an analytics row rewritten as one) without its results
ANTHROPIC_BUCKET = ("json_object('starting_at', b ->> 'starting_at', 'ending_at', b ->> 'ending_at', "
                    "'analytics', b -> 'analytics')")
# a cost row: its amount (cents, as the cost report's) and currency
ANALYTICS_COST_ROW = _analytics_row("cost", "json_object('amount', b -> '$.cost.amount', "
                                            "'currency', b -> '$.cost.currency')")
# a usage row: its counts, named as the usage report's results name them (and `requests`)
ANALYTICS_USAGE_ROW = _analytics_row("usage", "b -> '$.usage'")
# the dimensions a bill is kept by (`stg_anthropic__cost_items` keeps the latest copy of each
# combination); a row broken out by another would stand for part of one, and is quarantined
BILL_DIMENSIONS = ("model", "workspace_id", "service_tier", "context_window", "cost_type", "token_type", "speed",
                   "inference_geo")
# the dimensions usage is kept by (`stg_anthropic__usage_buckets`), and a usage row's counts
USAGE_DIMENSIONS = ("model", "api_key_id", "workspace_id", "service_tier", "context_window", "speed",
                    "inference_geo")
USAGE_METRICS = ("uncached_input_tokens", "cache_creation", "cache_read_input_tokens", "output_tokens",
                 "server_tool_use", "requests", "total_tokens")
# the others the API documents (`group_by[]`), named in the reason; another is "another dimension"
OTHER_DIMENSIONS = ("actor", "actor_type", "agent_id", "api_key_id", "claude_tag_category", "claude_tag_user_id",
                    "deployment_id", "environment_id", "inference_geo", "organization_id", "product",
                    "rbac_group_id", "session_id", "slack_channel_id", "speed", "user_profile_id")


def _analytics_rules(kept: tuple[str, ...], dimensions: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    """The rows of an analytics endpoint that `what` cannot be made of: broken out by a
    dimension beside `dimensions` (each row would stand for part of a combination `what` is
    kept by), or covering more than a day (fetched without a daily time bucket). `kept`: the
    row's metrics, beside its dimensions."""
    analytics = "coalesce(v_analytics = 'true', false)"
    named = ", ".join(f"'{d}'" for d in kept + dimensions)
    # the result's keys with a value, the result parsed once (as a map: 155 k rows, 1.3 s against
    # 4.6 s for a lookup of each key); NULL where it holds a key twice
    other = (f"list_filter(map_entries(try_cast(_raw -> '$.result' as map(varchar, json))), "
             f"lambda e: e.key not in ({named}) and e.value <> 'null')")
    documented = ", ".join(f"'{d}'" for d in OTHER_DIMENSIONS if d not in dimensions)
    first = f"{other}[1].key"
    starts, ends = "try_cast(v_starting_at as timestamptz)", "try_cast(v_ending_at as timestamptz)"
    return [
        (f"case when {analytics} then coalesce(len({other}) > 0, true) else false end",
         f"'broken out by ' || case when {first} in ({documented}) then '''' || {first} || '''' "
         f"else 'another dimension' end || ', which {what} is not kept by: fetch with group_by[] of "
         f"{', '.join(dimensions)} only'"),
        (f"case when {analytics} then coalesce({ends} > date_trunc('day', {starts}) + interval 1 day, false) "
         "else false end",
         "'covers more than one UTC day: fetch with time_bucket_width=1d'"),
    ]


def anthropic_cost(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                   paths: dict[str, str]) -> Read:
    """Pages of the cost report (`/v1/organizations/cost_report`: buckets of results) or of the
    analytics cost endpoint (rows, `ANALYTICS_COST_ROW`)."""
    report_pages(con, path, ANTHROPIC_BUCKET, element_sql=ANALYTICS_COST_ROW)
    read = _report_records(con, fields, paths)
    return Read(read.records, [*read.rules, *_analytics_rules(("amount", "currency"), BILL_DIMENSIONS, "a bill")],
                read.ignored)


def anthropic_report(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                     paths: dict[str, str]) -> Read:
    """Pages of the usage report (`/v1/organizations/usage_report/messages`: buckets of results)
    or of the analytics usage endpoint (rows, `ANALYTICS_USAGE_ROW`)."""
    report_pages(con, path, ANTHROPIC_BUCKET, element_sql=ANALYTICS_USAGE_ROW)
    read = _report_records(con, fields, paths)
    return Read(read.records, [*read.rules, *_per_account_rules(),
                               *_analytics_rules(USAGE_METRICS, USAGE_DIMENSIONS, "a usage report")], read.ignored)


# what a usage report may be broken out by beside the dimensions it is kept by: the people
# (or service accounts) whose usage a result is; their ids are not landed
REPORT_ACCOUNT_DIMENSIONS = ("account_id", "service_account_id")


def _per_account_rules() -> list[tuple[str, str]]:
    """A usage report result for one account: the ledger keeps a report by key, workspace,
    model, tier, context window, speed and inference geo, and attributes usage to people
    from per-request events and key owners, so a per-account result is quarantined, with the
    query to use instead (its id is kept in the private warehouse's quarantine only)."""
    # (CASE: an unpaged line may not be JSON)
    return [(f"case when _unpaged then false else coalesce(json_type(_raw, '$.result.{dimension}') <> 'NULL', "
             "false) end",
             f"'broken out by ''{dimension}'', which the ledger does not keep a usage report by: fetch "
             f"without group_by[]={dimension}'") for dimension in REPORT_ACCOUNT_DIMENSIONS]


def analytics_report(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                     paths: dict[str, str]) -> Read:
    """Pages of a report whose `data` elements are rows (the Claude Code analytics report)."""
    report_pages(con, path, None)
    return _report_records(con, fields, paths, bucketed=False)


_OPENAI_ISO = "strftime(to_timestamp(try_cast(b ->> '{0}' as bigint)), '%Y-%m-%dT%H:%M:%SZ')"
OPENAI_BUCKET = (f"json_object('start_time', {_OPENAI_ISO.format('start_time')}, "
                 f"'end_time', {_OPENAI_ISO.format('end_time')})")
# the usage API's endpoints answer with results of their own kind (`object`): completions and
# embeddings count tokens the catalog prices; an embedding has no output, so none are counted
OPENAI_TOKEN_RESULTS = ("organization.usage.completions.result", "organization.usage.embeddings.result")
EMBEDDING_RESULT = ("case when r ->> 'object' = 'organization.usage.embeddings.result' "
                    "and json_type(r, '$.output_tokens') is null "
                    "then json_merge_patch(r, '{\"output_tokens\": 0}') else r end")
# a result of another endpoint (images, audio, moderations, vector stores, code interpreter
# sessions): not tokens, or not priced per token (CASE: an unpaged line may not be JSON)
OTHER_USAGE_RESULT = (
    "case when _unpaged then false else coalesce(starts_with(_raw ->> '$.result.object', 'organization.usage.') "
    f"and _raw ->> '$.result.object' not in ({', '.join(lit(o) for o in OPENAI_TOKEN_RESULTS)}), false) end",
    "'a result of another usage endpoint than completions and embeddings: not token usage the ledger prices'")


def openai_usage(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                 paths: dict[str, str]) -> Read:
    """Pages of the usage API's completions and embeddings endpoints (an embedding's output
    tokens: 0); results of its other endpoints are quarantined, saying so."""
    report_pages(con, path, OPENAI_BUCKET, result_sql=EMBEDDING_RESULT)
    read = _report_records(con, fields, paths)
    return replace(read, rules=[*read.rules, OTHER_USAGE_RESULT])


def openai_costs(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                 paths: dict[str, str]) -> Read:
    report_pages(con, path, OPENAI_BUCKET)
    return _report_records(con, fields, paths)


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


def _error_kind(exc: duckdb.Error) -> str:
    """DuckDB's error by its kind alone (`invalid input error`): its message may quote a value,
    a person's address among them."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(exc).__name__.removesuffix("Exception")).lower()
    return words if words.endswith("error") else f"{words} error"


def csv(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> Read:
    """CSV with a header row; malformed rows are kept as records with a `_csv_error`; the
    header again (files joined with `cat`) is ignored."""
    try:
        con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
        con.execute(
            "create or replace temp table csv_rows as select row_number() over () as _ord, * from "
            "read_csv(?, header = true, all_varchar = true, ignore_errors = true, store_rejects = true, "
            f"rejects_table = 'reject_errors', rejects_scan = 'reject_scans', {CSV_NULLS}, {LONG_LINES})",
            [file_pattern(path)],
        )
    except duckdb.Error as exc:
        raise LedgerError(f"{path}: cannot be read as CSV ({_error_kind(exc)})") from exc
    available = _columns_by_name(con, "csv_rows")
    values = _value_columns(fields, available, path)
    # the header again, where files were joined with `cat`: ignored, not a bad record
    header_again = " and ".join(
        f"lower(trim(c.{_quote(available[f.name])}, ' \ufeff')) = {lit(f.name)}" for f in fields if f.name in available
    ) or "false"
    ignored = con.execute(f"select count(*) from csv_rows as c where {header_again}").fetchone()[0]
    # good rows take the line numbers that neither the rejected rows nor blank lines did, after
    # the header's; lines as a spreadsheet numbers its rows, as DuckDB numbers the rejected ones
    blanks = csv_blank_records(path)
    con.execute("create or replace temp table csv_blanks as select unnest(cast(? as bigint[])) as n", [blanks])
    header = next((n for n, blank in enumerate(blanks, start=1) if n != blank), len(blanks) + 1)
    records = f"""
        with rejected as (
            select distinct on (line) line as _line, csv_line as _raw, error_type as _csv_error
            from reject_errors order by line
        ),
        good_lines as (
            select row_number() over (order by n) as _ord, n as _line
            from range({header + 1}, (select count(*) from csv_rows) + (select count(*) from rejected)
                + {len(blanks) + 2}) as r(n)
            where n not in (select _line from rejected) and n not in (select n from csv_blanks)
        )
        select
            g._line,
            cast(to_json(c) as varchar) as _raw,
            cast(null as varchar) as _csv_error,
            {values}
        from csv_rows as c
        inner join good_lines as g on g._ord = c._ord
        where not coalesce({header_again}, false)
        union all
        select _line, _raw, _csv_error, {", ".join(f"null as {f.col}" for f in fields)}
        from rejected
    """
    return Read(records, CSV_PRE_RULES, ignored)


def parquet(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> Read:
    """Parquet: typed columns, cast to text so the same rules apply; `_line` is the row number."""
    try:
        con.execute(
            "create or replace temp table pq_rows as select * from read_parquet(?, file_row_number = true)",
            [file_pattern(path)],
        )
    except duckdb.Error as exc:
        raise LedgerError(f"{path}: cannot be read as Parquet ({_error_kind(exc)})") from exc
    available = _columns_by_name(con, "pq_rows")
    values = _value_columns(fields, available, path)
    return Read(f"select file_row_number + 1 as _line, cast(to_json(p) as varchar) as _raw, {values} from pq_rows as p",
                [])


# --- bulk readers: many files of a format in one pass of DuckDB's parallel readers ------------
# Each returns SQL for one relation over the list parameter `$files`: `file_index` (the file's
# place in the list, from 0), `_usage` (true for a usage record, false for a record the format
# ignores, NULL for a line without records), the fields as text (`v_<field>`; JSON for
# `json_object` fields) and, where a line holds several records, `_first` (true on the first
# row of each line; `land.bulk` numbers the lines from it in the order read, so no window over
# the read makes it run on one thread). A line the careful reader
# would quarantine comes out as a usage record with its required fields NULL, or makes the
# read fail: either way `land.bulk` sends its file the careful way.


def _json_columns(fields: list[Field]) -> str:
    return "{" + ", ".join(
        f"{_quote(f.name)}: '{'json' if f.kind == 'json_object' else 'varchar'}'" for f in fields) + "}"


def bulk_jsonl(con: duckdb.DuckDBPyConnection, fields: list[Field], files: list[str]) -> str:
    """Top-level fields of JSON Lines (the canonical format)."""
    values = ", ".join(f"{_quote(f.name)} as {f.col}" for f in fields)
    reader = f"read_json($files, format = 'newline_delimited', records = 'true', columns = {_json_columns(fields)})"
    return f"select file_index, true as _usage, {values} from {reader}"


def _struct_type(paths: dict[str, str]) -> dict[str, object]:
    """The nested STRUCT type holding every JSON path of `paths` (`$.a.b`) as VARCHAR."""
    tree: dict[str, object] = {}
    for path in paths.values():
        *parents, leaf = path.removeprefix("$.").split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})  # type: ignore[assignment]
        node.setdefault(leaf, "VARCHAR")  # type: ignore[union-attr]
    return tree


def _type_sql(node: object) -> str:
    if isinstance(node, str):
        return node
    return "STRUCT(" + ", ".join(f"{_quote(k)} {_type_sql(v)}" for k, v in node.items()) + ")"  # type: ignore[union-attr]


def _path_sql(path: str) -> str:
    head, *rest = path.removeprefix("$.").split(".")
    return _quote(head) + "".join(f"[{lit(part)}]" for part in rest)


def bulk_nested(con: duckdb.DuckDBPyConnection, fields: list[Field], files: list[str], paths: dict[str, str],
                usage: str, derived: dict[str, str] | None = None) -> str:
    """JSON Lines of nested records (Claude Code transcripts, Bedrock invocation logs): the
    fields read as STRUCTs by their paths; a line `usage` holds of is a usage record, every
    other line is ignored. `derived` maps a field to the SQL of its value from the one read
    (`{}`), as the careful reader derives it."""
    tree = _struct_type(paths)
    columns = "{" + ", ".join(f"{_quote(k)}: '{_type_sql(v)}'" for k, v in tree.items()) + "}"
    values = ", ".join(f"{(derived or {}).get(f.name, '{}').format(_path_sql(paths[f.name]))} as {f.col}"
                       for f in fields)
    return f"""
        select file_index, {usage} as _usage, {values}
        from read_json($files, format = 'newline_delimited', records = 'true', columns = {columns})
    """


# the name of the AWS principal an ARN names: an assumed role's session (often the person's
# email, under IAM Identity Center), an IAM user's name
PRINCIPAL_NAME = "regexp_extract({}, '[^/:]*$')"


# a JSON merge patch removing an invocation's prompt and completion
BEDROCK_BODIES = '{"input": {"inputBodyJson": null}, "output": {"outputBodyJson": null}}'


def bedrock(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field], paths: dict[str, str],
            where: str) -> Read:
    """Bedrock model invocation logs, JSON Lines: the caller is the name its ARN ends with. A
    record is kept without its prompt and completion, quarantined too (a line that is not
    JSON is kept as it is)."""
    read = jsonl(con, path, fields, paths, where)
    caller = next(f.col for f in fields if f.name == "caller")
    return replace(read, records=f"""
        select * replace (
            {PRINCIPAL_NAME.format(caller)} as {caller},
            case when _type = 'OBJECT' then cast(json_merge_patch(_raw, '{BEDROCK_BODIES}') as varchar)
                else _raw end as _raw
        )
        from ({read.records})
    """)


_OTEL_ATTRIBUTE = ("STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR, doubleValue VARCHAR, "
                   "boolValue VARCHAR))")
_OTEL_LOGS = (f"STRUCT(resource STRUCT(attributes {_OTEL_ATTRIBUTE}[]), scopeLogs STRUCT(logRecords "
              f"STRUCT(timeUnixNano VARCHAR, body STRUCT(stringValue VARCHAR), attributes {_OTEL_ATTRIBUTE}[])[])[])[]")


def _value_of(attributes: str, keys: str, key: str) -> str:
    """The value (as text) an OTLP `attributes` list gives `key`, found by its place in `keys`,
    the list's keys (NULL where the key is missing)."""
    found = f"{attributes}[list_position({keys}, '{key}')].value"
    return f"coalesce({found}.stringValue, {found}.intValue, {found}.doubleValue, {found}.boolValue)"


def _places(items: str, alias: str) -> str:
    """One row per item of a list, and one for an empty or missing list: every line of a file
    keeps a row, so the lines read can be counted. `<alias>_at` is the item's place (from 1);
    the item is `items[<alias>_at]` (NULL for an empty list). Unnesting the places, not the
    items, leaves the lists as they were read: unnesting `case when len(...) = 0 then [null]
    else items end` copied every list (reading 1.6 M OTel records: 7.8 s against 4.4 s)."""
    return f"unnest(range(1, greatest(len({items}), 1) + 1)) as {alias}_at"


def bulk_otel(con: duckdb.DuckDBPyConnection, fields: list[Field], files: list[str]) -> str:
    """OTLP/JSON logs: one record per log record of each export request; `api_request` events
    are usage records, other events ignored. A line that is not an export request is a usage
    record without fields (its file goes the careful way). The export requests are unnested a
    level at a time. Each attribute is found by its place in its list's keys, listed once per
    record: a key given twice takes its first value, as in the careful reader (reading 1.6 M
    events: 12.1-13.0 s, against 13.1-14.7 s filtering the list once per attribute and sending
    records with a key given twice the careful way; building a map of every record's
    attributes was slower still)."""
    found = {name: _value_of("resource_attributes", "_resource_keys", key.removeprefix("resource."))
             if key.startswith("resource.") else _value_of("lr.attributes", "_keys", key)
             for name, key in OTEL_ATTRIBUTES.items()}
    event = "coalesce(l_event_name, lr.body.stringValue)"
    values = {name: f"l_{name}" for name in found}
    values["occurred_at"] = f"coalesce(l_event_timestamp, {NANOS_TO_ISO.format('lr.timeUnixNano')})"
    columns = ", ".join(f"{values[f.name]} as {f.col}" for f in fields)
    return f"""
        with export_lines as (
            select file_index, resourceLogs is null as _not_export, resourceLogs
            from read_json($files, format = 'newline_delimited', records = 'true',
                           columns = {{resourceLogs: '{_OTEL_LOGS}'}})
        ),
        resources as (
            select file_index, _not_export, resourceLogs, {_places('resourceLogs', 'rl')} from export_lines
        ),
        scopes as (
            select file_index, _not_export, rl_at = 1 as _first_rl, resourceLogs[rl_at] as rl,
                {_places('resourceLogs[rl_at].scopeLogs', 'sl')}
            from resources
        ),
        log_records as (
            select file_index, _not_export, _first_rl and sl_at = 1 as _first_sl,
                rl.resource.attributes as resource_attributes, rl.scopeLogs[sl_at] as sl,
                {_places('rl.scopeLogs[sl_at].logRecords', 'lr')}
            from scopes
        ),
        records as (
            select file_index, _not_export, _first_sl and lr_at = 1 as _first, resource_attributes,
                sl.logRecords[lr_at] as lr
            from log_records
        ),
        keyed as (
            select *, list_transform(lr.attributes, lambda a: a.key) as _keys,
                list_transform(resource_attributes, lambda a: a.key) as _resource_keys
            from records
        ),
        found as (
            select file_index, _first, _not_export, lr,
                {", ".join(f"{sql} as l_{name}" for name, sql in found.items())}
            from keyed
        )
        select file_index, _first,
            case when _not_export then true when lr is not null
                then coalesce({event} in ('api_request', 'claude_code.api_request'), false) end as _usage,
            {columns}
        from found
    """


CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_delimiter(header: str) -> str:
    """The delimiter a CSV header row uses: the candidate it holds most often (a comma when none,
    or on a tie). Spreadsheets in many locales write `;`, "Unicode text" exports a tab."""
    return max(CSV_DELIMITERS, key=header.count) if any(d in header for d in CSV_DELIMITERS) else ","


def bulk_csv(con: duckdb.DuckDBPyConnection, fields: list[Field], files: list[str]) -> str:
    """CSV with a header row, the columns matched by name (a missing column is NULL: a missing
    required one leaves the file to the careful path). The files are read in groups of one
    header, each with that header's columns and delimiter (`csv_delimiter`), none sniffed:
    30 LiteLLM exports, a third of them from a version with two more columns, land in 2.8 s
    where sniffing each file took 4.4 s. One header (the usual batch): `$files` itself, as
    naming each file of a group costs 0.3 ms a file."""
    groups: dict[str, list[int]] = {}
    for index, path in enumerate(files):
        groups.setdefault(_first_line(path), []).append(index)
    if len(groups) == 1:
        return _csv_group(next(iter(groups)), "$files", "file_index", fields)
    return "\nunion all\n".join(
        _csv_group(header, "[" + ", ".join(f"$files[{i + 1}]" for i in indices) + "]",
                   "[" + ", ".join(map(str, indices)) + "][cast(file_index as bigint) + 1]", fields)
        for header, indices in groups.items())


def _csv_group(header: str, paths: str, file_index: str, fields: list[Field]) -> str:
    """The records of the files `paths` (SQL), which share `header`; `file_index` (SQL) is each
    file's place in `$files`."""
    delimiter = csv_delimiter(header)
    names = next(pycsv.reader([header], delimiter=delimiter), [])
    columns = "{" + ", ".join(f"{lit(name)}: 'VARCHAR'" for name in names) + "}"
    reader = (f"read_csv({paths}, header = true, auto_detect = false, delim = {lit(delimiter)}, quote = '\"', "
              f"escape = '\"', {CSV_NULLS}, columns = {columns})")
    available = {n.strip().lower(): n for n in names}
    values = ", ".join(
        f"{_quote(available[f.name])} as {f.col}" if f.name in available else f"cast(null as varchar) as {f.col}"
        for f in fields)
    return f"select {file_index} as file_index, true as _usage, {values} from {reader}"


def _first_line(pattern: str) -> str:
    """A file's first line (its CSV header), a byte-order mark removed; empty if not UTF-8 (the
    file's read then fails, and it lands the careful way)."""
    return csv_header(Path(re.sub(r"\[([*?\[])\]", r"\1", pattern))) or ""  # `file_pattern` undone


def csv_header(path: Path) -> str | None:
    """A CSV file's first line (its header), a byte-order mark removed; None if not UTF-8."""
    with open_data(path) as handle:
        line = handle.readline().rstrip(b"\r\n")
    try:
        return line.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError:
        return None


def whole_csv_row(path: Path, line: bytes) -> bool:
    """Whether `line`, the last line of a CSV file, is a whole record: its quotes closed, and
    as many fields as the file's header."""
    header = csv_header(path)
    try:
        row = line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return False
    if header is None or line.count(b'"') % 2:
        return False
    delimiter = csv_delimiter(header)
    return len(next(pycsv.reader([row], delimiter=delimiter))) == len(next(pycsv.reader([header], delimiter=delimiter)))
