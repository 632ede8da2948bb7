"""`make demo` as a new user meets it, and the dashboard it points to, opened in a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from browser import assert_dashboard_equals_marts
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("demo") / "home"
    return home, run_cli(home, "demo").out


def test_the_demo_ends_by_printing_where_the_dashboard_is(demo: tuple[Path, str]) -> None:
    home, out = demo
    last = out.strip().splitlines()[-1]
    assert last.split()[:2] == ["dashboard", str(home / "report" / "index.html")]
    assert (home / "report" / "index.html").exists()


def test_the_dashboard_shows_the_demo_marts_in_a_browser(demo: tuple[Path, str], tmp_path: Path) -> None:
    assert_dashboard_equals_marts(demo[0], tmp_path / "browser")


def test_the_readme_first_screen_shows_the_dashboard() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    image = re.search(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", first_screen)
    assert image and (ROOT / image.group(1)).stat().st_size > 10_000


def test_run_ends_with_what_changed_since_the_last_publish(demo: tuple[Path, str], tmp_path: Path) -> None:
    """One more request: 1,000,000 input tokens of Claude Sonnet 4.6 at USD 3 per million (Anthropic's price);
    and one of a model no catalog knows, which the spend cannot include and says so."""
    home, out = demo
    assert "unpriced" not in out  # the demo's models are all in the catalog
    extra = tmp_path / "one-more.jsonl"
    extra.write_text("".join(json.dumps({
        "request_id": f"demo-extra-{i}", "occurred_at": "2026-10-31T12:00:00Z", "provider": "anthropic",
        "model": model, "user_email": "nobody-in-the-directory@corp.example",
        "input_tokens": tokens, "output_tokens": 0}) + "\n"
        for i, model, tokens in [(1, "claude-sonnet-4-6", 1_000_000), (2, "corp-mystery-model", 1_000)]),
        encoding="utf-8")
    out = run_cli(home, "run", str(extra)).out
    summary = out[out.index("Token Ledger run succeeded"):].splitlines()
    assert summary[1].split()[0] == "period"
    assert summary[2].endswith("; 1 of the requests unpriced, not in the spend "
                               "(restricted.rpt_unpriced_usage says why)")
    assert "2 records landed from 1 files, 0 quarantined" in summary[3]
    assert "spend +$3.00, requests +2, tokens +1,001,000" in summary[3]
    assert summary[4].split()[0] == "alerts"
    assert summary[-1].split()[:2] == ["dashboard", str(home / "report" / "index.html")]
    assert "nobody-in-the-directory" not in out
    # the dashboard `run` rebuilt says the same in a browser: 1 unpriced request, not in the spend
    assert assert_dashboard_equals_marts(home, tmp_path / "browser")["totals"]["unpriced"] == "1"
