"""The log's Ed25519 signing key and the exact bytes a tree head signature covers.

The key comes from the environment (AUDIT_SIGNING_KEY, PEM) or from the file at
settings.AUDIT_SIGNING_KEY_PATH, which is generated on first use. Generation writes a private
temporary file (O_EXCL, mode 0600) and publishes it with link(2), which fails if the name
exists, so two processes starting together end up with one key and never read a half-written
file. With several machines, give them all the same AUDIT_SIGNING_KEY.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shanzhi.audit.canonical import canonical_json

ENV_NAME = "AUDIT_SIGNING_KEY"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _parse_private(pem: bytes, *, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source}: not a readable unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{source}: the audit signing key must be Ed25519")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _create_key_file(path: Path) -> None:
    """Write a new key to `path` unless some other process already has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = _private_pem(Ed25519PrivateKey.generate())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")  # O_EXCL, 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic publish of a complete file; loses the race politely
        except FileExistsError:
            pass
        except OSError:
            # No hard links on this filesystem: fall back to an exclusive create.
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(out, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
    finally:
        os.unlink(tmp)


def signing_key() -> Ed25519PrivateKey:
    env_pem = os.environ.get(ENV_NAME, "").strip()
    if env_pem:
        if "\\n" in env_pem and "\n" not in env_pem:  # PEM pasted into a one-line variable
            env_pem = env_pem.replace("\\n", "\n")
        return _parse_private(env_pem.encode(), source=ENV_NAME)
    path = Path(settings.AUDIT_SIGNING_KEY_PATH)
    if not path.exists():
        _create_key_file(path)
    return _parse_private(path.read_bytes(), source=str(path))


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_raw(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or public_key()
    return key.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or public_key()
    return key.public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey | None = None) -> str:
    return hashlib.sha256(public_key_raw(key)).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


def timestamp_ms(moment: dt.datetime) -> int:
    """Milliseconds since the Unix epoch, exact (no float rounding)."""
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


def from_timestamp_ms(ms: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=ms)


def tree_head_message(*, tree_size: int, root_hash: bytes, timestamp: int) -> bytes:
    """The signed bytes: canonical JSON (sorted keys, no spaces, UTF-8) of
    {"root_hash": base64(root), "timestamp": ms since epoch, "tree_size": n}."""
    return canonical_json({"root_hash": b64(root_hash), "timestamp": timestamp, "tree_size": tree_size})


def sign_tree_head(*, tree_size: int, root_hash: bytes, timestamp: int) -> bytes:
    return signing_key().sign(
        tree_head_message(tree_size=tree_size, root_hash=root_hash, timestamp=timestamp)
    )


def verify_tree_head(
    *, tree_size: int, root_hash: bytes, timestamp: int, signature: bytes, key: Ed25519PublicKey | None = None
) -> bool:
    key = key or public_key()
    try:
        key.verify(
            bytes(signature), tree_head_message(tree_size=tree_size, root_hash=root_hash, timestamp=timestamp)
        )
    except InvalidSignature:
        return False
    return True
