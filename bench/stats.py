"""Figures that repeat: percentiles of samples, and ratios taken round by round.

Two things compared one after the other (HTTP then SQL, 365-day then 30-day company)
drift apart with whatever else the machine does in between, so a single pair of p50s can
swing by more than the margin a target tests. The bench therefore alternates what it
compares in short rounds (A B, then B A, ...) and reports the median of the per-round
ratios with its spread (min-max): slow phases of the machine hit both sides of a round.
"""

import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/min of latency samples in milliseconds (pooled over all rounds)."""
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "min_ms": round(min(samples), 2),
        "n": len(samples),
    }


def spread(per_round: Sequence[float], digits: int = 2) -> dict[str, Any]:
    """The median of per-round values with their min and max; a target is judged on the
    median, the spread shows how far single rounds wandered."""
    if not per_round:
        raise ValueError("no rounds")
    return {
        "median": round(statistics.median(per_round), digits),
        "min": round(min(per_round), digits),
        "max": round(max(per_round), digits),
        "rounds": [round(v, digits) for v in per_round],
    }


def ratio(a: float, b: float) -> float:
    """a / b; NaN when b is 0 (a side that did nothing), which meets no target."""
    return a / b if b else float("nan")


def alternate(round_index: int, items: Sequence[Any]) -> list[Any]:
    """The order of a round's blocks: as given in even rounds, reversed in odd ones
    (A B, B A, A B, ...), so neither side always runs first."""
    return list(items) if round_index % 2 == 0 else list(reversed(items))


def render(value: Any) -> str:
    """A spread as `median (min-max)`, anything else as itself."""
    if isinstance(value, dict) and "median" in value:
        return f"{value['median']:g} ({value['min']:g}-{value['max']:g})"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def central(value: Any) -> float:
    """The figure a target is judged on: a spread's median, else the number itself."""
    if isinstance(value, dict):
        return float(value["median"])
    return float(value)
