"""The governed prompt library: requests, and the catalogue's envelope (the records
themselves are ``app.prompt_library.records``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.rules import NON_BLANK, RequestBody, schema_only
from app.prompt_library.records import PromptEntry
from prompts.zones import MovableZone

Bounds = dict[str, int | float]

# what app.prompt_library.checks.check_template takes, as patterns: text, {{ and }}, and
# {name} fields; the user text names {context} and {question}, a context item only {n},
# {title}, {heading} and {text}, and {text} at least (empty: the newest version's item)
_TEXT = r"[^{}]|\{\{|\}\}"
_ANY_FIELD = rf"(?:{_TEXT}|\{{[A-Za-z_][A-Za-z0-9_]*\}})*"
_ITEM_FIELD = rf"(?:{_TEXT}|\{{(?:n|title|heading|text)\}})*"
USER_TEMPLATE = (rf"^(?:{_ANY_FIELD}\{{context\}}{_ANY_FIELD}\{{question\}}{_ANY_FIELD}"
                 rf"|{_ANY_FIELD}\{{question\}}{_ANY_FIELD}\{{context\}}{_ANY_FIELD})$")
CONTEXT_ITEM = rf"^$|^{_ITEM_FIELD}\{{text\}}{_ITEM_FIELD}$"


class GateRequest(RequestBody):
    """What a version must reach on an eval run before it may be promoted."""

    model_config = ConfigDict(extra="forbid")

    set: str = Field("", max_length=64, description="The question set the gate runs on.")
    min: Bounds = Field(default_factory=dict, description="metric: lowest value allowed.")
    max: Bounds = Field(default_factory=dict, description="metric: highest value allowed.")


class PromptVersionRequest(RequestBody):
    system: str = Field(min_length=1, max_length=20_000, json_schema_extra=NON_BLANK)
    user: str = Field(min_length=1, max_length=20_000, json_schema_extra=schema_only(
        pattern=USER_TEMPLATE), description="Must contain {context} and {question}.")
    context_item: str | None = Field(None, max_length=5000, json_schema_extra=schema_only(
        pattern=CONTEXT_ITEM), description="One context document: {text}, and {n}, {title}, "
        "{heading} if wanted; default the newest version's.")
    stop: list[str] | None = None
    description: str = Field("", max_length=500)
    change_note: str = Field(min_length=1, max_length=2000, description="Why this version.")
    gate: GateRequest | None = Field(None, description="Default: the newest version's gate.")

    def gate_dict(self) -> dict[str, Any] | None:
        """The gate as the store takes it: only the parts that were given."""
        return None if self.gate is None else self.gate.model_dump(exclude_unset=True)


class ZoneRequest(RequestBody):
    zone: MovableZone = Field(description="Production is reached only by promotion.")


class PromoteRequest(RequestBody):
    run_id: str = Field(max_length=32, description="A finished run of this version on its "
                        "gate set.")


class PromptCatalogue(BaseModel):
    prompts: list[PromptEntry]
