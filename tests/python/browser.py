"""Open a page in headless Chromium and report what a person's browser would: console errors,
uncaught exceptions, every network request, and the value of a script run on the loaded page.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ending in a NUL byte, Chromium reading fd 3 and writing fd 4), so no driver package
is needed. Debian's `chromium` is used; when it is missing the test setup installs it with
apt-get where it can, and the test is skipped with the reason where it cannot.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
LAPTOP = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}


@dataclass
class Rendered:
    value: object
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def chromium() -> str:
    """The browser's path; installs Debian's chromium when missing and possible, else skips."""
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if found := shutil.which("chromium"):
            return found
    pytest.skip("headless Chromium is not installed and cannot be installed here (apt-get install chromium)")


class _Pipe:
    def __init__(self, process: subprocess.Popen, to_browser: int, from_browser: int) -> None:
        self.process, self._out, self._in = process, to_browser, from_browser
        self._buffer, self._next_id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(timeout)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise AssertionError("the browser did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise AssertionError("the browser closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved above fd 9, so the shell's moves onto 3 and 4 cannot clash with them."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved


def render(page: Path, script: str, profile_dir: Path, settle_seconds: float = 2.0) -> Rendered:
    """Load `page` (a file) at a laptop's size, run `script` (an expression) once it has loaded."""
    to_read, to_write = _high(os.pipe())      # we write, the browser reads (its fd 3)
    from_read, from_write = _high(os.pipe())  # the browser writes (its fd 4), we read
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile_dir}", "about:blank"]
    shell = f'exec "$@" 3<&{to_read} 4>&{from_write} {to_read}<&- {from_write}>&-'
    process = subprocess.Popen(["bash", "-c", shell, "chromium", *command], pass_fds=(to_read, from_write),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_read)
    os.close(from_write)
    pipe = _Pipe(process, to_write, from_read)
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Emulation.setDeviceMetricsOverride", LAPTOP, session=session)
        pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        pipe.wait_for("Page.loadEventFired")
        time.sleep(settle_seconds)  # responsive charts redraw once after load
        result = pipe.send("Runtime.evaluate", {"expression": script, "returnByValue": True, "awaitPromise": True},
                           session=session)
        if "exceptionDetails" in result:
            raise AssertionError(f"the test's script failed: {result['exceptionDetails'].get('text')}")
        value = result["result"].get("value")
        with contextlib.suppress(AssertionError):  # it may close before it answers
            pipe.send("Browser.close", timeout=10)
    finally:
        os.close(to_write)
        os.close(from_read)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    rendered = Rendered(value=value)
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            rendered.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            rendered.console_errors.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            rendered.console_errors.append(params["entry"]["text"])
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file:", "data:", "about:", "blob:")):
                rendered.requests.append(url)
    return rendered


DASHBOARD_SCRIPT = """JSON.stringify({
  totals: Object.fromEntries(['cost', 'tokens', 'requests', 'unpriced'].map(
      k => [k, document.getElementById('total-' + k) ? document.getElementById('total-' + k).textContent : null])),
  width: document.documentElement.scrollWidth,
  charts: [...document.querySelectorAll('.js-plotly-plot')].map(p => ({
    title: p.layout.title.text,
    x: p.layout.xaxis && p.layout.xaxis.title ? p.layout.xaxis.title.text : null,
    y: p.layout.yaxis && p.layout.yaxis.title ? p.layout.yaxis.title.text : null,
    drawn: p.querySelector('svg.main-svg') !== null,
    xticks: [...p.querySelectorAll('g.xtick text')].map(t => t.textContent),
    traces: p.data.map(t => ({type: t.type, name: t.name || null, x: Array.from(t.x || []),
                              y: Array.from(t.y || []), cells: t.cells ? t.cells.values : null,
                              customdata: t.customdata ? Array.from(t.customdata) : null})),
  })),
})"""


def dashboard_in_browser(page: Path, profile_dir: Path) -> dict:
    """What the dashboard shows in a laptop-sized browser window; fails on console errors and requests."""
    rendered = render(page, DASHBOARD_SCRIPT, profile_dir)
    assert rendered.console_errors == [], rendered.console_errors
    assert rendered.requests == [], rendered.requests  # self-contained: nothing fetched
    shown = json.loads(rendered.value)
    assert shown["width"] <= LAPTOP["width"], "the page scrolls sideways on a laptop"
    shown["by_title"] = {}
    for chart in shown["charts"]:
        assert chart["drawn"] and chart["title"], chart["title"]
        if chart["traces"][0]["type"] != "table":
            assert chart["x"] and chart["y"], f"axis labels missing on {chart['title']}"
        shown["by_title"][chart["title"].split(" (")[0]] = chart
    return shown


