"""Build the price catalog seeds from the pinned `genai-prices` package.

    python -m token_ledger.prices        (or `make prices`)

Writes, deterministically for one package version:
- seeds/price_catalog.csv      one row per provider x catalog model x service tier x price period
- seeds/model_match_rules.csv  how a reported model id maps to a catalog model

A tier (batch, priority, flex) for which genai-prices lists no price of its own in a period
carries the standard price with is_tier_price_listed = false: the reviewed pricing rules
(seeds/pricing_rules.csv, the providers' documented multipliers) price it in the warehouse.

Prices are USD per million tokens, already resolved the way genai-prices bills a request:
a token type without its own price falls back to the price of its parent unit (a cache read
with no cache-read price is billed as input; a 1-hour cache write with no 1-hour price as a
cache write). A model priced for input alone (an embedding model) has no output price: the
warehouse prices its requests without output tokens, and leaves any with output unpriced.
Long-context tiers apply to the whole request when its total input (uncached +
cache read + cache write) exceeds the threshold. Review the diff before committing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

from genai_prices.data import providers
from genai_prices.types import (
    ClauseAnd,
    ClauseContains,
    ClauseEndsWith,
    ClauseEquals,
    ClauseOr,
    ClauseRegex,
    ClauseStartsWith,
    ModelInfo,
    ModelPrice,
    Provider,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

from token_ledger.config import project_dir

# the providers whose models the catalog prices: the three with their own reports and rules,
# the direct APIs gateways route to, and Amazon Bedrock's and Azure's own catalogs for the
# models they host besides Claude and OpenAI's (a provider's rows are only read for usage
# reported under it: provider_aliases)
PROVIDERS = ("anthropic", "openai", "google", "mistral", "x-ai", "groq", "deepseek", "together", "fireworks",
             "cerebras", "cohere", "moonshotai", "voyageai", "aws", "azure")
OPEN_START = dt.date(1970, 1, 1)
OPEN_END = dt.date(9999, 12, 31)
# our service_tier -> genai-prices price context
TIER_CONTEXTS: dict[str, dict[str, str] | None] = {
    "standard": None,
    "batch": {"processing": "batch"},
    "priority": {"service_tier": "priority"},
    "flex": {"service_tier": "flex"},
}
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
# audio tokens (a part of the input or output tokens): one price whatever the request's length
AUDIO_KINDS = ("input_audio", "output_audio")
CATALOG_COLUMNS = [
    "provider", "model_id", "model_name", "service_tier", "valid_from", "valid_to", "utc_time_from", "utc_time_to",
    *(f"{k}_usd_per_mtok" for k in TOKEN_KINDS),
    *(f"{k}_usd_per_mtok" for k in AUDIO_KINDS),
    "long_context_threshold_tokens",
    *(f"long_context_{k}_usd_per_mtok" for k in TOKEN_KINDS),
    "is_tier_price_listed",
    "source",
]
RULE_COLUMNS = ["provider", "rule_order", "rule_id", "clauses_in_rule", "match_type", "pattern", "model_id",
                "catalog_provider"]


@dataclass(frozen=True)
class Resolved:
    base: dict[str, Decimal]
    threshold: int | None
    tier: dict[str, Decimal]
    audio: dict[str, Decimal | None]


def _price(price: ModelPrice, *keys: str) -> Decimal | TieredPrices | None:
    for key in keys:
        value = getattr(price, key, None)
        if value is not None:
            return value
    return None


def _resolve(price: ModelPrice) -> Resolved | None:
    """Effective per-kind prices, following genai-prices' parent-unit fallback."""
    chains = {
        "input": ("input_mtok",),
        "output": ("output_mtok",),
        "cache_read": ("cache_read_mtok", "input_mtok"),
        "cache_write_5m": ("cache_write_5m_mtok", "cache_write_mtok", "input_mtok"),
        "cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
    }
    # an audio token's own price; without one it is billed as a text token of its direction,
    # which the warehouse does (the text rate may be a long-context one)
    audio_chains = {"input_audio": ("input_audio_mtok",), "output_audio": ("output_audio_mtok",)}
    raw = {kind: _price(price, *keys) for kind, keys in chains.items()}
    if raw["input"] is None:
        return None  # not priced per token (audio hours, characters) or not priced at all
    audio = {kind: _price(price, *keys) for kind, keys in audio_chains.items()}
    if any(isinstance(v, TieredPrices) for v in audio.values()):
        raise ValueError("a long-context tier for audio tokens")
    thresholds = {v.tiers[0].start for v in raw.values() if isinstance(v, TieredPrices)}
    if len(thresholds) > 1:
        raise ValueError(f"several long-context thresholds in one price: {sorted(thresholds)}")
    if any(isinstance(v, TieredPrices) and len(v.tiers) != 1 for v in raw.values()):
        raise ValueError("more than one long-context tier")
    base = {k: (v.base if isinstance(v, TieredPrices) else v) for k, v in raw.items()}
    tier = {k: (v.tiers[0].price if isinstance(v, TieredPrices) else v) for k, v in raw.items()}
    return Resolved(base=base, threshold=thresholds.pop() if thresholds else None, tier=tier, audio=audio)


