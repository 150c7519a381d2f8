"""Rollup tables: sums of case and assignment rows at coarse grains, kept exact on every write.

Database triggers (created by this app's migrations, see `rollups.py`) subtract a row's old
contribution and add its new one in the same transaction as the write, so services, imports,
the admin and raw SQL all keep them current. Missing dimensions are stored as 0 / "" (not NULL)
so each grain has one unique key to upsert on.
"""

from __future__ import annotations

from django.db import models


class CaseSums(models.Model):
    """Per case, by the local day it was received (the cohort the 三率 are computed over)."""

    township_id = models.BigIntegerField(default=0, db_default=0)
    category_id = models.BigIntegerField(default=0, db_default=0)
    intake = models.IntegerField(default=0, db_default=0)  # received, not refused or merged
    closed = models.IntegerField(default=0, db_default=0)  # closed or evaluated
    closed_secs = models.BigIntegerField(
        default=0, db_default=0
    )  # Σ (closed_at − received_at) of closed cases
    rated = models.IntegerField(default=0, db_default=0)
    satisfied = models.IntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class CaseMeasures(CaseSums):
    channel = models.CharField(max_length=16, default="", db_default="")

    class Meta:
        abstract = True


class CaseDay(CaseMeasures):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "township_id", "category_id", "channel"], name="cockpit_caseday_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class CaseMonth(CaseMeasures):
    month = models.DateField(help_text="first day of the month")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "township_id", "category_id", "channel"], name="cockpit_casemonth_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month}"


class GridDay(models.Model):
    """Intake per grid and day (the hotspot map without category/channel filters)."""

    day = models.DateField()
    grid_id = models.BigIntegerField(default=0, db_default=0)
    township_id = models.BigIntegerField(default=0, db_default=0)
    intake = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "grid_id", "township_id"], name="cockpit_gridday_key")
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class GridMonth(models.Model):
    month = models.DateField()
    grid_id = models.BigIntegerField(default=0, db_default=0)
    township_id = models.BigIntegerField(default=0, db_default=0)
    intake = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "grid_id", "township_id"], name="cockpit_gridmonth_key")
        ]

    def __str__(self) -> str:
        return f"{self.month}"


# What the county-wide place queries read besides the period (covering index columns).
PLACE_COVER = ["township_id", "region_id", "grid_id", "category_id", "intake"]
MAX30 = ["max30", "max30_day"]


class PlaceMeasures(CaseSums):
    """Per case by place (township × village × grid) and category: the village and grid filters,
    the hotspot map under a category filter, and repeat complaints. No channel (a channel filter
    below a township reads the raw rows)."""

    region_id = models.BigIntegerField(default=0, db_default=0)  # the case's village
    grid_id = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class DayRepeats(models.Model):
    # Σ intake of the same key over the 30 days ending on `day` (repeat complaints), recounted by
    # the triggers under the township's RepeatKey row lock.
    n30 = models.IntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class MonthRepeats(models.Model):
    # max n30 over the month's days with intake, and the first day it is reached
    max30 = models.IntegerField(default=0, db_default=0)
    max30_day = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True


class PlaceDay(PlaceMeasures, DayRepeats):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "day"],
                name="cockpit_placeday_key",
            )
        ]
        # A grid filter without its village has no leading key column: the grid's rows by day.
        # The county's days (repeat complaints, the hotspot map under a category filter) are
        # read from the index alone; key columns, not INCLUDE, so SQLite's index covers them too.
        indexes = [
            models.Index(fields=["day", *PLACE_COVER, "n30"], name="cockpit_placeday_cover"),
            models.Index(fields=["grid_id", "day"], name="cockpit_placeday_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class PlaceMonth(PlaceMeasures, MonthRepeats):
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "month"],
                name="cockpit_placemonth_key",
            )
        ]
        indexes = [
            models.Index(fields=["month", *PLACE_COVER, *MAX30], name="cockpit_placemonth_cover"),
            models.Index(fields=["grid_id", "month"], name="cockpit_placemonth_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.month}"


class PlaceChannelDay(PlaceMeasures, DayRepeats):
    """The place tables with the channel: the hotspot map, repeat complaints and the case figures
    under a channel filter below the county's rollups. n30 counts per place × category × channel."""

    channel = models.CharField(max_length=16, default="", db_default="")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "channel", "day"],
                name="cockpit_placechannelday_key",
            )
        ]
        indexes = [
            models.Index(fields=["channel", "day", *PLACE_COVER, "n30"], name="cockpit_placechanday_cover"),
            models.Index(fields=["grid_id", "day"], name="cockpit_placechannelday_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class PlaceChannelMonth(PlaceMeasures, MonthRepeats):
    channel = models.CharField(max_length=16, default="", db_default="")
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "channel", "month"],
                name="cockpit_placechannelmonth_key",
            )
        ]
        indexes = [
            models.Index(
                fields=["channel", "month", *PLACE_COVER, *MAX30], name="cockpit_placechanmonth_cover"
            ),
            models.Index(fields=["grid_id", "month"], name="cockpit_placechannelmonth_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.month}"


class RepeatKey(models.Model):
    """One row per place × category: writers lock it (upsert) before they recount the 30-day
    windows of that key, so concurrent writers of one key take turns and each recount sees the
    previous writer's committed rows."""

    township_id = models.BigIntegerField(default=0, db_default=0)
    region_id = models.BigIntegerField(default=0, db_default=0)
    grid_id = models.BigIntegerField(default=0, db_default=0)
    category_id = models.BigIntegerField(default=0, db_default=0)
    writes = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id"], name="cockpit_repeatkey_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grid_id or self.region_id}/{self.category_id}"


class HandlerSums(models.Model):
    """Per assignment: the started-day part (dispatched … satisfied) and the deadline-day part
    (due, on_time, suspended), with the definitions of shanzhi.cases.kpis."""

    dispatched = models.IntegerField(default=0, db_default=0)
    responded = models.IntegerField(default=0, db_default=0)
    returned = models.IntegerField(default=0, db_default=0)
    rework = models.IntegerField(default=0, db_default=0)
    disposed = models.IntegerField(default=0, db_default=0)  # primary, reported or done
    disposal_secs = models.BigIntegerField(default=0, db_default=0)  # Σ (reported_at − started_at) of those
    rated = models.IntegerField(default=0, db_default=0)  # primary, done, case rated
    satisfied = models.IntegerField(default=0, db_default=0)
    due = models.IntegerField(default=0, db_default=0)
    on_time = models.IntegerField(default=0, db_default=0)
    suspended = models.IntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class HandlerMeasures(HandlerSums):
    handler_id = models.BigIntegerField()
    township_id = models.BigIntegerField(default=0, db_default=0)
    category_id = models.BigIntegerField(default=0, db_default=0)
    channel = models.CharField(max_length=16, default="", db_default="")

    class Meta:
        abstract = True


class HandlerDay(HandlerMeasures):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "handler_id", "township_id", "category_id", "channel"],
                name="cockpit_handlerday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class HandlerMonth(HandlerMeasures):
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "handler_id", "township_id", "category_id", "channel"],
                name="cockpit_handlermonth_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month}"


