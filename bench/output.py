"""bench/results/latest.json and the generated part of docs/benchmarks.md.

Only a full run (S, M and L, every measurement) replaces the committed `latest.json` and
docs/benchmarks.md; the run it replaces moves to `previous.json` and its verdicts stay
beside the new ones in the targets table, so two runs on the same code can be compared
at a glance. A quick or partial run writes `partial.json` only.
"""

import json
from pathlib import Path
from typing import Any

from bench.database import REPO_ROOT
from bench.registry import Measurement
from bench.stats import central, render

RESULTS = REPO_ROOT / "bench" / "results"
LATEST = RESULTS / "latest.json"
PREVIOUS = RESULTS / "previous.json"
PARTIAL = RESULTS / "partial.json"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
NOTES_MARKER = "<!-- hand-written notes below: kept when the bench rewrites this file -->"
FORMAT = 2


def targets(
    measurements: list[Measurement], datasets: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each measurement's targets, judged on the median of its spread. A target's
    dataset falls back to the largest one the measurement ran on (quick runs)."""
    out = []
    for m in measurements:
        ran = [name for name, d in datasets.items() if m.name in d["measurements"]]
        judged: set[tuple[str, str]] = set()
        for t in m.targets:
            if not ran:
                continue
            name = t.dataset if t.dataset in ran else ran[-1]
            if (t.key, name) in judged:  # a target per dataset, fewer datasets ran
                continue
            judged.add((t.key, name))
            value = datasets[name]["measurements"][m.name][t.key]
            figure = central(value)
            out.append(
                {
                    "measurement": m.name,
                    "metric": t.key,
                    "dataset": name,
                    "target": f"{t.op} {t.value:g}",
                    "value": value,
                    "figure": figure,
                    "met": t.met(figure),
                }
            )
    return out


def target_rows(targets: list[dict[str, Any]], previous: dict[str, Any] | None) -> list[str]:
    """The targets table, with the previous run's verdict on the same target (the same
    measurement, metric and dataset) beside each when there is one."""
    lines: list[str] = []
    prev = {
        (t["measurement"], t["metric"], t["dataset"]): t
        for t in (previous or {}).get("targets", [])
    }
    head = "| measurement | metric | dataset | target | median (min-max) | met |"
    rule = "| --- | --- | --- | --- | --- | --- |"
    if previous:
        head += f" previous run ({previous['finished_at']}) | met |"
        rule += " --- | --- |"
    lines += [head, rule]
    for t in targets:
        row = (
            f"| {t['measurement']} | {t['metric']} | {t['dataset']} | {t['target']} | "
            f"{render(t['value'])} | {'yes' if t['met'] else '**no**'} |"
        )
        if previous:
            p = prev.get((t["measurement"], t["metric"], t["dataset"]))
            row += (
                f" {render(p['value'])} | {'yes' if p['met'] else '**no**'} |" if p else " - | - |"
            )
        lines.append(row)
    return lines


def write_outputs(
    summary: dict[str, Any], measurements: list[Measurement], *, full: bool
) -> list[Path]:
    """Write the results; returns the files written."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, indent=2, default=str) + "\n"
    if not full:
        PARTIAL.write_text(text)
        return [PARTIAL]
    previous = _read(LATEST)
    if previous is not None and previous.get("format") == FORMAT:
        PREVIOUS.write_text(json.dumps(previous, indent=2) + "\n")
    else:
        previous = None
    LATEST.write_text(text)
    DOC.write_text(markdown(summary, measurements, previous) + _notes())
    return [LATEST, DOC] + ([PREVIOUS] if previous else [])


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def _notes() -> str:
    if DOC.exists():
        text = DOC.read_text()
        if NOTES_MARKER in text:
            return text[text.index(NOTES_MARKER) :]
    return NOTES_MARKER + "\n"


