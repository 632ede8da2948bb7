"""Synthetic usage: one row per request, drawn with numpy (no per-row Python loops).

The shape follows what companies see: weekday rhythm, a heavy-tailed spread of usage per
person, cache-heavy agentic sessions (Claude Code), a model mix across three providers, a
few long-context requests, batch traffic, at-least-once delivery duplicates, and a few
requests by people missing from the directory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

# (provider, model as the provider reports it, application, weight for regular users,
#  weight for power users). Applications decide the token shape.
MODEL_MIX: list[tuple[str, str, str, float, float]] = [
    ("anthropic", "claude-sonnet-4-6", "claude-code", 0.22, 0.40),
    ("anthropic", "claude-opus-4-7", "claude-code", 0.06, 0.20),
    ("anthropic", "claude-haiku-4-5-20251001", "claude-code", 0.05, 0.06),
    ("anthropic", "claude-sonnet-4-5-20250929", "api", 0.04, 0.03),
    ("anthropic", "claude-sonnet-4-6", "chat", 0.06, 0.03),
    ("openai", "gpt-5.5", "chat", 0.12, 0.06),
    ("openai", "gpt-5.4-mini", "api", 0.09, 0.05),
    ("openai", "gpt-4.1", "api", 0.04, 0.02),
    ("google", "gemini-2.5-pro", "chat", 0.12, 0.05),
    ("google", "gemini-2.5-flash", "api", 0.12, 0.05),
    ("google", "gemini-3.1-pro-preview", "chat", 0.08, 0.05),
]

WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.12, 0.08])  # Monday .. Sunday
DUPLICATE_RATE = 0.002
UNKNOWN_USER_RATE = 0.002
UPPERCASE_EMAIL_RATE = 0.003


@dataclass(frozen=True)
class Profile:
    name: str
    requests_per_day: float | None  # median active person, a weekday
    tokens_per_person_month: float | None  # calibrate to this instead (claudeonomics)
    sigma: float  # spread of the per-person lognormal
    top_user_share: float | None  # force the top person's share of all tokens


PROFILES = {
    "demo": Profile("demo", requests_per_day=3.0, tokens_per_person_month=None, sigma=1.6, top_user_share=None),
    "claudeonomics": Profile(
        "claudeonomics", requests_per_day=None, tokens_per_person_month=700e6, sigma=1.4, top_user_share=0.005
    ),
}


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.rint(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)


def _tokens(rng: np.random.Generator, app: np.ndarray, provider: np.ndarray) -> dict[str, np.ndarray]:
    """Token counts per request, in canonical semantics (input excludes cache)."""
    n = len(app)
    agentic = app == "claude-code"
    chat = app == "chat"
    anthropic = provider == "anthropic"
    inp = np.where(agentic, _lognormal(rng, 150, 1.0, n), np.where(chat, _lognormal(rng, 1200, 1.0, n),
                                                                     _lognormal(rng, 3000, 0.9, n)))
    out = np.where(agentic, _lognormal(rng, 500, 1.0, n), _lognormal(rng, 550, 0.9, n))
    # document-sized prompts: both sides of the long-context thresholds (200k / 272k tokens)
    long_prompt = ~agentic & (rng.random(n) < 0.02)
    inp = np.where(long_prompt, rng.integers(150_000, 450_000, n), inp)
    cache_read = np.where(agentic, _lognormal(rng, 45000, 0.8, n), 0)
    long_context = agentic & (rng.random(n) < 0.03)
    cache_read = np.where(long_context, rng.integers(200_000, 420_000, n), cache_read)
    # provider-side automatic caching for chat traffic
    cache_read = np.where(chat & (rng.random(n) < 0.3), _lognormal(rng, 1000, 0.7, n), cache_read)
    cw5 = np.where(anthropic & (rng.random(n) < (np.where(agentic, 0.6, 0.1))), _lognormal(rng, 2500, 1.0, n), 0)
    cw1h = np.where(anthropic & agentic & (rng.random(n) < 0.08), _lognormal(rng, 8000, 0.8, n), 0)
    return {
        "input_tokens": np.maximum(inp, 1),
        "output_tokens": np.maximum(out, 1),
        "cache_read_tokens": cache_read.astype(np.int64),
        "cache_write_5m_tokens": cw5.astype(np.int64),
        "cache_write_1h_tokens": cw1h.astype(np.int64),
    }


def _mean_tokens_per_request(rng: np.random.Generator, weights: np.ndarray) -> float:
    pick = rng.choice(len(MODEL_MIX), size=50_000, p=weights / weights.sum())
    app = np.array([MODEL_MIX[i][2] for i in pick])
    prov = np.array([MODEL_MIX[i][0] for i in pick])
    return float(sum(v.sum() for v in _tokens(rng, app, prov).values()) / len(pick))


def build_usage(
    rng: np.random.Generator,
    people: pd.DataFrame,
    profile: Profile,
    start: dt.date,
    days: int,
    target_events: int | None = None,
) -> pd.DataFrame:
    """One row per request (with planted duplicates), sorted by time."""
    users = len(people)
    weight = np.exp(profile.sigma * rng.standard_normal(users))
    if profile.top_user_share:
        top = int(rng.integers(0, users))
        others = weight.sum() - weight[top]
        weight[top] = max(weight.max(), profile.top_user_share / (1 - profile.top_user_share) * others)
    power = weight >= np.quantile(weight, 0.8)

    dates = [start + dt.timedelta(days=d) for d in range(days)]
    day_weight = np.array([WEEKDAY_WEIGHT[d.weekday()] for d in dates])
    active = rng.random((users, days)) < 0.85
    shape = weight[:, None] * day_weight[None, :] * active

    regular_mix = np.array([m[3] for m in MODEL_MIX])
    power_mix = np.array([m[4] for m in MODEL_MIX])
    if target_events:
        scale = target_events / shape.sum()
    elif profile.tokens_per_person_month:
        mix = (regular_mix * (~power).sum() + power_mix * power.sum()) / users
        mean_tokens = _mean_tokens_per_request(rng, mix)
        target_tokens = profile.tokens_per_person_month * users * days / 30
        scale = target_tokens / (mean_tokens * shape.sum())
    else:
        scale = profile.requests_per_day / np.median(weight)
    counts = rng.poisson(shape * scale)

    person_day = np.repeat(np.arange(users * days), counts.ravel())
    person = person_day // days
    day = person_day % days
    n = len(person)

    is_power = power[person]
    pick = np.empty(n, dtype=np.int64)
    for flag, mix in ((False, regular_mix), (True, power_mix)):
        sel = is_power == flag
        pick[sel] = rng.choice(len(MODEL_MIX), size=int(sel.sum()), p=mix / mix.sum())
    provider = np.array([m[0] for m in MODEL_MIX])[pick]
    model = np.array([m[1] for m in MODEL_MIX])[pick]
    app = np.array([m[2] for m in MODEL_MIX])[pick]

    hour = np.clip(rng.normal(14.5, 2.6, n), 0, 23.999)
    millis = (hour * 3_600_000).astype(np.int64) + rng.integers(0, 1000, n)
    tokens = _tokens(rng, app, provider)
    tier = np.where((app == "api") & (rng.random(n) < 0.15), "batch", "standard")
    tier = np.where((app == "chat") & (provider == "openai") & (rng.random(n) < 0.03), "priority", tier)

    frame = pd.DataFrame(
        {
            "person": person,
            "day": day,
            "millis": millis,
            "provider": provider,
            "model": model,
            "application": app,
            "service_tier": tier,
            "email_variant": np.select(
                [rng.random(n) < UNKNOWN_USER_RATE, rng.random(n) < UPPERCASE_EMAIL_RATE], [2, 1], 0
            ),
            "project": rng.integers(0, 12, n),
            **tokens,
        }
    )
    frame = frame.sort_values(["day", "millis", "person"], kind="stable").reset_index(drop=True)
    frame["seq"] = np.arange(len(frame))
    dupes = frame[rng.random(len(frame)) < DUPLICATE_RATE]
    frame = pd.concat([frame, dupes]).sort_values(["seq"], kind="stable").reset_index(drop=True)
    return frame
