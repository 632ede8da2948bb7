"""`token-ledger report`: the standard dashboard, `<home>/report/index.html`, from the published
file alone (CONTRACT.md section 9).

One self-contained page: plotly.js is inlined once, in the head, so the page fetches nothing when opened
from a file. Every chart has a title, axis labels with units and the Okabe-Ito palette, which
stays distinguishable with the common colour-vision deficiencies. The page holds only what
analytics.duckdb holds (teams, cost centres, pseudonymous user_keys), so it is as safe to
share as the published file.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from token_ledger.config import Home
from token_ledger.errors import LedgerError
from token_ledger.summary import read_totals

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TOP = 10
FEW_DAYS, DAY_MS = 14, 86_400_000
CHART_CONFIG = {"responsive": True, "displaylogo": False}  # no link out of the page


def _stacked(rows: list[tuple], title: str, series_label: str) -> go.Figure:
    """Daily spend stacked by a dimension: rows of (day, series, USD)."""
    figure = go.Figure()
    for i, name in enumerate(sorted({r[1] for r in rows})):
        points = [(r[0], float(r[2] or 0)) for r in rows if r[1] == name]
        figure.add_bar(x=[p[0] for p in points], y=[p[1] for p in points], name=name,
                       marker_color=OKABE_ITO[i % len(OKABE_ITO)])
    figure.update_layout(barmode="stack", title=title, xaxis_title="day (UTC)", yaxis_title="spend (USD)",
                         legend_title=series_label)
    if len({r[0] for r in rows}) <= FEW_DAYS:  # else plotly ticks hours between a few days' bars
        figure.update_xaxes(dtick=DAY_MS, tickformat="%b %-d")
    return figure


def _bars(rows: list[tuple], title: str, x_title: str, y_title: str) -> go.Figure:
    """Horizontal bars, largest on top: rows of (label, value)."""
    rows = list(reversed(rows))
    figure = go.Figure(go.Bar(x=[float(r[1] or 0) for r in rows], y=[str(r[0]) for r in rows], orientation="h",
                              marker_color=OKABE_ITO[0]))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title)
    return figure


def _budgets(rows: list[tuple]) -> go.Figure:
    """Each budget's month so far and its forecast as percentages of it, so budgets of any size
    compare on one axis: rows of (owner, budget, spend, forecast, pct_used), largest share on top;
    the dollars are in each bar's hover text."""
    rows = list(reversed(rows))
    owners = [r[0] for r in rows]
    figure = go.Figure()
    for name, column, colour in (("spent to date", 2, OKABE_ITO[0]), ("forecast for the period", 3, OKABE_ITO[1])):
        percentages = [100 * (float(r[4] or 0) if column == 2 else float(r[3] or 0) / float(r[1])) for r in rows]
        figure.add_bar(
            y=owners, x=percentages, orientation="h", name=name, marker_color=colour,
            customdata=[[float(r[column] or 0), float(r[1])] for r in rows],
            text=[f"{x:.0f}%" if x >= 10 else f"{x:.2g}%" for x in percentages], textposition="outside",
            cliponaxis=False, hovertemplate="%{y}: $%{customdata[0]:,.2f} of $%{customdata[1]:,.0f} (%{text})"
                                            "<extra></extra>")
    figure.add_vline(x=100, line={"color": OKABE_ITO[3], "width": 2, "dash": "dash"},
                     annotation_text="budget", annotation_position="top")
    figure.update_layout(barmode="group", bargap=0.5 if len(rows) < 3 else 0.2,
                         title="Month to date against each budget, with its forecast",
                         xaxis_title="% of the budget", yaxis_title="budget")
    return figure


def _short_key(user_key: str) -> str:
    """A user_key as people read a commit id: its first 12 characters (unique among millions)."""
    return f"{user_key[:12]}…"


def _usd(value: float) -> str:
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.2g}"


METRICS = {"cost_usd": "spend", "cost_per_request": "cost per request", "new_model_adoption": "new model",
           "unpriced_requests": "unpriced requests"}


def _anomaly(row: tuple) -> tuple:
    """One spike as people read it: who (a user_key shortened), what, and its figures in their units;
    a person's figures are withheld (docs/privacy.md)."""
    day, scope, scope_id, metric, detail, observed, expected, severity = row
    counted = metric == "unpriced_requests"
    shown = [("withheld" if v is None else f"{v:,.0f}" if counted else _usd(v)) for v in (observed, expected)]
    what = f"{METRICS.get(metric, metric)}: {detail}" if detail else METRICS.get(metric, metric)
    return (day, scope, _short_key(scope_id) if scope == "person" else scope_id, what, *shown, severity or "")


def _capped(tokens: int, cost: float | None, capped: bool) -> tuple:
    """A leaderboard row's figures; capped ones (docs/privacy.md) as the least they stand for."""
    if not capped:
        return tokens, cost
    return f"≥ {_cell(tokens)}", "" if cost is None else f"≥ {_cell(cost)}"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[tuple], title: str, widths: list[int]) -> go.Figure:
    columns = [[_cell(v) for v in column] for column in zip(*rows, strict=True)] if rows else [[] for _ in header]
    figure = go.Figure(go.Table(columnwidth=widths, header={"values": header, "fill_color": OKABE_ITO[5]},
                                cells={"values": columns, "align": "left"}))
    figure.update_layout(title=title)
    return figure


