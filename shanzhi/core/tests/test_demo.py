"""`shanzhi demo load` builds the whole demo county, and a second run adds nothing."""

from __future__ import annotations

import io

from django.apps import apps
from django.core.management import call_command

from shanzhi.audit.models import AuditEntry

COUNTED = [
    "core.Region",
    "core.Handler",
    "core.Staff",
    "grid.Grid",
    "duties.DutyList",
    "onewindow.ServiceItem",
    "onewindow.Bundle",
    "cases.Category",
    "cases.Case",
    "cases.Assignment",
    "triage.TriageModel",
    "ratings.Rating",
]


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def test_demo_load_is_complete_and_idempotent(db):
    first = io.StringIO()
    call_command("demo", "load", stdout=first)
    after_first = counts()
    assert after_first["core.Region"] == 109  # county, 8 townships, 100 villages and communities
    assert after_first["grid.Grid"] >= 300
    assert after_first["onewindow.ServiceItem"] >= 100 and after_first["onewindow.Bundle"] >= 5
    assert after_first["cases.Case"] >= 12 and after_first["cases.Category"] == 31
    assert "未能受理" not in first.getvalue() and "停在" not in first.getvalue()
    entries = AuditEntry.objects.count()

    second = io.StringIO()
    call_command("demo", "load", stdout=second)
    assert counts() == after_first
    assert "未能受理" not in second.getvalue()
    assert AuditEntry.objects.count() == entries  # nothing changed, so nothing was audited
    assert "shanzhi-demo" in second.getvalue()  # the accounts are printed every time
