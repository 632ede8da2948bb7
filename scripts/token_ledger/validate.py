"""`token-ledger validate`: Great Expectations checkpoints, as code.

GX 1.x has no DuckDB backend, so each checkpoint validates a pandas DataFrame read from
the warehouse over a read-only connection. dbt tests are the first line of defence; these
guard what they do not: landed batches as they arrived, and the published file against the
private facts. Personal columns are never loaded, so Data Docs (under
`<home>/validation/`) cannot show a personal value as a sample.

A landed-data check that fails does not stop `run`: it flags the batches holding the failing
records (`audit.flagged_batches`, from GX's own unexpected-row list), an alert names them,
and the rest is published. A check on the published marts that fails stops publishing.
`validate` on its own exits non-zero on either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from token_ledger import warehouse
from token_ledger.config import Home, min_group_size
from token_ledger.data_docs import make_offline
from token_ledger.errors import LedgerError
from token_ledger.land.fields import MAX_COUNT
from token_ledger.land.formats import landed_usage_sql

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
KEEP_RESULTS = 168  # validation results kept per checkpoint: a week of hourly runs
# one row of the published fct_usage_daily per
DAILY_GRAIN = ["usage_date", "team_id", "cost_center", "provider", "model_id", "application", "billed_by"]
_IMPORTING = threading.Lock()


def import_great_expectations() -> None:
    """Import Great Expectations with SciPy's statistics module loaded on first use. GX imports
    scipy.stats (1.2 s of its 3.6 s import, in every run) for two distribution expectations
    these checks do not use; one that used it would load it then (importlib's LazyLoader)."""
    with _IMPORTING:
        if "scipy.stats" not in sys.modules:
            import scipy

            spec = importlib.util.find_spec("scipy.stats")
            if spec is not None and spec.loader is not None:
                spec.loader = importlib.util.LazyLoader(spec.loader)
                stats = importlib.util.module_from_spec(spec)
                sys.modules["scipy.stats"] = scipy.stats = stats
                spec.loader.exec_module(stats)
        import great_expectations  # noqa: F401



@dataclass
class Check:
    name: str
    frame: pd.DataFrame
    expectations: list
    # landed data: a failure flags the batches (this column) of the failing rows
    batch_column: str | None = None


@dataclass
class ValidationResult:
    results: dict[str, bool] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    docs: str = ""
    flagged: dict[str, set[str]] = field(default_factory=dict)  # batch id -> failed landed checks
    landed: set[str] = field(default_factory=set)  # names of the landed-data checks

    @property
    def success(self) -> bool:
        """Every check passed."""
        return all(self.results.values())

    @property
    def publishable(self) -> bool:
        """Every check on the published marts passed (failed landed checks flag their batches)."""
        return all(ok for name, ok in self.results.items() if name not in self.landed)

    def line(self) -> str:
        passed = sum(self.results.values())
        text = f"validated {len(self.results)} checkpoints: {passed} passed, {len(self.results) - passed} failed"
        if self.failures:
            text += " (" + "; ".join(self.failures) + ")"
        if self.flagged:
            text += f"; flagged {len(self.flagged)} landed batches (audit.flagged_batches)"
        return text + (f"; Data Docs: {self.docs}" if self.docs else "")


def _new_batches_filter(con) -> str:
    """Batches validated by an earlier successful `validate` are not read again."""
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'audit' "
                         "and table_name = 'validated_batches'").fetchone()[0]
    return "where _batch_id not in (select batch_id from audit.validated_batches)" if exists else ""


TOKEN_COLUMNS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"]


