"""Bad input on every write endpoint gets a clear error and changes nothing.

The API endpoints are read from the API's own routers, so a new POST/PUT/PATCH/DELETE is
checked without being listed here. Each is sent, on the demo county (loaded once for the module),
as the demo admin: a body that is not JSON, bytes that are not UTF-8, a body over the upload limit,
a body whose every field has the wrong type, a NUL character in every string field, and no
credentials at all. Each answer must be the project's {code, message} with a Chinese message, and
no row of any table may change (counts, statuses and the audit log length).

The pages are crawled by each demo role and every POST form is sent back with NUL in its text
fields, signed in and out. The cells of docs/bad-input.md name these tests by endpoint; most
per-endpoint classes (invalid 身份证 / phone / codes, forbidden transitions, another township's
record) live beside each app's own fixtures and are listed there too."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.urls import resolve
from ninja.params.models import BodyModel, FileModel, FormModel

from shanzhi.audit.models import AuditEntry
from shanzhi.config.api import api

CHINESE = re.compile(r"[\u4e00-\u9fff]")
WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema, with {param} placeholders
    body: dict[str, Any] | None  # the JSON request schema, None when the endpoint reads no JSON body
    multipart: bool  # an upload (a file field)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _body_schema(operation: Any) -> dict[str, Any] | None:
    """The JSON schema of the operation's own body model (not the OpenAPI components, where two
    apps' schemas of one name collide)."""
    for model in operation.models:
        if issubclass(model, (FormModel, FileModel)) or not issubclass(model, BodyModel):
            continue
        attr = getattr(model, "__read_from_single_attr__", None)
        if attr:
            inner = model.model_fields[attr].annotation
            return inner.model_json_schema() if hasattr(inner, "model_json_schema") else {}
        return model.model_json_schema()
    return None


def _walk(prefix: str, router: Any) -> Iterator[Operation]:
    for path, view in router.path_operations.items():
        for operation in view.operations:
            for method in operation.methods:
                if method.lower() not in WRITE_METHODS:
                    continue
                full = "/api/v1/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
                yield Operation(
                    method=method.lower(),
                    path=re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", full),
                    body=_body_schema(operation),
                    multipart=any(issubclass(m, (FormModel, FileModel)) for m in operation.models),
                )
    for child_prefix, child, _tags in router._routers:
        yield from _walk("/".join(p for p in (prefix, child_prefix) if p), child)


def _operations() -> list[Operation]:
    found: list[Operation] = []
    for prefix, router in api._routers:
        found.extend(_walk(prefix, router))
    return sorted(found, key=lambda op: (op.path, op.method))


OPERATIONS = _operations()
JSON_OPERATIONS = [op for op in OPERATIONS if op.body is not None]
TYPED_OPERATIONS = [op for op in JSON_OPERATIONS if op.body and op.body.get("properties")]


# --- the world: the demo county, once for the module ---------------------------------------------