def assert_dashboard_equals_marts(home: Path, profile_dir: Path) -> dict:
    """Open `<home>/report/index.html` in the browser; every figure it shows equals analytics.duckdb's."""
    from conftest import query

    published = home / "analytics.duckdb"
    shown = dashboard_in_browser(home / "report" / "index.html", profile_dir)
    cost, tokens, requests, unpriced = query(published, "select sum(cost_usd), sum(total_tokens), sum(requests), "
                                                        "sum(unpriced_requests) from fct_usage_daily")[0]
    assert float(shown["totals"]["cost"].lstrip("$").replace(",", "")) == round(float(cost), 2)
    assert int(shown["totals"]["tokens"].replace(",", "")) == tokens
    assert int(shown["totals"]["requests"].replace(",", "")) == requests
    # requests the spend leaves out are said, where there are any
    assert shown["totals"]["unpriced"] == (f"{unpriced:,}" if unpriced else None)
    charts = shown["by_title"]
    for title, column in (("Spend per day by provider", "provider"), ("Spend per day by cost centre", "cost_center")):
        expected = dict(query(published, f"select {column}, sum(cost_usd) from fct_usage_daily group by 1"))
        drawn = {trace["name"]: sum(trace["y"]) for trace in charts[title]["traces"]}
        assert drawn.keys() == expected.keys(), title
        for name, value in drawn.items():
            assert abs(value - float(expected[name] or 0)) <= 1e-6 * max(1.0, float(cost)), (title, name)
        # the axis reads in days, however few (plotly ticks hours between the bars of two days)
        assert charts[title]["xticks"] and not any(":" in tick for tick in charts[title]["xticks"]), title
    for title, column in (("Top 10 teams by spend", "team_id"), ("Top 10 models by spend", "model_id")):
        expected = query(published, f"select {column}, sum(cost_usd) from fct_usage_daily group by 1 "
                                    f"order by 2 desc nulls last limit 10")
        bars = charts[title]["traces"][0]
        drawn = sorted(zip(bars["y"], bars["x"], strict=True), key=lambda bar: -bar[1])
        assert [name for name, _ in drawn] == [str(name) for name, _ in expected], title
        assert [value for _, value in drawn] == [float(value or 0) for _, value in expected], title
    # each budget's spend and forecast as a share of it (percent), the dollars beside
    spent, forecast = charts["Month to date against each budget, with its forecast"]["traces"][:2]
    budgets = query(published, """
        select budget_usd, spend_to_date_usd, forecast_usd, pct_used from fct_budget_status
        where period_start = (select max(period_start) from fct_budget_status) and budget_usd > 0
        order by pct_used desc, owner_type, owner_id limit 20""")
    assert len(spent["x"]) == len(forecast["x"]) == len(budgets)
    for shown_spent, shown_forecast, usd_spent, usd_forecast, (budget, spend, forecast_usd, pct) in zip(
            reversed(spent["x"]), reversed(forecast["x"]), reversed(spent["customdata"]),
            reversed(forecast["customdata"]), budgets, strict=True):
        assert shown_spent == pytest.approx(100 * pct) and usd_spent == [float(spend), float(budget)]
        assert shown_forecast == pytest.approx(100 * float(forecast_usd) / float(budget))
        assert usd_forecast == [float(forecast_usd), float(budget)]
    # spikes of teams, cost centres, models and the organisation first, then people's (whose
    # figures are withheld), each latest first
    anomalies = charts["Anomalies"]["traces"][0]["cells"]
    expected = query(published, """
        select usage_date, scope, scope_id, observed from fct_usage_anomalies
        order by scope = 'person', usage_date desc, score desc nulls last, scope, scope_id limit 25""")
    assert len(anomalies[0]) == len(expected)
    for day, scope, who, observed_shown, (usage_date, scope_expected, scope_id, observed) in zip(
            anomalies[0], anomalies[1], anomalies[2], anomalies[4], expected, strict=True):
        assert (day, scope) == (str(usage_date), scope_expected)
        assert who == (f"{scope_id[:12]}…" if scope == "person" else scope_id)
        assert (observed_shown == "withheld") == (observed is None) == (scope == "person")
    outcomes = charts["Outcomes: Claude Code cost per pull request by team"]["traces"][0]
    expected = dict(query(published, """
        select team_id || case when team_id = 'other' then ' / ' || cost_center else '' end,
            cost_per_pull_request_usd
        from rpt_value_per_token
        where tool = 'claude-code' and cost_per_pull_request_usd is not null
            and usage_month = (select max(usage_month) from rpt_value_per_token)"""))
    assert len(outcomes["y"]) == min(15, len(expected))
    for team, value in zip(outcomes["y"], outcomes["x"], strict=True):
        assert value == float(expected[team]), team
    expected_rows = query(published, """
        select user_key, total_tokens, is_capped from rpt_token_leaderboard
        where usage_month = (select max(usage_month) from rpt_token_leaderboard) order by rank limit 10""")
    expected_keys = [r[0] for r in expected_rows]
    if not expected_keys:  # no month is complete yet
        assert charts["Leaderboard: published once a month is over"]["traces"][0]["cells"] == [[]] * 4
        return shown
    leaderboard = charts["Leaderboard: top 10 pseudonymous people by tokens"]["traces"][0]["cells"]
    # a user_key shown as its first 12 characters, as a commit id is
    assert leaderboard[1] == [f"{key[:12]}…" for key in expected_keys]
    assert len(set(leaderboard[1])) == len(expected_keys)
    # tokens with thousands separators; a capped figure as the least it stands for
    assert leaderboard[2] == [("≥ " if capped else "") + f"{tokens:,}" for _, tokens, capped in expected_rows]
    return shown
