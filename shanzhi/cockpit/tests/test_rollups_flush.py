"""`flush` empties the rollups: it deletes them before the cases, whose triggers would otherwise
write every deleted case back as a negative count (seen as a tile one short in the next test)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from shanzhi.cockpit.models import CaseDay, CaseMonth, GridDay, HandlerDay, PlaceDay
from shanzhi.cockpit.tests.test_pages import build

pytestmark = pytest.mark.django_db(transaction=True)


def test_flush_leaves_no_rollup_rows(county: Any) -> None:
    build(county)
    assert sum(CaseDay.objects.values_list("intake", flat=True)) == 6
    call_command("flush", interactive=False, verbosity=0)
    for model in (CaseDay, CaseMonth, GridDay, PlaceDay, HandlerDay):
        assert not model.objects.exists(), model.__name__
