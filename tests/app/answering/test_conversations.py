"""Conversations: an agent's threads of answers, their owner's alone."""

from __future__ import annotations

import pytest

from app.core.errors import NotFound
from app.wiring import Services
from tests.access import make_user


def test_answers_filed_in_a_conversation_come_back_as_its_thread(indexed: Services) -> None:
    make_user(indexed, "ann", ["agent"])
    ann = indexed.identity.as_user("ann")
    started = indexed.conversations.start(ann, "What does VPN error NWL-VPN-809 mean?  ")
    assert started.title == "What does VPN error NWL-VPN-809 mean?"
    for question in ("What does VPN error NWL-VPN-809 mean?", "And printer error P-203?"):
        indexed.answers.answer(question, ["kb"], allowed={"kb"}, asker=ann,
                               conversation_id=started.conversation_id)
    indexed.answers.answer("Standalone?", ["kb"], allowed={"kb"}, asker=ann)
    thread = indexed.conversations.get(ann, started.conversation_id, readable={"kb"})
    assert [a.question for a in thread.thread] == ["What does VPN error NWL-VPN-809 mean?",
                                                   "And printer error P-203?"]
    assert [c.answers for c in indexed.conversations.mine(ann)] == [2]
    # a revoked grant hides its answers here too
    assert indexed.conversations.get(ann, started.conversation_id, readable=set()).thread == []


def test_someone_elses_conversation_is_a_404_and_the_owner_keeps_it(indexed: Services) -> None:
    make_user(indexed, "ann", ["agent"])
    make_user(indexed, "bob", ["agent", "admin"])
    ann, bob = indexed.identity.as_user("ann"), indexed.identity.as_user("bob")
    mine = indexed.conversations.start(ann, "mine").conversation_id
    for intrude in (lambda: indexed.conversations.get(bob, mine, readable={"kb"}),
                    lambda: indexed.conversations.touch(bob, mine),
                    lambda: indexed.conversations.delete(bob, mine)):
        with pytest.raises(NotFound):
            intrude()
    assert indexed.conversations.mine(bob) == []
    assert indexed.conversations.get(ann, mine, readable={"kb"}).title == "mine"


def test_a_deleted_conversation_is_gone_but_its_answers_stay(indexed: Services) -> None:
    make_user(indexed, "ann", ["agent"])
    ann = indexed.identity.as_user("ann")
    cid = indexed.conversations.start(ann, "short-lived").conversation_id
    answer = indexed.answers.answer("What does VPN error NWL-VPN-809 mean?", ["kb"],
                                    allowed={"kb"}, asker=ann, conversation_id=cid)
    indexed.conversations.delete(ann, cid)
    assert indexed.conversations.mine(ann) == []
    with pytest.raises(NotFound):
        indexed.conversations.touch(ann, cid)
    assert indexed.answers.get(answer.answer_id, readable={"kb"}, viewer=ann).answer_id
    assert indexed.audit.latest("conversation_deleted") is not None
