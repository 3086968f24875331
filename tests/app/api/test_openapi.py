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
