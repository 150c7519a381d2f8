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


# Voice notes from a phone's MediaRecorder (WebM/Ogg Opus, MP4/AAC) or a recorder app (MP3, WAV, AMR).
MAX_AUDIO_BYTES = 5 * 1024 * 1024
MAX_AUDIO = 1


def _sniff_audio(head: bytes) -> str | None:
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    return None


def check_audio(*, name: str, content: bytes, index: int = 0) -> CheckedFile:
    """A voice note of at most 5 MB whose first bytes are a known audio container."""
    label = f"第 {index + 1} 段语音"
    if len(content) > MAX_AUDIO_BYTES:
        raise ServiceError("audio_too_large", f"{label}超过 5 MB,请缩短录音")
    if len(content) < 16:
        raise ServiceError("audio_empty", f"{label}是空文件或太短")
    content_type = _sniff_audio(content[:16])
    if content_type is None:
        raise ServiceError("audio_type", f"{label}不是可识别的录音(WebM、Ogg、MP4、MP3、WAV 或 AMR)")
    safe_name = "".join(ch for ch in name if ch.isalnum() or ch in "._-")[-80:] or "voice"
    return CheckedFile(
        name=safe_name,
        content=content,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def check_audios(*, files: list[tuple[str, bytes]]) -> list[CheckedFile]:
    if len(files) > MAX_AUDIO:
        raise ServiceError("too_many_audio", f"最多上传 {MAX_AUDIO} 段语音")
    return [check_audio(name=name, content=content, index=i) for i, (name, content) in enumerate(files)]


def check_photos(*, files: list[tuple[str, bytes]]) -> list[CheckedFile]:
    if len(files) > MAX_PHOTOS:
        raise ServiceError("too_many_photos", f"最多上传 {MAX_PHOTOS} 张照片")
    return [check_photo(name=name, content=content, index=i) for i, (name, content) in enumerate(files)]
