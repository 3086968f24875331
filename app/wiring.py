"""Wiring: build every service of one process from a ``Settings`` object.

``create_app`` calls this in its lifespan and the CLI calls it per command, so the HTTP API and
the CLI are two front doors over the same objects. Tests pass fakes for the heavy backends
(``embedder=``, ``llm=``); the defaults are the real local models, loaded lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.analytics.rollups import Rollups
from app.analytics.service import AnalyticsService
from app.answering.conversations import ConversationService
from app.answering.llm_worker import LLMWorker
from app.answering.records import AnswerDetail
from app.answering.service import AnswerService
from app.audit.log import AuditLog
from app.core.db import make_engine, migrate, session_factory
from app.core.principal import Principal
from app.core.settings import Settings
from app.evaluation.runs import EvalRunService
from app.feedback.handoffs import HandoffSender
from app.feedback.service import FeedbackService
from app.identity.access import AccessService
from app.identity.oidc import SingleSignOn
from app.identity.rate_limits import RateLimits
from app.identity.service import IdentityService
from app.identity.tokens import TokenService
from app.identity.users import UserService
from app.knowledge.collections import CollectionService
from app.knowledge.indexing import Indexer, IndexingConfig
from app.knowledge.jobs import JobRunner
from app.knowledge.originals import OriginalDocuments
from app.knowledge.search import SearchService, SnapshotStore
from app.knowledge_gaps.service import GapService
from app.knowledge_issues.owners import OwnerService
from app.knowledge_issues.service import KnowledgeIssueService
from app.metrics import Metrics
from app.notifications.service import NotificationService
from app.notifications.webhooks import NotificationWebhooks
from app.privacy.export import PrivacyExport
from app.privacy.retention import Retention, RetentionSchedule
from app.prompt_library.store import PromptStore
from app.pulse.service import PulseService
from app.review.drafts import DraftService
from app.review.queue import ReviewQueue
from app.review.stats import ReviewStats
from app.review.webhooks import WebhookSender
from models.embedder import EmbedderProtocol, SentenceTransformerEmbedder
from models.llm import LlamaCppLLM, LLMProtocol, OpenAICompatibleLLM
from models.pool import EmbedderPool
from prompts.registry import PromptRegistry


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    embedder: EmbedderProtocol
    embedders: EmbedderPool
    worker: LLMWorker
    prompts: PromptStore
    collections: CollectionService
    originals: OriginalDocuments
    indexer: Indexer
    jobs: JobRunner
    search: SearchService
    answers: AnswerService
    conversations: ConversationService
    feedback: FeedbackService
    handoffs: HandoffSender
    audit: AuditLog
    users: UserService
    identity: IdentityService
    sso: SingleSignOn | None  # None: no single sign-on configured (settings.oidc)
    access: AccessService
    limits: RateLimits
    drafts: DraftService
    review: ReviewQueue
    review_stats: ReviewStats
    webhooks: WebhookSender
    evals: EvalRunService
    metrics: Metrics
    owners: OwnerService
    issues: KnowledgeIssueService
    notifications: NotificationService
    notification_webhooks: NotificationWebhooks
    analytics: AnalyticsService
    pulse: PulseService
    retention: Retention
    retention_schedule: RetentionSchedule
    privacy: PrivacyExport
    gaps: GapService

    def warm_up(self) -> None:
        """Load the models now, so the first question doesn't pay for it."""
        self.embedder.embed(["warm-up"])
        load = getattr(self.worker.llm, "load", None)
        if callable(load):
            load()

    def close(self) -> None:
        self.evals.shutdown()
        self.webhooks.close()
        self.handoffs.close()
        self.notification_webhooks.close()
        self.retention_schedule.stop()
        self.jobs.shutdown()
        self.search.close()
        self.worker.stop()
        if self.sso is not None:
            self.sso.close()
        self.engine.dispose()


def build_llm(settings: Settings, model: str | None = None) -> LLMProtocol:
    """The configured LLM, or the same backend with another ``model`` (an evaluation run's)."""
    cfg = settings.llm
    if cfg.backend == "openai":
        return OpenAICompatibleLLM(cfg.base_url, model or cfg.model,
                                   api_key=cfg.api_key.get_secret_value(), timeout_s=cfg.timeout_s)
    return LlamaCppLLM(model or cfg.model, context_tokens=cfg.context_tokens,
                       threads=cfg.threads, extra_buffer_types=cfg.extra_buffer_types)


