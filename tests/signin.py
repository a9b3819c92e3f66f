"""How tests authenticate: the one place that makes users and tokens for them.

API tests open their client with `signed_in(app)` (an admin of agency TEST unless told otherwise);
browser tests open the viewer at `viewer_url(settings)`, which hands the page a token the way
`gracegraph demo` does (in the URL fragment).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from graph_service.auth import AuthStore, Role
from graph_service.settings import Settings

TEST_AGENCY = "TEST"


def token_for(settings: Settings, user: str = "test-admin", agency: str = TEST_AGENCY,
              role: Role = Role.ADMIN) -> str:
    """A fresh token of `user` (made, in `agency` with `role`, if new) in the settings' auth store."""
    store = AuthStore.of(settings)
    store.ensure_user(user, agency, role)
    # The auth store lives for the whole session: a name reused with another agency would quietly
    # keep the first one's, and a test would ask as someone else.
    assert store.user(user) == (agency, role), f"test user {user!r} exists as {store.user(user)}"
    return store.issue_token(user)


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(app: FastAPI, user: str = "test-admin", agency: str = TEST_AGENCY, role: Role = Role.ADMIN) -> TestClient:
    """A TestClient of `app` whose every request carries a token of `user` (use it in a `with`)."""
    return TestClient(app, headers=auth_header(token_for(app.state.settings, user, agency, role)))


def viewer_path(settings: Settings, path: str = "/", user: str = "test-admin") -> str:
    """`path` with a token of `user` (an admin) in its fragment, as `gracegraph demo` prints it."""
    return f"{path}#token={token_for(settings, user)}"
