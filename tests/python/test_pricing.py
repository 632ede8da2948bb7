"""Pricing: against requests priced by hand from the providers' pages and LiteLLM's price file;
every generated request as genai-prices prices it, with the providers' documented batch and flex
rules where genai-prices has no price of its own; past price changes stay in their period."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest

from conftest import Month, project_copy, query, run_cli
from token_ledger import rebuild, warehouse
from token_ledger.config import Home, project_dir
from token_ledger.generate.usage import MODEL_MIX

PRICE_CONTEXT = {"standard": None, "batch": {"processing": "batch"}, "priority": {"service_tier": "priority"},
                 "flex": {"service_tier": "flex"}}
EVENT_COLUMNS = ("request_id, provider, model, occurred_at, service_tier, input_tokens, output_tokens, "
                 "cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, list_cost_usd, cost_usd, "
                 "is_long_context, model_id")


# the providers' documented tier multipliers (batch, flex at 50%), for tiers genai-prices has no price for
DOCUMENTED_RULES = {("anthropic", "batch"): Decimal("0.5"), ("openai", "batch"): Decimal("0.5"),
                    ("openai", "flex"): Decimal("0.5"), ("google", "batch"): Decimal("0.5")}


def reference_price(row: tuple) -> Decimal:
    """genai-prices' price for one request; where genai-prices has no price for the request's tier
    (it answers with the standard price) and the provider documents a multiplier, that applies."""
    tiered = genai_price(row, PRICE_CONTEXT[row[4]])
    if row[4] != "standard" and (row[1], row[4]) in DOCUMENTED_RULES and tiered == genai_price(row, None):
        return tiered * DOCUMENTED_RULES[(row[1], row[4])]
    return tiered


def genai_price(row: tuple, context: dict[str, str] | None) -> Decimal:
    """genai-prices' price for one request. genai-prices counts cache tokens inside input tokens."""
    (_, provider, model, occurred_at, _, inp, out, cache_read, cw5, cw1h, *_) = row
    usage = genai_prices.Usage(
        input_tokens=inp + cache_read + cw5 + cw1h,
        cache_read_tokens=cache_read,
        cache_write_tokens=cw5 + cw1h,
        cache_write_1h_tokens=cw1h,
        output_tokens=out,
    )
    price = genai_prices.calc_price(usage, model, provider_id=provider,
                                    genai_request_timestamp=occurred_at.replace(tzinfo=dt.UTC),
                                    price_context=context)
    return price.total_price


def test_every_generated_request_matches_genai_prices_and_the_documented_rules(month: Month) -> None:
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


ORACLE = Path(__file__).parents[1] / "pricing"
NEGOTIATED = (
    "provider,model_id,service_tier,valid_from,valid_to,discount_pct,input_usd_per_mtok,output_usd_per_mtok,"
    "cache_read_usd_per_mtok,cache_write_5m_usd_per_mtok,cache_write_1h_usd_per_mtok,note\n"
    "anthropic,claude-haiku-4-5,standard,2026-11-01,9999-12-31,20,,,,,,negotiated: 20% off\n"
    "openai,gpt-4.1,standard,2026-11-01,9999-12-31,,1.6,6.4,,,,negotiated: fixed input and output prices\n"
    "openai,gpt-realtime-mini,standard,2026-11-01,9999-12-31,10,,,,,,negotiated: 10% off\n"
)
ALIASES = (
    "provider,model,catalog_provider,model_id,note\n"
    "azure,corp-gpt41-prod,openai,gpt-4.1,an Azure OpenAI deployment of gpt-4.1\n"
)


@pytest.fixture(scope="module")
def hand_priced(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict], Path]:
    """The hand-priced requests landed and built (as canonical CSV), with two negotiated prices
    and one reviewed model alias (an Azure deployment's name)."""
    work = tmp_path_factory.mktemp("oracle")
    with (ORACLE / "hand_priced.csv").open(encoding="utf-8") as handle:
        expected = {row["request_id"]: row for row in csv.DictReader(handle)}
    columns = ["request_id", "provider", "model", "occurred_at", "service_tier", "input_tokens", "output_tokens",
               "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "speed", "inference_geo",
               "web_search_requests", "input_audio_tokens", "output_audio_tokens"]
    requests = work / "requests.csv"
    with requests.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*columns, "user_email"])
        writer.writerows([*(row[c] for c in columns), "oracle@corp.example"] for row in expected.values())
    project = project_copy(work / "project", seeds={"price_overrides.csv": NEGOTIATED, "model_aliases.csv": ALIASES})
    home = work / "home"
    run_cli(home, "run", str(requests), env={"TOKEN_LEDGER_PROJECT_DIR": str(project)})
    return expected, home


