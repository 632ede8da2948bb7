"""`token-ledger bench`: land, build and publish N generated events, against a floor.

`--format` chooses the input: canonical JSON Lines, Claude Code OTel logs, Claude Code
transcripts or LiteLLM spend logs, generated from the same synthetic usage. The floor is the
same work as one hand-written DuckDB query over the same files: read that format, dedup,
price with the catalog, aggregate per day × person × model. For the formats written per day,
also times an incremental run adding day 31 to the 30-day history against landing and
building that day alone (the median of three runs of each, from the same starting state).
Prints one JSON object; peak memory covers this process and its dbt children.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from token_ledger import warehouse
from token_ledger.config import Home, project_dir
from token_ledger.dbt_runner import Dbt, build, run_dbt
from token_ledger.errors import LedgerError
from token_ledger.land import LandReport
from token_ledger.landing import land_paths
from token_ledger.publish import publish

MODELS_ONLY = ["--quiet", "--exclude", "resource_type:test", "resource_type:unit_test"]

# The floor for each format: the same work as the pipeline in one hand-written DuckDB query
# over the same files: read that format, dedup, price with the catalog, aggregate per day ×
# person × model. `events` is the relation of usage records each format's reading yields.
PRICED = """
, catalog as (select * from read_csv($catalog, header = true)),
deduped as (select * from events qualify row_number() over (partition by provider, request_id order by occurred_at) = 1)
select cast(e.occurred_at as date) as d, lower(e.user_email) as u, e.model,
       sum(e.input_tokens * c.input_usd_per_mtok + e.output_tokens * c.output_usd_per_mtok
           + e.cache_read_tokens * c.cache_read_usd_per_mtok
           + e.cache_write_5m_tokens * c.cache_write_5m_usd_per_mtok
           + e.cache_write_1h_tokens * c.cache_write_1h_usd_per_mtok) / 1e6 as cost,
       count(*) as requests
from deduped as e
left join catalog as c
    on c.provider = e.provider and starts_with(e.model, c.model_id) and c.service_tier = e.service_tier
    and e.occurred_at >= c.valid_from and e.occurred_at < c.valid_to
