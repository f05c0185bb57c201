"""The bench's arithmetic and its outputs: targets judged on the median of rounds, the
spread shown beside it, plug-in measurements rendered, the previous run kept."""

import json
from pathlib import Path
from typing import Any

import pytest
from bench.registry import Measurement, Target
from bench.stats import alternate, central, percentile, render, spread, summary

from bench import output, registry


def test_spread_is_the_median_of_rounds_with_min_and_max() -> None:
    s = spread([1.3, 0.9, 1.1, 5.0, 1.0])
    assert s == {"median": 1.1, "min": 0.9, "max": 5.0, "rounds": [1.3, 0.9, 1.1, 5.0, 1.0]}
    assert render(s) == "1.1 (0.9-5)"
    assert central(s) == 1.1
    with pytest.raises(ValueError):
        spread([])


def test_rounds_alternate_their_order() -> None:
    assert [alternate(i, ["a", "b", "c"]) for i in range(3)] == [
        ["a", "b", "c"],
        ["c", "b", "a"],
        ["a", "b", "c"],
    ]


def test_percentiles_and_summary() -> None:
    samples = [float(v) for v in range(1, 101)]
    assert percentile(samples, 0.5) == 51.0
    assert percentile(samples, 0.99) == 99.0
    assert summary(samples) == {
        "p50_ms": 50.5,
        "p95_ms": 95.0,
        "p99_ms": 99.0,
        "min_ms": 1.0,
        "n": 100,
    }


def test_a_target_is_judged_on_the_median_not_on_a_lucky_round() -> None:
    m = Measurement("w", _noop, "Writes", targets=(Target("ratio", "L", ">=", 0.5),))
    datasets = {
        "S": {"measurements": {"w": {"ratio": spread([0.9, 0.9, 0.9])}}},
        "L": {"measurements": {"w": {"ratio": spread([0.7, 0.45, 0.48])}}},
    }
    [t] = output.targets([m], datasets)
    assert (t["dataset"], t["figure"], t["met"]) == ("L", 0.48, False)
    # a quick run without L is judged on the largest dataset it has
    del datasets["L"]
    [t] = output.targets([m], datasets)
    assert (t["dataset"], t["met"]) == ("S", True)


def test_a_measurement_that_did_not_run_has_no_verdict() -> None:
    m = Measurement("x", _noop, "X", datasets=("L",), targets=(Target("a", "L", "<", 1),))
    assert output.targets([m], {"S": {"measurements": {}}}) == []


def test_a_target_per_dataset_is_judged_once_when_fewer_datasets_ran() -> None:
    targets = tuple(Target("a", size, ">=", 0.5) for size in ("S", "M", "L"))
    m = Measurement("x", _noop, "X", targets=targets)
    ran = {"S": {"measurements": {"x": {"a": 0.6}}}, "M": {"measurements": {"x": {"a": 0.4}}}}
    judged = output.targets([m], ran)
    assert [(t["dataset"], t["met"]) for t in judged] == [("S", True), ("M", False)]


def test_the_previous_run_column_shows_the_same_dataset() -> None:
    targets = tuple(Target("a", size, ">=", 0.5) for size in ("S", "L"))
    m = Measurement("x", _noop, "X", targets=targets)

    def judged(small: float, big: float) -> list[dict[str, Any]]:
        datasets = {
            "S": {"measurements": {"x": {"a": small}}},
            "L": {"measurements": {"x": {"a": big}}},
        }
        return output.targets([m], datasets)

    previous = {"targets": judged(0.61, 0.4), "finished_at": "t"}
    rows = [r for r in output.target_rows(judged(0.6, 0.7), previous) if r.startswith("| x |")]
    assert rows[0].endswith("| 0.6 | yes | 0.61 | yes |")
    assert rows[1].endswith("| 0.7 | yes | 0.4 | **no** |")


def test_registering_twice_under_one_name_is_refused() -> None:
    registry.measurement("test-dup", title="one")(_noop)
    try:
        with pytest.raises(ValueError, match="two measurements"):
            registry.measurement("test-dup", title="two")(_other)
    finally:
        registry.REGISTRY.pop("test-dup")


def test_the_core_measurements_are_registered_in_order() -> None:
    names = list(registry.load())
    assert names[:4] == ["report", "n_plus_1", "writes", "mixed"]


def test_a_plugin_without_markdown_gets_a_table_of_its_figures() -> None:
    lines = output.generic_markdown(
        {
            "S": {"per_s": spread([10.0, 12.0, 11.0], 1), "failed": 0, "raw": [1, 2]},
            "M": {"per_s": spread([9.0, 9.5, 8.0], 1), "failed": 3},
        }
    )
    assert lines == [
        "| dataset | per s | failed |",
        "| --- | --- | --- |",
        "| S | 11 (10-12) | 0 |",
        "| M | 9 (8-9.5) | 3 |",
    ]


def test_a_full_run_keeps_the_previous_one_and_the_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"old generated part\n{output.NOTES_MARKER}\n\nhand-written\n")
    for name, value in {
        "RESULTS": tmp_path,
        "LATEST": tmp_path / "latest.json",
        "PREVIOUS": tmp_path / "previous.json",
        "PARTIAL": tmp_path / "partial.json",
        "DOC": doc,
    }.items():
        monkeypatch.setattr(output, name, value)
    m = Measurement("w", _noop, "Writes", targets=(Target("ratio", "S", ">=", 0.5),))

    def run(ratios: list[float], finished: str) -> dict[str, Any]:
        datasets = {
            "S": {
                "info": {
                    "ledger_rows": 10,
                    "twin_ledger_rows": 1,
                    "sales_in_window": 2,
                    "inventory_levels": 3,
                    "generate_s": 0.1,
                    "copy_s": 0.1,
                    "index_s": 0.1,
                },
                "measurements": {"w": {"ratio": spread(ratios), "settle": {"settle_s": 2.1}}},
            }
        }
        return {
            "format": output.FORMAT,
            "command": "make bench",
            "git_commit": "abc1234",
            "machine": {
                "cpu": "cpu",
                "cores": 2,
                "memory_gb": 1,
                "os": "os",
                "python": "3.11",
                "postgresql": "16",
                "database": "embedded",
            },
            "finished_at": finished,
            "elapsed_s": 1.0,
            "targets": output.targets([m], datasets),
            "datasets": datasets,
        }

    output.write_outputs(run([0.6, 0.55, 0.7], "first"), [m], full=True)
    written = output.write_outputs(run([0.4, 0.45, 0.6], "second"), [m], full=True)
    assert set(written) == {tmp_path / "latest.json", doc, tmp_path / "previous.json"}
    assert json.loads((tmp_path / "previous.json").read_text())["finished_at"] == "first"
    text = doc.read_text()
    assert "| w | ratio | S | >= 0.5 | 0.45 (0.4-0.6) | **no** | 0.6 (0.55-0.7) | yes |" in text
    assert "old generated part" not in text
    assert text.endswith(f"{output.NOTES_MARKER}\n\nhand-written\n")
    # a quick run leaves the committed files alone
    output.write_outputs(run([0.1, 0.1, 0.1], "quick"), [m], full=False)
    assert json.loads((tmp_path / "latest.json").read_text())["finished_at"] == "second"
    assert json.loads((tmp_path / "partial.json").read_text())["finished_at"] == "quick"


async def _noop(_: Any) -> dict[str, Any]:
    return {}


async def _other(_: Any) -> dict[str, Any]:
    return {}