@pytest.fixture(scope="module")
def demo_county(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The demo county inside one transaction that is rolled back after the module; each test runs
    in a savepoint within it (pytest-django's `db`), so the 15 s load is paid once."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("demo", "load", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(demo_county: None, db: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _first(label: str, field: str, **filters: Any) -> str:
    row = apps.get_model(label).objects.filter(**filters).order_by("pk").values_list(field, flat=True).first()
    return str(row) if row is not None else "1"


def _url(op: Operation) -> str:
    """The path with real records in it, so a refusal that slipped through would have changed one."""
    path = op.path
    lookups = [
        (r"/duties/lists/\{pk\}/items/\{code\}", "{code}", ("duties.Duty", "code")),
        (r"/duties/lists/\{pk\}", "{pk}", ("duties.DutyList", "pk")),
        (r"/grid/households/\{code\}", "{code}", ("grid.Household", "code")),
        (r"/cases/\{number\}", "{number}", ("cases.Case", "number")),
        (r"/ratings/rectifications/\{pk\}", "{pk}", ("ratings.Rectification", "pk")),
        (r"/ratings/appeals/\{pk\}", "{pk}", ("ratings.Appeal", "pk")),
        (r"/ratings/cannot-get-done/\{pk\}", "{pk}", ("ratings.CannotGetDoneReport", "pk")),
        (r"/ratings/\{pk\}", "{pk}", ("ratings.Rating", "pk")),
        (r"/notify/messages/\{pk\}", "{pk}", ("notify.Message", "pk")),
        (r"/emergency/incidents/\{pk\}", "{pk}", ("emergency.Incident", "pk")),
        (r"/emergency/tasks/\{pk\}", "{pk}", ("emergency.GridTask", "pk")),
        (r"/applications/\{number\}", "{number}", ("onewindow.Application", "number")),
        (r"/assignments/\{pk\}", "{pk}", ("cases.Assignment", "pk")),
        (r"/requests/\{pk\}", "{pk}", ("cases.HandlerRequest", "pk")),
    ]
    for pattern, placeholder, (label, field) in lookups:
        if re.search(pattern, path):
            if placeholder == "{code}" and label == "duties.Duty":
                duty_list = _first("duties.DutyList", "pk")
                path = path.replace("{code}", _first(label, field, duty_list_id=duty_list))
                path = path.replace("{pk}", duty_list)
            else:
                path = path.replace(placeholder, _first(label, field))
    return re.sub(r"\{[^}]+\}", "1", path)


def _snapshot() -> dict[str, Any]:
    """Every table's row count, the status mix of tables that have one, and the audit log length."""
    state: dict[str, Any] = {"audit": AuditEntry.objects.count()}
    for model in apps.get_models():
        if not model.__module__.startswith("shanzhi."):
            continue
        label = model._meta.label
        fields = {f.name for f in model._meta.concrete_fields}
        if "status" in fields:
            state[label] = sorted(
                (str(row["status"]), row["n"])
                for row in model._default_manager.values("status").annotate(n=Count("pk")).order_by()
            )
        else:
            state[label] = model._default_manager.count()
    return state


def _admin() -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def _send(client: Client, op: Operation, body: str | bytes, content_type: str = "application/json") -> Any:
    return getattr(client, op.method)(_url(op), data=body, content_type=content_type)


def _assert_refused(resp: Any, *, status: int | tuple[int, ...], code: str | tuple[str, ...]) -> None:
    statuses = (status,) if isinstance(status, int) else status
    codes = (code,) if isinstance(code, str) else code
    assert resp.status_code in statuses, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("application/json"), resp.content[:200]
    answer = resp.json()
    assert answer["code"] in codes, answer
    assert CHINESE.search(answer["message"]), answer


# --- bodies ----------------------------------------------------------------------------------------

MALFORMED = ["{not json", '{"text": "路灯",', "[1, 2", "null x", "\ufeff{}x"]


def _wrong_value(prop: dict[str, Any]) -> Any:
    """A value of a type the field never takes: a list where an object is wanted, else an object."""
    alternatives = [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]
    if any(alt.get("type") == "object" or "$ref" in alt for alt in alternatives):
        return [["错"]]
    return {"错误": ["类型"]}


def _wrong_types(op: Operation) -> dict[str, Any]:
    assert op.body is not None
    props = op.body.get("properties", {})
    return {name: _wrong_value(prop) for name, prop in props.items()}


def _nul_everywhere(op: Operation) -> dict[str, Any]:
    """NUL inside every string field (and as a string where another type is wanted)."""
    assert op.body is not None
    props = op.body.get("properties", {})
    return {name: "路灯\u0000不亮" for name in props} or {"text": "路灯\u0000不亮"}


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=str)
def test_malformed_json_is_400_malformed_json(world: None, op: Operation) -> None:
    client = _admin()
    before = _snapshot()
    for body in MALFORMED:
        _assert_refused(_send(client, op, body), status=400, code="malformed_json")
    assert _snapshot() == before


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=str)
def test_bytes_that_are_not_utf8_are_400_malformed_json(world: None, op: Operation) -> None:
    client = _admin()
    before = _snapshot()
    _assert_refused(_send(client, op, b'{"text": "\xff\xfe\xc0"}'), status=400, code="malformed_json")
    assert _snapshot() == before


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=str)
def test_body_over_the_limit_is_413(world: None, op: Operation) -> None:
    client = _admin()
    before = _snapshot()
    padding = "长" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 1)  # 3 bytes each in UTF-8
    body = json.dumps({"text": padding}, ensure_ascii=False).encode()
    _assert_refused(_send(client, op, body), status=413, code="body_too_large")
    assert _snapshot() == before


