"""Settings keep their secrets: ``SecretStr`` fields and the database URL's password never show
in a repr, an error, the audit view or the audit trail, while the code that needs a secret
still reads it. And the descriptions say what a setting does, not what a benchmark measured."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from app.audit.log import to_jsonl
from app.core.settings import LLMSettings, ReviewSettings, Settings, shown_url
from app.wiring import Services

PG_URL = "postgresql+psycopg://u:hunter2@h/db"
API_KEY = "sk-live-0123456789abcdef"
WEBHOOK_KEY = "whsec-0123456789abcdef"


@pytest.fixture
def secret_settings() -> Settings:
    return Settings(database_url=PG_URL, llm=LLMSettings(api_key=API_KEY),
                    review=ReviewSettings(webhook_secret=WEBHOOK_KEY))


def test_the_database_password_is_hidden_in_the_audit_view(secret_settings: Settings) -> None:
    view = secret_settings.audit_view()
    assert view["database_url"] == "postgresql+psycopg://u:***@h/db"
    assert "hunter2" not in json.dumps(view)


def test_repr_and_str_show_no_secret(secret_settings: Settings) -> None:
    for shown in (repr(secret_settings), str(secret_settings)):
        assert "hunter2" not in shown and API_KEY not in shown and WEBHOOK_KEY not in shown
        assert "postgresql+psycopg://u:***@h/db" in shown
    assert API_KEY not in repr(secret_settings.llm)
    assert WEBHOOK_KEY not in repr(secret_settings.review)


def test_secrets_are_secret_str_and_still_readable(secret_settings: Settings) -> None:
    assert isinstance(secret_settings.llm.api_key, SecretStr)
    assert isinstance(secret_settings.review.webhook_secret, SecretStr)
    assert secret_settings.llm.api_key.get_secret_value() == API_KEY
    assert secret_settings.review.webhook_secret.get_secret_value() == WEBHOOK_KEY
    dumped = secret_settings.model_dump_json()
    assert API_KEY not in dumped and WEBHOOK_KEY not in dumped
    assert API_KEY not in json.dumps(secret_settings.audit_view())
    empty = Settings()
    assert empty.llm.api_key.get_secret_value() == ""
    assert not empty.review.webhook_secret  # an unset secret is falsy, as the str was


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAAGBAAK_LLM__API_KEY", API_KEY)
    monkeypatch.setenv("VRAAGBAAK_DATABASE_URL", PG_URL)
    settings = Settings()
    assert settings.llm.api_key.get_secret_value() == API_KEY
    assert settings.resolved_database_url == PG_URL  # the engine gets the real URL
    assert API_KEY not in repr(settings) and "hunter2" not in repr(settings)


def test_the_audit_trail_entry_shows_no_secret(services: Services,
                                               secret_settings: Settings) -> None:
    assert services.audit.record_settings(secret_settings.audit_view()) is not None
    trail = "".join(to_jsonl(services.audit.entries()))
    for secret in ("hunter2", API_KEY, WEBHOOK_KEY):
        assert secret not in trail
    entry = services.audit.latest("settings_changed")
    assert entry is not None
    logged = entry["details"]["settings"]
    assert logged["database_url"] == "postgresql+psycopg://u:***@h/db"
    assert logged["llm.api_key"] == logged["review.webhook_secret"] == "[redacted]"


@pytest.mark.parametrize("secret", ["", "change-me", "short-but-real"])
def test_production_refuses_a_placeholder_webhook_secret(secret: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production", database_url=PG_URL,
                 review={"webhook_urls": ["https://tickets.local/hook"],
                         "webhook_secret": secret})
    message = str(refused.value)
    assert "review.webhook_secret must be a real secret" in message
    assert "hunter2" not in message and (not secret or secret not in message)


def test_production_takes_a_real_webhook_secret_and_development_any() -> None:
    hooks = ["https://tickets.local/hook"]
    real = Settings(environment="production",
                    review={"webhook_urls": hooks, "webhook_secret": WEBHOOK_KEY})
    assert real.review.webhook_secret.get_secret_value() == WEBHOOK_KEY
    dev = Settings(review={"webhook_urls": hooks, "webhook_secret": "change-me"})
    assert dev.review.webhook_secret.get_secret_value() == "change-me"


def test_a_validation_error_does_not_echo_the_database_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAAGBAAK_DATABASE_URL", PG_URL)
    monkeypatch.setenv("VRAAGBAAK_AUTH__TOKEN_DAYS", "9999")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "auth.token_days" in str(refused.value) and "hunter2" not in str(refused.value)


@pytest.mark.parametrize(("url", "shown"), [
    ("", ""),
    ("sqlite:////srv/data/vraagbaak.db", "sqlite:////srv/data/vraagbaak.db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    (PG_URL, "postgresql+psycopg://u:***@h/db"),
    ("postgresql+psycopg://u:p%40ss:w@h:5433/db", "postgresql+psycopg://u:***@h:5433/db"),
])
def test_shown_url_hides_only_the_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_shown_url_hides_a_password_in_the_query_and_never_shows_nonsense() -> None:
    shown = shown_url("postgresql+psycopg://h/db?password=hunter2&sslmode=require")
    assert "hunter2" not in shown and "sslmode=require" in shown
    assert "hunter2" not in shown_url("not a url: u:hunter2@h")


MEASURED = re.compile(r"\d(\.\d+)?\s*[x×]\b|\bp\d\d\b|\d\s*(ms|s)\b|/s\b|>=\s*0\.\d")


def _descriptions(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, field in model.model_fields.items():
        out[prefix + name] = field.description or ""
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out |= _descriptions(kind, f"{prefix}{name}.")
    return out


def test_descriptions_say_what_a_setting_does_not_what_a_benchmark_measured() -> None:
    described = _descriptions(Settings)
    assert "llm.api_key" in described and "embedding_precision" in described
    measured = {k: d for k, d in described.items() if MEASURED.search(d)}
    assert measured == {}
    assert not MEASURED.search(Settings.__doc__ or "")