class HandlerPlaceMeasures(HandlerSums):
    """The handler sums by place (township × village × grid) and category, without channel: the
    assignment figures (三率, rankings) under a village or grid filter. A channel filter below a
    township reads the raw rows, as for the place tables."""

    handler_id = models.BigIntegerField()
    township_id = models.BigIntegerField(default=0, db_default=0)
    region_id = models.BigIntegerField(default=0, db_default=0)  # the case's village
    grid_id = models.BigIntegerField(default=0, db_default=0)
    category_id = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class HandlerPlaceDay(HandlerPlaceMeasures):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "handler_id", "day"],
                name="cockpit_handlerplaceday_key",
            )
        ]
        # A grid filter without its village: the grid's rows by day.
        indexes = [models.Index(fields=["grid_id", "day"], name="cockpit_handlerplaceday_grid")]

    def __str__(self) -> str:
        return f"{self.day}"


class HandlerPlaceMonth(HandlerPlaceMeasures):
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "region_id", "grid_id", "category_id", "handler_id", "month"],
                name="cockpit_handlerplacemonth_key",
            )
        ]
        indexes = [models.Index(fields=["grid_id", "month"], name="cockpit_handlerplacemonth_grid")]

    def __str__(self) -> str:
        return f"{self.month}"


class RollupState(models.Model):
    """One row: while `suspended`, the triggers do nothing (a bulk load rebuilds afterwards)."""

    suspended = models.BooleanField(default=False)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "suspended" if self.suspended else "live"


class CaseHandler(models.Model):
    """How many live primary assignments a case has with a handler: a case counts once for each
    handler it has at least one with (the handler filter on case figures), so the triggers add
    or remove the case's sums when this count turns 1 or 0."""

    case_id = models.BigIntegerField()
    handler_id = models.BigIntegerField()
    n = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_id", "handler_id"], name="cockpit_casehandler_key")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.handler_id}"


class HandlerCaseMeasures(CaseMeasures):
    """The case sums of each handler's cases (see CaseHandler), by township, category, channel."""

    handler_id = models.BigIntegerField()

    class Meta:
        abstract = True


class HandlerCaseDay(HandlerCaseMeasures):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["handler_id", "day", "township_id", "category_id", "channel"],
                name="cockpit_handlercaseday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}"


class HandlerCaseMonth(HandlerCaseMeasures):
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["handler_id", "month", "township_id", "category_id", "channel"],
                name="cockpit_handlercasemonth_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month}"


class HandlerCasePlaceDay(PlaceMeasures, DayRepeats):
    """Each handler's cases (see CaseHandler) by place and category: the hotspot map, repeat
    complaints and the case figures under a handler filter below the handler case tables. n30
    counts per handler × place × category."""

    handler_id = models.BigIntegerField()
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["handler_id", "township_id", "region_id", "grid_id", "category_id", "day"],
                name="cockpit_handlercaseplaceday_key",
            )
        ]
        indexes = [models.Index(fields=["handler_id", "day"], name="cockpit_hcpday_handler")]

    def __str__(self) -> str:
        return f"{self.day}"


class HandlerCasePlaceMonth(PlaceMeasures, MonthRepeats):
    handler_id = models.BigIntegerField()
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["handler_id", "township_id", "region_id", "grid_id", "category_id", "month"],
                name="cockpit_handlercaseplacemonth_key",
            )
        ]
        indexes = [models.Index(fields=["handler_id", "month"], name="cockpit_hcpmonth_handler")]

    def __str__(self) -> str:
        return f"{self.month}"
