"""One error type for every refused request: a stable `code` and a Chinese `message`."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the platform refuses; nothing was written.

    `code` is stable for clients; `message` is shown to people (Chinese);
    `details` carries e.g. per-row import errors.
    """

    status = 400

    def __init__(self, code: str, message: str, *, details: Any = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            data["details"] = self.details
        return data


class NotFound(ServiceError):
    """Missing, or outside the actor's jurisdiction: the two look the same on purpose."""

    status = 404

    def __init__(self, message: str = "记录不存在或不在您的管辖范围内") -> None:
        super().__init__("not_found", message)


class PermissionDenied(ServiceError):
    status = 403

    def __init__(self, message: str = "您没有执行此操作的权限") -> None:
        super().__init__("forbidden", message)
