"""The audit log API (/api/v1/audit): tree heads, entries and RFC 9162 proofs, base64 hashes.

Everything here lets an outsider check the log without trusting the server: fetch the public
key once, then STHs, entries and proofs, and verify them as docs/audit.md describes."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from shanzhi.audit import keys, selectors, services
from shanzhi.audit.models import TreeHead

router = Router(tags=["audit"])


class PublicKeyOut(Schema):
    algorithm: str
    public_key: str
    pem: str
    key_id: str


class TreeHeadOut(Schema):
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    timestamp_iso: str
    key_id: str


class EntryOut(Schema):
    index: int
    entry_bytes: str
    leaf_hash: str
    timestamp: str
    actor: str
    action: str
    object_type: str
    object_id: str


class InclusionOut(Schema):
    index: int
    tree_size: int
    root_hash: str
    hashes: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    hashes: list[str]


def tree_head_out(head: TreeHead) -> TreeHeadOut:
    return TreeHeadOut(
        tree_size=head.tree_size,
        root_hash=keys.b64(head.root_hash),
        timestamp=keys.timestamp_ms(head.timestamp),
        signature=keys.b64(head.signature),
        timestamp_iso=timezone.localtime(head.timestamp).isoformat(timespec="milliseconds"),
        key_id=head.key_id,
    )


@router.get("/public-key", response=PublicKeyOut)
def public_key(request: HttpRequest) -> PublicKeyOut:
    selectors.audit_reader_check(user=request.user)
    key = keys.public_key()
    return PublicKeyOut(
        algorithm="Ed25519",
        public_key=keys.b64(keys.public_key_raw(key)),
        pem=keys.public_key_pem(key),
        key_id=keys.key_id(key),
    )


@router.get("/sth", response=TreeHeadOut)
def sth(request: HttpRequest) -> TreeHeadOut:
    """The latest signed tree head; signs a new one first if the log has grown since."""
    selectors.audit_reader_check(user=request.user)
    return tree_head_out(services.tree_head_sign(actor=request.user))


@router.get("/entries/{index}", response=EntryOut)
def entry(request: HttpRequest, index: int) -> EntryOut:
    row = selectors.entry_get(user=request.user, index=index)
    return EntryOut(
        index=row.index,
        entry_bytes=keys.b64(row.entry_bytes),
        leaf_hash=keys.b64(row.leaf_hash),
        timestamp=timezone.localtime(row.timestamp).isoformat(),
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
    )


@router.get("/proof/inclusion", response=InclusionOut)
def proof_inclusion(request: HttpRequest, index: int, tree_size: int) -> InclusionOut:
    path, root_hash = selectors.inclusion_proof(user=request.user, index=index, tree_size=tree_size)
    return InclusionOut(
        index=index, tree_size=tree_size, root_hash=keys.b64(root_hash), hashes=[keys.b64(h) for h in path]
    )


@router.get("/proof/consistency", response=ConsistencyOut)
def proof_consistency(request: HttpRequest, first: int, second: int) -> ConsistencyOut:
    path = selectors.consistency_proof(user=request.user, first=first, second=second)
    return ConsistencyOut(first=first, second=second, hashes=[keys.b64(h) for h in path])
