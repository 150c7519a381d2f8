"""The audit API end to end with a bearer token, checked like an outsider would."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shanzhi.audit import merkle
from shanzhi.audit.models import AuditEntry, AuditNode, TreeHead
from shanzhi.audit.tests.helpers import append_bulk, append_real
from shanzhi.core.tokens import token_create

B = "/api/v1/audit"


def unb64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def sth_is_signed(sth: dict, public: Ed25519PublicKey) -> None:
    message = json.dumps(
        {"root_hash": sth["root_hash"], "timestamp": sth["timestamp"], "tree_size": sth["tree_size"]},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    public.verify(unb64(sth["signature"]), message)


def test_outsider_verifies_everything(auditor_api):
    key = auditor_api.get(f"{B}/public-key").json()
    assert key["algorithm"] == "Ed25519"
    raw = unb64(key["public_key"])
    assert len(raw) == 32
    public = Ed25519PublicKey.from_public_bytes(raw)
    pem_key = serialization.load_pem_public_key(key["pem"].encode())
    assert pem_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw

    old = auditor_api.get(f"{B}/sth").json()
    sth_is_signed(old, public)
    assert old["tree_size"] == AuditEntry.objects.count()

    append_real(25)
    new = auditor_api.get(f"{B}/sth").json()
    sth_is_signed(new, public)
    assert new["tree_size"] == old["tree_size"] + 25
    assert auditor_api.get(f"{B}/sth").json() == new  # not grown: the same head
    assert TreeHead.objects.count() == 2

    new_root = unb64(new["root_hash"])
    for index in (0, 1, old["tree_size"], new["tree_size"] - 1):
        entry = auditor_api.get(f"{B}/entries/{index}").json()
        data = unb64(entry["entry_bytes"])
        leaf = hashlib.sha256(b"\x00" + data).digest()
        assert unb64(entry["leaf_hash"]) == leaf
        record = json.loads(data)
        assert record["index"] == entry["index"] == index
        assert (record["actor"], record["action"], record["object_type"], record["object_id"]) == (
            entry["actor"],
            entry["action"],
            entry["object_type"],
            entry["object_id"],
        )
        proof = auditor_api.get(
            f"{B}/proof/inclusion", {"index": index, "tree_size": new["tree_size"]}
        ).json()
        assert proof["index"] == index and proof["tree_size"] == new["tree_size"]
        assert unb64(proof["root_hash"]) == new_root
        hashes = [unb64(h) for h in proof["hashes"]]
        assert merkle.verify_inclusion(
            leaf=leaf, index=index, tree_size=new["tree_size"], path=hashes, root_hash=new_root
        )
        assert not merkle.verify_inclusion(
            leaf=hashlib.sha256(b"\x00" + data + b" ").digest(),
            index=index,
            tree_size=new["tree_size"],
            path=hashes,
            root_hash=new_root,
        )

    cons = auditor_api.get(
        f"{B}/proof/consistency", {"first": old["tree_size"], "second": new["tree_size"]}
    ).json()
    assert (cons["first"], cons["second"]) == (old["tree_size"], new["tree_size"])
    assert merkle.verify_consistency(
        first=old["tree_size"],
        second=new["tree_size"],
        first_root=unb64(old["root_hash"]),
        second_root=new_root,
        path=[unb64(h) for h in cons["hashes"]],
    )
    same = auditor_api.get(f"{B}/proof/consistency", {"first": 5, "second": 5}).json()
    assert same["hashes"] == []


def test_proofs_over_a_cached_tree(auditor_api):
    append_bulk(600)
    sth = auditor_api.get(f"{B}/sth").json()
    assert AuditNode.objects.filter(level=9, position=0).exists()
    root = unb64(sth["root_hash"])
    entry = auditor_api.get(f"{B}/entries/300").json()
    leaf = unb64(entry["leaf_hash"])
    proof = auditor_api.get(f"{B}/proof/inclusion", {"index": 300, "tree_size": sth["tree_size"]}).json()
    assert merkle.verify_inclusion(
        leaf=leaf,
        index=300,
        tree_size=sth["tree_size"],
        path=[unb64(h) for h in proof["hashes"]],
        root_hash=root,
    )
    cons = auditor_api.get(f"{B}/proof/consistency", {"first": 513, "second": sth["tree_size"]}).json()
    first_root = unb64(
        auditor_api.get(f"{B}/proof/inclusion", {"index": 0, "tree_size": 513}).json()["root_hash"]
    )
    assert merkle.verify_consistency(
        first=513,
        second=sth["tree_size"],
        first_root=first_root,
        second_root=root,
        path=[unb64(h) for h in cons["hashes"]],
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/proof/inclusion", {"index": 5, "tree_size": 5}, 400, "index_out_of_range"),
        ("/proof/inclusion", {"index": 0, "tree_size": 0}, 400, "index_out_of_range"),
        ("/proof/inclusion", {"index": 0, "tree_size": 10_000}, 400, "tree_size_too_large"),
        ("/proof/inclusion", {"index": -1, "tree_size": 5}, 400, "invalid_range"),
        ("/proof/inclusion", {"index": "x", "tree_size": 5}, 422, "invalid_input"),
        ("/proof/inclusion", {"index": 1}, 422, "invalid_input"),
        ("/proof/consistency", {"first": 6, "second": 5}, 400, "invalid_range"),
        ("/proof/consistency", {"first": 0, "second": 5}, 400, "invalid_range"),
        ("/proof/consistency", {"first": -2, "second": 5}, 400, "invalid_range"),
        ("/proof/consistency", {"first": 1, "second": 10_000}, 400, "tree_size_too_large"),
        ("/proof/consistency", {"first": "1.5", "second": 5}, 422, "invalid_input"),
        ("/entries/10000", {}, 404, "not_found"),
        ("/entries/-1", {}, 404, "not_found"),
        ("/entries/abc", {}, 422, "invalid_input"),
    ],
)
def test_bad_parameters(auditor_api, path, params, status, code):
    before = (AuditEntry.objects.count(), TreeHead.objects.count(), AuditNode.objects.count())
    resp = auditor_api.get(f"{B}{path}", params)
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # a Chinese message
    assert (AuditEntry.objects.count(), TreeHead.objects.count(), AuditNode.objects.count()) == before


ENDPOINTS = [
    "/public-key",
    "/sth",
    "/entries/0",
    "/proof/inclusion?index=0&tree_size=1",
    "/proof/consistency?first=1&second=2",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_only_auditors_and_admins(client, user_a, admin_user, path):
    assert client.get(f"{B}{path}").status_code == 401
    assert client.get(f"{B}{path}", HTTP_AUTHORIZATION="Bearer sz_not-a-token").status_code == 401
    _, plain = token_create(actor=admin_user, user=user_a)
    resp = client.get(f"{B}{path}", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"
    client.force_login(admin_user)  # the session works too
    assert client.get(f"{B}{path}").status_code == 200


def test_forbidden_reader_signs_nothing(client, user_a):
    client.force_login(user_a)
    assert client.get(f"{B}/sth").status_code == 403
    assert not TreeHead.objects.exists()


def documented_verifier() -> dict:
    """The outsider's Python from docs/audit.md, executed as written."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "audit.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/audit.md", "exec"), namespace)
    return namespace


