"""A small company for access tests: two teams, a collection each, and one caller per kind.

team-a reads ``kb-a`` (VPN and printers); team-b reads ``kb-b`` (the vault playbook, which
holds the canary). Callers: anonymous, agent of A, agent of B, an agent in both teams, a
reviewer and an evaluator of A, an admin, and agents of A whose token is revoked or expired.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.core.settings import Settings
from app.core.tables import utcnow
from app.identity.tables import ApiToken
from app.main import create_app
from app.wiring import Services
from eval.runner import RunConfig
from models.fakes import FakeEmbedder
from models.llm import LLMProtocol
from tests.access import bearer, make_user
from tests.conftest import write_kb

CANARY = "ZEBRA-CANARY-7731"
KB_A = {
    "vpn.md": "# VPN guide\n\n## Error codes\n\nVPN error NWL-VPN-809 means the device "
              "certificate expired. Reconnect on the office network to renew it.\n",
    "printers.md": "# Printers\n\nPrinter error P-203 means a paper jam in tray 2. Open door "
                   "B and remove the paper.\n",
    "vault-basics.md": "# Vault visits\n\nThe basement vault is managed by facilities. "
                       "Visitors sign the vault door register at reception first.\n",
}
KB_B = {
    "vault.md": "# Vault door\n\nThe basement vault door code is " + CANARY + ", kept by "
                "facilities. Change the vault door code every quarter.\n",
    "contracts.txt": "Customer contracts\n\nContract renewals for Acme Corp are due in "
                     "March. Discounts above 15 percent need the CFO.\n",
}
CALLERS = ("anonymous", "agent_a", "agent_b", "agent_ab", "reviewer", "evaluator", "admin",
           "revoked", "expired")


@dataclass
class World:
    client: TestClient
    services: Services
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        return {} if caller == "anonymous" else bearer(self.tokens[caller])

    def as_(self, caller: str) -> TestClient:
        """The client with ``caller``'s credentials on every request."""
        self.client.headers.clear()
        self.client.headers.update(self.headers(caller))
        return self.client


@contextmanager
def build_world(settings: Settings, root: Path, llm: LLMProtocol) -> Iterator[World]:
    app = create_app(settings, embedder=FakeEmbedder(), llm=llm)
    with TestClient(app, raise_server_exceptions=False) as client:
        services: Services = app.state.services
        for name, files in (("kb-a", KB_A), ("kb-b", KB_B)):
            services.collections.upsert(name, write_kb(root / name, files), "en")
            services.indexer.sync(name)
        world = World(client, services)
        users = {
            "agent_a": (["agent"], ["team-a"]), "agent_b": (["agent"], ["team-b"]),
            "agent_ab": (["agent"], ["team-a", "team-b"]),
            "reviewer": (["reviewer"], ["team-a"]), "evaluator": (["evaluator"], ["team-a"]),
            "admin": (["admin"], []), "revoked": (["agent"], ["team-a"]),
            "expired": (["agent"], ["team-a"]),
        }
        for name, (roles, teams) in users.items():
            world.tokens[name] = make_user(services, name, roles, teams)
            _token, spare = services.identity.tokens.create(services.users.get(name).id)
            world.ids[f"spare_{name}"] = spare.id  # for routes that revoke a token
        services.access.set_grants("kb-a", teams=["team-a"])
        services.access.set_grants("kb-b", teams=["team-b"])
        for name in ("revoked", "expired"):
            token_id = services.identity.tokens.list(
                services.users.get(name).id)[0].id
            if name == "revoked":
                services.identity.tokens.revoke(token_id)
            else:
                with services.sessions() as s:
                    s.execute(update(ApiToken).where(ApiToken.id == token_id)
                              .values(expires_at=utcnow() - timedelta(minutes=1)))
                    s.commit()
        for who, coll in (("agent_a", "kb-a"), ("agent_b", "kb-b")):
            r = world.as_(who).post("/v1/chat", json={"question": "vault door code",
                                                      "collections": [coll]})
            assert r.status_code == 200, r.text
            world.ids[f"answer_{who}"] = r.json()["answer_id"]
            r = world.as_(who).post("/v1/drafts", json={"question": "vault visit rules",
                                                        "collections": [coll]})
            assert r.status_code == 201, r.text
            world.ids[f"draft_{who}"] = r.json()["draft_id"]
        admin = services.identity.as_user("admin")
        for coll in ("kb-a", "kb-b"):  # a retrieval-only eval run over each collection
            name = f"set-{coll[-1]}"
            services.evals.upload_set(admin, name, json.dumps({
                "id": "q1", "question": "vault visits", "collections": [coll],
                "expected_documents": ["vault-basics.md" if coll == "kb-a" else "vault.md"],
                "key_facts": [], "must_refuse": False, "tags": []}))
            run = services.evals.start(admin, name, RunConfig(retrieval_only=True),
                                       readable={"kb-a", "kb-b"}, wait=True)
            world.ids[f"run_{coll[-1]}"] = run.id
        yield world
