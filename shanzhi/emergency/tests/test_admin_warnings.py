"""The feed form in the back office: a bare address becomes https, without Django 5.2's
RemovedInDjango60Warning about the URLField default scheme."""

from __future__ import annotations

import warnings

from django.contrib import admin
from django.test import RequestFactory
from django.utils.deprecation import RemovedInDjango60Warning

from shanzhi.emergency.models_warnings import WarningFeed
from shanzhi.emergency.tests.world_setup import World


def test_feed_form_assumes_https_without_deprecation_warning(world: World) -> None:
    request = RequestFactory().get("/admin/emergency/warningfeed/add/")
    request.user = world.users["admin"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInDjango60Warning)
        form_class = admin.site._registry[WarningFeed].get_form(request)
        form = form_class(
            data={
                "name": "省气象台",
                "url": "cap.example.cn/feed.xml",
                "format": "atom",
                "interval_minutes": 5,
            }
        )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "https://cap.example.cn/feed.xml"
    refused = form_class(data={"name": "坏", "url": "not a url", "format": "atom", "interval_minutes": 5})
    assert not refused.is_valid() and "url" in refused.errors
