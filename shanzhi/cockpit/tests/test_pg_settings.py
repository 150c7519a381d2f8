"""PostgreSQL session settings the cockpit relies on (bench/README.md, Cockpit)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from shanzhi.cockpit.rollups import REBUILD_WORK_MEM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _show(name: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SHOW {name}")  # fixed names below
        return str(cur.fetchone()[0])


def test_app_connections_run_without_jit():
    """JIT compilation cost ~100 ms per panel query at 10 M cases: every app connection has it off."""
    assert _show("jit") == "off"


@pytest.mark.django_db(transaction=True)
def test_rebuild_turns_jit_back_on_for_its_transaction_only():
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(REBUILD_WORK_MEM)
        assert _show("jit") == "on"
        assert _show("work_mem") == "1GB"
    assert _show("jit") == "off"
