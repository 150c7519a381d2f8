"""Many writers at once still give a gap-free, ordered log that verifies."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection, transaction

from shanzhi.audit.models import AuditEntry
from shanzhi.audit.services import audit_append, tree_head_sign
from shanzhi.audit.verify import audit_verify

WRITERS = 6
EACH = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_are_gap_free():
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                for _attempt in range(2000):
                    try:
                        with transaction.atomic():
                            audit_append(
                                actor=None,
                                action="race.write",
                                object_type="test.race",
                                object_id=f"{n}-{i}",
                                state={"n": n, "i": i},
                            )
                        break
                    except OperationalError:  # SQLite's shared-cache test database: "table is locked"
                        time.sleep(0.001)
                else:
                    raise AssertionError(f"writer {n} could not append entry {i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    indexes = list(AuditEntry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(WRITERS * EACH))
    assert AuditEntry.objects.values("object_id").distinct().count() == WRITERS * EACH
    tree_head_sign(actor=None)
    assert audit_verify().ok