def build_services(settings: Settings, *, embedder: EmbedderProtocol | None = None,
                   llm: LLMProtocol | None = None,
                   embedder_factory: Callable[[str], EmbedderProtocol] | None = None,
                   ) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    def load_embedder(name: str) -> EmbedderProtocol:
        return SentenceTransformerEmbedder(name, batch_size=settings.embedding_batch_size,
                                           threads=settings.embedding_threads,
                                           precision=settings.embedding_precision)

    embedder = embedder or load_embedder(settings.embedding_model)
    embedders = EmbedderPool(embedder, embedder_factory or load_embedder)
    worker = LLMWorker(llm or build_llm(settings), queue_size=settings.llm.queue_size)
    indexer = Indexer(sessions, embedders,
                      IndexingConfig.of(settings.index_dir, settings.ingest))
    search = SearchService(sessions, embedders, SnapshotStore(settings.index_dir),
                           settings.retrieval)
    audit = AuditLog(sessions)
    prompts = PromptStore(sessions, audit, PromptRegistry(settings.prompt_library))
    prompts.seed()
    users = UserService(sessions)
    limits = RateLimits(chat=settings.auth.chat_rate, login=settings.auth.login_rate,
                        storage_uri=settings.rate_limit_storage)
    identity = IdentityService(
        users, TokenService(sessions, session_hours=settings.auth.session_hours), audit, limits)
    metrics = Metrics()
    metrics.watch(worker, sessions)
    answers = AnswerService(sessions, search, worker, prompts, embedders, settings, audit,
                            observe=metrics.answered)
    drafts = DraftService(sessions, answers, audit)
    webhooks = WebhookSender(sessions, settings.review, audit)
    handoffs = HandoffSender(sessions, settings.handoff, settings.review, audit)
    rollups = Rollups(sessions)

    def feedback_withdrawn(answer: AnswerDetail, giver: Principal) -> None:
        issues.feedback_withdrawn(answer, giver)  # its report leaves the open issue
        rollups.note_withdrawn(datetime.fromisoformat(answer.created_at))  # figures redo it

    retention = Retention(sessions, settings.privacy, audit)
    owners = OwnerService(sessions, audit)
    notification_webhooks = NotificationWebhooks(sessions, settings.knowledge_issues,
                                                 settings.review, audit)
    notifications = NotificationService(sessions, audit, notification_webhooks)
    issues = KnowledgeIssueService(sessions, audit, embedders, owners, notifications,
                                   settings.knowledge_issues)
    return Services(
        settings=settings, engine=engine, sessions=sessions, embedder=embedder,
        embedders=embedders, worker=worker,
        prompts=prompts, collections=CollectionService(sessions), indexer=indexer,
        originals=OriginalDocuments(sessions),
        jobs=JobRunner(sessions, indexer, audit, succeeded=issues.reindexed,
                       timing=settings.jobs), search=search,
        answers=answers,
        conversations=ConversationService(sessions, audit),
        feedback=FeedbackService(sessions, answers, audit, handoffs,
                                 observe=issues.feedback_given,
                                 withdrawn=feedback_withdrawn),
        handoffs=handoffs,
        audit=audit, users=users, identity=identity, access=AccessService(sessions),
        limits=limits, drafts=drafts, webhooks=webhooks,
        review=ReviewQueue(sessions, drafts, audit, webhooks,
                           claim_minutes=settings.review.claim_minutes,
                           observe=issues.draft_rejected),
        review_stats=ReviewStats(sessions),
        evals=EvalRunService(sessions, search, answers, prompts, audit, settings,
                             llm_factory=lambda model: build_llm(settings, model)),
        metrics=metrics,
        sso=SingleSignOn(settings.oidc, identity, audit) if settings.oidc.enabled else None,
        owners=owners, issues=issues, notifications=notifications,
        notification_webhooks=notification_webhooks,
        analytics=AnalyticsService(sessions, audit, settings.analytics),
        pulse=PulseService(sessions, settings.pulse, audit), retention=retention,
        retention_schedule=RetentionSchedule(retention, settings.privacy),
        privacy=PrivacyExport(sessions, users, audit),
        gaps=GapService(sessions, embedders, AccessService(sessions), settings.gaps,
                        owned=owners.collections_owned_by),
    )