group by all
"""
_ATTRIBUTE = "STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR, doubleValue DOUBLE))"
_OTEL_FLOOR_ATTRIBUTES = {
    "event_name": "event.name", "occurred_at": "event.timestamp", "request_id": "request_id", "model": "model",
    "user_email": "user.email", "input_tokens": "input_tokens", "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens", "cache_creation_tokens": "cache_creation_tokens",
}


def _attribute(key: str) -> str:
    value = f"list_filter(r.attributes, lambda a: a.key = '{key}')[1].value"
    return f"coalesce({value}.stringValue, {value}.intValue, cast({value}.doubleValue as varchar))"


FLOOR_EVENTS = {
    "canonical": """
        select request_id, occurred_at, provider, model, user_email, input_tokens, output_tokens,
            coalesce(cache_read_tokens, 0) as cache_read_tokens,
            coalesce(cache_write_5m_tokens, 0) as cache_write_5m_tokens,
            coalesce(cache_write_1h_tokens, 0) as cache_write_1h_tokens,
            coalesce(service_tier, 'standard') as service_tier
        from read_json($files, format = 'newline_delimited', columns = {
            request_id: 'varchar', occurred_at: 'timestamptz', provider: 'varchar', model: 'varchar',
            user_email: 'varchar', input_tokens: 'bigint', output_tokens: 'bigint', cache_read_tokens: 'bigint',
            cache_write_5m_tokens: 'bigint', cache_write_1h_tokens: 'bigint', service_tier: 'varchar'})
    """,
    # each attribute looked up in its record's list (a map of every record's attributes: 2-3×
    # slower), the lines read as records (without `records = 'true'` the nested read is 10× slower)
    "claude-code-otel": f"""
        with records as (
            select unnest(s.logRecords) as r
            from (select unnest(l.scopeLogs) as s
                  from (select unnest(resourceLogs) as l from read_json($files, format = 'newline_delimited',
                        records = 'true', columns = {{resourceLogs: 'STRUCT(scopeLogs STRUCT(logRecords
                        STRUCT(attributes {_ATTRIBUTE}[])[])[])[]'}})))
        ),
        attributes as (
            select {", ".join(f"{_attribute(key)} as {name}" for name, key in _OTEL_FLOOR_ATTRIBUTES.items())}
            from records
        )
        select request_id, cast(occurred_at as timestamptz) as occurred_at, 'anthropic' as provider, model,
            user_email, cast(input_tokens as bigint) as input_tokens, cast(output_tokens as bigint) as output_tokens,
            coalesce(cast(cache_read_tokens as bigint), 0) as cache_read_tokens,
            coalesce(cast(cache_creation_tokens as bigint), 0) as cache_write_5m_tokens,
            0 as cache_write_1h_tokens, 'standard' as service_tier
        from attributes
        where event_name = 'api_request'
    """,
    "claude-code-jsonl": """
        with lines as (
            select * from read_json($files, format = 'newline_delimited', filename = true, columns = {
                requestId: 'varchar', timestamp: 'timestamptz', message: 'STRUCT(id VARCHAR, model VARCHAR,
                usage STRUCT(input_tokens BIGINT, output_tokens BIGINT, cache_read_input_tokens BIGINT,
                cache_creation STRUCT(ephemeral_5m_input_tokens BIGINT, ephemeral_1h_input_tokens BIGINT)))'})
        ),
        users as (select * from read_csv($users, header = true))
        select coalesce(requestId, message.id) as request_id, timestamp as occurred_at, 'anthropic' as provider,
            message.model as model, users.user_email, message.usage.input_tokens as input_tokens,
            message.usage.output_tokens as output_tokens,
            coalesce(message.usage.cache_read_input_tokens, 0) as cache_read_tokens,
            coalesce(message.usage.cache_creation.ephemeral_5m_input_tokens, 0) as cache_write_5m_tokens,
            coalesce(message.usage.cache_creation.ephemeral_1h_input_tokens, 0) as cache_write_1h_tokens,
            'standard' as service_tier
        from lines
        inner join users on users.folder = parse_dirname(lines.filename, 'system').split('/')[-1]
        where message.usage is not null and message.model <> '<synthetic>'
        -- a streamed message is written several times: its largest usage stands
        qualify row_number() over (partition by coalesce(requestId, message.id) order by
            input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens desc) = 1
    """,
    "litellm-spendlogs": """
        with rows_ as (
            select *, coalesce(try_cast(json_extract_string(metadata, '$.usage_object.cache_read_input_tokens')
                                        as bigint),
                               try_cast(json_extract_string(metadata,
                                        '$.usage_object.prompt_tokens_details.cached_tokens') as bigint), 0) as cached,
                coalesce(try_cast(json_extract_string(metadata, '$.usage_object.cache_creation_input_tokens')
                                  as bigint), 0) as written
            from read_csv($files, header = true, all_varchar = true)
        )
        select request_id, cast(startTime as timestamptz) as occurred_at,
            lower(coalesce(nullif(custom_llm_provider, ''), split_part(model, '/', 1))) as provider,
            case when contains(model, '/') then split_part(model, '/', 2) else model end as model,
            "user" as user_email, cast(prompt_tokens as bigint) - cached - written as input_tokens,
            cast(completion_tokens as bigint) as output_tokens, cached as cache_read_tokens,
            written as cache_write_5m_tokens, 0 as cache_write_1h_tokens, 'standard' as service_tier
        from rows_
    """,
}
BENCH_FORMATS = tuple(FLOOR_EVENTS)


def _peak_rss_gb(dbt_peaks_kb: list[int], side_by_side_kb: list[int]) -> float:
    """Peak resident memory of the pipeline: this process (landing, publishing; the generator
    runs in a child process), each dbt build, and the sums of the two while they ran side by
    side (dbt getting ready during landing; this process's memory during the build)."""
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, *side_by_side_kb, *dbt_peaks_kb)
    return round(peak_kb / 1024 / 1024, 3)


# the files of one generated day, per format (transcripts are written per person instead)
DAY_FILES = {"canonical": "usage-*.jsonl", "claude-code-otel": "claude-code-otel-*.jsonl",
             "litellm-spendlogs": "litellm-spendlogs-*.csv"}


@dataclass
class Inputs:
    history: list[str]  # people.csv and the 30 days (or the folder of every person's transcripts)
    extra_day: str | None  # the 31st day, for the incremental measurement
    usage_files: list[Path]  # what the floor reads
    owners: str | None = None  # transcripts: the CSV of folder -> the person's email (--owners)


def _inputs(inputs: Path, fmt: str) -> Inputs:
    people = str(inputs / "people.csv")
    if fmt == "claude-code-jsonl":
        folder = inputs / "claude-code-jsonl"
        return Inputs([people, str(folder)], None, sorted(folder.rglob("*.jsonl")),
                      str(inputs / "transcript-users.csv"))
    days = sorted(inputs.glob(DAY_FILES[fmt]))
    return Inputs([people, *map(str, days[:30])], str(days[30]), days[:30])


def _land(home: Home, inputs: Inputs) -> LandReport:
    return land_paths(home, inputs.history, owners=inputs.owners)


def bench(home: Home, events: int, repeats: int, keep: bool = False, fmt: str = "canonical") -> str:
    """`repeats`: the incremental day and the day alone are each timed this many times, from the
    same state, and compared by their medians (one sample of a few seconds on a shared 2-core
    machine varies by 20% and more)."""
    if events < 1000:
        raise LedgerError("--events must be at least 1000")
    if repeats < 1:
        raise LedgerError("--repeats must be at least 1")
    if fmt not in BENCH_FORMATS:
        raise LedgerError(f"--format must be one of {', '.join(BENCH_FORMATS)}")
    work = Path(tempfile.mkdtemp(prefix="token-ledger-bench-", dir=home.root))
    bench_home = Home.resolve(str(work / "home"))
    inputs_dir = work / "input"
    seconds: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    dbt_peaks_kb: list[int] = []  # each dbt build's peak resident memory
    try:
        start = time.monotonic()
        users = max(50, min(20_000, events // 2000))
        _generate_in_child(inputs_dir, users, events * 31 // 30, fmt)
        seconds["generate"] = time.monotonic() - start
        inputs = _inputs(inputs_dir, fmt)
        input_bytes = sum(p.stat().st_size for p in inputs.usage_files)
        # dbt parses the project once, untimed, as in any deployment (later builds reuse the parse)
        for home_ in (bench_home, Home.resolve(str(work / "alone"))):
            run_dbt(home_, ["parse"], quiet=True)

        start = time.monotonic()
        with Dbt(bench_home) as dbt:  # as `token-ledger run` does: dbt gets ready while the files land
            report = _land(bench_home, inputs)
            seconds["land"] = time.monotonic() - start
            if report.errors or report.warnings or report.files_quarantined:
                problems = report.errors + report.warnings
                raise LedgerError(f"bench landing failed: {problems[0] if problems else 'a file was quarantined'}")
            landing_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            start = time.monotonic()
            if build(bench_home, MODELS_ONLY, dbt=dbt) != 0:
                raise LedgerError("bench build failed")
            seconds["build"] = time.monotonic() - start
        dbt_peaks_kb.append(dbt.peak_kb)
        side_by_side_kb = [landing_peak_kb + dbt.ready_peak_kb, dbt.caller_resident_kb + dbt.peak_kb]

        start = time.monotonic()
        publish(bench_home)
        seconds["publish"] = time.monotonic() - start

        if inputs.extra_day:
            history_db = work / "history.duckdb"
            with warehouse.private(bench_home) as con:
                con.execute("checkpoint")  # everything in the file itself, none of it in a WAL
            _copy_to_disk(bench_home.private_db, history_db)
            alone = Home.resolve(str(work / "alone"))
            extra = [inputs.extra_day]
            samples["incremental_day"] = _timed_repeats(
                repeats, lambda: _reset(bench_home.private_db, history_db),
                lambda: _land_and_build(bench_home, extra, dbt_peaks_kb))
            samples["day_alone"] = _timed_repeats(
                repeats, lambda: _reset(alone.private_db, None),
                lambda: _land_and_build(alone, [inputs.history[0], *extra], dbt_peaks_kb))
            for name, times in samples.items():
                seconds[name] = statistics.median(times)

        start = time.monotonic()
        con = warehouse.connect()
        users_csv = str(inputs_dir / "transcript-users.csv")
        sql = f"create table floor as with events as ({FLOOR_EVENTS[fmt]}) {PRICED}"
        params = {"files": [str(p) for p in inputs.usage_files],
                  "catalog": str(project_dir() / "seeds" / "price_catalog.csv")}
        con.execute(sql, {**params, "users": users_csv} if "$users" in sql else params)
        con.close()
        seconds["floor"] = time.monotonic() - start
        # canonical: every line of the 30 days; the other formats: the usage records landed
        counted = sum(_lines(p) for p in inputs.usage_files) if fmt == "canonical" else report.records_landed
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    end_to_end = seconds["land"] + seconds["build"] + seconds["publish"]
    result = {
        "events": counted,
        "format": fmt,
        "input_mb": round(input_bytes / 1e6, 1),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "end_to_end_seconds": round(end_to_end, 3),
        "events_per_second": round(counted / end_to_end),
        "land_mb_per_second": round(input_bytes / 1e6 / seconds["land"], 1),
        "peak_memory_gb": _peak_rss_gb(dbt_peaks_kb, side_by_side_kb),
        "ratio_to_floor": round(end_to_end / seconds["floor"], 2),
    }
    if samples:
        result["incremental_day_ratio"] = round(seconds["incremental_day"] / seconds["day_alone"], 2)
        result["incremental_day_samples"] = {k: [round(v, 3) for v in times] for k, times in samples.items()}
    return json.dumps(result)


def _land_and_build(home: Home, paths: list[str], dbt_peaks_kb: list[int]) -> None:
    if land_paths(home, paths).errors:
        raise LedgerError("bench: landing the 31st day failed")
    with Dbt(home, ahead=False) as dbt:  # as `build` would start it
        code = build(home, MODELS_ONLY, dbt=dbt)
    dbt_peaks_kb.append(dbt.peak_kb)
    if code != 0:
        raise LedgerError("bench: building the 31st day failed")


def _reset(db: Path, snapshot: Path | None) -> None:
    """The private warehouse back to `snapshot`, or to nothing. The copy is flushed to disk
    here, untimed, as a warehouse left by the previous hour's run would be: otherwise the timed
    run's first checkpoint (its fsync) writes back the whole copy (about 0.3 s at 10 M events)."""
    Path(f"{db}.wal").unlink(missing_ok=True)
    db.unlink(missing_ok=True)
    if snapshot:
        _copy_to_disk(snapshot, db)


def _copy_to_disk(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb") as copy:
        os.fsync(copy.fileno())


def _timed_repeats(repeats: int, reset: Callable[[], object], work: Callable[[], object]) -> list[float]:
    """Seconds of `work` in `repeats` runs, each from the same state (`reset`, untimed)."""
    times = []
    for _ in range(repeats):
        reset()
        start = time.monotonic()
        work()
        times.append(time.monotonic() - start)
    return times


GENERATE = """
import sys
from pathlib import Path
from token_ledger.errors import one_line
from token_ledger.generate import generate
try:
    generate(Path(sys.argv[1]), profile="demo", users=int(sys.argv[2]), days=31, target_events=int(sys.argv[3]),
             fmt=sys.argv[4])
except Exception as exc:  # what went wrong, in one line on stderr: no traceback
    sys.exit(one_line(exc))
"""


def _generate_in_child(out: Path, users: int, events: int, fmt: str) -> None:
    """The synthetic files, written by a child process so its memory is not the pipeline's."""
    done = subprocess.run([sys.executable, "-c", GENERATE, str(out), str(users), str(events), fmt], check=False)
    if done.returncode != 0:  # the child has said why, in one line
        raise LedgerError("bench: generating the input failed")


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))
