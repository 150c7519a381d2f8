"""一件事: one merged form, documents once, fan-out to each department's back office, the birth
certificate → household registration chain, and the parent done when every part is."""

from __future__ import annotations

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.models_applications import Application, LineStatus
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.tests.window_setup import APPLICANT, ID_B, sms_bodies_of

FORM = {"child_name": "王小宝", "birth_date": "2025-05-20", "mother_id": ID_B}


def _taken_in(people, newborn) -> Application:
    app = svc.application_create(
        actor=people.county_clerk,
        channel="window",
        applicant=APPLICANT,
        bundle=newborn,
        answers={"非婚生育": "否"},
        form_data=FORM,
    )
    return app


def test_merged_form_is_checked_field_by_field(people, newborn):
    before = Application.objects.count()
    with pytest.raises(ServiceError) as exc:
        svc.application_create(
            actor=people.county_clerk,
            channel="window",
            applicant=APPLICANT,
            bundle=newborn,
            answers={"非婚生育": "否"},
            form_data={"child_name": "", "birth_date": "2025-13-01", "mother_id": "330106199001011234"},
        )
    assert exc.value.code == "invalid_form"
    assert {d["field"] for d in exc.value.details} == {"child_name", "birth_date", "mother_id"}
    assert Application.objects.count() == before


def test_documents_once_and_the_birth_certificate_waits_for_its_step(people, newborn):
    app = _taken_in(people, newborn)
    lines = {line.key: line.status for line in app.lines.all()}
    assert lines == {
        "父母双方居民身份证": LineStatus.NEEDED,  # asked by all three items, brought once
        "分娩记录": LineStatus.FETCHED,
        "出生医学证明": LineStatus.PENDING_RESULT,  # the first step's result stands in for it
        "居民户口簿": LineStatus.FETCHED,
        "非婚生育说明": LineStatus.NOT_NEEDED,
    }
    assert svc.material_check(app).missing_list() == [
        {
            "key": "父母双方居民身份证",
            "name": "父母双方居民身份证",
            "form": "原件",
            "copies": 1,
            "condition": "",
        }
    ]


def test_fan_out_chain_and_completion(people, newborn):
    app = _taken_in(people, newborn)
    svc.application_mark_paper(actor=people.county_clerk, application=app, key="父母双方居民身份证")
    app = svc.application_accept(actor=people.county_clerk, application=app)
    assert app.status == S.ACCEPTED and app.promised_days == 5  # critical path: 3 + 2, vaccine in parallel
    parts = {p.title: p for p in app.children.select_related("item", "department")}
    cert, vaccine, hukou = parts["出生医学证明签发"], parts["预防接种证办理"], parts["出生登记"]
    assert (cert.status, vaccine.status, hukou.status) == (S.ACCEPTED, S.ACCEPTED, S.WAITING)
    departments = [p.department.code if p.department else "" for p in (cert, vaccine, hukou)]
    assert departments == ["health", "health", "police"]
    assert cert.deadline and vaccine.deadline and hukou.deadline is None
    assert hukou.lines.get(key="出生医学证明").status == LineStatus.PENDING_RESULT
    # The police see nothing yet: the part waits, it is not in their queue.
    from shanzhi.onewindow.application_selectors import back_office_queue

    assert list(back_office_queue(user=people.approver_police)) == []
    with pytest.raises(ServiceError) as exc:
        svc.application_start_review(actor=people.approver_police, application=hukou)
    assert exc.value.code == "illegal_transition"

    svc.application_start_review(actor=people.approver_health, application=cert)
    svc.application_approve(actor=people.approver_health, application=cert, decision="已签发出生医学证明")
    hukou.refresh_from_db()
    assert hukou.status == S.ACCEPTED and hukou.deadline and hukou.accepted_at
    line = hukou.lines.get(key="出生医学证明")
    assert line.status == LineStatus.FROM_RESULT and cert.number in line.source
    assert app.lines.get(key="出生医学证明").status == LineStatus.FROM_RESULT
    assert list(back_office_queue(user=people.approver_police)) == [hukou]
    app.refresh_from_db()
    assert app.status == S.ACCEPTED  # not done while parts are open

    svc.application_start_review(actor=people.approver_health, application=vaccine)
    svc.application_approve(actor=people.approver_health, application=vaccine)
    svc.application_start_review(actor=people.approver_police, application=hukou)
    svc.application_approve(actor=people.approver_police, application=hukou)
    app.refresh_from_db()
    assert app.status == S.FINISHED and app.decision == "全部事项已批准"
    assert "已全部办结" in sms_bodies_of(app)[-1]


