"""Every response names its request (``X-Request-ID``), every error body repeats the id, and
the server's log lines carry it, in text and in JSON: a person quoting the id of an error finds
the operator the right lines."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from fastapi.testclient import TestClient

from app.api.request_ids import RequestIdFilter, current
from app.core.logs import log_config


def test_an_error_body_names_the_request_of_its_header(client: TestClient) -> None:
    r = client.get("/v1/search", params={"q": "vpn", "k": "ten"})
    assert r.status_code == 422
    rid = r.headers["x-request-id"]
    assert len(rid) == 32 and r.json()["error"]["request_id"] == rid
    again = client.get("/v1/search", params={"q": "vpn", "k": "ten"})
    assert again.headers["x-request-id"] != rid  # one id per request


def test_a_success_has_the_header_and_a_proxys_id_is_kept(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.19"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "lb-7f3a.19"


@pytest.mark.parametrize("given", [b"", b"a b", b"x" * 65, "evil\u00e9".encode("latin-1"),
                                   b"id\\n", b"<script>"])
def test_an_unusable_incoming_id_is_replaced(client: TestClient, given: bytes) -> None:
    r = client.get("/v1/nothing-here", headers={b"X-Request-ID": given})
    assert r.status_code == 404
    rid = r.headers["x-request-id"]
    assert rid.encode() != given and len(rid) == 32
    assert r.json()["error"]["request_id"] == rid


def test_a_too_large_body_and_a_page_error_carry_it_too(client: TestClient) -> None:
    r = client.post("/v1/chat", content=b"x" * (2 * 1024 * 1024),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]
    page = client.get("/admin/collections/none-such", follow_redirects=False)
    assert "x-request-id" in page.headers


def _log_through(fmt: str) -> str:
    """One warning logged inside a request's context, formatted as ``vraagbaak serve`` does."""
    config = log_config("json" if fmt == "json" else "text")
    stream = io.StringIO()
    config["handlers"]["main"]["stream"] = stream
    logger = logging.getLogger("vraagbaak.test-request-ids")
    before = logging.getLogger("vraagbaak").handlers[:], logging.getLogger("vraagbaak").level
    logging.config.dictConfig(config)
    try:
        token = current.set("req-42")
        try:
            logger.warning("model queue full")
        finally:
            current.reset(token)
        logger.warning("outside a request")
    finally:
        root = logging.getLogger("vraagbaak")
        root.handlers[:] = before[0]
        root.setLevel(before[1])
        root.propagate = True
    return stream.getvalue()


def test_text_log_lines_carry_the_request_id() -> None:
    first, second = _log_through("text").splitlines()
    assert "[req-42] model queue full" in first and "WARNING" in first
    assert "[-] outside a request" in second


def test_json_log_lines_are_one_object_each_with_the_request_id() -> None:
    first, second = (json.loads(line) for line in _log_through("json").splitlines())
    assert first["request_id"] == "req-42" and first["message"] == "model queue full"
    assert first["level"] == "WARNING" and first["logger"] == "vraagbaak.test-request-ids"
    assert "time" in first
    assert second["request_id"] == "-"


def test_the_filter_adds_the_field_to_any_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(record) and getattr(record, "request_id", None) == "-"