def _landed_checks(con) -> list[Check]:
    """The batches landed since the last validation, one row each (records, the ones without a
    time or a provider, the latest time, the least and most of each token count): a rule holds
    for every record of a batch exactly when it holds for its row, so GX's failing rows are the
    failing batches, and memory is one row a batch, not one a record (5 M landed records took
    3.3 GB as records)."""
    import_great_expectations()
    import great_expectations.expectations as gxe

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    bounds = ", ".join(f"min({c}) as least_{c}, max({c}) as most_{c}" for c in TOKEN_COLUMNS)
    batches_landed = con.execute(f"""
        select _batch_id, any_value(source_format) as source_format, count(*) as records,
            count(*) filter (where occurred_at is null) as records_without_time,
            count(*) filter (where provider is null) as records_without_provider,
            max(occurred_at) as latest_occurred_at, {bounds}
        from ({landed_usage_sql()}) as landed {_new_batches_filter(con)}
        group by _batch_id
    """).df()
    expectations = [] if batches_landed.empty else [
        gxe.ExpectColumnValuesToNotBeNull(column="_batch_id"),
        gxe.ExpectColumnValuesToBeBetween(column="records_without_time", max_value=0),
        # providers are an open list: an unknown one lands as unpriced, it fails nothing
        gxe.ExpectColumnValuesToBeBetween(column="records_without_provider", max_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="latest_occurred_at", max_value=now + dt.timedelta(days=1)),
        # landing's bound on a count (fields.MAX_COUNT): what landed is within it
        *(gxe.ExpectColumnValuesToBeBetween(column=f"least_{c}", min_value=0) for c in TOKEN_COLUMNS),
        *(gxe.ExpectColumnValuesToBeBetween(column=f"most_{c}", max_value=MAX_COUNT) for c in TOKEN_COLUMNS),
    ]
    quarantine = con.execute(
        "select batch_id, source_format, line_number, reason from raw.quarantine"
    ).df()
    batches = con.execute(
        """
        select b.batch_id, b.rows_landed, b.rows_quarantined,
               coalesce(q.quarantined, 0) as quarantined_found
        from raw.load_batches as b
        left join (select batch_id, count(*) as quarantined from raw.quarantine group by 1) as q using (batch_id)
        """
    ).df()
    batches["quarantine_accounted"] = batches["rows_quarantined"] == batches["quarantined_found"]
    return [
        Check("landed_usage_events", batches_landed, expectations, batch_column="_batch_id"),
        Check("landed_quarantine", quarantine, [
            gxe.ExpectColumnValuesToNotBeNull(column="reason"),
            gxe.ExpectColumnValuesToNotBeNull(column="batch_id"),
        ], batch_column="batch_id"),
        Check("landed_batches", batches, [
            gxe.ExpectColumnValuesToBeUnique(column="batch_id"),
            gxe.ExpectColumnValuesToBeInSet(column="quarantine_accounted", value_set=[True]),
        ], batch_column="batch_id"),
    ]


# each published day of fct_usage_daily beside the private facts of the groups published that day
PUBLISHED_DAYS = f"""
with

published as (
    select * from marts.fct_usage_daily
),

repeated as (
    -- a row whose grain another row of the day has
    select usage_date, sum(rows - 1) as repeated_rows
    from (select usage_date, count(*) as rows from published group by {", ".join(DAILY_GRAIN)})
    where rows > 1
    group by usage_date
),

published_days as (
    select
        usage_date,
        count(*) as published_rows,
        count(*) filter (where {" or ".join(f"{c} is null" for c in DAILY_GRAIN)}) as rows_with_null_grain,
        count(*) filter (where cost_usd < 0) as rows_with_negative_cost,
        sum(requests) as requests,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd
    from published
    group by usage_date
),

private_days as (
    -- what is published equals the private facts less what k withholds (docs/privacy.md)
    select
        person.usage_date,
        sum(person.requests) as requests,
        sum(person.total_tokens) as total_tokens,
        sum(person.cost_usd) as cost_usd
    from restricted.fct_person_usage_daily as person
    inner join restricted.dim_org_groups_daily as org_groups
        on
            person.usage_date = org_groups.usage_date
            and person.team_id = org_groups.team_id
            and person.cost_center = org_groups.cost_center
    where org_groups.is_published
    group by person.usage_date
)

select
    coalesce(published_days.usage_date, private_days.usage_date) as usage_date,
    coalesce(published_days.published_rows, 0) as published_rows,
    coalesce(published_days.rows_with_null_grain, 0) as rows_with_null_grain,
    coalesce(published_days.rows_with_negative_cost, 0) as rows_with_negative_cost,
    cast(coalesce(repeated.repeated_rows, 0) as bigint) as repeated_rows,
    cast(coalesce(published_days.requests, 0) as bigint) as published_requests,
    cast(coalesce(private_days.requests, 0) as bigint) as private_requests,
    cast(coalesce(published_days.total_tokens, 0) as hugeint) as published_tokens,
    cast(coalesce(private_days.total_tokens, 0) as hugeint) as private_tokens,
    -- both sums of the same decimals: equal, to a millionth of a dollar, or something is wrong
    cast(abs(coalesce(published_days.cost_usd, 0) - coalesce(private_days.cost_usd, 0)) as double)
        as cost_difference_usd
from published_days
full outer join private_days on published_days.usage_date = private_days.usage_date
left join repeated on coalesce(published_days.usage_date, private_days.usage_date) = repeated.usage_date
order by 1
"""


