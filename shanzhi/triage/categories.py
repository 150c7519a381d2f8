"""The case categories triage predicts and routes: the shipped catalogue, overlaid with the cases
app's editable `Category` table when that app is installed (the county renames categories,
changes handlers and adds categories there in the back office)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from shanzhi.core.catalogue import case_categories


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    primary_handler: str  # a HandlerType code
    co_handlers: tuple[str, ...]


def category_table() -> dict[str, CategoryInfo]:
    """Code → category. Two small queries when the cases app is installed."""
    table = {
        row.code: CategoryInfo(row.code, row.name_zh, row.primary_handler, row.co_handlers)
        for row in case_categories()
    }
    if apps.is_installed("shanzhi.cases"):
        category_model = apps.get_model("cases", "Category")
        for cat in category_model.objects.select_related("primary_handler").prefetch_related("co_handlers"):
            table[cat.code] = CategoryInfo(
                cat.code,
                cat.name,
                cat.primary_handler.code,
                tuple(sorted(h.code for h in cat.co_handlers.all())),
            )
    return table
