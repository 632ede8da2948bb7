"""Pricing: every request priced as genai-prices prices it; past price changes stay in their period."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest

from conftest import Month, project_copy, query, run_cli
from token_ledger.config import project_dir
from token_ledger.generate.usage import MODEL_MIX

PRICE_CONTEXT = {"standard": None, "batch": {"processing": "batch"}, "priority": {"service_tier": "priority"},
                 "flex": {"service_tier": "flex"}}
EVENT_COLUMNS = ("request_id, provider, model, occurred_at, service_tier, input_tokens, output_tokens, "
                 "cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, list_cost_usd, cost_usd, "
                 "is_long_context, model_id")


def reference_price(row: tuple) -> Decimal:
    """genai-prices' price for one request. genai-prices counts cache tokens inside input tokens."""
    (_, provider, model, occurred_at, tier, inp, out, cache_read, cw5, cw1h, *_) = row
    usage = genai_prices.Usage(
        input_tokens=inp + cache_read + cw5 + cw1h,
        cache_read_tokens=cache_read,
        cache_write_tokens=cw5 + cw1h,
        cache_write_1h_tokens=cw1h,
        output_tokens=out,
    )
    price = genai_prices.calc_price(usage, model, provider_id=provider,
                                    genai_request_timestamp=occurred_at.replace(tzinfo=dt.UTC),
                                    price_context=PRICE_CONTEXT[tier])
    return price.total_price


def test_every_generated_request_matches_genai_prices(month: Month) -> None:
    rows = query(month.private, f"select {EVENT_COLUMNS} from restricted.fct_usage_events "
                                "where source_format = 'canonical' and request_id not like 'good-%'")
    assert len(rows) >= 100_000
    priced_models = {r[2] for r in rows}
    assert {m[1] for m in MODEL_MIX} <= priced_models
    assert {r[4] for r in rows} >= {"standard", "batch", "priority"}
    long_context = {(r[13], r[12]) for r in rows}
    for tiered in ("claude-sonnet-4-5", "gpt-5.5", "gemini-2.5-pro"):
        assert (tiered, True) in long_context and (tiered, False) in long_context, tiered
    mismatches = []
    for row in rows:
        expected = reference_price(row)
        if row[10] is None or abs(row[10] - expected) > Decimal("0.000001") or row[11] != row[10]:
            mismatches.append((row[1], row[2], row[3], row[4], row[10], expected))
    assert not mismatches[:10], f"{len(mismatches)} of {len(rows)} requests priced differently"


def test_generated_model_mix_is_fully_priced(month: Month) -> None:
    assert query(month.private, "select count(*) from restricted.fct_usage_events where price_status = 'unpriced'") \
        == [(0,)]
    assert query(month.published, "select sum(unpriced_requests) from fct_usage_daily") == [(0,)]


def test_catalog_is_regenerated_identically(tmp_path: Path) -> None:
    from token_ledger import prices

    prices.main(["--out", str(tmp_path)])
    for name in ("price_catalog.csv", "model_match_rules.csv"):
        assert (tmp_path / name).read_bytes() == (project_dir() / "seeds" / name).read_bytes(), name


@pytest.mark.slow
def test_changing_a_past_price_changes_only_that_period(month: Month, tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    catalog_path = project / "seeds" / "price_catalog.csv"
    with catalog_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0])
    # claude-opus-4-7, standard tier: a (fictional) correction of the price for 2026-10-06 .. 2026-10-09
    target = next(r for r in rows if r["provider"] == "anthropic" and r["model_id"] == "claude-opus-4-7"
                  and r["service_tier"] == "standard")
    corrected = {**target, "valid_from": "2026-10-06", "valid_to": "2026-10-09", "input_usd_per_mtok": "7",
                 "output_usd_per_mtok": "30"}
    after = {**target, "valid_from": "2026-10-09"}
    target["valid_to"] = "2026-10-06"
    index = rows.index(target)
    rows[index + 1:index + 1] = [corrected, after]
    with catalog_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(month.private, home / "token_ledger.duckdb")
    shutil.copytree(month.home / "secrets", home / "secrets")
    run_cli(home, "build", env={"TOKEN_LEDGER_PROJECT_DIR": str(project)})

    sql = "select event_id, model_id, service_tier, occurred_at, cost_usd from restricted.fct_usage_events"
    before = {r[0]: r for r in query(month.private, sql)}
    rebuilt = {r[0]: r for r in query(home / "token_ledger.duckdb", sql)}
    assert before.keys() == rebuilt.keys()
    changed = {k for k in before if before[k][4] != rebuilt[k][4]}
    in_period = {k for k, r in before.items() if r[1] == "claude-opus-4-7" and r[2] == "standard"
                 and dt.datetime(2026, 10, 6) <= r[3] < dt.datetime(2026, 10, 9)}
    assert in_period and changed == in_period
    assert all(rebuilt[k][4] > before[k][4] for k in changed)
