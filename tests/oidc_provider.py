"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock`` (the
test extra) run as its own process on a free loopback port.

Any client id and secret are accepted; a test chooses a person's claims with
``set_claims`` (the provider's ``PUT /users/{sub}``) and signs in as them by submitting the
provider's form with that ``sub``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_provider(*args: str, host: str = "127.0.0.1") -> Iterator[str]:
    """Start the provider (nonces required, plus ``args``); yield its base URL, then stop it.
    ``host`` is the name the URL uses: "localhost" makes it another site than 127.0.0.1."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "-p", str(port),
                             "--require-nonce", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                httpx.get(url + "/.well-known/openid-configuration").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the OIDC provider did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def set_claims(provider: str, sub: str, **claims: Any) -> None:
    httpx.put(f"{provider}/users/{quote(sub)}", json=claims).raise_for_status()
