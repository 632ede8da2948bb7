"""Alerts a scheduler can act on: the budget thresholds newly crossed, the new anomalies, the
files with quarantined records, landed batches a validation check flagged, models the price
catalog does not know, and a provider's bill that differs from the computed cost beyond the
tolerance (a day × model of rpt_cost_reconciliation).

After a successful run, every alert not sent before is written to
`<home>/alerts/<run_id>.jsonl` (one JSON object per line) and remembered in
`audit.alerts_sent`, so the next run does not send it again. Alerts name people by
`user_key` only.
"""

from __future__ import annotations

import datetime as dt
import json
import os

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.validate import FLAGGED_DDL

ALERTS_DDL = """
create schema if not exists audit;
create table if not exists audit.alerts_sent (
    alert_id varchar primary key,
    kind varchar not null,
    run_id varchar not null,
    sent_at timestamp not null
);
"""

CURRENT_ALERTS = """
select
    concat_ws(':', 'budget', budget_id, owner_type, owner_id, period_start, threshold_crossed_pct) as alert_id,
    'budget_threshold' as kind,
    json_object('budget_id', budget_id, 'owner_type', owner_type, 'owner_id', owner_id,
                'period_start', period_start, 'period_end', period_end, 'threshold_pct', threshold_crossed_pct,
                'crossed_on', threshold_crossed_on, 'budget_usd', budget_usd, 'spend_to_date_usd', spend_to_date_usd,
                'forecast_usd', forecast_usd, 'status', status) as payload
from marts.fct_budget_status
where threshold_crossed_pct is not null
union all
select
    concat_ws(':', 'allowance', budget_id, user_key, period_start, threshold_crossed_pct),
    'allowance_threshold',
    json_object('budget_id', budget_id, 'user_key', user_key, 'period_start', period_start,
                'threshold_pct', threshold_crossed_pct, 'crossed_on', threshold_crossed_on, 'budget_usd', budget_usd,
                'spend_to_date_usd', spend_to_date_usd, 'status', status)
from restricted.fct_person_allowance_status
where threshold_crossed_pct is not null
union all
select
    concat_ws(':', 'anomaly', usage_date, scope, scope_id, metric, coalesce(detail, '')),
    'anomaly',
    json_object('usage_date', usage_date, 'scope', scope, 'scope_id', scope_id, 'metric', metric, 'detail', detail,
                'observed', observed, 'expected', expected, 'score', score, 'severity', severity)
from restricted.fct_usage_anomalies_all  -- a person's too, as soon as their day shows them
union all
-- a landed file with quarantined records (or quarantined whole): its batch and the reasons, no content
select
    concat_ws(':', 'quarantine', b.batch_id),
    'quarantine',
    json_object('batch_id', b.batch_id, 'source_format', b.source_format, 'rows_landed', b.rows_landed,
                'rows_quarantined', b.rows_quarantined, 'reasons', q.reasons)
from raw.load_batches as b
inner join (select batch_id, list(distinct reason order by reason) as reasons from raw.quarantine group by 1) as q
    on q.batch_id = b.batch_id
union all
-- a landed batch a validation check failed on (the run published the rest)
select
    concat_ws(':', 'flagged', flagged.batch_id),
    'flagged_batch',
    json_object('batch_id', flagged.batch_id, 'source_format', any_value(batches.source_format),
                'checks', list(flagged.check_name order by flagged.check_name), 'see', 'audit.flagged_batches')
from audit.flagged_batches as flagged
left join raw.load_batches as batches on batches.batch_id = flagged.batch_id
group by flagged.batch_id
union all
-- usage the catalog cannot price: listed in restricted.rpt_unpriced_usage, with the reason,
-- until an alias, a price or a multiplier exists
select
    concat_ws(':', 'unpriced', provider, md5(model), unpriced_reason),
    'unpriced',
    json_object('provider', provider, 'reason', unpriced_reason, 'first_seen_at', first_seen_at,
                'requests', requests, 'total_tokens', total_tokens, 'see', 'restricted.rpt_unpriced_usage')
from restricted.rpt_unpriced_usage
union all
-- a bill that differs from the computed cost beyond the tolerance (organisation-wide: no person)
select
    concat_ws(':', 'bill', usage_date, source_format, provider, model_id),
    'bill_mismatch',
    json_object('usage_date', usage_date, 'source_format', source_format, 'provider', provider,
                'model_id', model_id, 'billed_cost_usd', billed_cost_usd, 'computed_cost_usd', computed_cost_usd,
                'difference_usd', difference_usd, 'relative_difference', relative_difference,
                'tolerance', tolerance, 'see', 'rpt_cost_reconciliation')
from marts.rpt_cost_reconciliation
where billed_cost_usd is not null and is_flagged
"""


def emit(home: Home, run_id: str) -> int:
    """Write the alerts not sent before; returns how many."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with warehouse.private(home) as con:
        con.execute(ALERTS_DDL)
        con.execute(FLAGGED_DDL)
        rows = con.execute(
            f"select alert_id, kind, payload from ({CURRENT_ALERTS}) as current "
            "where alert_id not in (select alert_id from audit.alerts_sent) order by kind, alert_id"
        ).fetchall()
        if not rows:
            return 0
        folder = home.sub("alerts")
        target = folder / f"{run_id}.jsonl"
        tmp = folder / f".{run_id}.jsonl.tmp"
        with tmp.open("w", encoding="utf-8") as handle:
            for alert_id, kind, payload in rows:
                record = {"alert_id": alert_id, "kind": kind, "run_id": run_id,
                          "created_at": now.isoformat(timespec="seconds") + "Z", **json.loads(payload)}
                handle.write(json.dumps(record, default=str) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        con.execute("begin transaction")
        con.executemany("insert into audit.alerts_sent values (?, ?, ?, ?)",
                        [[alert_id, kind, run_id, now] for alert_id, kind, _ in rows])
        con.execute("commit")
    return len(rows)