def test_the_documented_outsider_check_works(auditor_api):
    doc = documented_verifier()
    raw = unb64(auditor_api.get(f"{B}/public-key").json()["public_key"])
    old = auditor_api.get(f"{B}/sth").json()
    append_real(9)
    new = auditor_api.get(f"{B}/sth").json()
    doc["sth_ok"](old, raw)
    doc["sth_ok"](new, raw)
    forged = {**new, "tree_size": new["tree_size"] + 1}
    with pytest.raises(InvalidSignature):
        doc["sth_ok"](forged, raw)
    root = unb64(new["root_hash"])
    for index in range(new["tree_size"]):
        data = unb64(auditor_api.get(f"{B}/entries/{index}").json()["entry_bytes"])
        leaf = hashlib.sha256(b"\x00" + data).digest()
        proof = auditor_api.get(
            f"{B}/proof/inclusion", {"index": index, "tree_size": new["tree_size"]}
        ).json()
        path = [unb64(h) for h in proof["hashes"]]
        assert doc["inclusion_ok"](leaf, index, new["tree_size"], path, root)
        assert not doc["inclusion_ok"](leaf, index, new["tree_size"], path, bytes(32))
    for first in range(1, new["tree_size"] + 1):
        first_root = unb64(
            auditor_api.get(f"{B}/proof/inclusion", {"index": 0, "tree_size": first}).json()["root_hash"]
        )
        cons = auditor_api.get(f"{B}/proof/consistency", {"first": first, "second": new["tree_size"]}).json()
        path = [unb64(h) for h in cons["hashes"]]
        assert doc["consistency_ok"](first, new["tree_size"], first_root, root, path)
        assert not doc["consistency_ok"](
            first, new["tree_size"], root if first < new["tree_size"] else bytes(32), root, path
        )
