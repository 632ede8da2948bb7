"""`token-ledger bench`: land, build and publish N generated events, against a floor.

The floor is the same work as one hand-written DuckDB query over the same files: read,
dedup, price with the catalog, aggregate per day × person × model. Also times an incremental
run adding day 31 to the 30-day history against landing and building that day alone (the
median of three runs of each, from the same starting state).
Prints one JSON object; peak memory covers this process and its dbt children.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from token_ledger import warehouse
from token_ledger.config import Home, project_dir
from token_ledger.dbt_runner import Dbt, build, run_dbt
from token_ledger.errors import LedgerError
from token_ledger.landing import land_paths
from token_ledger.publish import publish

# the incremental day and the day alone are each timed this many times, from the same state,
# and compared by their medians: one sample of a few seconds on a shared 2-core machine varies
# by 20% and more
REPEATS = 3
MODELS_ONLY = ["--quiet", "--exclude", "resource_type:test", "resource_type:unit_test"]

FLOOR_SQL = """
with events as (
    select * from read_json($files, format = 'newline_delimited', columns = {
        request_id: 'varchar', occurred_at: 'timestamptz', provider: 'varchar', model: 'varchar',
        user_email: 'varchar', application: 'varchar', input_tokens: 'bigint', output_tokens: 'bigint',
        cache_read_tokens: 'bigint', cache_write_5m_tokens: 'bigint', cache_write_1h_tokens: 'bigint',
        service_tier: 'varchar'})
    qualify row_number() over (partition by provider, request_id order by occurred_at) = 1
),
catalog as (select * from read_csv($catalog, header = true))
select cast(e.occurred_at as date) as d, lower(e.user_email) as u, e.model,
       sum(e.input_tokens * c.input_usd_per_mtok + e.output_tokens * c.output_usd_per_mtok
           + e.cache_read_tokens * c.cache_read_usd_per_mtok
           + e.cache_write_5m_tokens * c.cache_write_5m_usd_per_mtok
           + e.cache_write_1h_tokens * c.cache_write_1h_usd_per_mtok) / 1e6 as cost,
       count(*) as requests
from events as e
left join catalog as c
    on c.provider = e.provider and starts_with(e.model, c.model_id) and c.service_tier = e.service_tier
    and e.occurred_at >= c.valid_from and e.occurred_at < c.valid_to
group by all
"""


def _dbt_peak_kb(home: Home) -> int:
    """The largest peak resident memory of the home's dbt runs so far (dbt's own resource report)."""
    log = home.root / "dbt" / "logs" / "dbt.log"
    if not log.exists():
        return 0
    return max(map(int, re.findall(r'"process_mem_max_rss": "(\d+)"', log.read_text(errors="ignore"))), default=0)


def _peak_rss_gb(homes: list[Home], side_by_side_kb: list[int]) -> float:
    """Peak resident memory of the pipeline: this process (landing, publishing; the generator
    runs in a child process), each dbt build, and the sums of the two while they ran side by
    side (dbt getting ready during landing; this process's memory during the build)."""
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, *side_by_side_kb,
                  *(_dbt_peak_kb(home) for home in homes))
    return round(peak_kb / 1024 / 1024, 3)


