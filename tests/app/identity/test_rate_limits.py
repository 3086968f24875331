"""Rate limits shared through Redis: two limiters (as two server processes would have) that name
one Redis share each caller's budget; in memory each keeps its own. An unreachable Redis stops
the start with one line, never a quiet fall-back to per-process limits.

Needs the Redis at 127.0.0.1:6379 (skipped with the reason when it doesn't answer). Each test
uses database 15 under keys of its own and deletes them afterwards, so no test reads another's
(or an earlier run's) leftovers.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from app.cli.main import main
from app.core.errors import RateLimited, Unavailable
from app.core.settings import AuthSettings, RetrievalSettings, Settings
from app.identity.rate_limits import RateLimits
from app.main import create_app
from app.wiring import Services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user

REDIS = "redis://127.0.0.1:6379/15"
NOBODY_LISTENS = "redis://127.0.0.1:1/0"


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS} ({exc}): start redis-server to run this test")
    return client


def _drop(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; its keys are gone afterwards."""
    _redis()
    name = f"vraagbaak-test-{uuid.uuid4().hex}"
    yield name
    _drop(name)


def limiter(prefix: str, uri: str = REDIS) -> RateLimits:
    return RateLimits(chat="3/minute", login="2/minute", storage_uri=uri, key_prefix=prefix)


def test_two_limiters_on_one_redis_share_the_budget(prefix: str) -> None:
    a, b = limiter(prefix), limiter(prefix)
    a.hit("chat", "token-1")
    a.hit("chat", "token-1")
    b.hit("chat", "token-1")  # the third: b sees a's two
    with pytest.raises(RateLimited) as refused:
        b.hit("chat", "token-1")
    assert refused.value.retry_after >= 1
    with pytest.raises(RateLimited):
        a.hit("chat", "token-1")
    b.hit("chat", "token-2")  # another caller has its own budget
    a.hit("login", "token-1")  # and another kind its own window


def test_a_reset_in_one_process_is_seen_by_the_other(prefix: str) -> None:
    a, b = limiter(prefix), limiter(prefix)
    a.hit("login", "alice")
    a.hit("login", "alice")
    with pytest.raises(RateLimited):
        b.hit("login", "alice")
    b.reset("login", "alice")  # a successful sign-in on b
    a.hit("login", "alice")


def test_limiters_in_memory_keep_their_own_budget() -> None:
    a, b = (RateLimits(chat="1/minute", login="1/minute") for _ in range(2))
    a.hit("chat", "token-1")
    b.hit("chat", "token-1")
    with pytest.raises(RateLimited):
        a.hit("chat", "token-1")


def test_an_unreachable_redis_is_refused_at_start() -> None:
    with pytest.raises(Unavailable, match="does not answer"):
        limiter("unused", NOBODY_LISTENS)


def test_the_storage_url_is_checked_and_shown_without_its_password() -> None:
    with pytest.raises(ValueError, match="rate_limit_storage"):
        Settings(rate_limit_storage="memcached://127.0.0.1:11211")
    settings = Settings(rate_limit_storage="redis://:hunter2hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in repr(settings)
    assert settings.audit_view()["rate_limit_storage"] == "redis://:***@127.0.0.1:6379/0"


def test_the_setting_is_read_from_its_environment_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAAGBAAK_RATE_LIMIT_STORAGE", REDIS)
    assert Settings().rate_limit_storage == REDIS


def test_serve_with_an_unreachable_redis_stops_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VRAAGBAAK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VRAAGBAAK_RATE_LIMIT_STORAGE", NOBODY_LISTENS)
    monkeypatch.setattr(sys, "argv", ["vraagbaak", "serve", "--port", "1"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.startswith("error: rate limit storage redis://127.0.0.1:1/0 does not answer")
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2  # rich may wrap


def test_two_apps_on_one_redis_share_the_chat_limit(tmp_path: Path, kb: Path,
                                                     fake_llm: FakeLLM) -> None:
    """Two app instances (two replicas) on one database and one Redis: a token's third
    question through either is the last; the fourth is refused by both. The keys name the
    tokens' random ids, so no earlier run's window is counted; they are deleted afterwards."""
    client = _redis()
    before = set(client.scan_iter(match="vraagbaak*"))
    settings = Settings(data_dir=tmp_path / "data", rate_limit_storage=REDIS,
                        retrieval=RetrievalSettings(min_dense_score=0.2),
                        auth=AuthSettings(chat_rate="3/minute"))
    q = {"question": "VPN error NWL-VPN-809"}
    try:
        with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=fake_llm),
                        raise_server_exceptions=False) as one, \
                TestClient(create_app(settings, embedder=FakeEmbedder(), llm=fake_llm),
                           raise_server_exceptions=False) as two:
            services: Services = one.app.state.services  # type: ignore[attr-defined]
            services.collections.upsert("kb", kb, "en")
            services.indexer.sync("kb")
            services.access.set_grants("kb", everyone=True)
            token = bearer(make_user(services, "alice", ["agent"]))
            other = bearer(make_user(services, "bob", ["agent"]))
            codes = [c.post("/v1/chat", json=q, headers=token).status_code
                     for c in (one, two, one, two, one)]
            assert codes == [200, 200, 200, 429, 429]
            assert two.post("/v1/chat", json=q, headers=other).status_code == 200
    finally:
        made = set(client.scan_iter(match="vraagbaak*")) - before
        if made:
            client.delete(*made)


def test_a_redis_that_goes_away_later_answers_503_not_a_free_pass(tmp_path: Path) -> None:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed: this test starts and kills its own")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        uri = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(uri).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        limits = limiter("gone", uri)
        limits.hit("chat", "token-1")
    finally:
        proc.kill()
        proc.wait()
    with pytest.raises(Unavailable) as refused:
        limits.hit("chat", "token-1")
    assert refused.value.status == 503
    assert refused.value.code == "rate_limit_storage_unavailable"
    limits.reset("login", "alice")  # a sign-in that just succeeded still succeeds