def test_a_refused_step_stops_what_depends_on_it_and_shows_on_the_parent(people, newborn):
    app = _taken_in(people, newborn)
    svc.application_mark_paper(actor=people.county_clerk, application=app, key="父母双方居民身份证")
    app = svc.application_accept(actor=people.county_clerk, application=app)
    parts = {p.title: p for p in app.children.select_related("item")}
    svc.application_start_review(actor=people.approver_health, application=parts["出生医学证明签发"])
    svc.application_refuse(
        actor=people.approver_health, application=parts["出生医学证明签发"], reason="非本县医疗机构出生"
    )
    hukou = Application.objects.get(pk=parts["出生登记"].pk)
    assert hukou.status == S.CANCELLED
    app.refresh_from_db()
    assert app.status == S.ACCEPTED  # the vaccination is still open
    svc.application_start_review(actor=people.approver_health, application=parts["预防接种证办理"])
    svc.application_approve(actor=people.approver_health, application=parts["预防接种证办理"])
    app.refresh_from_db()
    assert app.status == S.FINISHED
    assert app.decision == "部分事项未获批准:出生医学证明签发、出生登记"


def test_demo_newborn_bundle_fans_out(people, departments):
    """The demo catalogue's 新生儿出生 bundle: five parts, the chain through 出生登记."""
    import io

    from shanzhi.onewindow.demo import load_demo
    from shanzhi.onewindow.models import Bundle

    load_demo(stdout=io.StringIO())
    bundle = Bundle.objects.get(code="newborn")
    from shanzhi.onewindow.materials import bundle_questions

    answers = {q: "否" for q in bundle_questions(bundle)}
    form = {f["key"]: "" for f in bundle.form_fields}
    form.update(
        child_name="王小宝",
        child_gender="男",
        birth_date="2025-05-20",
        birth_hospital="善水县人民医院",
        mother_name="王秀英",
        mother_id=ID_B,
        father_name="李建国",
        father_id=APPLICANT.id_number,
        household_follow="随母",
        address="青石镇上溪村 8 号",
        phone="13812345678",
    )
    app = svc.application_create(
        actor=people.county_clerk,
        channel="window",
        applicant=APPLICANT,
        bundle=bundle,
        answers=answers,
        form_data=form,
    )
    for line in svc.material_check(app).missing:
        svc.application_mark_paper(actor=people.county_clerk, application=app, key=line.key)
    app = svc.application_accept(actor=people.county_clerk, application=app)
    statuses = [(p.title, p.status) for p in app.children.select_related("item").order_by("number")]
    assert statuses == [
        ("出生医学证明首次签发", S.ACCEPTED),
        ("预防接种证办理", S.ACCEPTED),
        ("出生登记(户口)", S.WAITING),
        ("新生儿城乡居民医保参保登记", S.WAITING),
        ("新生儿社会保障卡申领", S.WAITING),
    ]


# Row locks across connections need PostgreSQL (SQLite tests share one memory database).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_departments_decide_parts_of_one_bundle_at_once(people, newborn):
    """Health approves the certificate while it also approves the vaccination: the two decisions
    take turns on the bundle (parent locked first), neither deadlocks, the chain still releases."""
    import threading

    from django.db import connections

    app = _taken_in(people, newborn)
    svc.application_mark_paper(actor=people.county_clerk, application=app, key="父母双方居民身份证")
    app = svc.application_accept(actor=people.county_clerk, application=app)
    parts = {p.title: p for p in app.children.all()}
    for name in ("出生医学证明签发", "预防接种证办理"):
        svc.application_start_review(actor=people.approver_health, application=parts[name])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def decide(name: str) -> None:
        try:
            start.wait()
            svc.application_approve(actor=people.approver_health, application=parts[name])
        except BaseException as exc:  # the assertion below shows it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("出生医学证明签发", "预防接种证办理")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    statuses = dict(app.children.values_list("bundle_step__item__name", "status"))
    assert statuses == {"出生医学证明签发": S.APPROVED, "预防接种证办理": S.APPROVED, "出生登记": S.ACCEPTED}