def _breakpoints(model: ModelInfo) -> tuple[list[dt.date], list[dt.time]]:
    """The days a price starts on, and the UTC times of day a price window starts or ends at
    (DeepSeek's peak hours): every price is constant between two of each."""
    dates, times = {OPEN_START}, {dt.time(0)}
    conditionals = model.prices if isinstance(model.prices, list) else []
    for item in [*conditionals, *(model.price_variants or [])]:
        if isinstance(item.constraint, StartDateConstraint):
            dates.add(item.constraint.start_date)
        elif isinstance(item.constraint, TimeOfDateConstraint):
            times |= {_utc(item.constraint.start_time), _utc(item.constraint.end_time)}
        elif item.constraint is not None:
            raise ValueError(f"unsupported price constraint {type(item.constraint).__name__}")
    return sorted(dates), sorted(times)


def _utc(moment: dt.time) -> dt.time:
    """A time of day in UTC, without its zone (a naive time is UTC, as genai-prices reads it)."""
    if moment.tzinfo is None:
        return moment
    return dt.datetime.combine(OPEN_START, moment).astimezone(dt.UTC).time()


def _listed(model: ModelInfo, context: dict[str, str] | None, moment: dt.datetime) -> bool:
    """Whether genai-prices lists a price of its own for this tier at this moment; where it does
    not, `get_prices` answers with the standard price, and the reviewed pricing rules
    (seeds/pricing_rules.csv) decide the tier's price in the warehouse."""
    if context is None:
        return True
    return any(
        all(context.get(key) == value for key, value in variant.when.items())
        and (variant.constraint is None or variant.constraint.active(moment))
        for variant in model.price_variants or []
    )


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _prices(model: ModelInfo, context: dict[str, str] | None, moment: dt.datetime) -> dict[str, str] | None:
    """The catalog's price columns for a request at `moment`; None where it is not priced per token."""
    resolved = _resolve(model.get_prices(moment, context))
    if resolved is None:
        return None
    return {
        **{f"{k}_usd_per_mtok": _fmt(resolved.base[k]) for k in TOKEN_KINDS},
        **{f"{k}_usd_per_mtok": _fmt(resolved.audio[k]) for k in AUDIO_KINDS},
        "long_context_threshold_tokens": str(resolved.threshold or ""),
        **{f"long_context_{k}_usd_per_mtok": _fmt(resolved.tier[k]) if resolved.threshold else "" for k in TOKEN_KINDS},
        "is_tier_price_listed": str(_listed(model, context, moment)).lower(),
    }


def _day(model: ModelInfo, context: dict[str, str] | None, start: dt.date,
         times: list[dt.time]) -> list[tuple[str, str, dict[str, str]]]:
    """A day's prices from `start` on, as (UTC from, UTC to, prices) windows, neighbours with the
    same prices joined; a blank from is the day's start (midnight), a blank to its end: a price
    that holds all day has both blank. Every time written is a valid time of day (no 24:00:00,
    which many clients cannot read)."""
    windows: list[tuple[str, str, dict[str, str]]] = []
    for i, begins in enumerate(times):
        ends = times[i + 1].isoformat() if i + 1 < len(times) else ""
        prices = _prices(model, context, dt.datetime.combine(start, begins, tzinfo=dt.UTC))
        if prices is None:
            continue
        since = "" if begins == dt.time(0) else begins.isoformat()
        if windows and windows[-1][1] == since and windows[-1][2] == prices:
            windows[-1] = (windows[-1][0], ends, prices)
        else:
            windows.append((since, ends, prices))
    return windows


