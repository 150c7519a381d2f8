"""Audit test fixtures: a throwaway signing key per test, and auditors."""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.conftest import make_user
from shanzhi.core.tokens import token_create


@pytest.fixture(autouse=True)
def audit_key_path(settings: Any, tmp_path: Any, monkeypatch: Any) -> Any:
    monkeypatch.delenv("AUDIT_SIGNING_KEY", raising=False)
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "keys" / "audit_ed25519.pem"
    return settings.AUDIT_SIGNING_KEY_PATH


@pytest.fixture
def auditor(county: Any) -> Any:
    return make_user(username="t-auditor", region=county.county, roles=["auditor"])


@pytest.fixture
def auditor_api(client: Any, auditor: Any, admin_user: Any) -> Any:
    """A test client that authenticates with an auditor's bearer token (no session)."""
    _, plain = token_create(actor=admin_user, user=auditor, name="audit-test")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    return client
