"""Likely duplicates: an open case of the same category close by in place and time."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import Q

from shanzhi.cases.models import OPEN_STATUSES, Case, Category
from shanzhi.grid.coords import distance_m

RADIUS_M = getattr(settings, "DUPLICATE_RADIUS_M", 100.0)
WINDOW = dt.timedelta(hours=getattr(settings, "DUPLICATE_WINDOW_HOURS", 72))


def find_duplicate(*, case: Case, category: Category | None) -> Case | None:
    """The nearest open case of `category` within RADIUS_M and WINDOW before this one, if any.

    A bounding box on the indexed (lat, lon) columns narrows the candidates; the exact
    distance decides.
    """
    if category is None or case.lat is None or case.lon is None:
        return None
    dlat = RADIUS_M / 111_320.0
    dlon = RADIUS_M / (111_320.0 * max(math.cos(math.radians(case.lat)), 0.01))
    candidates = (
        Case.objects.filter(
            status__in=OPEN_STATUSES,
            lat__range=(case.lat - dlat, case.lat + dlat),
            lon__range=(case.lon - dlon, case.lon + dlon),
            received_at__gte=case.received_at - WINDOW,
            received_at__lte=case.received_at,
        )
        .filter(_same_category(category))
        .exclude(pk=case.pk)
        .only("pk", "lat", "lon", "number")[:50]
    )
    best: tuple[float, Case] | None = None
    for other in candidates:
        assert other.lat is not None and other.lon is not None
        distance = distance_m(case.lon, case.lat, other.lon, other.lat)
        if distance <= RADIUS_M and (best is None or distance < best[0]):
            best = (distance, other)
    return best[1] if best else None


def _same_category(category: Category) -> Q:
    return Q(category=category) | Q(category__isnull=True, suggested_category=category)
