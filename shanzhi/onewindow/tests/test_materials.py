"""The material check: conditions decide what is needed, 免提交 materials are fetched (and the
checklist records from where), and what is missing is told once, completely. Files are judged by
their content."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shanzhi.core.errors import ServiceError
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.materials import MAX_FILE_BYTES, check_pdf, check_upload, clean_answers
from shanzhi.onewindow.models_applications import Application, LineStatus
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.tests.window_setup import APPLICANT, PHONE_A, pdf_bytes, pension_draft, png_bytes

from .test_workflow import refused, sms_bodies


def test_checklist_follows_the_answers_and_records_what_is_fetched(people, catalog):
    item = catalog["birth"]  # 出生医学证明 (shared), 父母双方居民身份证, 非婚生育说明 (if 非婚生育)
    no = svc.application_create(
        actor=people.clerk_a, channel="window", applicant=APPLICANT, item=item, answers={"非婚生育": "否"}
    )
    lines = {line.name: (line.status, line.source) for line in no.lines.all()}
    assert lines == {
        "出生医学证明": (LineStatus.FETCHED, "出生医学证明电子证照(卫健共享)"),
        "父母双方居民身份证": (LineStatus.NEEDED, ""),
        "非婚生育说明": (LineStatus.NOT_NEEDED, "不属于“非婚生育”情形"),
    }
    assert "共享获取:出生医学证明(出生医学证明电子证照(卫健共享))" in no.events.get().note
    yes = svc.application_create(
        actor=people.clerk_a, channel="window", applicant=APPLICANT, item=item, answers={"非婚生育": True}
    )
    check = svc.material_check(yes)
    assert [m.name for m in check.missing] == ["父母双方居民身份证", "非婚生育说明"]
    assert [m.name for m in check.fetched] == ["出生医学证明"]


def test_every_unanswered_question_is_named_at_once_and_nothing_is_created(people, catalog, newborn):
    before = Application.objects.count()
    with pytest.raises(ServiceError) as exc:
        svc.application_create(
            actor=people.clerk_a, channel="window", applicant=APPLICANT, item=catalog["birth"]
        )
    assert exc.value.code == "answers_required" and exc.value.details == {"unanswered": ["非婚生育"]}
    with pytest.raises(ServiceError) as exc:
        svc.application_create(
            actor=people.clerk_a,
            channel="window",
            applicant=APPLICANT,
            item=catalog["birth"],
            answers={"是否党员": "是"},
        )
    assert exc.value.code == "invalid_answers"
    assert Application.objects.count() == before
    assert clean_answers(questions=["甲", "乙"], answers={"甲": "是", "乙": "no"}) == {
        "甲": True,
        "乙": False,
    }


def test_not_accepted_tells_the_whole_list_once(people, catalog):
    app = svc.application_create(
        actor=people.clerk_a,
        channel="window",
        applicant=APPLICANT,
        item=catalog["resident_pension"],
        answers={"委托他人代为办理": "是"},
    )
    # Acceptance with materials missing is refused with the complete list, and changes nothing.
    err = refused("materials_missing", lambda **kw: svc.application_accept(actor=people.clerk_a, **kw), app)
    assert [m["name"] for m in err.details["missing"]] == ["申请人居民身份证", "授权委托书"]
    assert "还缺 2 项材料" in err.message
    app = svc.application_not_accept(actor=people.clerk_a, application=app)
    assert app.status == S.NOT_ACCEPTED
    assert [m["name"] for m in app.missing_notice] == ["申请人居民身份证", "授权委托书"]
    assert app.missing_notice[1]["condition"] == "委托他人代为办理"
    body = sms_bodies(app)[-1]
    assert "还缺 2 项材料:申请人居民身份证、授权委托书" in body and "以上即全部所缺材料" in body
    # Told once: a second notice is refused, also when the applicant comes back with only part.
    refused("already_told", lambda **kw: svc.application_not_accept(actor=people.clerk_a, **kw), app)
    svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    refused("already_told", lambda **kw: svc.application_not_accept(actor=people.clerk_a, **kw), app)
    refused("materials_missing", lambda **kw: svc.application_accept(actor=people.clerk_a, **kw), app)
    # The applicant comes back once with the rest: accepted straight from the notice.
    svc.application_mark_paper(actor=people.clerk_a, application=app, key="授权委托书")
    app = svc.application_accept(actor=people.clerk_a, application=app)
    assert app.status == S.ACCEPTED and app.missing_notice  # the notice stays on record


def test_nothing_missing_means_accept_not_notify(people, catalog):
    app = pension_draft(people, catalog)
    svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    refused("nothing_missing", lambda **kw: svc.application_not_accept(actor=people.clerk_a, **kw), app)


def test_uploads_only_for_lines_that_need_them(people, catalog):
    app = pension_draft(people, catalog)
    png = check_upload(name="a.png", content=png_bytes())
    refused(
        "line_not_needed",
        lambda **kw: svc.application_upload(
            actor=people.clerk_a, key="居民户口簿", name="a.png", checked=png, **kw
        ),
        app,
    )
    refused(
        "line_not_needed",
        lambda **kw: svc.application_upload(
            actor=people.clerk_a, key="授权委托书", name="a.png", checked=png, **kw
        ),
        app,
    )
    refused(
        "unknown_material",
        lambda **kw: svc.application_upload(
            actor=people.clerk_a, key="结婚证", name="a.png", checked=png, **kw
        ),
        app,
    )
    upload = svc.application_upload(
        actor=people.clerk_a, application=app, key="申请人居民身份证", name="身份证.png", checked=png
    )
    assert upload.content_type == "image/png" and upload.size == len(png_bytes())
    assert (
        app.number in upload.file.name and "身份证" not in upload.file.name
    )  # stored names say nothing personal
    assert upload.file.read() == png_bytes()
    # A resident cannot add files to an application that is not theirs.
    refused(
        "not_found",
        lambda **kw: svc.application_upload(
            actor=people.resident, key="申请人居民身份证", name="x", checked=png, **kw
        ),
        app,
    )


# --- file content ------------------------------------------------------------------------------


def _refuse_file(code: str, content: bytes, name: str = "f.pdf") -> None:
    with pytest.raises(ServiceError) as exc:
        check_upload(name=name, content=content)
    assert exc.value.code == code, exc.value.message


def test_real_pdfs_and_images_pass():
    assert check_upload(name="scan.pdf", content=pdf_bytes()).content_type == "application/pdf"
    assert check_upload(name="x.png", content=png_bytes()).content_type == "image/png"
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "JPEG")
    assert check_upload(name="x.jpg", content=buffer.getvalue()).content_type == "image/jpeg"
    # A PDF with trailing bytes after %%EOF (some scanners add a newline or NULs) still passes.
    check_pdf(pdf_bytes() + b"\r\n\x00\x00", label="文件")


def test_files_are_judged_by_content_not_name():
    _refuse_file("file_type", b"<html><body>not a pdf</body></html>", "scan.pdf")
    _refuse_file("file_type", b"MZ\x90\x00 executable", "photo.jpg")
    _refuse_file("file_empty", b"")
    good = pdf_bytes()
    _refuse_file("file_corrupt", good[: len(good) // 2])  # a truncated download: no trailer
    _refuse_file(
        "file_corrupt", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\nstartxref\n999999\n%%EOF\n"
    )  # xref beyond the file
    forged = b"%PDF-1.4\nhello\nxref\n0 1\ntrailer\n<< /Size 1 /Root 7 0 R >>\nstartxref\n15\n%%EOF\n"
    _refuse_file("file_corrupt", forged)  # the trailer names a root that does not exist
    _refuse_file("file_corrupt", png_bytes()[:30], "x.png")
    _refuse_file("file_too_large", b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES)


def test_phone_is_where_every_message_goes(people, catalog):
    app = pension_draft(people, catalog)
    svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    svc.application_accept(actor=people.clerk_a, application=app)
    assert sms_bodies(app) and all(PHONE_A not in b for b in sms_bodies(app))
