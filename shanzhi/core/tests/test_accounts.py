"""Accounts: API tokens from the command line, password hashing, login lock-out, masked profile."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import CommandError, call_command
from django.urls import reverse

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import PASSWORD, make_user
from shanzhi.core.models import ApiToken
from shanzhi.core.services import staff_create

ME = "/api/v1/core/me"


def run_token(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


# --- API tokens -----------------------------------------------------------------------------------


def test_created_token_authenticates_the_api(client, user_a):
    out, err = run_token("create", "--user", "t-town-a", "--name", "12345-gateway")
    plain = out.strip()
    assert plain.startswith("sz_") and len(plain) > 40
    assert plain not in err  # the advice names the prefix only
    assert plain[:8] in err
    response = client.get(ME, headers=bearer(plain))
    assert response.status_code == 200
    assert response.json()["username"] == "t-town-a"
    assert response.json()["region_code"] == "331199101000"
    token = ApiToken.objects.get()
    assert token.name == "12345-gateway"
    assert token.last_used_at is not None
    assert AuditEntry.objects.filter(action="token.create").count() == 1


def test_list_shows_prefixes_only_and_revoke_stops_the_token(client, user_a):
    plain = run_token("create", "--user", "t-town-a")[0].strip()
    listed = run_token("list", "--user", "t-town-a")[0]
    assert plain[:8] in listed
    assert plain not in listed
    assert "有效" in listed

    out, _ = run_token("revoke", plain[:8])
    assert "已吊销" in out
    assert_unauthenticated(client.get(ME, headers=bearer(plain)))
    assert "已吊销" in run_token("list", "--user", "t-town-a")[0]
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1
    with pytest.raises(CommandError):
        run_token("revoke", plain[:8])  # nothing active left under that prefix


def test_command_refuses_unknown_users(db):
    with pytest.raises(CommandError, match="不存在"):
        run_token("create", "--user", "nobody")
    assert not ApiToken.objects.exists()


def test_wrong_or_malformed_tokens_are_401(client, user_a):
    plain = run_token("create", "--user", "t-town-a")[0].strip()
    wrong = plain[:-4] + ("aaaa" if not plain.endswith("aaaa") else "bbbb")
    assert_unauthenticated(client.get(ME, headers=bearer(wrong)))
    assert_unauthenticated(client.get(ME, headers=bearer("not-a-token")))
    assert_unauthenticated(client.get(ME, headers={"Authorization": f"Token {plain}"}))
    assert_unauthenticated(client.get(ME))


def test_token_of_a_deactivated_user_is_401(client, user_a):
    plain = run_token("create", "--user", "t-town-a")[0].strip()
    user_a.is_active = False
    user_a.save(update_fields=["is_active"])
    assert_unauthenticated(client.get(ME, headers=bearer(plain)))


def test_the_database_holds_only_the_sha256(user_a):
    plain = run_token("create", "--user", "t-town-a")[0].strip()
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    # Scan every column of every table the project knows, audit log included.
    scanned = 0
    for model in apps.get_models():
        for row in model._default_manager.values_list():
            scanned += 1
            assert not any(plain in str(value) for value in row), f"plain token stored in {model.__name__}"
    assert scanned > 10


# --- passwords ------------------------------------------------------------------------------------


def test_argon2_is_available_and_used_when_asked():
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" in settings.PASSWORD_HASHERS
    encoded = make_password("correct horse battery", hasher="argon2")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("correct horse battery", encoded)
    assert not check_password("wrong horse battery", encoded)


def test_production_settings_hash_with_argon2_first(tmp_path):
    # The test run puts a fast hasher first; the settings a server loads must not.
    env = {k: v for k, v in os.environ.items() if k not in {"SHANZHI_TESTING", "PYTEST_CURRENT_TEST"}}
    env.update(
        SHANZHI_VAR_DIR=str(tmp_path), SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="shanzhi.config.settings"
    )
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.contrib.auth.hashers import make_password\n"
        "print(settings.PASSWORD_HASHERS[0]); print(make_password('correct horse battery')[:16])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first, encoded = result.stdout.split()
    assert first == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert encoded == "argon2$argon2id$"


# --- login lock-out (django-axes) -----------------------------------------------------------------


def login(client: Any, username: str, password: str) -> Any:
    return client.post(reverse("web:login"), {"username": username, "password": password})


def test_five_failures_lock_the_account_even_for_the_right_password(client, user_a):
    locked_status = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    for _ in range(4):
        response = login(client, "t-town-a", "wrong-password-1")
        assert response.status_code == 200  # the form again, with its error
        assert "_auth_user_id" not in client.session
    response = login(client, "t-town-a", "wrong-password-1")
    assert response.status_code == locked_status

    response = login(client, "t-town-a", PASSWORD)
    assert response.status_code == locked_status
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("web:home")).status_code == 302  # still sent to the login page


def test_four_failures_then_the_right_password_logs_in(client, user_a):
    for _ in range(4):
        assert login(client, "t-town-a", "wrong-password-1").status_code == 200
    response = login(client, "t-town-a", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user_a.pk)


def test_lock_out_is_per_account(client, county, user_a, user_b):
    for _ in range(5):
        login(client, "t-town-a", "wrong-password-1")
    assert login(client, "t-town-b", PASSWORD).status_code == 302


# --- the profile masks the phone ------------------------------------------------------------------


def test_me_masks_the_phone(client, county):
    staff = staff_create(
        actor=None,
        username="t-phone",
        password=PASSWORD,
        name="王五",
        region=county.town_a,
        roles=["handler"],
        phone="13812345678",
    )
    client.force_login(staff.user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["phone"] == "138****5678"
    assert b"13812345678" not in response.content


def test_me_without_phone(client, county):
    client.force_login(make_user(username="t-nophone", region=county.town_b, roles=["gridworker"]))
    body = client.get(ME).json()
    assert body["phone"] == ""
    assert body["roles"] == ["gridworker"]
