"""`/openapi.json` is a contract: JSON responses name their schema, for generated clients."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from models.fakes import FakeEmbedder, FakeLLM


def json_2xx_responses(spec: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(method, path, names a schema) for every JSON 2xx response in the spec."""
    rows = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for code, response in op.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if not code.startswith("2") or content is None:
                    continue
                schema = content.get("schema", {})
                named = "$ref" in schema or "$ref" in schema.get("items", {})
                rows.append((method.upper(), path, named))
    return rows


def spec(settings: Settings) -> dict[str, Any]:
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=FakeLLM())) as client:
        return dict(client.get("/openapi.json").json())


def spec_operations(settings: Settings) -> set[str]:
    """Every operation of the spec as schemathesis names it: "GET /v1/search"."""
    return {f"{method.upper()} {path}" for path, operations in spec(settings)["paths"].items()
            for method in operations}


def test_every_error_answer_is_declared_as_the_one_error_body(settings: Settings) -> None:
    """4xx and 5xx are ``{"error": {"code", "message"}}`` (``ErrorBody``), as
    ``app.api.errors`` makes them; FastAPI's own ``HTTPValidationError`` is never claimed."""
    document = spec(settings)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    undeclared, other = [], []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            declared = op["responses"]
            if path.startswith("/v1/") and path != "/v1/auth/login" and "401" not in declared:
                undeclared.append(f"{method.upper()} {path}: 401")
            if (op.get("parameters") or "requestBody" in op) and "422" not in declared:
                undeclared.append(f"{method.upper()} {path}: 422")
            for status, response in declared.items():
                if status[0] not in "45" or (path, status) == ("/readyz", "503"):
                    continue
                if response.get("content") != {"application/json": {"schema": error_body}}:
                    other.append(f"{method.upper()} {path} {status}: {response.get('content')}")
    assert undeclared == [] and other == [], (undeclared, other)


def test_at_least_nine_in_ten_json_responses_name_a_schema(settings: Settings) -> None:
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=FakeLLM())) as client:
        rows = json_2xx_responses(client.get("/openapi.json").json())
    unnamed = [f"{m} {p}" for m, p, named in rows if not named]
    assert len(rows) >= 50
    assert len(unnamed) <= len(rows) // 10, unnamed


def test_the_answer_schema_names_its_parts(settings: Settings) -> None:
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=FakeLLM())) as client:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Answer", "Citation", "Sentence", "Draft", "Job", "EvalRun", "PromptVersion",
                 "User", "Token"):
        assert name in schemas, name