def catalog_rows(provider: Provider, source: str) -> list[dict[str, str]]:
    """One row per model x tier x price period (days) x window of the day (both ends blank: all
    day); a period's windows tile the day, and periods whose days are priced alike are joined."""
    rows: list[dict[str, str]] = []
    for model in provider.models:
        try:
            days, times = _breakpoints(model)
        except ValueError as exc:
            print(f"skipped {provider.id}/{model.id}: {exc}", file=sys.stderr)
            continue
        for tier, context in TIER_CONTEXTS.items():
            previous: tuple[list, list[dict[str, str]]] | None = None
            for i, start in enumerate(days):
                end = (days[i + 1] if i + 1 < len(days) else OPEN_END).isoformat()
                try:
                    day = _day(model, context, start, times)
                except ValueError as exc:
                    print(f"skipped {provider.id}/{model.id} from {start}: {exc}", file=sys.stderr)
                    day = []
                if previous is not None and previous[0] == day:
                    for row in previous[1]:
                        row["valid_to"] = end
                    continue
                period = [{"provider": provider.id, "model_id": model.id, "model_name": model.name or model.id,
                           "service_tier": tier, "valid_from": start.isoformat(), "valid_to": end,
                           "utc_time_from": begins, "utc_time_to": ends, **prices, "source": source}
                          for begins, ends, prices in day]
                rows += period
                previous = (day, period) if day else None
    return rows


def _without_path(pattern: str) -> str:
    """A model name as the warehouse compares it (macro normalize_model_ref): lower case, without
    the `owner/` parts a gateway or host puts before it (Groq's `openai/gpt-oss-120b`)."""
    return re.sub(r"^([a-z0-9_-]+/)+", "", pattern.lower())


def _alternatives(clause: object) -> list[list[tuple[str, str]]]:
    """A match clause as alternatives (any may match), each a list of clauses that must all match."""
    if isinstance(clause, ClauseOr):
        return [alt for sub in clause.or_ for alt in _alternatives(sub)]
    if isinstance(clause, ClauseAnd):
        combos: list[list[tuple[str, str]]] = [[]]
        for sub in clause.and_:
            combos = [combo + alt for combo in combos for alt in _alternatives(sub)]
        return combos
    if isinstance(clause, ClauseEquals):
        return [[("exact", _without_path(clause.equals))]]
    if isinstance(clause, ClauseStartsWith):
        return [[("prefix", _without_path(clause.starts_with))]]
    if isinstance(clause, ClauseEndsWith):
        return [[("suffix", clause.ends_with.lower())]]
    if isinstance(clause, ClauseContains):
        return [[("contains", clause.contains.lower())]]
    if isinstance(clause, ClauseRegex):
        # DuckDB's RE2 has no lookahead: `^(?!X)` becomes "does not match ^X"
        negative = re.fullmatch(r"\^\(\?!(.*)\)", clause.regex)
        if negative:
            return [[("not_regex", "^" + negative.group(1))]]
        return [[("regex", clause.regex)]]
    raise TypeError(f"unknown match clause {clause!r}")


def rule_rows(provider: Provider, priced: set[tuple[str, str]]) -> list[dict[str, str]]:
    """Match rules in genai-prices' order: the first model with a fully matching rule wins.

    One row per clause; a rule (rule_id) matches when all its clauses_in_rule clauses match.
    """
    rows: list[dict[str, str]] = []
    chain = [provider] + [p for pid in (provider.fallback_model_providers or []) for p in providers if p.id == pid]
    order = 0
    rule_id = 0
    for owner in chain:
        for model in owner.models:
            if (owner.id, model.id) not in priced:
                continue
            order += 1
            for alternative in _alternatives(model.match):
                rule_id += 1
                for match_type, pattern in alternative:
                    rows.append({"provider": provider.id, "rule_order": str(order), "rule_id": str(rule_id),
                                 "clauses_in_rule": str(len(alternative)), "match_type": match_type,
                                 "pattern": pattern, "model_id": model.id, "catalog_provider": owner.id})
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the price catalog seeds from genai-prices.")
    parser.add_argument("--out", type=Path, default=project_dir() / "seeds", help="folder for the seed files")
    args = parser.parse_args(argv)
    source = f"genai-prices {version('genai-prices')}"
    seeds = args.out
    seeds.mkdir(parents=True, exist_ok=True)
    catalog: list[dict[str, str]] = []
    rules: list[dict[str, str]] = []
    chosen = [p for p in providers if p.id in PROVIDERS]
    for provider in chosen:
        catalog += catalog_rows(provider, source)
    priced = {(r["provider"], r["model_id"]) for r in catalog}
    for provider in chosen:
        rules += rule_rows(provider, priced)
    write_csv(seeds / "price_catalog.csv", CATALOG_COLUMNS, catalog)
    write_csv(seeds / "model_match_rules.csv", RULE_COLUMNS, rules)
    print(f"wrote {len(catalog)} price rows and {len(rules)} match rules from {source}")


if __name__ == "__main__":
    main()
