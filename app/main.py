"""``create_app``: the FastAPI application. Everything heavy is built in the lifespan, so
importing this module is cheap and tests can build as many isolated apps as they like."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api import errors
from app.api.body_limit import BodyLimit
from app.api.request_ids import RequestIds
from app.api.request_metrics import RequestMetrics
from app.api.routes import (
    admin,
    analytics,
    audit,
    auth,
    chat,
    conversations,
    drafts,
    evals,
    feedback,
    handoffs,
    health,
    knowledge,
    knowledge_gaps,
    metrics,
    notifications,
    openai,
    owners,
    privacy,
    prompts,
    pulse,
    review,
    search,
    users,
)
from app.core.settings import Settings
from app.web import errors as web_errors
from app.web.routes import admin as admin_pages
from app.web.routes import admin_audit, admin_people, answer_feedback, ask, signin
from app.web.routes import analytics as analytics_pages
from app.web.routes import drafts as drafts_pages
from app.web.routes import evaluation as evaluation_pages
from app.web.routes import knowledge as knowledge_pages
from app.web.routes import knowledge_gaps as gaps_pages
from app.web.routes import notifications as notification_pages
from app.web.routes import oidc as oidc_pages
from app.web.routes import pulse as pulse_pages
from app.web.routes import review as review_pages
from app.web.security import SecurityHeaders
from app.wiring import build_services
from models.embedder import EmbedderProtocol
from models.llm import LLMProtocol

STATIC = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None, *, embedder: EmbedderProtocol | None = None,
               llm: LLMProtocol | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, embedder=embedder, llm=llm)
        # claim queued jobs and take over those whose process died (any replica may)
        services.jobs.start_polling()
        services.evals.start_polling()
        services.audit.record_settings(settings.audit_view())
        if settings.warm_up:
            services.warm_up()
        services.worker.start()
        services.webhooks.start()
        services.handoffs.start()
        services.notification_webhooks.start()
        services.retention_schedule.start()
        app.state.services = services
        try:
            yield
        finally:
            # both kinds of job stop at once (a re-index mid-parse kills its parse child), so
            # shutdown waits for the slower of them, not for one after the other
            services.jobs.stop()
            services.evals.stop()
            services.close()

    app = FastAPI(
        title="Vraagbaak",
        version="0.1.0",
        description="On-premises knowledge assistant: cited answers from internal documents.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.auth.max_body_kb * 1024)
    for module in (health, auth, search, chat, feedback, handoffs, conversations, openai,
                   drafts, review, evals, prompts, admin, users, audit, metrics, pulse,
                   privacy):
        app.include_router(module.router)
    for module in (owners, knowledge, notifications):  # knowledge owners and issues
        app.include_router(module.router)
    app.include_router(knowledge_gaps.router)
    app.include_router(analytics.router)
    web_errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)  # its time includes the other middleware
    app.add_middleware(RequestIds)  # outermost: every response and log line has the id
    app.include_router(gaps_pages.router)  # before any /knowledge/{id} page of the issues
    for page in (signin, oidc_pages, ask, answer_feedback, drafts_pages, review_pages, admin_pages,
                 admin_people, admin_audit, evaluation_pages, pulse_pages):
        app.include_router(page.router)
    for page in (knowledge_pages, notification_pages):  # knowledge issues, notifications
        app.include_router(page.router)
    app.include_router(analytics_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