@pytest.mark.parametrize(
    "op", [op for op in JSON_OPERATIONS if op.body and op.body.get("properties")], ids=str
)
def test_wrong_types_are_422(world: None, op: Operation) -> None:
    client = _admin()
    before = _snapshot()
    for body in [_wrong_types(op), [], "文本", 7]:
        resp = _send(client, op, json.dumps(body))
        _assert_refused(resp, status=422, code="invalid_input")
    assert _snapshot() == before


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=str)
def test_nul_character_in_text_is_refused(world: None, op: Operation) -> None:
    """PostgreSQL cannot store NUL (a 500 there) and SQLite would keep it silently."""
    client = _admin()
    before = _snapshot()
    resp = _send(client, op, json.dumps(_nul_everywhere(op)))
    _assert_refused(resp, status=422, code="invalid_character")
    resp = _send(client, op, json.dumps({"nested": [{"deep": "a\u0000"}]}))
    _assert_refused(resp, status=422, code="invalid_character")
    assert _snapshot() == before


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_missing_auth_is_401(world: None, op: Operation) -> None:
    before = _snapshot()
    anonymous = Client()
    if op.path == "/api/v1/ratings/cannot-get-done":
        # 办不成事 reports are open to anyone, signed in or not (docs/ratings.md); bad input is
        # still refused and writes nothing.
        resp = _send(anonymous, op, json.dumps({"what": "", "where": "上溪村"}))
        _assert_refused(resp, status=(400, 422), code="invalid_what")
    else:
        xml = op.path.endswith("/warnings/cap")  # reads its own body: CAP XML
        content_type = "application/xml" if xml else "application/json"
        body = "<alert/>" if xml else "{}"
        resp = _send(anonymous, op, body, content_type)
        _assert_refused(resp, status=401, code="unauthenticated")
        token = Client(HTTP_AUTHORIZATION="Bearer not-a-real-token")
        _assert_refused(_send(token, op, body, content_type), status=401, code="unauthenticated")
    assert _snapshot() == before


def test_every_write_endpoint_is_listed_in_the_doc() -> None:
    """docs/bad-input.md has a row per endpoint, so a new endpoint is audited, not forgotten."""
    doc = (settings.BASE_DIR.parent / "docs" / "bad-input.md").read_text(encoding="utf-8")
    missing = [str(op) for op in OPERATIONS if f"`{op}`" not in doc]
    assert not missing, missing


# --- the pages: every form a demo role can reach ---------------------------------------------------

ROLES = [
    "admin",
    "operator",
    "dispatcher",
    "handler",
    "gridworker",
    "clerk",
    "approver",
    "supervisor",
    "leader",
    "resident",
    "auditor",
]
NOT_CRAWLED = (
    "/logout",
    "/api/",
    "/admin/",
    ".pdf",
    ".xlsx",
    ".csv",
    "/export",
    "sw.js",
    "/static/",
    "/media/",
)
PAGES_PER_ROLE = 60


