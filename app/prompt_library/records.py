"""Prompt versions, the catalogue and the promotion history as they cross the service boundary:
typed, so the HTTP API, the CLI and the tests read the same fields and ``/openapi.json``
documents them. Times are ISO 8601 strings, as the answer records write them.

The gate stays a JSON object: its metric names are whatever a run summary holds, and
``check_gate`` (``app.prompt_library.checks``) has already refused any other shape.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from prompts.zones import Zone


class PromptVersion(BaseModel):
    """One version of a prompt: who wrote it, why, and which zone it serves from."""

    ref: str = Field(description="id@version, what chat, drafts and eval runs name.")
    id: str = Field(description="The prompt id, e.g. answer.")
    version: int
    zone: Zone
    author: str
    change_note: str
    created_at: str


class PromptText(BaseModel):
    """What a version renders: never edited, a change is a new version."""

    description: str = ""
    system: str
    user: str = Field(description="Contains {context} and {question}.")
    context_item: str = Field(description="One retrieved chunk: {n}, {title}, {heading}, "
                              "{text}.")
    stop: list[str] = Field(default_factory=list)


class Promotion(BaseModel):
    """One change of a prompt's production version."""

    action: Literal["seed", "promote", "rollback"]
    version: int = Field(description="The version that went into production.")
    previous_version: int | None = Field(description="The one it replaced (None: none).")
    run_id: str | None = Field(description="The evaluation run that justified a promotion.")
    by: str = Field(description="Who approved it.")
    at: str


class PromptDetail(PromptVersion):
    """A version with its template, its gate and the prompt's whole promotion history."""

    template: PromptText
    gate: dict[str, Any] = Field(description="{set, min: {metric: bound}, max: {...}}; "
                                 "empty: no gate, so no promotion.")
    history: list[Promotion]


class PromptEntry(BaseModel):
    """A prompt id in the catalogue: its versions and the one in production."""

    id: str
    production: int | None = Field(description="The version served by default.")
    versions: list[PromptVersion]


class _RunConfig(Protocol):
    @property
    def retrieval_only(self) -> bool: ...


class GateEvidence(Protocol):
    """What a promotion reads of the evaluation run that justifies it (an ``EvalRun`` record;
    a protocol, so the library doesn't depend on the evaluation package, which uses it)."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def set_name(self) -> str: ...
    @property
    def set_hash(self) -> str: ...
    @property
    def config(self) -> _RunConfig: ...
    @property
    def summary(self) -> dict[str, Any]: ...