def bench(home: Home, events: int, keep: bool = False) -> str:
    if events < 1000:
        raise LedgerError("--events must be at least 1000")
    work = Path(tempfile.mkdtemp(prefix="token-ledger-bench-", dir=home.root))
    bench_home = Home.resolve(str(work / "home"))
    inputs = work / "input"
    seconds: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    try:
        start = time.monotonic()
        users = max(50, min(20_000, events // 2000))
        _generate_in_child(inputs, users, events * 31 // 30)
        seconds["generate"] = time.monotonic() - start
        days = sorted(inputs.glob("usage-*.jsonl"))
        history, extra_day = [str(inputs / "people.csv"), *map(str, days[:30])], str(days[30])
        history_events = sum(_lines(day) for day in days[:30])
        # dbt parses the project once, untimed, as in any deployment (later builds reuse the parse)
        for home_ in (bench_home, Home.resolve(str(work / "alone"))):
            run_dbt(home_, ["parse"], quiet=True)

        start = time.monotonic()
        with Dbt(bench_home) as dbt:  # as `token-ledger run` does: dbt gets ready while the files land
            report = land_paths(bench_home, history)
            seconds["land"] = time.monotonic() - start
            if report.errors:
                raise LedgerError(f"bench landing failed: {report.errors[0]}")
            landing_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            start = time.monotonic()
            if build(bench_home, MODELS_ONLY, dbt=dbt) != 0:
                raise LedgerError("bench build failed")
            seconds["build"] = time.monotonic() - start
        side_by_side_kb = [landing_peak_kb + dbt.ready_peak_kb, dbt.caller_resident_kb + _dbt_peak_kb(bench_home)]

        start = time.monotonic()
        publish(bench_home)
        seconds["publish"] = time.monotonic() - start

        history_db = work / "history.duckdb"
        with warehouse.private(bench_home) as con:
            con.execute("checkpoint")  # everything in the file itself, none of it in a WAL
        _copy_to_disk(bench_home.private_db, history_db)
        alone = Home.resolve(str(work / "alone"))
        samples["incremental_day"] = _timed_repeats(
            lambda: _reset(bench_home.private_db, history_db),
            lambda: _land_and_build(bench_home, [extra_day]))
        samples["day_alone"] = _timed_repeats(
            lambda: _reset(alone.private_db, None),
            lambda: _land_and_build(alone, [str(inputs / "people.csv"), extra_day]))
        for name, times in samples.items():
            seconds[name] = statistics.median(times)

        start = time.monotonic()
        con = warehouse.connect()
        files = [str(p) for p in days[:30]]
        con.execute(f"create table floor as {FLOOR_SQL}",
                    {"files": files, "catalog": str(project_dir() / "seeds" / "price_catalog.csv")})
        con.close()
        seconds["floor"] = time.monotonic() - start
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    end_to_end = seconds["land"] + seconds["build"] + seconds["publish"]
    return json.dumps({
        "events": history_events,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "end_to_end_seconds": round(end_to_end, 3),
        "events_per_second": round(history_events / end_to_end),
        "peak_memory_gb": _peak_rss_gb([bench_home, alone], side_by_side_kb),
        "ratio_to_floor": round(end_to_end / seconds["floor"], 2),
        "incremental_day_ratio": round(seconds["incremental_day"] / seconds["day_alone"], 2),
        "incremental_day_samples": {k: [round(v, 3) for v in times] for k, times in samples.items()},
    })


def _land_and_build(home: Home, paths: list[str]) -> None:
    if land_paths(home, paths).errors or build(home, MODELS_ONLY) != 0:
        raise LedgerError("bench: landing and building the 31st day failed")


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


def _timed_repeats(reset: Callable[[], object], work: Callable[[], object]) -> list[float]:
    """Seconds of `work` in REPEATS runs, each from the same state (`reset`, untimed)."""
    times = []
    for _ in range(REPEATS):
        reset()
        start = time.monotonic()
        work()
        times.append(time.monotonic() - start)
    return times


def _generate_in_child(out: Path, users: int, events: int) -> None:
    """The synthetic files, written by a child process so its memory is not the pipeline's."""
    code = ("import sys; from pathlib import Path; from token_ledger.generate import generate; "
            "generate(Path(sys.argv[1]), profile='demo', users=int(sys.argv[2]), days=31, "
            "target_events=int(sys.argv[3]))")
    done = subprocess.run([sys.executable, "-c", code, str(out), str(users), str(events)], check=False)
    if done.returncode != 0:
        raise LedgerError("bench: generating the input failed")


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))
