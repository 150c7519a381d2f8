"""The audit status page."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.urls import reverse

from shanzhi.audit import keys
from shanzhi.audit.services import tree_head_sign
from shanzhi.audit.tests.helpers import append_real


def test_auditor_sees_head_key_and_recent_entries(client, auditor):
    append_real(60, action="thing.poke")
    head = tree_head_sign(actor=None)
    client.force_login(auditor)
    resp = client.get(reverse("audit:status"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert bytes(head.root_hash).hex() in html
    assert keys.b64(head.root_hash) in html
    assert keys.b64(head.signature) in html
    assert keys.b64(keys.public_key_raw()) in html
    assert "BEGIN PUBLIC KEY" in html
    assert "立即校验" in html and "csrfmiddlewaretoken" in html
    assert len(resp.context["entries"]) == 50
    assert resp.context["entries"][0].index == head.tree_size - 1
    assert html.count("thing.poke") == 50


def test_verify_button_shows_result(client, auditor):
    append_real(5)
    tree_head_sign(actor=None)
    client.force_login(auditor)
    resp = client.post(reverse("audit:status"))
    assert resp.status_code == 200
    assert "校验通过" in resp.content.decode()
    with connection.cursor() as cur:
        cur.execute('DELETE FROM audit_auditentry WHERE "index" = %s', [3])
    html = client.post(reverse("audit:status")).content.decode()
    assert "第 3 条记录缺失" in html
    assert "missing_entry" in html


def test_verify_needs_csrf(auditor):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(auditor)
    assert strict.post(reverse("audit:status")).status_code == 403


def test_other_roles_are_refused(client, user_a, admin_user):
    resp = client.get(reverse("audit:status"))
    assert resp.status_code == 302  # to the login page
    client.force_login(user_a)
    assert client.get(reverse("audit:status")).status_code == 403
    assert client.post(reverse("audit:status")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("audit:status")).status_code == 200


def test_empty_log_page(client, auditor):
    client.force_login(auditor)
    resp = client.get(reverse("audit:status"))
    assert "尚未签署任何树头" in resp.content.decode()
