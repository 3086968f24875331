"""A real server on a free loopback port and Debian's Chromium driven by Playwright.

The server is the app as ``vraagbaak serve`` builds it (uvicorn, the lifespan, the worker
threads), in a thread of the test process so a test can seed users and collections through
the same services. Screenshots of every page a test visits land in ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from app.core.settings import RetrievalSettings, Settings
from app.main import create_app
from app.wiring import Services
from models.embedder import EmbedderProtocol
from models.fakes import FakeEmbedder, FakeLLM
from models.llm import LLMProtocol
from tests.conftest import write_kb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PASSWORD = "correct horse battery staple"


@dataclass
class LiveServer:
    url: str
    services: Services

    def user(self, username: str, *roles: str) -> str:
        self.services.users.create(username, roles=list(roles), password=PASSWORD)
        return username


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, *, embedder: EmbedderProtocol | None = None,
                 llm: LLMProtocol | None = None) -> Iterator[LiveServer]:
    app = create_app(settings, embedder=embedder, llm=llm)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app.state.services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def web_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", warm_up=False,
                    retrieval=RetrievalSettings(min_dense_score=0.2))


def agent_server(tmp_path: Path, reply: str) -> Iterator[LiveServer]:
    """A live server with fake models over one collection everyone reads ("kb", the small
    test knowledge base), an agent "ann", and an LLM that always says ``reply``."""
    for live in start_server(web_settings(tmp_path), embedder=FakeEmbedder(),
                             llm=FakeLLM([reply])):
        s = live.services
        s.collections.upsert("kb", write_kb(tmp_path / "kb"), "en")
        s.indexer.sync("kb")
        s.access.set_grants("kb", everyone=True)
        live.user("ann", "agent")
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    opened = context.new_page()
    problems: list[str] = []
    # a CSP violation, a script error or a missing asset fails the test; a page answering
    # 401 or 404 on purpose is the test's own business (the browser logs it as an error too)
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error"
              and not m.text.startswith("Failed to load resource") else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.on("response", lambda r: problems.append(f"{r.status} {r.url}")
              if r.status >= 400 and "/static/" in r.url else None)
    yield opened
    context.close()
    assert not problems, problems


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(AXE.read_text())  # through DevTools: the page CSP still forbids inline script
    result = page.evaluate("async () => (await axe.run(document)).violations"
                           ".filter(v => ['serious', 'critical'].includes(v.impact))"
                           ".map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))")
    return list(result)