def test_every_pricing_rule_matches_the_hand_priced_oracle(hand_priced: tuple[dict[str, dict], Path]) -> None:
    expected, home = hand_priced
    rows = query(home / "token_ledger.duckdb",
                 "select request_id, list_cost_usd, cost_usd from restricted.fct_usage_events")
    assert {r[0] for r in rows} == set(expected)
    wrong = [(request, list_cost, cost, expected[request]["list_usd"], expected[request]["cost_usd"])
             for request, list_cost, cost in rows
             if list_cost is None or cost is None  # unpriced
             or abs(list_cost - Decimal(expected[request]["list_usd"])) > Decimal("1e-9")
             or abs(cost - Decimal(expected[request]["cost_usd"])) > Decimal("1e-9")]
    assert not wrong, wrong


def test_a_changed_price_seed_rebuilds_every_day_and_says_why(hand_priced: tuple[dict[str, dict], Path],
                                                               tmp_path: Path) -> None:
    """Reference data is not a landed day: a build after the negotiated prices are withdrawn
    names the changed seed and reprices every day at list (the hand-worked list prices)."""
    expected, built = hand_priced
    home = tmp_path / "home"
    shutil.copytree(built, home, ignore=shutil.ignore_patterns("dbt", "report", "validation"))
    withdrawn = project_copy(tmp_path / "project", seeds={"price_overrides.csv": NEGOTIATED.splitlines()[0] + "\n",
                                                         "model_aliases.csv": ALIASES})
    rebuilt = run_cli(home, "build", env={"TOKEN_LEDGER_PROJECT_DIR": str(withdrawn)})
    assert "reference data changed (seeds/price_overrides.csv): every day is rebuilt" in rebuilt.err
    costs = dict(query(home / "token_ledger.duckdb", "select request_id, cost_usd from restricted.fct_usage_events"))
    assert costs.keys() == expected.keys()
    assert all(abs(costs[r] - Decimal(row["list_usd"])) <= Decimal("1e-9") for r, row in expected.items())
    assert any(row["cost_usd"] != row["list_usd"] for row in expected.values())  # there was a negotiated price
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.rebuild_days") == [(0,)]


def test_a_seed_change_counts_as_loaded_only_once_a_complete_build_succeeds(tmp_path: Path) -> None:
    """Scheduled builds leave the seeds out while their files are those the last complete build
    loaded: a build that fails after a seed changed records nothing, so the next one loads the
    seeds again (and rebuilds every day) instead of building on the old prices."""
    used = {"seeds/price_overrides.csv": "before", "dbt_project.yml": "p", "TOKEN_LEDGER_MIN_GROUP_SIZE": "5"}
    edited = {**used, "seeds/price_overrides.csv": "after"}
    with warehouse.private(Home(tmp_path)) as con:
        rebuild.settle(con, rebuild.now(), used)
        assert rebuild.queue_reference_change(con, used) == []
        changed = rebuild.queue_reference_change(con, edited)  # this build fails: no settle
        assert changed == ["seeds/price_overrides.csv"] and rebuild.seeds_changed(changed)
        assert rebuild.queue_reference_change(con, edited) == changed  # the next build loads them
        rebuild.settle(con, rebuild.now(), edited)
        assert rebuild.queue_reference_change(con, edited) == []
        new_k = rebuild.queue_reference_change(con, {**edited, "TOKEN_LEDGER_MIN_GROUP_SIZE": "9"})
        assert new_k == ["TOKEN_LEDGER_MIN_GROUP_SIZE"] and not rebuild.seeds_changed(new_k)


