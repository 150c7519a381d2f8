"""The web tests' `people` are the one-window's (the clerk's and approver's home pages), not the
grid's household people that the root conftest's plugins call `people`."""

from __future__ import annotations

import pytest

from shanzhi.onewindow.tests.window_setup import People


@pytest.fixture
def people(window_people: People) -> People:
    return window_people
