"""Request bodies. Responses are the services' plain dicts, documented by example."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    question: str = Field(description="What the agent asks.")
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    stream: bool = Field(False, description="Server-sent events: tokens, then the answer.")
    prompt: str = Field("answer", max_length=80, description="'answer' (the production "
                        "version) or a pilot version to try, e.g. 'answer@2'; recorded.")


class OpenAIMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class OpenAIChatRequest(BaseModel):
    model: str = Field("vraagbaak", description="Ignored: the server's configured model answers.")
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(
        None, ge=1, description="At most the server's llm.max_answer_tokens (the cap wins).")
    collections: list[str] = Field(
        default_factory=list, description="Vraagbaak extension: collections to search.")


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenRequest(BaseModel):
    name: str = Field("", max_length=100, description="What the token is for.")
    expires_days: int | None = Field(
        None, ge=1, le=366, description="Lifetime in days; default: the server's auth.token_days.")


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1, description="agent, reviewer, evaluator, admin.")
    teams: list[str] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1024, description="At least 12 characters; "
                                 "none: the user signs in with API tokens only.")
    display_name: str = Field("", max_length=200)


class UserUpdate(BaseModel):
    roles: list[str] | None = None
    teams: list[str] | None = None
    active: bool | None = Field(None, description="false disables the account and revokes "
                                "all its tokens and sessions.")
    password: str | None = Field(None, max_length=1024)
    display_name: str | None = Field(None, max_length=200)


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class GrantsRequest(BaseModel):
    everyone: bool = Field(False, description="Every signed-in user may read it.")
    teams: list[str] = Field(default_factory=list, description="Teams that may read it.")



class CustomerContext(BaseModel):
    name: str = Field("", max_length=200, description="How the reply addresses the customer.")
    language: str = Field("en", max_length=40, description="en, nl, de, fr or a language name.")
    ticket_id: str = Field("", max_length=100, description="The ticketing system's id; sent "
                           "back with the approval webhook.")


Tone = Literal["friendly", "formal", "neutral", "apologetic"]


class DraftRequest(BaseModel):
    question: str = Field(description="The customer's question or the ticket text.")
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    customer: CustomerContext = Field(default_factory=CustomerContext)
    tone: Tone = "friendly"


class DraftFromAnswer(BaseModel):
    customer: CustomerContext = Field(default_factory=CustomerContext)
    tone: Tone = "friendly"


class Resubmit(BaseModel):
    text: str | None = Field(None, max_length=20_000, description="A revised reply, if any.")
    note: str = Field("", max_length=2000, description="What changed, for the reviewer.")


class EditRequest(BaseModel):
    text: str = Field(max_length=20_000)


class Scores(BaseModel):
    accuracy: int = Field(ge=1, le=5)
    completeness: int = Field(ge=1, le=5)
    tone: int = Field(ge=1, le=5)
    citations: int = Field(ge=1, le=5, description="Are the cited sources the right ones?")


class ApproveRequest(BaseModel):
    scores: Scores
    comment: str = Field("", max_length=4000)
    text: str | None = Field(None, max_length=20_000, description="Final text, if edited now.")


class RejectRequest(BaseModel):
    scores: Scores
    reason: Literal["wrong_facts", "missing_info", "tone", "outdated_source",
                    "should_not_answer"]
    comment: str = Field("", max_length=4000)


class ChangesRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, description="What should change.")


class CandidateRequest(BaseModel):
    expected_documents: list[str] | None = Field(
        None, description="Documents that should answer it (default: an approved draft's "
        "cited documents; required for a rejection other than should_not_answer).")


class EvalRunRequest(BaseModel):
    set: str = Field(description="A question set: built-in (eval/sets) or uploaded.")
    prompt: str = Field("answer", max_length=80, description="'answer' (production) or "
                        "'answer@3' from any zone.")
    model: str | None = Field(None, max_length=500, description="One of the server's "
                              "eval_models; default the server's model.")
    k: int = Field(5, ge=1, le=20, description="hit@k/recall@k cut-off and chunks in the prompt.")
    retrieval_only: bool = Field(False, description="No LLM: retrieval metrics and the "
                                 "refusal decision only (fast; what CI runs).")


class SetUpload(BaseModel):
    name: str = Field(max_length=64)
    jsonl: str = Field(max_length=200_000, description="The set, one JSON object a line.")


class PromptVersionRequest(BaseModel):
    system: str = Field(min_length=1, max_length=20_000)
    user: str = Field(min_length=1, max_length=20_000,
                      description="Must contain {context} and {question}.")
    context_item: str | None = Field(None, max_length=5000)
    stop: list[str] | None = None
    description: str = Field("", max_length=500)
    change_note: str = Field(min_length=1, max_length=2000, description="Why this version.")
    gate: dict[str, Any] | None = Field(None, description="{set, min: {...}, max: {...}}; "
                                        "default: the newest version's gate.")


class ZoneRequest(BaseModel):
    zone: Literal["exploration", "pilot"]


class PromoteRequest(BaseModel):
    run_id: str = Field(max_length=32, description="A finished run of this version on its "
                        "gate set.")
