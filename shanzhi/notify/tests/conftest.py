from __future__ import annotations

from collections.abc import Iterator

import pytest

from shanzhi.notify.wording import forget_stored_templates


@pytest.fixture(autouse=True)
def _fresh_template_cache() -> Iterator[None]:
    """Templates are cached per process; a test that edits them must not leak into the next."""
    forget_stored_templates()
    yield
    forget_stored_templates()
