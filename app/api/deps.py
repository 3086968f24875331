"""Shared dependencies as ``Annotated`` aliases.

``Readable`` is the single place that decides which collections the caller may read. Until
identities exist (the access-control issue) every caller may read every collection; that issue
replaces this one dependency and no route changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def readable_collections(services: ServicesDep) -> frozenset[str]:
    return services.collections.names()


Readable = Annotated[frozenset[str], Depends(readable_collections)]