def _panels(con: duckdb.DuckDBPyConnection) -> list[go.Figure]:
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    month = q("select max(usage_month) from rpt_token_leaderboard")[0][0]  # the last complete month
    per_pull_request = q("""
        -- a cost centre's remainder (team 'other') is one bar per cost centre
        select team_id || case when team_id = 'other' then ' / ' || cost_center else '' end,
            cost_per_pull_request_usd
        from rpt_value_per_token
        where tool = 'claude-code' and cost_per_pull_request_usd is not null
            and usage_month = (select max(usage_month) from rpt_value_per_token)
        order by 2 desc limit 15
    """)
    spikes = [_anomaly(r) for r in q(
        "select usage_date, scope, scope_id, metric, detail, observed, expected, severity from fct_usage_anomalies "
        "order by scope = 'person', usage_date desc, score desc nulls last, scope, scope_id limit 25")]
    figures = [
        _stacked(q("select usage_date, provider, sum(cost_usd) from fct_usage_daily group by all order by 1"),
                 "Spend per day by provider", "provider"),
        _stacked(q("select usage_date, cost_center, sum(cost_usd) from fct_usage_daily group by all order by 1"),
                 "Spend per day by cost centre", "cost centre"),
        _budgets(q("""
            select
                case when owner_type = 'organisation' then 'organisation'
                    else replace(replace(owner_type, '_', ' '), 'center', 'centre') || ' ' || owner_id end,
                budget_usd, spend_to_date_usd, forecast_usd, pct_used
            from fct_budget_status
            where period_start = (select max(period_start) from fct_budget_status) and budget_usd > 0
            order by pct_used desc, owner_type, owner_id limit 20
        """)),
        _bars(q(f"select team_id, sum(cost_usd) from fct_usage_daily group by 1 order by 2 desc nulls last "
                f"limit {TOP}"),
              f"Top {TOP} teams by spend (whole period)", "spend (USD)", "team"),
        _bars(q(f"select model_id, sum(cost_usd) from fct_usage_daily group by 1 order by 2 desc nulls last "
                f"limit {TOP}"), f"Top {TOP} models by spend (whole period)", "spend (USD)", "catalog model"),
        _table(["day", "scope", "who or what", "metric", "observed", "expected", "severity"], spikes,
               "Anomalies (latest 25 spikes, groups first)" if spikes else "Anomalies (none flagged)",
               [78, 70, 100, 130, 68, 68, 58]),
        _bars(per_pull_request, "Outcomes: Claude Code cost per pull request by team "
              + ("(latest month)" if per_pull_request else "(no pull requests with Claude Code landed)"),
              "USD per pull request", "team"),
        _table(["rank", "user_key (pseudonymous)", "tokens", "cost (USD)"],
               [(rank, _short_key(key), *_capped(tokens, cost, capped)) for rank, key, tokens, cost, capped in q(
                   f"select rank, user_key, total_tokens, cast(cost_usd as double), is_capped "
                   f"from rpt_token_leaderboard where usage_month = '{month}' order by rank limit {TOP}")]
               if month else [],
               f"Leaderboard: top {TOP} pseudonymous people by tokens ({month:%B %Y})" if month
               else "Leaderboard: published once a month is over", [40, 110, 100, 70]),
    ]
    for figure in figures:
        figure.update_layout(template="plotly_white", colorway=OKABE_ITO, height=420,
                             margin={"l": 60, "r": 20, "t": 60, "b": 50})
    return figures


def _unpriced(requests: int) -> str:
    """The requests the spend leaves out (no price: their cost is unknown), said where there are any."""
    if not requests:
        return ""
    return (f'<div title="requests of models or modes without a price: their cost is not in the spend">'
            f'unpriced requests <strong id="total-unpriced" data-value="{requests}">{requests:,}</strong>'
            f' (not in the spend)</div>\n')


def build_report(home: Home) -> Path:
    """Write `<home>/report/index.html` (atomically) from analytics.duckdb; returns its path."""
    if not home.published_db.exists():
        raise LedgerError(f"no published file at {home.published_db}; run `token-ledger run` first")
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        totals = read_totals(con)
        cost, tokens, requests, unpriced = totals.cost_usd, totals.tokens, totals.requests, totals.unpriced_requests
        first, last = totals.first, totals.last
        figures = _panels(con)
    finally:
        con.close()
    published = dt.datetime.fromtimestamp(home.published_db.stat().st_mtime, dt.UTC)
    charts = "\n".join(
        '<section class="panel">' + f.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG,
                                              default_width="100%") + "</section>"
        for f in figures)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Token Ledger</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
/* auto-fill, not auto-fit: each chart is drawn as the page is read, and must get its column's
   width, not the whole row's */
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.totals {{ display: flex; gap: 2rem; flex-wrap: wrap; }} .totals div {{ font-size: 1.4rem; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }}
.panel {{ border: 1px solid #ddd; border-radius: 6px; padding: .5rem; }}
</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>Token Ledger</h1>
<p>Usage from {first} to {last} (UTC days). Data last refreshed: published
<time id="refreshed" datetime="{published:%Y-%m-%dT%H:%M:%SZ}">{published:%Y-%m-%d %H:%M} UTC</time>.
Built from analytics.duckdb only: teams, cost centres and pseudonymous user_keys, never a name.</p>
<div class="totals">
<div>spend <strong id="total-cost" data-value="{cost}">${cost:,.2f}</strong></div>
<div>tokens <strong id="total-tokens" data-value="{tokens}">{tokens:,}</strong></div>
<div>requests <strong id="total-requests" data-value="{requests}">{requests:,}</strong></div>
{_unpriced(unpriced)}</div>
<div class="grid">
{charts}
</div>
<p><small>{html.escape(str(home.published_db.name))}</small></p>
</body></html>
"""
    folder = home.sub("report")
    target, tmp = folder / "index.html", folder / f".index.html.{os.getpid()}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
