"""``/v1/conversations``: an agent's threads. ``POST /v1/chat`` with ``conversation_id`` files an
answer in one; only its owner ever sees it (anyone else: 404)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.answering.conversations import Conversation, ConversationSummary
from app.api.deps import Agent, Readable, ServicesDep
from app.api.schemas.conversations import ConversationList, ConversationStart
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.rules import Id

router = APIRouter(prefix="/v1/conversations", tags=["chat"], responses=WITH_ROLE)


@router.post("", status_code=201, responses=JSON_BODY)
def start(body: ConversationStart, services: ServicesDep, agent: Agent) -> ConversationSummary:
    return services.conversations.start(agent, body.title)


@router.get("")
def mine(services: ServicesDep, agent: Agent) -> ConversationList:
    """Your latest 50 conversations, most recently used first."""
    return ConversationList(conversations=services.conversations.mine(agent))


@router.get("/{conversation_id}", responses=errors(404, 422))
def get(conversation_id: Id, services: ServicesDep, agent: Agent,
        readable: Readable) -> Conversation:
    """The thread, oldest answer first (answers on collections you no longer read are left out)."""
    return services.conversations.get(agent, conversation_id, readable=readable)


@router.delete("/{conversation_id}", status_code=204, responses=errors(404, 422))
def delete(conversation_id: Id, services: ServicesDep, agent: Agent) -> Response:
    services.conversations.delete(agent, conversation_id)
    return Response(status_code=204)
