"""A synthetic organisation: people, teams, cost centres, and team moves over time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

FIRST_NAMES = [
    "ada", "alan", "amara", "anya", "aziz", "bea", "bruno", "carla", "chen", "dara", "diego", "elif",
    "emeka", "eva", "farah", "femi", "gita", "grace", "hana", "hugo", "ines", "ivan", "jana", "joao",
    "kai", "kenji", "lara", "leon", "lin", "luca", "maya", "mei", "nadia", "nils", "noor", "omar",
    "oren", "pia", "priya", "quinn", "rafael", "rosa", "sami", "sara", "tariq", "tessa", "uma", "vera",
    "wen", "yara", "yusuf", "zoe",
]
LAST_NAMES = [
    "abara", "berg", "costa", "dimitrov", "eriksen", "fontaine", "garcia", "haddad", "ito", "jensen",
    "kowalski", "larsen", "moreau", "nakamura", "okafor", "petrov", "quispe", "rossi", "schmidt",
    "tanaka", "usman", "varga", "weber", "xu", "yilmaz", "zhang", "mensah", "novak", "oliveira", "park",
]
TEAM_WORDS = [
    "platform", "payments", "search", "growth", "identity", "data", "mobile", "infra", "billing",
    "support", "security", "ml", "web", "api", "devex", "risk", "ads", "maps", "checkout", "catalog",
]
EMAIL_DOMAIN = "corp.example"
DIRECTORY_START = dt.date(2025, 1, 1)


@dataclass(frozen=True)
class Org:
    """People (one row per person) and the directory history (one row per person per change)."""

    people: pd.DataFrame
    directory: pd.DataFrame


def build_org(rng: np.random.Generator, users: int, start: dt.date, days: int) -> Org:
    """People in teams of ~8, teams in cost centres of ~5 teams; ~10% move team mid-period."""
    n_teams = max(2, users // 8)
    n_cost_centers = max(1, n_teams // 5)
    idx = np.arange(users)
    first = rng.integers(0, len(FIRST_NAMES), users)
    last = rng.integers(0, len(LAST_NAMES), users)
    team_of = rng.integers(0, n_teams, users)
    team_of[:n_teams] = np.arange(min(users, n_teams))  # every team has someone
    team_cc = np.arange(n_teams) % n_cost_centers

    emails = [
        f"{FIRST_NAMES[f]}.{LAST_NAMES[ln]}.{i:05d}@{EMAIL_DOMAIN}" for i, f, ln in zip(idx, first, last, strict=True)
    ]
    names = [f"{FIRST_NAMES[f].title()} {LAST_NAMES[ln].title()}" for f, ln in zip(first, last, strict=True)]
    people = pd.DataFrame(
        {
            "person": idx,
            "email": emails,
            "full_name": names,
            "employee_id": [f"EMP-{100000 + i}" for i in idx],
            "team": team_of,
        }
    )

    team_ids = [f"T{t:04d}" for t in range(n_teams)]
    team_names = [f"{TEAM_WORDS[t % len(TEAM_WORDS)].title()} {t // len(TEAM_WORDS) + 1}" for t in range(n_teams)]
    cc_ids = [f"CC-{c:03d}" for c in range(n_cost_centers)]
    # the lowest-numbered member of each team manages it
    manager_of_team = people.groupby("team")["person"].min().to_dict()

    def rows(person: np.ndarray, team: np.ndarray, valid_from: list[dt.date]) -> pd.DataFrame:
        managers = [manager_of_team.get(int(t), int(p)) for p, t in zip(person, team, strict=True)]
        return pd.DataFrame(
            {
                "person": person,
                "email": [emails[p] for p in person],
                "full_name": [names[p] for p in person],
                "employee_id": [f"EMP-{100000 + p}" for p in person],
                "team_id": [team_ids[t] for t in team],
                "team_name": [team_names[t] for t in team],
                "cost_center": [cc_ids[team_cc[t]] for t in team],
                "manager_email": ["" if m == p else emails[m] for m, p in zip(managers, person, strict=True)],
                "valid_from": valid_from,
                "allowance_tier": [tiers[p] for p in person],
            }
        )

    tiers = np.where(rng.random(users) < 0.1, "power_user", "standard")
    initial = rows(idx, team_of, [DIRECTORY_START] * users)
    movers = idx[rng.random(users) < 0.10]
    new_team = (team_of[movers] + rng.integers(1, max(2, n_teams), len(movers))) % n_teams
    move_day = rng.integers(1, max(2, days), len(movers))
    moves = rows(movers, new_team, [start + dt.timedelta(days=int(d)) for d in move_day])
    directory = (
        pd.concat([initial, moves], ignore_index=True).sort_values(["person", "valid_from"]).reset_index(drop=True)
    )
    return Org(people=people, directory=directory)
