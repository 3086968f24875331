"""Bounds on a run's summary: the gate a prompt version must pass to reach production, and the
stored baseline a retrieval-only run of a set must stay at or above (``eval/baselines``).

A gate is ``{"min": {metric: bound}, "max": {metric: bound}}`` over the keys of a run summary
(``hit_at_k``, ``groundedness``, ``false_refusal_rate``, ...). A metric the run didn't measure
misses its bound: a retrieval-only run can't pass a groundedness gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASELINES = Path(__file__).resolve().parent / "baselines"


def gate_failures(gate: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """The bounds ``summary`` misses, as readable lines (empty: it passes)."""
    failures = []
    for metric, bound in gate.get("min", {}).items():
        value = summary.get(metric)
        if value is None or value < bound:
            failures.append(f"{metric} {value} < {bound}")
    for metric, bound in gate.get("max", {}).items():
        value = summary.get(metric)
        if value is None or value > bound:
            failures.append(f"{metric} {value} > {bound}")
    return failures


def load_baseline(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data.get("min", {}), dict) or not isinstance(data.get("max", {}), dict):
        raise ValueError(f"{path.name}: 'min' and 'max' must map metrics to bounds")
    return data
