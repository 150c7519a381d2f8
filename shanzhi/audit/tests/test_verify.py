"""`verify` finds tampering done behind the application's back (raw SQL), and only that."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shanzhi.audit.canonical import canonical_json
from shanzhi.audit.models import AuditEntry, AuditNode, TreeHead
from shanzhi.audit.services import tree_head_sign
from shanzhi.audit.tests.helpers import append_bulk, append_real
from shanzhi.audit.verify import audit_verify


def sql(statement: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params)


@pytest.fixture
def signed_log(county):
    """A log with a tree head at three sizes."""
    tree_head_sign(actor=None)
    append_real(10)
    tree_head_sign(actor=None)
    append_real(5)
    tree_head_sign(actor=None)
    return TreeHead.objects.count()


def problems(report):
    return {(p.kind, p.index, p.tree_size) for p in report.problems}


def test_untouched_log_is_ok(signed_log):
    report = audit_verify()
    assert report.ok, report.problems
    assert report.entries_checked == report.log_size == AuditEntry.objects.count()
    assert report.tree_heads_checked == signed_log == 3
    out = call_command_output("verify")
    assert "审计日志完整" in out


def test_untouched_big_log_checks_cached_nodes(county):
    append_bulk(700)
    tree_head_sign(actor=None)
    report = audit_verify()
    assert report.ok, report.problems
    assert report.cached_nodes_checked == AuditNode.objects.count() > 0


def test_changed_column_is_reported_with_its_index(signed_log):
    sql('UPDATE audit_auditentry SET actor = %s WHERE "index" = %s', ["mallory", 8])
    report = audit_verify()
    assert not report.ok
    assert {p.kind for p in report.problems} == {"column_mismatch"}
    assert [p.index for p in report.problems] == [8]
    assert "操作人" in report.problems[0].message


def test_rewritten_entry_bytes_break_leaf_and_roots(signed_log):
    sizes = sorted(TreeHead.objects.values_list("tree_size", flat=True))
    target = sizes[0] + 1  # covered by the second and third heads, not the first
    entry = AuditEntry.objects.get(index=target)
    record = json.loads(bytes(entry.entry_bytes))
    record["object_id"] = "forged"
    sql(
        'UPDATE audit_auditentry SET entry_bytes = %s, object_id = %s WHERE "index" = %s',
        [canonical_json(record), "forged", target],
    )
    report = audit_verify()
    assert problems(report) == {
        ("leaf_hash_mismatch", target, None),
        ("tree_head_root_mismatch", None, sizes[1]),
        ("tree_head_root_mismatch", None, sizes[2]),
    }


def test_deleted_entry_is_reported_with_its_index(signed_log):
    sql('DELETE FROM audit_auditentry WHERE "index" = %s', [4])
    report = audit_verify()
    assert ("missing_entry", 4, None) in problems(report)
    assert [p.index for p in report.problems if p.kind == "missing_entry"] == [4]
    assert any(p.kind == "tree_head_unverifiable" for p in report.problems)
    with pytest.raises(CommandError):
        call_command_output("verify")


def test_deleted_last_entry_is_found(signed_log):
    last = AuditEntry.objects.order_by("-index").values_list("index", flat=True)[0]
    sql('DELETE FROM audit_auditentry WHERE "index" = %s', [last])
    report = audit_verify()
    assert [p.index for p in report.problems if p.kind == "missing_entry"] == [last]


def test_forged_tree_heads(signed_log):
    head = TreeHead.objects.order_by("tree_size").last()
    assert head is not None
    sql("UPDATE audit_treehead SET tree_size = %s WHERE id = %s", [head.tree_size - 1, head.pk])
    report = audit_verify()
    assert ("tree_head_bad_signature", None, head.tree_size - 1) in problems(report)
    assert ("tree_head_root_mismatch", None, head.tree_size - 1) in problems(report)


def test_tampered_cache_node(county):
    append_bulk(600)
    tree_head_sign(actor=None)
    sql("UPDATE audit_auditnode SET hash = %s WHERE level = %s AND position = %s", [b"\x07" * 32, 8, 1])
    report = audit_verify()
    assert [(p.kind, p.index) for p in report.problems] == [("cached_node_mismatch", 256)]


def test_command_json_report(signed_log):
    sql('UPDATE audit_auditentry SET action = %s WHERE "index" = %s', ["x.y", 2])
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify", "--json", stdout=(buf := _Buffer()))
    assert "1 个问题" in str(err.value)
    data = json.loads(buf.text)
    assert data["ok"] is False
    assert data["problems"][0]["index"] == 2


def test_command_sign_and_public_key(county):
    out = call_command_output("sign")
    assert out.startswith("tree_size=")
    assert TreeHead.objects.count() == 1
    assert "BEGIN PUBLIC KEY" in call_command_output("public-key")


class _Buffer:
    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value

    def flush(self) -> None:
        pass


def call_command_output(*args: str) -> str:
    buf = _Buffer()
    call_command("audit", *args, stdout=buf)
    return buf.text
