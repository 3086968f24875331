"""``GET /metrics``: the process's figures in the Prometheus text format (``app.metrics``).

Off (404) unless ``metrics_token`` is set; then a scraper sends it as a bearer token
(``authorization: {type: Bearer, credentials: ...}`` in Prometheus' scrape config). The
figures carry no collection or user names, but request rates and queue sizes are still not
for everyone. Outside ``/v1`` like the health checks, and not in the OpenAPI schema: its body
is Prometheus' format, not JSON.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import ServicesDep
from app.core.errors import NotFound, Unauthorized

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(services: ServicesDep,
            authorization: Annotated[str, Header()] = "") -> Response:
    expected = services.settings.metrics_token.get_secret_value()
    if not expected:
        raise NotFound("not found")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             expected.encode()):
        raise Unauthorized("GET /metrics needs the metrics token as a bearer token")
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
