"""``Principal``: who is making a request, as every service sees it.

How the caller proved it (API token, sign-in session, the server's own command line, or an
OIDC provider later) is recorded in ``via`` and matters nowhere else: services take a
``Principal`` and never look at headers or cookies.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import Literal

Via = Literal["token", "session", "cli"]
"""How the caller proved who they are: an API token, a sign-in session, or the server's own
command line."""


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    roles: frozenset[str]
    teams: frozenset[str] = field(default_factory=frozenset)
    via: Via = "token"
    credential_id: str | None = None  # the token or session id: the rate-limit key

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has(self, role: str) -> bool:
        """Admins hold every role."""
        return self.is_admin or role in self.roles

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return self.username

    @classmethod
    def operator(cls) -> Principal:
        """The person at the server's command line: it can read the database file anyway, so
        it acts as an admin, and the audit trail names the operating-system account."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = os.environ.get("USER", "unknown")
        return cls(user_id=None, username=f"cli:{name}", roles=frozenset({"admin"}), via="cli")
