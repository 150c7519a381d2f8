from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_rollups(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from shanzhi.cockpit.rollups import ensure_installed

    ensure_installed(connections[using])


class CockpitConfig(AppConfig):
    name = "shanzhi.cockpit"
    label = "cockpit"
    verbose_name = "数据驾驶舱"

    def ready(self) -> None:
        # A later migration that rebuilds cases_case on SQLite drops its triggers; put them back.
        post_migrate.connect(_ensure_rollups, sender=self)