def _signed_in(username: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _forms(html: bytes, url: str) -> Iterator[tuple[str, dict[str, str], int]]:
    """Each POST form on the page: its action, its fields with NUL in every text field, and how many
    text fields there were (hidden ids, choices and checkboxes keep the page's own values)."""
    import lxml.html

    doc = lxml.html.fromstring(html)
    for form in doc.xpath("//form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urlparse(urljoin(url, form.get("action") or url)).path
        data: dict[str, str] = {}
        texts = 0
        for el in form.xpath(".//input|.//textarea|.//select"):
            name = el.get("name")
            kind = (el.get("type") or "text").lower() if el.tag == "input" else el.tag
            if not name or kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio"):
                data.setdefault(name, el.get("value") or "on")
            elif kind == "hidden":
                data[name] = el.get("value") or ""
            elif kind == "select":
                options = el.xpath(".//option/@value")
                data[name] = options[-1] if options else ""
            else:
                data[name] = "路灯\u0000不亮"
                texts += 1
        yield action, data, texts


def _links(html: bytes, url: str) -> Iterator[str]:
    import lxml.html

    for href in lxml.html.fromstring(html).xpath("//a/@href"):
        parts = urlparse(urljoin(url, href))
        if parts.netloc not in ("", "testserver"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not any(skip in path for skip in NOT_CRAWLED):
            yield path


def test_every_reachable_form_refuses_nul_without_a_500(world: None) -> None:
    """Each role follows the links of its pages from the home page; every POST form with a text
    field is sent back with a NUL in each text field, signed in and signed out. None may answer
    5xx, and none may write."""
    failures: list[str] = []
    tried: set[tuple[str, tuple[str, ...]]] = set()
    for role in ROLES:
        client = _signed_in(role)
        client.raise_request_exception = False  # a 500 is counted, and the crawl goes on
        queue: list[str] = ["/"]
        seen: set[str] = set()
        while queue and len(seen) < PAGES_PER_ROLE:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            resp = client.get(url)
            if resp.status_code >= 500:
                failures.append(f"GET {url} as {role}: {resp.status_code}")
            if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
                continue
            queue.extend(path for path in _links(resp.content, url) if path not in seen)
            for action, data, texts in _forms(resp.content, url):
                route = resolve(action).route
                if not texts or any(skip in action for skip in NOT_CRAWLED) or (route, tuple(data)) in tried:
                    continue
                tried.add((route, tuple(data)))
                before = _snapshot()
                answer = client.post(action, data=data)
                changed = [k for k, v in _snapshot().items() if before[k] != v]
                if answer.status_code >= 500 or changed:
                    failures.append(f"POST {action} as {role}: {answer.status_code}, changed {changed}")
                # The same form from someone not signed in: the login page (or a public form's
                # own refusal), never a write.
                before = _snapshot()
                anonymous = Client(raise_request_exception=False).post(action, data=data)
                location = anonymous.get("Location", "")
                if anonymous.status_code >= 500 or _snapshot() != before:
                    failures.append(f"POST {action} anonymously: {anonymous.status_code}")
                elif anonymous.status_code == 302 and "/login/" not in location:
                    failures.append(f"POST {action} anonymously: redirected to {location}")
    assert len(tried) >= 20, tried  # the crawl reached the forms, not only the home pages
    assert not failures, failures


def test_form_post_over_the_limit_is_a_chinese_400(world: None) -> None:
    client = _signed_in("operator")
    before = _snapshot()
    body = {"text": "长" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 1), "address": "上溪村"}
    resp = client.post("/cases/intake/", data=body)
    assert resp.status_code == 400
    assert "请求无法处理" in resp.content.decode() and "12 MB" in resp.content.decode()
    assert _snapshot() == before


def test_household_deactivate_with_nul_reason_is_refused(world: None) -> None:
    household = apps.get_model("grid.Household").objects.filter(active=True).order_by("pk").first()
    assert household is not None
    before = _snapshot()
    resp = _signed_in("admin").post(
        f"/grids/households/{household.code}/deactivate/", {"reason": "搬\u0000走"}
    )
    assert resp.status_code == 422, resp.status_code
    assert "含有非法字符" in resp.content.decode()
    assert _snapshot() == before


def test_incident_close_with_nul_reason_is_refused(world: None) -> None:
    from django.contrib.auth import get_user_model

    from shanzhi.core.errors import ServiceError
    from shanzhi.emergency.incidents import incident_close, incident_declare
    from shanzhi.grid.areas import Area

    leader = get_user_model().objects.get(username="leader")
    grid = apps.get_model("grid.Grid").objects.filter(active=True).order_by("pk").first()
    assert grid is not None
    with pytest.raises(ServiceError) as refused:
        incident_declare(
            actor=leader, type_code="flood", title="内涝\u0000", area=Area(grid_codes=(grid.code,))
        )
    assert refused.value.code == "invalid_character"
    incident = incident_declare(
        actor=leader, type_code="flood", title="内涝", area=Area(grid_codes=(grid.code,))
    )
    before = _snapshot()
    resp = _signed_in("leader").post(
        f"/emergency/{incident.pk}/close/", {"reason": "水\u0000退", "confirm": "yes"}
    )
    assert resp.status_code == 422 and "空字符" in resp.content.decode()
    with pytest.raises(ServiceError):
        incident_close(actor=leader, incident=incident, reason="水\u0000退")
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", None),
        ("return", {"reason": "不属于本单位职责"}),
        ("report", {"text": "已处理完毕"}),
        ("request", {"kind": "extension", "reason": "需要协调", "hours": 24}),
        ("resume", None),
    ],
)
def test_another_bodys_assignment_is_404(world: None, action: str, body: dict[str, Any] | None) -> None:
    """The demo handler (青石镇人民政府) acting on another body's assignment: 404, as if missing."""
    from django.contrib.auth import get_user_model

    from shanzhi.core.selectors import staff_of

    handler = get_user_model().objects.get(username="handler")
    staff = staff_of(user=handler)
    assert staff is not None
    own = staff.handler
    other = apps.get_model("cases.Assignment").objects.exclude(handler=own).order_by("pk").first()
    assert other is not None
    before = _snapshot()
    resp = _signed_in("handler").post(
        f"/api/v1/assignments/{other.pk}/{action}",
        data=json.dumps(body or {}),
        content_type="application/json",
    )
    _assert_refused(resp, status=404, code="not_found")
    assert _snapshot() == before
