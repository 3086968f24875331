"""What a new prompt version must satisfy before it is stored: a template that renders with
the fields the answer service fills, and a gate of the one shape promotions read.

Both run before anything is written, so a bad version is refused with a message naming the
rule instead of failing later in chat or in a promotion.
"""

from __future__ import annotations

import string
from typing import Any

from app.core.errors import InvalidInput
from app.prompt_library.tables import PromptVersion as PromptVersionRow
from prompts.registry import PromptTemplate

TEMPLATE_FIELDS = {"context", "question"}


def template_of(row: PromptVersionRow) -> PromptTemplate:
    """The renderable template of a stored version."""
    t = row.template
    return PromptTemplate(id=row.prompt_id, version=row.version,
                          description=str(t.get("description", "")), system=str(t["system"]),
                          user=str(t["user"]), context_item=str(t["context_item"]),
                          stop=tuple(t.get("stop", ())), gate=dict(row.gate or {}),
                          evidence_words=int(t.get("evidence_words", 0)),
                          evidence_first=bool(t.get("evidence_first", False)),
                          max_tokens=int(t.get("max_tokens", 0)))


def check_template(system: str, user: str, context_item: str) -> None:
    """A new version must render: its fields are known and its braces balanced."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(user) if f}
        item = {f for _, f, _, _ in string.Formatter().parse(context_item) if f}
    except ValueError as exc:
        raise InvalidInput(f"the template does not parse: {exc}", code="invalid_template") from None
    if any(not f.isidentifier() for f in names | item):
        # {question.__class__} or {context[0]}: a template names values, never reaches into them
        raise InvalidInput("template fields are plain names like {question}",
                           code="invalid_template")
    if not names >= TEMPLATE_FIELDS:
        raise InvalidInput("the user text needs {context} and {question}",
                           code="invalid_template")
    if not item <= {"n", "title", "heading", "text"} or "text" not in item:
        raise InvalidInput("context_item may use {n}, {title}, {heading} and must use {text}",
                           code="invalid_template")
    if not system.strip():
        raise InvalidInput("the system text is empty", code="invalid_template")
    try:  # a trial render: positional fields, bad format specs and the like fail here
        user.format(**dict.fromkeys(names, ""))
        context_item.format(n=1, title="", heading="", text="")
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"the template does not render ({type(exc).__name__}: {exc})",
                           code="invalid_template") from None


def check_gate(gate: dict[str, Any]) -> dict[str, Any]:
    """``{"set": name, "min": {metric: number}, "max": {metric: number}}`` or refuse."""
    if not isinstance(gate, dict) or set(gate) - {"set", "min", "max"}:
        raise InvalidInput("a gate has 'set', 'min' and 'max' only", code="invalid_gate")
    if not isinstance(gate.get("set", ""), str):
        raise InvalidInput("the gate's 'set' is a set name", code="invalid_gate")
    for side in ("min", "max"):
        bounds = gate.get(side, {})
        if not isinstance(bounds, dict) or not all(
                isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
                for k, v in bounds.items()):
            raise InvalidInput(f"the gate's '{side}' maps metric names to numbers",
                               code="invalid_gate")
    return gate
