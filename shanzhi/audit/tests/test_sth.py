"""Signing key handling and signed tree heads."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured

from shanzhi.audit import keys, merkle, tree
from shanzhi.audit.models import TreeHead
from shanzhi.audit.services import tree_head_sign
from shanzhi.audit.tasks import audit_tree_head_sign
from shanzhi.audit.tests.brute import Brute
from shanzhi.audit.tests.helpers import append_real, stored_leaves
from shanzhi.core.errors import PermissionDenied


def documented_message(head: TreeHead) -> bytes:
    """The signed bytes as docs/audit.md describes them, built without shanzhi code."""
    stamp = int(head.timestamp.timestamp() * 1000 + 0.5)
    body = {
        "root_hash": base64.b64encode(bytes(head.root_hash)).decode(),
        "timestamp": stamp,
        "tree_size": head.tree_size,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def test_key_is_generated_once_private_and_reused(audit_key_path):
    assert not audit_key_path.exists()
    first = keys.public_key_raw()
    assert audit_key_path.exists()
    assert stat.S_IMODE(os.stat(audit_key_path).st_mode) == 0o600
    assert keys.public_key_raw() == first
    assert len(first) == 32
    assert [p.name for p in audit_key_path.parent.iterdir()] == [audit_key_path.name]  # no temp files left


def test_racing_processes_agree_on_one_key(audit_key_path):
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def load() -> None:
        barrier.wait()
        results.append(keys.public_key_raw())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    on_disk = serialization.load_pem_private_key(audit_key_path.read_bytes(), None)
    assert isinstance(on_disk, Ed25519PrivateKey)
    assert keys.public_key_raw(on_disk.public_key()) == results[0]


def test_environment_key_wins(audit_key_path, monkeypatch):
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("AUDIT_SIGNING_KEY", pem.replace("\n", "\\n"))
    assert keys.public_key_raw() == keys.public_key_raw(key.public_key())
    assert not audit_key_path.exists()
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "not a key")
    with pytest.raises(ImproperlyConfigured):
        keys.signing_key()


def test_sign_only_when_grown(county, auditor, user_a):
    size = tree.log_size()
    head = tree_head_sign(actor=None)
    assert head.tree_size == size
    assert bytes(head.root_hash) == Brute(stored_leaves()).mth(0, size)
    assert head.timestamp.microsecond % 1000 == 0
    assert tree_head_sign(actor=auditor).pk == head.pk  # nothing new to sign
    again = tree_head_sign(actor=auditor, force=True)
    assert again.pk != head.pk and again.tree_size == size
    append_real(3)
    grown = tree_head_sign(actor=None)
    assert grown.tree_size == size + 3
    assert TreeHead.objects.count() == 3
    with pytest.raises(PermissionDenied):
        tree_head_sign(actor=user_a, force=True)
    assert TreeHead.objects.count() == 3


def test_signature_covers_the_documented_bytes(county):
    head = tree_head_sign(actor=None)
    public = Ed25519PublicKey.from_public_bytes(keys.public_key_raw())
    public.verify(bytes(head.signature), documented_message(head))  # raises if wrong
    assert keys.verify_tree_head(
        tree_size=head.tree_size,
        root_hash=bytes(head.root_hash),
        timestamp=keys.timestamp_ms(head.timestamp),
        signature=bytes(head.signature),
    )
    assert not keys.verify_tree_head(
        tree_size=head.tree_size + 1,
        root_hash=bytes(head.root_hash),
        timestamp=keys.timestamp_ms(head.timestamp),
        signature=bytes(head.signature),
    )


def test_empty_log_gets_the_empty_root(db):
    head = tree_head_sign(actor=None)
    assert head.tree_size == 0
    assert bytes(head.root_hash) == merkle.EMPTY_ROOT


def test_periodic_task_signs(county):
    assert not TreeHead.objects.exists()
    audit_tree_head_sign.call_local()
    assert TreeHead.objects.get().tree_size == tree.log_size()
