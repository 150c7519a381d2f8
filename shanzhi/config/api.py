"""The JSON API at /api/v1/: one NinjaAPI, auth by session or bearer token, errors as
{code, message} with a Chinese message."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from shanzhi.core.errors import ServiceError
from shanzhi.core.tokens import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(plain=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in page session; CSRF is checked on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class JsonObjectParser(Parser):
    """Every JSON body of this API is one object. A bare list, string or number used to reach the
    schema as "no fields", so a PATCH with all fields optional answered 200; a NUL inside any string
    made PostgreSQL fail the write with a 500 (SQLite would have kept it silently)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ServiceError("invalid_input", "请求体应为 JSON 对象({…})", status=422)
        if _has_nul(data):
            raise ServiceError("invalid_character", "内容含有空字符(NUL),请删除后重试", status=422)
        return data


api = NinjaAPI(
    title="善治 Shanzhi API",
    version="1",
    description="基层治理平台接口。错误以 JSON 返回:{code, message}。",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
    parser=JsonObjectParser(),
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {"loc": [str(p) for p in err.get("loc", [])], "msg": str(err.get("msg", ""))} for err in exc.errors
    ]
    return api.create_response(
        request, {"code": "invalid_input", "message": "请求数据格式不正确", "details": details}, status=422
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "unauthenticated", "message": "请先登录或提供有效的令牌"}, status=401
    )


# Ninja raises HttpError(400, "Cannot parse request body…") for a body that is not JSON; clients
# get a stable code and a Chinese message for it like for every other refusal.
_BODY_UNPARSABLE = "Cannot parse request body"


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ServiceError):  # JsonObjectParser's refusals, wrapped by Ninja
        return service_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith(_BODY_UNPARSABLE):
        body = {"code": "malformed_json", "message": "请求体不是有效的 JSON,请检查格式后重试"}
    else:
        body = {"code": "http_error", "message": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


# Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when Ninja reads it; without this the client
# got Django's English HTML "Bad Request" page instead of the API's {code, message}.
@api.exception_handler(RequestDataTooBig)
def body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return api.create_response(
        request, {"code": "body_too_large", "message": f"请求体过大,不能超过 {limit_mb} MB"}, status=413
    )


def register_routers() -> None:
    """Each app's router is mounted here, so urls.py stays one line per app."""
    from shanzhi.audit.api import router as audit_router
    from shanzhi.cases.api import router as cases_router
    from shanzhi.cases.api import work_router as case_work_router
    from shanzhi.core.api import router as core_router
    from shanzhi.duties.api import router as duties_router
    from shanzhi.emergency.api import router as emergency_router
    from shanzhi.grid.api import router as grid_router
    from shanzhi.notify.api import router as notify_router
    from shanzhi.onewindow.api import router as onewindow_router
    from shanzhi.ratings.api import router as ratings_router
    from shanzhi.triage.api import router as triage_router

    api.add_router("/core", core_router)
    api.add_router("/audit", audit_router)
    api.add_router("/duties", duties_router)
    api.add_router("/grids", grid_router)
    api.add_router("/grid", __import__("shanzhi.grid.api_households", fromlist=["router"]).router)
    api.add_router("/cases", cases_router)
    api.add_router("/triage", triage_router)
    api.add_router("/ratings", ratings_router)
    api.add_router("/notify", notify_router)
    api.add_router("/emergency", emergency_router)
    api.add_router("/cockpit", __import__("shanzhi.cockpit.api", fromlist=["router"]).router)
    api.add_router("/warnings", __import__("shanzhi.emergency.api_warnings", fromlist=["router"]).router)
    api.add_router("", onewindow_router)
    api.add_router("", case_work_router)


register_routers()
