"""Photos and audio checked by their content, not their name or declared type."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from shanzhi.core.errors import ServiceError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 9
_PIL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_photo(*, name: str, content: bytes, index: int = 0) -> CheckedFile:
    """A JPEG, PNG or WebP of at most 10 MB that really decodes; anything else is refused."""
    label = f"第 {index + 1} 张照片"
    if len(content) > MAX_PHOTO_BYTES:
        raise ServiceError("photo_too_large", f"{label}超过 10 MB,请压缩后再上传")
    if not content:
        raise ServiceError("photo_empty", f"{label}是空文件")
    kind = _sniff(content[:16])
    if kind is None:
        raise ServiceError("photo_type", f"{label}不是 JPEG、PNG 或 WebP 图片")
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format != kind:
                raise ServiceError("photo_type", f"{label}的内容与格式不符")
            image.verify()  # decodes the structure; a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ServiceError("photo_corrupt", f"{label}已损坏或无法识别") from exc
    safe_name = "".join(ch for ch in name if ch.isalnum() or ch in "._-")[-80:] or "photo"
    return CheckedFile(
        name=safe_name,
        content=content,
        content_type=_PIL_TYPES[kind],
        sha256=hashlib.sha256(content).hexdigest(),
    )


def check_photos(*, files: list[tuple[str, bytes]]) -> list[CheckedFile]:
    if len(files) > MAX_PHOTOS:
        raise ServiceError("too_many_photos", f"最多上传 {MAX_PHOTOS} 张照片")
    return [check_photo(name=name, content=content, index=i) for i, (name, content) in enumerate(files)]
