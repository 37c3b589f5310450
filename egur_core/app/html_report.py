"""A self-contained HTML report of runs or comparisons: the table and the Results page's three curves.

Meant to be mailed to someone without the app or a network: plotly's JavaScript is inlined once
(no CDN, no ``<script src>``), styles are inline, and every number comes from the stored
per-problem records. Runs of one method share a colour when methods are compared (seeds are separate lines);
several runs of one method get one colour each. Figures carry the simulated mark when they should.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from egur_core.app import charts
from egur_core.app.results_data import curves
from egur_core.evals.comparison import METHOD_NAMES
from egur_core.evals.comparison_table import resolve_runs, run_row
from egur_core.memory.store import MemoryStore
from egur_core.strategy.roles import ROLES

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem} .sub{color:#666;margin-top:0} .unknown{color:#a15c00;text-align:center}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:1rem 0}
th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f5f5f5} td code{font-size:.75rem;color:#777} .headline{font-size:1.05rem;margin:1rem 0}
td:first-child,th:first-child,td.l{text-align:left} .best{font-weight:700}
.sim{display:inline-block;background:#fff3cd;border:1px solid #e0c36b;border-radius:4px;padding:.1rem .5rem;
font-size:.8rem} .dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem}
.charts{display:grid;grid-template-columns:1fr;gap:1rem} .note{color:#555;font-size:.85rem}
"""


def _name(method: str) -> str:
    return METHOD_NAMES.get(method, method)


def build_figures(frame: pd.DataFrame, simulated: bool = False) -> list[go.Figure]:
    """The Results page's curves for these runs (``results_data.curves``), drawn by the same functions, with
    the same marks: rolling and cumulative accuracy, cost per problem, accuracy against dollars (linear)."""
    return [charts.accuracy_curve(frame, simulated=simulated), charts.accuracy_curve(frame, True, simulated),
            charts.cost_curve(frame, simulated), charts.accuracy_cost_curve(frame, simulated)]


def default_title(rows: list[dict[str, Any]], benchmarks: list[str]) -> str:
    """"EGuR vs baselines" only when there are baselines; several runs of one method are "runs"."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    on = ", ".join(benchmarks)
    if len(methods) > 1:
        return (f"EGuR vs baselines on {on}" if "egur" in methods
                else f"{' vs '.join(_name(m) for m in methods)} on {on}")
    return f"{_name(methods[0]) if methods else 'Runs'}: {len(rows)} run(s) on {on}"


def row_colours(rows: list[dict[str, Any]], frame: pd.DataFrame) -> list[str]:
    """The table's dots match the curves: by method when methods are compared, else one colour per run."""
    if frame.empty:
        return [charts.method_colour(r["method"]) for r in rows]
    colours = charts.series_colours(frame)
    labels = dict(zip(frame["run_id"], frame["run"]))
    return [colours.get(r["method"], colours.get(labels.get(r["run_id"], ""), charts.PALETTE[0])) for r in rows]


def _headline(rows: list[dict[str, Any]]) -> str:
    """One sentence a reader can stop at: EGuR against the most accurate other method."""
    egur = [r for r in rows if r["method"] == "egur"]
    others = [r for r in rows if r["method"] != "egur"]
    if not egur or not others:
        return ""
    mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
    best_method = max({r["method"] for r in others},
                      key=lambda m: mean([r for r in others if r["method"] == m], "accuracy"))
    best = [r for r in others if r["method"] == best_method]
    acc_e, acc_b = mean(egur, "accuracy"), mean(best, "accuracy")
    cost_e, cost_b = mean(egur, "cost_per_problem"), mean(best, "cost_per_problem")
    ratio = (f"{cost_b / cost_e:.1f}x cheaper" if cost_e and cost_b > cost_e else
             f"{cost_e / cost_b:.1f}x more expensive" if cost_b else "")
    verb = "beats" if acc_e > acc_b else "ties" if acc_e == acc_b else "trails"
    priced = all(r.get("price_known", True) for r in egur + best)
    dollars = (f", ${cost_e:.5f} vs ${cost_b:.5f} per problem{' (' + ratio + ')' if ratio else ''}" if priced
               else " (price unknown, so no dollars)")
    return (f"<p class=headline><b>EGuR {verb} the best baseline</b> ({html.escape(_name(best_method))}): "
            f"{acc_e:.1%} vs {acc_b:.1%} accuracy{dollars}.</p>")


