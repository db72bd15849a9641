"""A client of the provider service (`vssorch serve`), as the native provider talks to it."""
from __future__ import annotations

from orchestrator.service import Service
from orchestrator.service_client import HttpClient


def client_of(svc: Service) -> HttpClient:
    return HttpClient.from_token_file(svc.urls[0], svc.token_path)
