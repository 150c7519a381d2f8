"""api_keys: issued once, stored hashed, revoked for good; from the command line and the admin."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.open311.models import Open311Client
from shanzhi.cases.open311.services import (
    open311_client_authenticate,
    open311_client_create,
    open311_client_revoke,
)
from shanzhi.conftest import make_user
from shanzhi.core.errors import PermissionDenied, ServiceError


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("open311", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_key_is_stored_hashed_and_audited(county):
    client, plain = open311_client_create(actor=None, name="  wechat-miniapp ")
    assert client.name == "wechat-miniapp" and plain.startswith("o311_") and len(plain) > 40
    assert client.digest == hashlib.sha256(plain.encode()).hexdigest() and plain not in client.digest
    assert client.prefix == plain[:12]
    entry = AuditEntry.objects.get(action="open311_client.create")
    assert entry.object_id == str(client.pk) and entry.actor == "system"
    assert open311_client_authenticate(api_key=plain) == client
    client.refresh_from_db()
    assert client.last_used_at is not None
    assert open311_client_authenticate(api_key=plain + "x") is None
    assert open311_client_authenticate(api_key="sz_" + plain[5:]) is None


def test_revoke_is_final(county):
    client, plain = open311_client_create(actor=None, name="app")
    open311_client_revoke(actor=None, client=client)
    client.refresh_from_db()
    assert not client.active and client.revoked_at is not None
    assert open311_client_authenticate(api_key=plain) is None
    with pytest.raises(ServiceError) as err:
        open311_client_revoke(actor=None, client=client)
    assert err.value.status == 409
    assert AuditEntry.objects.filter(action="open311_client.revoke").count() == 1


def test_only_administrators_manage_keys(county, admin_user):
    dispatcher = make_user(username="k-dispatcher", region=county.county, roles=["dispatcher"])
    with pytest.raises(PermissionDenied):
        open311_client_create(actor=dispatcher, name="app")
    assert not Open311Client.objects.exists()
    client, _plain = open311_client_create(actor=admin_user, name="app")
    with pytest.raises(PermissionDenied):
        open311_client_revoke(actor=dispatcher, client=client)
    client.refresh_from_db()
    assert client.revoked_at is None
    with pytest.raises(ServiceError):
        open311_client_create(actor=admin_user, name="   ")
    with pytest.raises(ServiceError):
        open311_client_create(actor=admin_user, name="x" * 65)


def test_command_create_list_revoke(county):
    plain, advice = run("key", "create", "--name", "gateway")
    assert plain.startswith("o311_") and "只显示这一次" in advice
    client = open311_client_authenticate(api_key=plain)
    assert client is not None and client.name == "gateway"
    listing, _ = run("key", "list")
    assert client.prefix in listing and "有效" in listing and plain not in listing
    out, _ = run("key", "revoke", client.prefix)
    assert "已吊销" in out
    assert open311_client_authenticate(api_key=plain) is None
    assert "已吊销" in run("key", "list")[0]
    with pytest.raises(CommandError):
        run("key", "revoke", client.prefix)
    with pytest.raises(CommandError):
        run("key", "create", "--name", " ")


def test_admin_issues_a_key_once_and_revokes(county, client, django_user_model):
    admin = django_user_model.objects.create_superuser("k-root", "root@example.org", "k-root-password-1")
    client.force_login(admin)
    response = client.post("/admin/open311/open311client/add/", {"name": "12345-gateway"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    (message,) = [m for m in shown if "只显示这一次" in m]
    plain = message.rsplit(":", 1)[1]
    app = open311_client_authenticate(api_key=plain)
    assert app is not None and app.name == "12345-gateway"
    assert Open311Client.objects.count() == 1
    # the key is not on any later page
    assert plain not in client.get(f"/admin/open311/open311client/{app.pk}/change/").content.decode()

    response = client.post(
        "/admin/open311/open311client/",
        {"action": "issue_key", "_selected_action": [app.pk]},
        follow=True,
    )
    assert Open311Client.objects.filter(name="12345-gateway").count() == 2
    response = client.post(
        "/admin/open311/open311client/",
        {"action": "revoke", "_selected_action": [app.pk]},
        follow=True,
    )
    assert any("已吊销" in str(m) for m in response.context["messages"])
    assert open311_client_authenticate(api_key=plain) is None
    assert AuditEntry.objects.filter(action="open311_client.revoke", actor="k-root").count() == 1


def test_admin_is_for_administrators_only(county, client):
    from django.contrib.auth.models import Permission

    staff = make_user(username="k-staff", region=county.county, roles=["dispatcher"])
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="open311"))
    client.force_login(staff)
    assert client.get("/admin/open311/open311client/").status_code == 403
    assert client.post("/admin/open311/open311client/add/", {"name": "sneaky"}).status_code == 403
    assert not Open311Client.objects.exists()