def test_published_prices_agree_with_litellm_where_both_list_a_price(
        hand_priced: tuple[dict[str, dict], Path]) -> None:
    """LiteLLM's price file as a second catalog: each price it lists for these models (per
    token; standard, batch, priority and flex tiers; above the long-context threshold) is the
    current one dim_models publishes."""
    _, home = hand_priced
    litellm = json.loads((ORACLE / "litellm_model_prices.json").read_text(encoding="utf-8"))
    kinds = {"input_cost_per_token": "input", "output_cost_per_token": "output",
             "cache_read_input_token_cost": "cache_read", "cache_creation_input_token_cost": "cache_write_5m",
             "cache_creation_input_token_cost_above_1hr": "cache_write_1h"}
    tiers = {"": "standard", "_batches": "batch", "_priority": "priority", "_flex": "flex"}
    columns = ["model_id", "service_tier", "long_context_threshold_tokens",
               *(f"{lc}{kind}_usd_per_mtok" for lc in ("", "long_context_") for kind in kinds.values())]
    published = {(row[0], row[1]): dict(zip(columns, row, strict=True)) for row in query(
        home / "analytics.duckdb", f"select {', '.join(columns)} from dim_models where valid_to = date '9999-12-31'")}
    compared, differ = 0, []
    for model, prices in litellm.items():
        for key, per_token in prices.items():
            if not isinstance(per_token, float):
                continue
            long_context = re.search(r"_above_(\d+)k_tokens", key)
            base = re.sub(r"_above_\d+k_tokens", "", key)
            tier = next((t for suffix, t in tiers.items() if suffix and base.endswith(suffix)), "standard")
            base = base.removesuffix({v: k for k, v in tiers.items()}[tier]) if tier != "standard" else base
            if base not in kinds or (model.startswith("gemini") and base.startswith("cache_creation")):
                continue  # Gemini's cache creation is billed as input plus storage per hour: not a token price
            row = published[(model, tier)]
            column = f"{'long_context_' if long_context else ''}{kinds[base]}_usd_per_mtok"
            if long_context:
                assert row["long_context_threshold_tokens"] == int(long_context.group(1)) * 1000, (model, key)
            compared += 1
            if abs(row[column] - Decimal(str(per_token)) * 1_000_000) > Decimal("1e-6"):
                differ.append((model, key, row[column], per_token * 1_000_000))
    assert compared >= 40
    assert not differ, differ


def test_a_month_of_bills_reconciles_and_the_planted_mispricing_is_flagged(month: Month) -> None:
    """The generated bills (the providers' own arithmetic over the generated requests) against
    the computed cost: every day within 0.5%, but the one model-day the bill overcharges by 10%,
    which is flagged and alerted."""
    day, provider, model, _ = (month.inputs / "bills" / "MISPRICED.txt").read_text(encoding="utf-8").split()
    rows = query(month.published, "select usage_date, provider, model_id, billed_cost_usd, computed_cost_usd, "
                                  "is_flagged from rpt_cost_reconciliation where billed_cost_usd is not null")
    assert {r[1] for r in rows} == {"anthropic", "openai"}
    assert len({r[0] for r in rows}) >= 28  # days with a group withheld under k are left out
    planted = [r for r in rows if (r[0].isoformat(), r[1], r[2]) == (day, provider, model)]
    assert len(planted) == 1 and planted[0][5]
    assert abs(planted[0][3] / planted[0][4] - Decimal("1.1")) < Decimal("1e-6")
    assert [r for r in rows if r[5]] == planted
    days: dict[tuple, list[Decimal]] = {}
    for usage_date, row_provider, _, billed, computed, _ in rows:
        if (usage_date.isoformat(), row_provider) != (day, provider):
            days.setdefault((usage_date, row_provider), [Decimal(0), Decimal(0)])
            days[(usage_date, row_provider)][0] += billed
            days[(usage_date, row_provider)][1] += computed
    assert days and all(abs(billed - computed) <= Decimal("0.005") * computed for billed, computed in days.values())
    alerts = [json.loads(line) for f in (month.home / "alerts").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert [(a["usage_date"], a["provider"], a["model_id"]) for a in alerts if a["kind"] == "bill_mismatch"] == [
        (day, provider, planted[0][2])]
    # FOCUS BilledCost is the bill where one covers the day: its rows of a bill's day × model add up to the bill
    focus = {(r[0], r[1]): (r[2], r[3]) for r in query(
        month.published, 'select cast("ChargePeriodStart" as date), "SkuPriceId", sum("BilledCost"), '
                         'bool_and("x_BilledByProvider") from fct_focus_costs group by 1, 2')}
    billed_rows = [r for r in rows if r[4] > 0]
    assert billed_rows
    for usage_date, row_provider, row_model, billed, _, _ in billed_rows:
        focus_billed, from_bill = focus[(usage_date, f"{row_provider}:{row_model}")]
        assert from_bill and abs(focus_billed - billed) <= Decimal("1e-6"), (usage_date, row_model)
