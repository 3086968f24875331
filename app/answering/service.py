"""Answer a question: retrieve, gate, prompt, generate on the LLM worker, ground, store.

The refusal gate is ``app.answering.refusals``; the evidence the prompt gets and the shown
answer are the prompt version's choice (``evidence_words``, ``evidence_first``: whole chunks
and the model's text for ``answer@1``, passages and an evidence-first answer for ``answer@2``).

Every front door (``/v1/chat``, ``/v1/chat/completions``, ``vraagbaak ask``, drafts, eval runs)
calls ``stream``, which runs the steps ``prepare`` -> ``start`` at once and leaves ``finish``
(grounding and the stored record) to the end of the returned ``AnswerStream``; ``answer`` is
its non-streaming shorthand. When retrieval finds nothing relevant enough (best cosine below
``min_dense_score``) the LLM is not asked at all: the answer says it doesn't know and cites
nothing. Answers leave the service as the typed models of ``app.answering.records``.

Chunks ingest flagged as a possible prompt injection are kept out of the prompt or wrapped as
untrusted (``answering.injection``, ``app.answering.untrusted``); a question whose evidence is
only flagged chunks is refused like one with no relevant evidence.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from collections.abc import Collection as Names
from dataclasses import dataclass, field, replace
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.evidence import Evidence, gather
from app.answering.grounding import GroundedAnswer, check, ground
from app.answering.llm_worker import LLMWorker, TokenStream
from app.answering.records import Answer, AnswerDetail, Citation, RetrievedChunk, Sentence
from app.answering.refusals import missing_code, missing_subject
from app.answering.refusals import refusal as refused_as
from app.answering.shown import ShownAnswer, compose
from app.answering.streaming import AnswerStream
from app.answering.tables import Answer as AnswerRecord
from app.answering.untrusted import Guard, admit, withhold
from app.audit.log import AuditLog
from app.core.errors import InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.knowledge.search import Hit, SearchResult, SearchService
from models.pool import EmbedderPool
from prompts.registry import PromptTemplate
from prompts.zones import SERVING_ZONES


class PromptSource(Protocol):
    def get(self, ref: str, *, zones: Names[str] = SERVING_ZONES) -> PromptTemplate: ...

HISTORY_TURNS = 2  # earlier turns of a conversation the prompt gets
HISTORY_WORDS = 60  # of each earlier answer
FOLLOW_UP_WORDS = 8  # a question this short is searched together with the one before it


@dataclass(frozen=True)
class Turn:
    """An earlier question of the conversation and the answer shown for it."""

    question: str
    answer: str


def follow_up_query(question: str, history: list[Turn]) -> str:
    """What to search for: a short follow-up ("and on a Mac?") with the question before it,
    anything longer as it stands (a new subject must not drag the old one along)."""
    if history and len(question.split()) <= FOLLOW_UP_WORDS:
        return f"{history[-1].question} {question}"
    return question


def history_messages(history: list[Turn]) -> list[dict[str, str]]:
    """The earlier turns as chat messages, each answer cut to ``HISTORY_WORDS`` words."""
    messages = []
    for turn in history[-HISTORY_TURNS:]:
        words = turn.answer.split()
        answer = " ".join(words[:HISTORY_WORDS]) + (" …" if len(words) > HISTORY_WORDS else "")
        messages += [{"role": "user", "content": turn.question},
                     {"role": "assistant", "content": answer}]
    return messages


@dataclass
class Prepared:
    """A question retrieved and gated, ready to generate: what ``finish`` needs to ground and
    record it, and the timing the latency figures start from."""

    asker: Principal
    question: str
    collections: list[str]
    retrieval: SearchResult
    template: PromptTemplate
    refused: bool
    refusal: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    evidence: Evidence | None = None
    started: float = field(default_factory=time.perf_counter)
    retrieval_ms: float = 0.0

    @property
    def context(self) -> list[Hit]:
        return [] if self.refused else self.retrieval.hits


class AnswerService:
    """Questions in, grounded and recorded answers out; the LLM is reached only through the
    single worker, and only for questions the refusal gate lets through."""

    def __init__(self, sessions: sessionmaker[Session], search: SearchService,
                 worker: LLMWorker, prompts: PromptSource, embedders: EmbedderPool,
                 settings: Settings, audit: AuditLog,
                 observe: Callable[[AnswerRecord], None] | None = None) -> None:
        self._sessions = sessions
        self._observe = observe  # e.g. the process's metrics; sees every stored answer
        self._audit = audit
        self._search = search
        self._worker = worker
        self._prompts = prompts
        self._embedders = embedders
        self._settings = settings

    @property
    def model_id(self) -> str:
        return self._worker.llm.model_id

    def validate_question(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise InvalidInput("the question is empty", code="empty_question")
        limit = self._settings.max_question_chars
        if len(question) > limit:
            raise InvalidInput(f"the question is longer than {limit} characters",
                               code="question_too_long")
        return question

    def prepare(self, question: str, collections: list[str], *, allowed: Names[str],
                asker: Principal, prompt: str = "answer",
                variables: dict[str, str] | None = None,
                zones: Names[str] = SERVING_ZONES, k: int | None = None,
                history: list[Turn] | None = None) -> Prepared:
        """Retrieve and decide whether to refuse. ``prompt`` is an id (its production
        version) or ``id@version`` from one of ``zones``; ``k`` overrides the number of
        chunks put into the prompt; ``history`` are the conversation's earlier turns.
        (An eval run's retrieval-only pass stops here.)"""
        question = self.validate_question(question)
        template = self._prompts.get(prompt, zones=zones)
        started = time.perf_counter()
        history = history or []
        query = follow_up_query(question, history)
        result = self._search.search(query, collections, allowed=allowed,
                                     k=k or self._settings.retrieval.context_chunks)
        names = list(result.snapshot_ids)
        listed = ", ".join(names) or "no collection"
        refusal = ""
        evidence = None
        languages = [v.language for v in result.vocabularies]
        if not result.hits or result.best_dense < self._settings.retrieval.min_dense_score:
            refusal = refused_as("none", languages, listed)
        elif code := missing_code(question, result.candidates):
            refusal = refused_as("missing", languages, listed, code)
        else:
            evidence = gather(query, result.hits, self._embedders.get)
            if word := missing_subject(query, evidence, result.knows, self._embedders.get):
                refusal = refused_as("missing", languages, listed, word)
            elif all(h.injection for h in evidence.hits):  # nothing the product may quote
                refusal = refused_as("none", languages, listed)
        prepared = Prepared(asker=asker, question=question, collections=names, retrieval=result,
                            template=template, refused=bool(refusal), refusal=refusal,
                            started=started, evidence=evidence,
                            retrieval_ms=(time.perf_counter() - started) * 1000)
        if not prepared.refused:
            chunks: list[Hit] = result.hits
            numbers = None
            mode = self._settings.answering.injection
            if evidence is not None and template.evidence_words:
                flagged = [n for n, h in enumerate(result.hits, 1) if h.injection]
                passages = evidence.passages(template.evidence_words, leave_out=flagged
                                             if mode == "quarantine" else ())
                numbers = list(passages)
                chunks = [replace(result.hits[n - 1], text=text) for n, text in passages.items()]
            chunks, numbers = admit(chunks, numbers, mode)
            try:
                system, user = template.render(question, chunks, numbers,
                                               **(variables or {}))
                prepared.messages = [system, *history_messages(history), user]
            except KeyError as exc:
                raise InvalidInput(f"prompt {template.ref} needs the field {exc}",
                                   code="prompt_field_missing") from None
        return prepared

    def start(self, prepared: Prepared, *, max_tokens: int | None = None) -> TokenStream | None:
        """Queue generation (``Busy`` when the queue is full); None for a refusal.

        A caller may ask for fewer tokens than ``llm.max_answer_tokens``, never more.
        """
        if prepared.refused:
            return None
        cap = min(self._settings.llm.max_answer_tokens, prepared.template.max_tokens or 1 << 30)
        return self._worker.submit(prepared.messages,
                                   max_tokens=min(max_tokens or cap, cap),
                                   stop=prepared.template.stop)

    def stream(self, question: str, collections: list[str], *, allowed: Names[str],
               asker: Principal, prompt: str = "answer", channel: str = "chat",
               variables: dict[str, str] | None = None, zones: Names[str] = SERVING_ZONES,
               k: int | None = None, max_tokens: int | None = None,
               conversation_id: str | None = None,
               history: list[Turn] | None = None) -> AnswerStream:
        """Answer a question: the one path every front door takes.

        ``conversation_id`` files the answer in one of the asker's threads (check it first
        with ``ConversationService.touch``: a thread of someone else is a 404 there); its
        earlier turns are the ``history`` unless one is given (the OpenAI endpoint passes
        the client's messages).

        Retrieval, the refusal gate and queueing happen now, so ``InvalidInput``,
        ``NotFound`` and ``Busy`` are raised by this call, before anything is streamed;
        iterating the result yields the tokens and then the stored ``Answer``.
        """
        if history is None and conversation_id is not None:
            history = self.thread(conversation_id)
        prepared = self.prepare(question, collections, allowed=allowed, asker=asker,
                                prompt=prompt, variables=variables, zones=zones, k=k,
                                history=history)
        tokens = self.start(prepared, max_tokens=max_tokens)
        return AnswerStream(prepared, tokens,
                            lambda text: self.finish(prepared, text, tokens, channel=channel,
                                                     conversation_id=conversation_id))

    def answer(self, question: str, collections: list[str], *, allowed: Names[str],
               asker: Principal, prompt: str = "answer", channel: str = "chat",
               variables: dict[str, str] | None = None, zones: Names[str] = SERVING_ZONES,
               k: int | None = None, conversation_id: str | None = None) -> Answer:
        """``stream(...).result()``: the whole answer, for callers that show no tokens."""
        return self.stream(question, collections, allowed=allowed, asker=asker, prompt=prompt,
                           channel=channel, variables=variables, zones=zones, k=k,
                           conversation_id=conversation_id).result()

    def finish(self, prepared: Prepared, text: str, stream: TokenStream | None, *,
               channel: str = "chat", conversation_id: str | None = None) -> Answer:
        """Ground the generated text, store the answer record, return its public view."""
        shown = None
        guard = Guard.of(prepared.context, prepared.question)
        hidden: dict[int, str] = {}  # the model's sentences withheld (answer@1's path)
        if prepared.refused or stream is None:
            grounded = GroundedAnswer(text=prepared.refusal)
        elif prepared.template.evidence_first and prepared.evidence is not None:
            # quotes come from the evidence, not from a second embedding pass
            grounded = check(text, prepared.question, prepared.context)
            shown = compose(prepared.evidence, grounded.sentences, guard=guard)
        else:
            grounded = ground(text, prepared.question, prepared.context, self._embedders.get)
            hidden = withhold(grounded, guard)
        total_ms = (time.perf_counter() - prepared.started) * 1000
        citations, sentences = self._parts(prepared, grounded, shown, hidden)
        if shown is not None:
            grounded.text = shown.text
        retrieved = [RetrievedChunk(n=n, chunk_id=h.chunk_id, collection=h.collection,
                                    score=round(h.score, 6), dense=h.dense_score,
                                    lexical=h.lexical_score, injection=h.injection)
                     for n, h in enumerate(prepared.retrieval.hits, start=1)]
        record = AnswerRecord(
            id=uuid.uuid4().hex,
            channel=channel,
            conversation_id=conversation_id,
            user_id=prepared.asker.user_id,
            question=prepared.question,
            collections=prepared.collections,
            retrieved=[r.model_dump() for r in retrieved],
            prompt_id=prepared.template.id,
            prompt_version=prepared.template.version,
            model_id=self._worker.llm.model_id,
            snapshot_ids=dict(prepared.retrieval.snapshot_ids),
            answer=grounded.text,
            generated="" if stream is None else text,
            citations=[c.model_dump() for c in citations],
            sentences=[s.model_dump() for s in sentences],
            refused=prepared.refused,
            latency_ms=latency(prepared, stream, total_ms),
            total_ms=total_ms,
        )
        with self._sessions() as session:
            session.add(record)
            session.commit()
        self._audit.record(
            # the length, not the text: the audit chain is kept forever and can't be edited,
            # while the question itself is personal data the retention job must be able to
            # remove (it stays in the answer row, found through the target id)
            prepared.asker.actor, "question_asked", record.id, channel=channel,
            question_chars=len(prepared.question), collections=record.collections,
            retrieved=[h.chunk_id for h in prepared.retrieval.hits],
            cited=[c.chunk_id for c in citations], refused=record.refused)
        if self._observe is not None:
            self._observe(record)
        return Answer.of(record)

    def thread(self, conversation_id: str) -> list[Turn]:
        """The conversation's last ``HISTORY_TURNS`` turns, oldest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(AnswerRecord.question, AnswerRecord.answer)
                .where(AnswerRecord.conversation_id == conversation_id)
                .order_by(AnswerRecord.created_at.desc()).limit(HISTORY_TURNS)).all()
        return [Turn(q, a) for q, a in reversed(rows)]

    @staticmethod
    def _parts(prepared: Prepared, grounded: GroundedAnswer, shown: ShownAnswer | None,
               hidden: dict[int, str]) -> tuple[list[Citation], list[Sentence]]:
        """The citations and sentences of the record: the model's as grounded, or those of
        the evidence-first answer (a quoted chunk is quoted with the sentence shown; a chunk
        only a hidden sentence cited is not listed)."""
        hits = prepared.context
        if shown is None:
            by_chunk = {c.n: (c.quote, c.inferred) for c in grounded.citations}
            sentences = [Sentence(text=s.text, supported=s.supported, citations=s.citations,
                                  inferred=s.inferred, shown=i not in hidden,
                                  why_hidden=hidden.get(i, ""))
                         for i, s in enumerate(grounded.sentences)]
        else:
            model_cited = {n for s in grounded.sentences if not s.inferred for n in s.citations}
            evidence = prepared.evidence
            citing = {n: " ".join(s.text for s in shown.sentences if s.shown and n in s.citations)
                      for n in shown.cited}
            by_chunk = {n: (shown.quotes.get(n)
                            or (evidence.closest_in(n, citing[n]) if evidence else "")
                            or hits[n - 1].text[:400], n not in model_cited)
                        for n in sorted(shown.cited)}
            sentences = [Sentence(text=s.text, supported=s.supported, citations=s.citations,
                                  inferred=s.inferred, source=s.source,
                                  shown=s.shown, why_hidden=s.why_hidden)
                         for s in shown.sentences]
        citations = [Citation(n=n, chunk_id=hits[n - 1].chunk_id,
                              collection=hits[n - 1].collection, document=hits[n - 1].document,
                              title=hits[n - 1].title, heading=hits[n - 1].heading,
                              page=hits[n - 1].page, quote=quote, inferred=inferred,
                              injection=hits[n - 1].injection)
                     for n, (quote, inferred) in by_chunk.items()]
        return citations, sentences

    def get(self, answer_id: str, *, readable: Names[str], viewer: Principal,
            audit: bool = True) -> AnswerDetail:
        """An answer, to its asker or an admin, and only while the viewer may still read every
        collection it drew on; anyone else gets the same 404 as for an unknown id."""
        with self._sessions() as session:
            record = session.get(AnswerRecord, answer_id)
        if (record is None or not set(record.collections) <= set(readable)
                or not (viewer.is_admin or record.user_id == viewer.user_id)):
            raise NotFound("answer not found", code="answer_not_found")
        if audit:
            self._audit.record(viewer.actor, "answer_viewed", answer_id)
        return AnswerDetail.of(record)


def latency(prepared: Prepared, stream: TokenStream | None,
            total_ms: float) -> dict[str, float | int]:
    """Where the time went, in ms (rounded to 0.1), plus the number of tokens generated."""
    figures: dict[str, float | int] = {"retrieval": round(prepared.retrieval_ms, 1)}
    if stream is not None and stream.started_at is not None:
        figures["queue_wait"] = round((stream.started_at - stream.submitted_at) * 1000, 1)
        if stream.first_token_at is not None:
            figures["first_token"] = round(
                (stream.first_token_at - prepared.started) * 1000, 1)
        if stream.finished_at is not None:
            figures["generation"] = round((stream.finished_at - stream.started_at) * 1000, 1)
        figures["tokens"] = stream.token_count
        if stream.prompt_tokens is not None:
            figures["prompt_tokens"] = stream.prompt_tokens
    figures["total"] = round(total_ms, 1)
    return figures


def with_worker(service: AnswerService, worker: LLMWorker) -> AnswerService:
    """The same answering with another model's worker (an evaluation run's ``--model``)."""
    clone = copy.copy(service)
    clone._worker = worker
    return clone
