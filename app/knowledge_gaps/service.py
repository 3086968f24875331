"""Knowledge gaps: the admin's and the knowledge owners' to-do list for the knowledge base.

One report holds three lists over the viewer's collections: the topics of the questions that
were refused or voted down in a window (embedded, clustered, counted, with their trend and a
few examples), the documents no answer cited in N days, and the documents older than an age
by their own date.

Whose collections: an admin's report covers every collection; anyone else's covers the
collections they may read *and* own (``owned``, the knowledge owners' rule). Someone who owns
none is refused (403 ``not_an_owner``) rather than shown an empty list, so "nothing to do"
and "not yours to see" never look alike. Without an owners rule wired in, only admins get a
report. A collection outside the report is never named in it: not in a topic's collections,
not by a question that searched only it, not in a document list.

Making a report changes only derived tables (cached vectors, last-cited times), so it is not
audited; it embeds only questions it has not seen before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from collections.abc import Collection as Names
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Forbidden
from app.core.principal import Principal
from app.core.settings import GapSettings
from app.core.tables import utcnow
from app.identity.access import AccessService
from app.knowledge_gaps import citations, documents
from app.knowledge_gaps.clustering import cluster
from app.knowledge_gaps.questions import (
    GapQuestion,
    forget_blanked,
    gap_questions,
    question_vectors,
)
from app.knowledge_gaps.records import CollectionCount, GapQuery, GapReport, Topic, Trend
from models.pool import EmbedderPool

Owned = Callable[[Principal], Names[str]]
EXAMPLES = 3
MAX_TOPICS = 100
LABEL_CHARS = 300


def trend(earlier: int, recent: int) -> Trend:
    """The second half of the window against the first (see ``records.Trend``)."""
    if earlier == 0:
        return "new"
    if recent >= 1.5 * earlier:
        return "rising"
    if recent <= 0.5 * earlier:
        return "falling"
    return "steady"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def _topic(questions: Sequence[GapQuestion], halfway: datetime) -> Topic:
    """``questions`` nearest the centre first."""
    earlier = sum(1 for q in questions if q.created_at < halfway)
    examples: list[str] = []
    for q in questions:
        if (text := _short(q.question)) not in examples:
            examples.append(text)
        if len(examples) == EXAMPLES:
            break
    searched = Counter(c for q in questions for c in q.collections)
    return Topic(
        label=examples[0], questions=len(questions),
        refused=sum(1 for q in questions if q.refused),
        voted_down=sum(1 for q in questions if q.voted_down),
        earlier=earlier, recent=len(questions) - earlier,
        trend=trend(earlier, len(questions) - earlier),
        last_asked_at=max(q.created_at for q in questions), examples=examples,
        collections=[CollectionCount(name=name, questions=n) for name, n in
                     sorted(searched.items(), key=lambda item: (-item[1], item[0]))])


class GapService:
    def __init__(self, sessions: sessionmaker[Session], embedders: EmbedderPool,
                 access: AccessService, settings: GapSettings, *,
                 owned: Owned | None = None) -> None:
        self._sessions = sessions
        self._embedders = embedders
        self._access = access
        self._settings = settings
        self._owned = owned  # None: no owners rule yet, only admins get a report

    def scope(self, viewer: Principal) -> frozenset[str]:
        """The collections ``viewer``'s report covers; 403 if they own none they may read."""
        readable = self._access.readable(viewer)
        if viewer.is_admin:
            return readable
        owned = set(self._owned(viewer)) if self._owned is not None else set()
        covered = readable & owned
        if not covered:
            raise Forbidden("knowledge gaps are shown to admins and to the owners of a "
                            "collection; you own none", code="not_an_owner")
        return frozenset(covered)

    def report(self, viewer: Principal, query: GapQuery | None = None) -> GapReport:
        query = query or GapQuery()
        cfg = self._settings
        window = query.window_days or cfg.window_days
        uncited_days = query.uncited_days or cfg.uncited_days
        max_age = query.max_age_days or cfg.max_age_days
        scope = self.scope(viewer)
        now = utcnow()
        since = now - timedelta(days=window)
        with self._sessions() as session:
            forget_blanked(session)
            asked = gap_questions(session, scope, since, cfg.max_questions)
            vectors = question_vectors(session, asked, self._embedders.default)
            clusters = cluster(vectors, distance=cfg.distance)
            halfway = since + (now - since) / 2
            topics = [_topic([asked[i] for i in c.members], halfway)
                      for c in clusters[:MAX_TOPICS]]
            citations.refresh(session)
            uncited = documents.uncited(session, scope, now - timedelta(days=uncited_days),
                                        cfg.max_documents)
            old = documents.old(session, scope, now - timedelta(days=max_age),
                                cfg.max_documents)
            undated = documents.undated(session, scope)
        return GapReport(generated_at=now, window_days=window, uncited_days=uncited_days,
                         max_age_days=max_age, collections=sorted(scope),
                         questions=len(asked), topics=topics, uncited=uncited, old=old,
                         undated=undated)