def _published_checks(con, home: Home) -> list[Check]:
    """The published marts against the private facts, one row a day: the same rules over the
    rows of each day (no null grain, no repeated grain, no negative cost) and its totals
    against the private facts; memory is one row a day, however many teams and models (a row
    a published row took 1.1 GB for a month of 85,000 people, and grew with the history)."""
    import_great_expectations()
    import great_expectations.expectations as gxe

    if not con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'fct_usage_daily'"
    ).fetchone()[0]:
        raise LedgerError("the public marts are not built yet; run `token-ledger build` first")
    days = con.execute(PUBLISHED_DAYS).df()
    for column in ("published_tokens", "private_tokens"):  # pandas has no 128-bit integers
        days[column] = days[column].astype(str)
    # the groups of each published day with their people, remainders included (the dbt test
    # assert_published_groups_have_k_people recounts them from the person facts): the fewest a day
    groups = con.execute(
        """
        select usage_date, min(group_people) as fewest_people
        from restricted.dim_org_groups_daily
        where is_published and people > 0  -- usage with no person at all identifies nobody
        group by usage_date
        """
    ).df()
    expectations = [
        gxe.ExpectColumnValuesToNotBeNull(column="usage_date"),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, max_value=0)
          for c in ("rows_with_null_grain", "repeated_rows", "rows_with_negative_cost")),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="published_requests", column_B="private_requests"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="published_tokens", column_B="private_tokens"),
        gxe.ExpectColumnValuesToBeBetween(column="cost_difference_usd", max_value=1e-6),
    ]
    return [
        Check("published_fct_usage_daily", days, expectations),
        Check("published_group_sizes", groups, [gxe.ExpectColumnValuesToBeBetween(column="fewest_people",
                                                                                  min_value=min_group_size())]
              if len(groups) else []),
    ]