def generic_markdown(by: dict[str, dict[str, Any]]) -> list[str]:
    """A table of a measurement's top-level numbers and spreads, one row per dataset."""
    keys: list[str] = []
    for r in by.values():
        for k, v in r.items():
            simple = isinstance(v, int | float | str | bool) or (
                isinstance(v, dict) and "median" in v
            )
            if simple and k not in keys:
                keys.append(k)
    lines = [
        "| dataset | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
        "| --- | " + " | ".join("---" for _ in keys) + " |",
    ]
    for name, r in by.items():
        lines.append(f"| {name} | " + " | ".join(render(r.get(k, "")) for k in keys) + " |")
    return lines


def markdown(
    summary: dict[str, Any], measurements: list[Measurement], previous: dict[str, Any] | None
) -> str:
    m = summary["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{summary['command']}` on {summary['finished_at']} "
        f"({summary['elapsed_s']:g} s in all) at commit `{summary['git_commit']}`. "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}, PostgreSQL {m['postgresql']} ({m['database']}); the "
        "database, the server and the load generator share the machine. Raw numbers: "
        "`bench/results/latest.json` (the run before: `previous.json`).",
        "",
        "## Targets",
        "",
        "Judged on the median of the per-round figures of alternating rounds; the spread "
        "(min-max over the rounds) beside it.",
        "",
    ]
    lines += target_rows(summary["targets"], previous)
    datasets = summary["datasets"]
    for meas in measurements:
        by = {
            n: d["measurements"][meas.name]
            for n, d in datasets.items()
            if meas.name in d["measurements"]
        }
        if not by:
            continue
        lines += ["", f"## {meas.title}", ""]
        lines += (meas.markdown or generic_markdown)(by)
    lines += [
        "",
        "## Datasets, loading and settling",
        "",
        "| dataset | ledger rows | 30-day twin's rows | sales in window | levels | generate s "
        "| COPY s | indexes + FKs s | settle s, first / longest |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, d in datasets.items():
        i = d["info"]
        settles = [r["settle"]["settle_s"] for r in d["measurements"].values()]
        lines.append(
            f"| {name} | {i['ledger_rows']:,} | {i['twin_ledger_rows']:,} | "
            f"{i['sales_in_window']:,} | {i['inventory_levels']:,} | {i['generate_s']} | "
            f"{i['copy_s']} | {i['index_s']} | {settles[0] if settles else '-'} / "
            f"{max(settles) if settles else '-'} |"
        )
    lines += ["", "## How it is measured", "", *METHOD]
    lines += [f"- {meas.method}" for meas in measurements if meas.method]
    return "\n".join(lines) + "\n\n"


METHOD = [
    "- Data: `bench/dataset.py` (Zipf-skewed popularity, seasonality, a third of the "
    "products dormant for months, replenishment with lead times so some levels run low, "
    "returns, shrinkage, bundles whose sales write component lines, 0-3 suppliers per "
    "product). Every level equals its ledger sum, checked in SQL after loading. History: "
    "a twin company in the same database with the same catalog and the same last 30 days "
    "of entries plus an opening-balance receipt per level (identical report, 1/12 of the "
    "history).",
    "- Server: `stockflow serve` (migrate, then its default 2 uvicorn workers) in a "
    "subprocess; the bench's own HTTP/1.1 keep-alive client (bench/client.py); admin token. "
    "SQL floors: the app's own statement texts (imported from the app, so they cannot "
    "drift) on asyncpg, connected as the app connects; the report's floor with "
    "`plan_cache_mode = force_custom_plan`, which the app sets around that statement.",
    "- Repeatable figures: what is compared runs in alternating rounds (A B, then B A, ...) "
    "and each target is judged on the median of the per-round ratios, shown with its "
    "min-max; a slow phase of the machine hits both sides of a round instead of one "
    "side of the whole comparison.",
    "- Settling: before every measurement `VACUUM (ANALYZE)` and `CHECKPOINT`, then the "
    "bench polls `pg_stat_activity` (no `autovacuum worker` in the bench database) and "
    "`pg_stat_user_tables` (no table past autovacuum's vacuum, insert or analyze trigger "
    "point, computed from the server's settings; one still due while no worker runs is "
    "vacuumed again) every 0.2 s until both hold for 2 s in a row "
    "(`bench.database.settle`; timing out after 120 s is recorded as `timed_out`).",
]