def _table(rows: list[dict[str, Any]], colours: list[str]) -> str:
    best_acc = max((r["accuracy"] for r in rows), default=0.0)
    head = ("<tr><th>method</th><th>seed</th><th>problems</th><th>accuracy</th><th>$ total</th><th>$ / problem</th>"
            "<th>guide $</th><th>executor $</th><th>memory upkeep $</th><th>judge $</th><th>tokens / problem</th>"
            "<th>cached prompt</th><th>calls</th></tr>")
    body = []
    for r, colour in zip(rows, colours):
        by_role = r["cost_by_role"]
        dollars = [r["cost_usd"], r["cost_per_problem"], *(by_role[role] for role in ROLES)]
        cells = ("".join(f"<td>{d:.{5 if i == 1 else 4}f}</td>" for i, d in enumerate(dollars))
                 if r.get("price_known", True) else f"<td colspan={len(dollars)} class=unknown>price unknown</td>")
        body.append(
            f"<tr title='run {html.escape(r['run_id'])}'><td class=l><span class=dot style='background:{colour}'>"
            f"</span>{html.escape(_name(r['method']))}</td><td>{r['seed']}</td><td>{r['problems']}</td>"
            f"<td class='{'best' if r['accuracy'] == best_acc else ''}'>{r['accuracy']:.1%}</td>{cells}"
            f"<td>{r['tokens_per_problem']:,.0f}</td><td>{r.get('cached_share', 0.0):.0%}</td>"
            f"<td>{r['calls']}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def build_report(store: MemoryStore, ids: list[str], title: str | None = None) -> str:
    """The whole HTML document for the given run ids and/or comparison ids."""
    runs = resolve_runs(store, ids)
    rows = [run_row(store, run) for run in runs]
    benchmarks = sorted({r["benchmark"] for r in rows})
    simulated = any(r["simulated"] for r in rows)
    frame = curves(store, [run["run_id"] for run in runs])
    figures = build_figures(frame, simulated)
    table = _table(rows, row_colours(rows, frame))
    models = sorted({r["model"] for r in rows if r["model"]})
    title = title or default_title(rows, benchmarks)
    charts = "".join(f"<div>{fig.to_html(full_html=False, include_plotlyjs=False, config={'displaylogo': False})}"
                     "</div>" for fig in figures)
    badge = "<span class=sim>SIMULATED model: numbers show the pipeline, not a real model</span>" if simulated else ""
    meta = (f"{len(runs)} run(s) &middot; executor model {html.escape(', '.join(models) or '?')} &middot; "
            f"written {datetime.now():%Y-%m-%d %H:%M}")
    notes = ("<p class=note>Accuracy is chosen without the label and scored by the benchmark's official rule. "
             "Cost is every model call of the method at list price, split by role: guide (EGuR's strategy writer), "
             "executor (running strategies), memory upkeep (EGuR's Consolidator, the Dynamic Cheatsheet curator, "
             "the Mem0 fact extractor); judge (grading by an LLM with a rubric) is shown apart and is not "
             "in the method's total. Prompt tokens the provider served from its cache (the cached prompt share) are "
             "priced at the cached rate, and a run whose model has no known price says so instead of showing $0. "
             "Runs that were replayed from the response cache show the cost they had "
             "when first run. The best fixed strategy was picked on separate warm-up problems; that one-off selection "
             "cost is not in its row (see the JSON report).</p>")
    data = json.dumps({"ids": ids, "table": rows}, default=str).replace("</", "<\\/")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style><script>{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=sub>{meta} {badge}</p>{_headline(rows)}{table}{notes}"
            f"<div class=charts>{charts}</div>"
            f"<script type='application/json' id=report-data>{data}</script></body></html>")
