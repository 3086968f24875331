"""The k rule: a figure is an aggregate of at least k distinct people, or it is not shown.

Every figure of every group (a team, a role, a collection, and the whole company too) passes
through ``guarded`` with the number of distinct people behind it. Below k its value and its
head count are both withheld (a count of 1 or 2 would point at the people themselves), and
``suppressed`` says so; the page reads "fewer than k". There is no per-person figure and
groups are listed by name, never ranked by a figure.
"""

from __future__ import annotations

from app.analytics.records import Value


def guarded(value: float | None, people: int, k: int) -> Value:
    """``value`` with its head count when at least ``k`` people stand behind it."""
    if people < k:
        return Value(value=None, people=None, suppressed=True)
    return Value(value=value, people=people, suppressed=False)


def change_pct(baseline: Value | None, now: Value) -> float | None:
    """(now - baseline) / |baseline| in %, when both sides are shown and the baseline is not
    0: a suppressed side gives no comparison rather than a misleading one."""
    if baseline is None or baseline.value is None or now.value is None or baseline.value == 0:
        return None
    return round((now.value - baseline.value) / abs(baseline.value) * 100, 1)
