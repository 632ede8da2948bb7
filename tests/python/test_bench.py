"""`token-ledger bench` on a small input: the JSON it prints adds up and counts what it read."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from conftest import run_cli


def test_bench_reports_every_stage_of_what_it_generated(tmp_path: Path) -> None:
    home = tmp_path / "home"
    printed = run_cli(home, "bench", "--events", "3000", "--repeats", "2", "--keep").out
    result = json.loads(printed.strip().splitlines()[-1])
    (work,) = home.glob("token-ledger-bench-*")
    days = sorted((work / "input").glob("usage-*.jsonl"))
    assert len(days) == 31
    # the 30-day history, counted here: the events the stages are measured on
    assert result["events"] == sum(len(d.read_text(encoding="utf-8").splitlines()) for d in days[:30])
    seconds = result["seconds"]
    end_to_end = seconds["land"] + seconds["build"] + seconds["publish"]
    assert abs(result["end_to_end_seconds"] - end_to_end) < 0.01
    # the printed seconds are rounded to the millisecond and the rate to a whole number: the rate
    # is within that rounding of events / seconds, however fast or slow the machine
    low = result["events"] / (end_to_end + 0.002)
    high = result["events"] / max(end_to_end - 0.002, 1e-9)
    assert low - 0.5 <= result["events_per_second"] <= high + 0.5
    assert result["ratio_to_floor"] == pytest.approx(end_to_end / seconds["floor"], rel=2e-2)
    assert 0 < result["peak_memory_gb"] < 6
    samples = result["incremental_day_samples"]
    for name in ("incremental_day", "day_alone"):
        assert len(samples[name]) == 2
        assert abs(statistics.median(samples[name]) - seconds[name]) < 0.01
    # both homes hold the 31st day: the history plus that day, and that day alone
    landed = run_cli(work / "alone", "land", str(days[30])).out
    assert "skipped 1 files already landed" in landed