def repair_store(root: Path) -> list[Path]:
    """GX writes its store files in place, so a crash or a full disk can leave one truncated,
    and GX then fails on every later run. Every file it cannot read is removed: suites,
    checkpoints and definitions are rebuilt from this module's code, and a truncated
    validation result is lost alone. Returns what was removed."""
    from ruamel.yaml import YAML, YAMLError

    broken = []
    for path in sorted(root.rglob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            broken.append(path)
    config = root / "gx" / "great_expectations.yml"
    if config.exists():
        try:
            if not isinstance(YAML(typ="safe").load(config.read_text(encoding="utf-8")), dict):
                broken.append(config)
        except (YAMLError, ValueError, OSError):
            broken.append(config)
    for path in broken:
        path.unlink(missing_ok=True)
    return broken


def prune_results(root: Path, keep: int = KEEP_RESULTS) -> None:
    """The newest `keep` validation results of each checkpoint stay (the store, and the Data
    Docs built from it, would otherwise grow by every hourly run)."""
    for check in (root / "gx" / "uncommitted" / "validations").iterdir() if (
            root / "gx" / "uncommitted" / "validations").is_dir() else []:
        # <checkpoint>/<run name>/<run time>/: the newest run times stay, whatever their run's name
        runs = sorted((p for p in check.glob("*/*") if p.is_dir()), key=lambda p: p.name)
        for old in runs[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
            with contextlib.suppress(OSError):
                old.parent.rmdir()  # the run's folder, once empty


def _run_checks(home: Home, checks: list[Check], run_name: str) -> ValidationResult:
    import_great_expectations()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    root = home.sub("validation")
    prune_results(root)
    repaired = repair_store(root)
    if repaired:
        print(f"warning: {len(repaired)} unreadable Great Expectations store files under {root} removed "
              "(a run interrupted while writing them); rebuilt from code", file=sys.stderr)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_or_update_pandas(name="token_ledger")
    result = ValidationResult()
    run_time = dt.datetime.now(dt.UTC)
    rendered = []  # this run's results and the suites: the Data Docs pages (re)built
    for check in checks:
        try:
            asset = source.get_asset(check.name)
        except LookupError:
            asset = source.add_dataframe_asset(name=check.name)
        try:
            batch = asset.get_batch_definition("whole")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=check.name, expectations=check.expectations))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=check.name, data=batch, suite=suite))
        # landed checks list the failing rows' batches (GX's unexpected index list), never values
        result_format = ({"result_format": "COMPLETE", "unexpected_index_column_names": [check.batch_column]}
                         if check.batch_column else {"result_format": "SUMMARY", "partial_unexpected_count": 0})
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=check.name, validation_definitions=[definition], actions=[], result_format=result_format))
        outcome = checkpoint.run(batch_parameters={"dataframe": check.frame},
                                 run_id=RunIdentifier(run_name=run_name, run_time=run_time))
        result.results[check.name] = bool(outcome.success)
        rendered += [*outcome.run_results, ExpectationSuiteIdentifier(name=check.name)]
        if check.batch_column:
            result.landed.add(check.name)
        if not outcome.success:
            for run_result in outcome.run_results.values():
                for item in run_result.results:
                    if not item.success:
                        config = item.expectation_config
                        column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
                        result.failures.append(f"{check.name}: {config.type} {column}".strip())
                        if check.batch_column:
                            for batch in _failing_batches(item.result, check):
                                result.flagged.setdefault(batch, set()).add(check.name)
    # the pages of earlier results are already built (GX would render every kept result again)
    context.build_data_docs(resource_identifiers=rendered)
    make_offline(root / "gx" / "uncommitted" / "data_docs" / "local_site")
    sites = context.get_docs_sites_urls()
    result.docs = sites[0]["site_url"] if sites else ""
    return result


def _failing_batches(outcome: dict, check: Check) -> set[str]:
    """The batches of the rows an expectation failed on; every batch checked when the
    expectation is about the whole table (its columns, say)."""
    rows = outcome.get("unexpected_index_list")
    if rows:
        return {str(row[check.batch_column]) for row in rows if row.get(check.batch_column) is not None}
    return {str(b) for b in check.frame[check.batch_column].dropna().unique()}


FLAGGED_DDL = """
create schema if not exists audit;
create table if not exists audit.flagged_batches (
    batch_id varchar not null,
    check_name varchar not null,
    flagged_at timestamp not null,
    primary key (batch_id, check_name)
);
"""


def validate(home: Home, run_name: str | None = None) -> ValidationResult:
    """`run_name` names the results in the Data Docs (the run's id; `validate-<time>` alone)."""
    if not home.private_db.exists():
        raise LedgerError(f"no private warehouse at {home.private_db}; land and build first")
    con = warehouse.connect(home.private_db, read_only=True)
    try:
        checks = _landed_checks(con) + _published_checks(con, home)
        batches = [r[0] for r in con.execute("select batch_id from raw.load_batches").fetchall()]
    finally:
        con.close()
    result = _run_checks(home, checks, run_name or f"validate-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}")
    if result.publishable:  # flagged batches are remembered too: flagged once, alerted once
        _remember_validated(home, batches, result.flagged)
    return result


def _remember_validated(home: Home, batches: list[str], flagged: dict[str, set[str]]) -> None:
    with warehouse.private(home) as con:
        con.execute(FLAGGED_DDL)
        con.execute("create table if not exists audit.validated_batches (batch_id varchar primary key, "
                    "validated_at timestamp not null)")
        flags = [[batch, name] for batch, names in sorted(flagged.items()) for name in sorted(names)]
        con.execute("begin transaction")
        if flags:
            con.executemany("insert or ignore into audit.flagged_batches values (?, ?, now()::timestamp)", flags)
        if batches:
            con.executemany("insert or ignore into audit.validated_batches values (?, now()::timestamp)",
                            [[b] for b in batches])
        con.execute("commit")
