"""Helpers for tests that need a signed-in caller: real users and real API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from app.core.principal import Principal
from app.wiring import Services
from models.fakes import FakeLLM


def make_user(services: Services, username: str, roles: Iterable[str],
              teams: Iterable[str] = (), *, password: str | None = None) -> str:
    """Create a user (and missing teams) and return a fresh API token for them."""
    existing = {t.name for t in services.users.teams()}
    for team in teams:
        if team not in existing:
            services.users.create_team(team)
    services.users.create(username, roles=roles, teams=teams, password=password)
    token, _view = services.identity.tokens.create(
        services.users.get(username).id, name="test")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def eval_team(services: Services, collection: str = "kb") -> dict[str, str]:
    """Users admin, eva (evaluator of team eval) and agent (agent of team eval), with
    ``collection`` granted to team eval; returns their tokens."""
    tokens = {"admin": make_user(services, "admin", ["admin"]),
              "eva": make_user(services, "eva", ["evaluator"], ["eval"]),
              "agent": make_user(services, "agent", ["agent"], ["eval"])}
    services.access.set_grants(collection, teams=["eval"])
    return tokens


@dataclass
class Lab:
    """A running app with signed-up callers; test modules subclass it with their verbs."""

    client: TestClient
    services: Services
    llm: FakeLLM
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    def principal(self, who: str) -> Principal:
        return self.services.identity.as_user(who)

    def readable(self, who: str) -> frozenset[str]:
        return self.services.access.readable(self.principal(who))


def sign_in(client: TestClient, username: str = "tester",
            roles: Iterable[str] = ("agent", "admin")) -> Services:
    """Make ``client`` send a token of a new user with ``roles`` on every request."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    client.headers.update(bearer(make_user(services, username, roles)))
    return services


def served_routes(client: TestClient) -> set[tuple[str, str]]:
    """(METHOD, path template) of every API route, from the OpenAPI schema: FastAPI wraps
    included routers, so ``app.routes`` alone doesn't list them."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert len(routes) > 40, "the schema lists the routes"
    return routes


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """An error body without its ``request_id``, which differs on every request: what two
    answers that must look the same (a wrong password, an unknown user) are compared on."""
    return {"error": {k: v for k, v in body["error"].items() if k != "request_id"}}
