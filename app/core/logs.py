"""Log configuration for ``vraagbaak serve``: plain text for a person at a terminal, or one
JSON object per line for a log shipper (``VRAAGBAAK_LOG_FORMAT=json``). Either way every line
carries the request id (``app.api.request_ids``), so an error body's ``request_id`` finds its
log lines. The JSON lines come from python-json-logger, not a home-made formatter.

It is a ``logging.config.dictConfig`` dictionary handed to uvicorn, so uvicorn's own loggers
(start-up, access log) are formatted the same way as the app's.
"""

from __future__ import annotations

from typing import Any, Literal

LogFormat = Literal["text", "json"]

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def log_config(fmt: LogFormat, level: str = "INFO") -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FIELDS,
         "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
         "timestamp": False}
        if fmt == "json" else {"format": TEXT})
    handler = {"class": "logging.StreamHandler", "formatter": "main",
               "filters": ["request_id"], "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "app.api.request_ids.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "loggers": {
            "vraagbaak": {"handlers": ["main"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["main"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["main"], "level": level, "propagate": False},
        },
    }
