"""The one way the reliability tests talk to the HTTP API: a client that carries its credentials.

Every request goes through `ApiClient` with a bearer token: by default a test admin's, made by
tests/signin.py (the API's need-to-know rules, docs/security.md, decide what it sees).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from graph_service.app import create_app
from graph_service.settings import Settings
from tests.signin import token_for


class ApiClient:
    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                headers=self.headers)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers)


@contextmanager
def api_client(settings: Settings, token: str | None = None) -> Iterator[ApiClient]:
    """The app on `settings`, in process, with its startup and shutdown run; `token` defaults to a
    test admin's."""
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiClient(client, token or token_for(app.state.settings))
