"""The optional notification webhook: a resolved issue's notification is also POSTed, signed,
to a real HTTP receiver on 127.0.0.1, retried until delivered, audited, with no question or
answer text in it. (Without receivers nothing is queued: ``tests/app/knowledge_issues``.)
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from app.core.settings import KnowledgeIssueSettings, ReviewSettings, Settings
from app.review.webhooks import verify_signature
from app.wiring import Services
from tests.app.knowledge_issues.test_service import EVERYONE, company, last, thumbs_down, who
from tests.app.review.test_webhooks import Receiver

__all__ = ["company"]  # the fixture, shared with the issue tests
SECRET = "notification-secret-0123"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    built = Receiver(answers=[500, 200])
    yield built
    built.close()


@pytest.fixture
def settings(db_settings: Settings, receiver: Receiver) -> Settings:
    return db_settings.model_copy(update={
        "knowledge_issues": KnowledgeIssueSettings(webhook_urls=[receiver.url],
                                                   webhook_secret=SECRET),
        "review": ReviewSettings(webhook_max_attempts=3, webhook_backoff_s=0.01,
                                 webhook_timeout_s=2.0)})


def _resolved(s: Services) -> str:
    thumbs_down(s, "ann", comment="a remark")
    olga = who(s, "olga")
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    s.issues.resolve(issue.issue_id, olga, "works_as_intended", "The page is right.",
                     readable=EVERYONE)
    return issue.issue_id


def test_a_notification_is_posted_signed_and_retried_until_delivered(
        company: Services, receiver: Receiver) -> None:
    s = company
    s.notification_webhooks.stop()  # the test drives the deliveries itself
    issue_id = _resolved(s)
    assert s.notification_webhooks.deliver_due() == 1  # the receiver answers 500 first
    assert last(s, "notification_webhook_retrying") is not None
    time.sleep(0.05)
    assert s.notification_webhooks.deliver_due() == 1
    assert [r.method for r in receiver.requests] == ["POST", "POST"]
    sent = receiver.requests[-1]
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert verify_signature(SECRET, headers["x-vraagbaak-timestamp"], sent.body,
                            headers["x-vraagbaak-signature"])
    assert headers["x-vraagbaak-event"] == "notification.created"
    body = json.loads(sent.body)
    [note] = s.notifications.mine(who(s, "ann"), readable=EVERYONE).notifications
    assert {k: body[k] for k in ("event", "notification_id", "user", "issue_id", "resolution",
                                 "reason", "resolved_by")} == {
        "event": "notification.created", "notification_id": note.notification_id,
        "user": "ann", "issue_id": issue_id, "resolution": "works_as_intended",
        "reason": "The page is right.", "resolved_by": "olga"}
    assert "NWL-VPN-809" not in sent.body.decode() and "a remark" not in sent.body.decode()
    delivered = last(s, "notification_webhook_delivered")
    assert delivered is not None and delivered["target"] == note.notification_id
    assert s.notification_webhooks.deliver_due() == 0  # delivered once, not again

