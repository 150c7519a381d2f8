"""`case_import`: a 12345 hotline export → historical cases, in batches, resumable.

Per batch of rows: check each row (no database), drop source ids already imported, place the
rest (coordinates through one vectorised grid lookup, else the address and text), triage all
texts in one call, then write the batch in ONE transaction: the cases (numbers taken as a range
under the same `CaseSequence` lock as intake), the source-id mapping, one timeline event per
case, the job's progress and one audit entry for the whole batch. The bad rows of the batch are
written to `FILE.errors.csv` inside that transaction too, and the job records how far the error
file is committed, so a crash never leaves an error line without its batch or the reverse.

Nothing is dispatched and nobody is told: these cases happened in the past.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.db import IntegrityError, models, transaction
from django.db.models.fields import NOT_PROVIDED, AutoFieldMixin
from django.utils import timezone

from shanzhi.audit.canonical import state_digest
from shanzhi.audit.services import actor_label, audit_append
from shanzhi.cases.imports.progress import Progress, Stream
from shanzhi.cases.imports.reader import (
    Cell,
    SourceFile,
    Table,
    cell_text,
    inspect_file,
    is_blank,
    open_table,
)
from shanzhi.cases.imports.rows import LAT, LON, SOURCE_ID, Columns, Record, Refused, parse_row
from shanzhi.cases.models import Case, CaseSequence, CaseStatus, Category, Channel, TimelineEvent
from shanzhi.cases.models_import import ImportedRow, ImportJob, ImportJobStatus
from shanzhi.cases.services import case_state
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.core.models import Estate, Region, RegionLevel
from shanzhi.core.selectors import has_role, region_county
from shanzhi.grid.locate import Location

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000
IMPORT_ROLES = frozenset({"admin"})  # the same as intake's CHANNEL_ROLES for the import channel
ERRORS_SUFFIX = ".errors.csv"
ERRORS_HEADER = ["行号", "出错列", "原因"]
EXCEL_CELL_LIMIT = 32767
CUT_MARK = "…(已截断)"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROUTE_CACHE = 20_000  # routing answers kept per run
ATTEMPTS = 3  # a batch that loses a race on a source id to another import is retried


class ImportInterrupted(RuntimeError):
    """Raised by `stop_after`: a crash in the middle of a batch, for testing resumption."""


@dataclass
class ImportResult:
    job: ImportJob
    errors_path: Path | None
    resumed_from: int = 0  # rows settled by earlier runs of the same file
    already_done: bool = False
    read: int = 0  # non-blank data rows read in this run
    imported: int = 0
    skipped: int = 0  # already imported (from this or another file)
    errors: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def case_import(
    *,
    actor: Any,
    path: Path | str,
    crs: str = "wgs84",
    batch_size: int = BATCH_SIZE,
    sheet: str | None = None,
    progress: Stream | None = None,
    stop_after: int | None = None,
) -> ImportResult:
    """Import (or continue importing) one export file. See docs/import.md.

    A file that cannot be read, or lacks a required column, is refused before any row is
    written. `stop_after=n` raises `ImportInterrupted` inside batch n + 1, after its inserts
    and before its commit (tests use it to simulate a crash).
    """
    from shanzhi.grid.coords import CRS_CHOICES

    if actor is not None and not has_role(user=actor, roles=IMPORT_ROLES):
        raise PermissionDenied("只有系统管理员可以导入历史工单")
    if crs not in CRS_CHOICES:
        raise ServiceError("invalid_crs", "坐标系只能是 wgs84、gcj02 或 bd09")
    if isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ServiceError("invalid_batch_size", f"每批行数应在 1 到 {MAX_BATCH_SIZE} 之间")
    started = time.perf_counter()
    source = inspect_file(Path(path))
    with open_table(source, marker=SOURCE_ID, sheet=sheet) as table:
        columns = Columns.from_header(table.header)
        errors_path = source.path.with_name(source.path.name + ERRORS_SUFFIX)
        if not os.access(errors_path.parent, os.W_OK):
            raise ServiceError(
                "errors_unwritable",
                f"无法在 {errors_path.parent} 中写入错误文件:请把导出文件复制到可写的目录后再导入",
            )
        job = _job_for(actor=actor, source=source, crs=crs)
        result = ImportResult(
            job=job,
            errors_path=errors_path if job.errors_offset else None,
            resumed_from=job.rows_done,
            already_done=job.status == ImportJobStatus.DONE,
        )
        result.seconds["inspect"] = time.perf_counter() - started
        if result.already_done:
            return result
        errors = ErrorFile(errors_path, header=table.raw_header, committed=job.errors_offset)
        try:
            run = _Run(
                actor=actor,
                job=job,
                source=source,
                table=table,
                columns=columns,
                errors=errors,
                result=result,
                progress=Progress(progress, total=table.total, start=job.rows_done),
                batch_size=batch_size,
                stop_after=stop_after,
            )
            run.all()
        except BaseException as exc:
            _job_stop(actor=actor, job=job, exc=exc)
            raise
        finally:
            errors.close()
        result.errors_path = errors_path if errors.committed else None
    return result


def _job_for(*, actor: Any, source: SourceFile, crs: str) -> ImportJob:
    """The file's job: the one from an earlier run (to resume), or a new one."""
    for _attempt in range(2):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().filter(digest=source.digest).first()
            if job is not None:
                if job.crs != crs:
                    raise ServiceError(
                        "crs_mismatch",
                        f"该文件上次按 {job.crs} 坐标系导入,继续导入必须使用相同的坐标系(--crs {job.crs})",
                    )
                return job
            now = timezone.now()
            try:
                with transaction.atomic():
                    job = ImportJob.objects.create(
                        digest=source.digest,
                        path=str(source.path.resolve())[:1024],
                        file_format=source.file_format,
                        encoding=source.encoding,
                        size=source.size,
                        crs=crs,
                        created_by=actor if getattr(actor, "is_authenticated", False) else None,
                        started_at=now,
                        updated_at=now,
                    )
            except IntegrityError:
                continue  # another process registered the same file a moment ago: use its job
            audit_append(
                actor=actor,
                action="case.import_start",
                obj=job,
                state={
                    "file_sha256": source.digest,
                    "path": job.path,
                    "format": source.file_format,
                    "encoding": source.encoding,
                    "size": source.size,
                    "crs": crs,
                },
            )
            return job
    raise ServiceError("import_busy", "另一个进程正在登记同一文件的导入,请稍后重试", status=409)


def _job_stop(*, actor: Any, job: ImportJob, exc: BaseException) -> None:
    """Mark the job interrupted, with why; its committed batches stay and a re-run continues."""
    if isinstance(exc, ServiceError):
        why = exc.message
    elif isinstance(exc, KeyboardInterrupt):
        why = "被手动中断"
    else:
        why = f"{type(exc).__name__}: {exc}"
    try:
        with transaction.atomic():
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            locked.status = ImportJobStatus.FAILED
            locked.message = why[:500]
            locked.updated_at = timezone.now()
            locked.save(update_fields=["status", "message", "updated_at"])
            audit_append(
                actor=actor,
                action="case.import_stop",
                obj=locked,
                state={
                    "file_sha256": locked.digest,
                    "rows_done": locked.rows_done,
                    "message": locked.message,
                },
            )
        job.status, job.message = locked.status, locked.message
    except Exception:  # the database may be what failed; the job then just stays "running"
        logger.exception("could not mark import job %s as stopped", job.pk)


class ErrorFile:
    """FILE.errors.csv: UTF-8 with BOM (so Excel opens it), the three error columns, then the
    original row under its original header — fix the cells and the file imports as it is.

    `committed` is how many bytes belong to committed batches; every write first cuts the file
    back to it, so lines of a batch that did not commit disappear."""

    def __init__(self, path: Path, *, header: list[str], committed: int) -> None:
        self.path = path
        self.header = [*ERRORS_HEADER, *header]
        self.committed = committed
        self.handle: IO[bytes] | None = None
        if committed == 0:
            path.unlink(missing_ok=True)  # left by an earlier file of this name: not ours
        elif path.exists():
            self.handle = path.open("r+b")
            self.handle.truncate(committed)
        else:
            logger.warning("error file %s is gone; starting a new one", path)
            self.committed = 0

    def write(self, refused: list[Refused]) -> int:
        """Write after the committed part; returns the offset to commit with the batch."""
        if not refused and self.committed == 0:
            return 0
        if self.handle is None:
            self.handle = self.path.open("w+b")
        if self.committed == 0:
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.write(codecs.BOM_UTF8 + _csv_bytes([self.header]))
        else:
            self.handle.seek(self.committed)
            self.handle.truncate()
        lines = [_error_line(r) for r in sorted(refused, key=lambda r: r.row)]
        width = len(self.header)  # XLSX rows end at their last cell: pad them to the header
        self.handle.write(_csv_bytes(line + [""] * (width - len(line)) for line in lines))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.truncate(self.committed)  # drop what a failed last batch wrote
            self.handle.close()
            self.handle = None
            if self.committed == 0:
                self.path.unlink(missing_ok=True)


def _csv_bytes(rows: Any) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def _safe_cell(value: Cell) -> str:
    text = cell_text(value).replace("\x00", "\ufffd")
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - len(CUT_MARK)] + CUT_MARK
    if text.startswith(FORMULA_START) and not _is_number(text):
        text = "'" + text  # so Excel shows a cell like "=1+1" instead of running it
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _error_line(refused: Refused) -> list[str]:
    columns = list(dict.fromkeys(column for column, _ in refused.problems))
    reasons = [reason for _, reason in refused.problems]
    return [str(refused.row), "、".join(columns), ";".join(reasons), *(_safe_cell(c) for c in refused.cells)]


@dataclass
class _Placed:
    record: Record
    region: Region | None
    township: Region | None
    grid_id: int | None
    estate: Estate | None
    lon: float | None
    lat: float | None


class _Run:
    """One run over a file's remaining rows. Lookup tables are loaded once per run."""

    def __init__(
        self,
        *,
        actor: Any,
        job: ImportJob,
        source: SourceFile,
        table: Table,
        columns: Columns,
        errors: ErrorFile,
        result: ImportResult,
        progress: Progress,
        batch_size: int,
        stop_after: int | None,
    ) -> None:
        from shanzhi.triage.categories import category_table
        from shanzhi.triage.place import PlaceIndex

        self.actor = actor
        self.user = actor if getattr(actor, "is_authenticated", False) else None
        self.label = actor_label(actor)
        self.job = job
        self.source = source
        self.table = table
        self.columns = columns
        self.errors = errors
        self.result = result
        self.progress = progress
        self.batch_size = batch_size
        self.stop_after = stop_after
        self.batches = 0
        self.now = timezone.now()
        self.county = region_county()
        self.regions = {
            r.code: r
            for r in Region.objects.filter(
                level__in=[RegionLevel.VILLAGE, RegionLevel.TOWNSHIP]
            ).select_related("parent")
        }
        self.categories = {c.code: c for c in Category.objects.all()}
        self.category_table = category_table()
        self.place_index = PlaceIndex.load()
        self.routes: dict[tuple[str, int | None, int | None, int | None], dict[str, Any]] = {}

    def all(self) -> None:
        rows: Iterator[tuple[int, list[Cell]]] = self.table.rows
        if self.job.rows_done:
            started = time.perf_counter()
            self.progress.note(f"继续上次的导入:跳过已处理的 {self.job.rows_done:,} 行")
            rows = itertools.islice(rows, self.job.rows_done, None)
            first = next(rows, None)  # islice skips lazily; take one row so the skip is timed here
            rows = itertools.chain([first] if first is not None else [], rows)
            self.result.seconds["resume_skip"] += time.perf_counter() - started
        self.progress.started = time.monotonic()
        while True:
            started = time.perf_counter()
            batch = list(itertools.islice(rows, self.batch_size))
            self.result.seconds["read"] += time.perf_counter() - started
            if not batch:
                break
            self._batch(batch)
            self.progress.update(self.job.rows_done)
        self._finish()
        self.progress.finish()

    # --- one batch ----------------------------------------------------------------------------

    def _batch(self, batch: list[tuple[int, list[Cell]]]) -> None:
        clock = time.perf_counter()
        records: list[Record] = []
        refused: list[Refused] = []
        first_seen: dict[str, int] = {}
        read = 0
        last_id = ""
        for row, cells in batch:
            if is_blank(cells):
                continue
            read += 1
            last_id = cell_text(self.columns.get(cells, SOURCE_ID)).strip()[:64] or last_id
            parsed = parse_row(
                row=row, cells=cells, columns=self.columns, epoch=self.table.epoch, now=self.now
            )
            if isinstance(parsed, Refused):
                refused.append(parsed)
            elif parsed.source_id in first_seen:
                refused.append(_duplicate(parsed, first_seen[parsed.source_id]))
            else:
                first_seen[parsed.source_id] = row
                records.append(parsed)
        clock = self._lap("parse", clock)
        records, skipped = self._drop_known(records, refused)
        clock = self._lap("known", clock)
        placed = self._place(records, refused)
        clock = self._lap("place", clock)
        predictions = self._triage([p.record.text for p in placed])
        clock = self._lap("triage", clock)
        # Built before the transaction, so the write lock is held for the inserts only; the
        # numbers are taken inside it.
        built = [(p, self._case(p, pred)) for p, pred in zip(placed, predictions, strict=True)]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                imported, skipped_now, refused_now = self._write(
                    batch=batch,
                    built=built,
                    refused=refused,
                    skipped=skipped,
                    last_id=last_id,
                )
                break
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise
                logger.info("import batch lost a race on a source id; retrying (%s)", attempt)
        self._lap("write", clock)
        self.result.read += read
        self.result.imported += imported
        self.result.skipped += skipped_now
        self.result.errors += len(refused_now)

    def _lap(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.result.seconds[name] += now - since
        return now

    def _drop_known(self, records: list[Record], refused: list[Refused]) -> tuple[list[Record], int]:
        """Rows whose source id was imported before: skipped when another file brought it, a
        duplicate when an earlier row of this file did."""
        if not records:
            return records, 0
        known = {
            sid: (job_id, row)
            for sid, job_id, row in ImportedRow.objects.filter(
                source_id__in=[r.source_id for r in records]
            ).values_list("source_id", "job_id", "row")
        }
        if not known:
            return records, 0
        fresh, skipped = [], 0
        for record in records:
            hit = known.get(record.source_id)
            if hit is None:
                fresh.append(record)
            elif hit[0] == self.job.pk:
                refused.append(_duplicate(record, hit[1]))
            else:
                skipped += 1
        return fresh, skipped

    def _place(self, records: list[Record], refused: list[Refused]) -> list[_Placed]:
        """Coordinates → grid, village, township (one vectorised lookup for the batch); the
        address (trusted first) and text → estate, and the village when coordinates gave none."""
        from shanzhi.grid.coords import to_wgs84
        from shanzhi.grid.locate import locate_points

        with_coords = [i for i, r in enumerate(records) if r.lon is not None and r.lat is not None]
        located: dict[int, tuple[Location, float, float]] = {}  # index → (where, WGS-84 lon, lat)
        if with_coords:
            raw_lon = np.array([records[i].lon for i in with_coords], dtype=np.float64)
            raw_lat = np.array([records[i].lat for i in with_coords], dtype=np.float64)
            found = locate_points(lon=raw_lon, lat=raw_lat, crs=self.job.crs)
            wgs_lon, wgs_lat = to_wgs84(raw_lon, raw_lat, crs=self.job.crs)
            for k, i in enumerate(with_coords):
                located[i] = (found[k], float(wgs_lon[k]), float(wgs_lat[k]))
        placed = []
        for i, record in enumerate(records):
            region: Region | None = None
            township: Region | None = None
            estate: Estate | None = None
            grid_id: int | None = None
            lon: float | None = None
            lat: float | None = None
            if i in located:
                location, lon, lat = located[i]
                if not location.inside:
                    reason = f"坐标({record.lon},{record.lat})不在本县范围内"
                    refused.append(Refused(record.row, [(f"{LON}、{LAT}", reason)], record.cells))
                    continue
                region = self.regions.get(location.village.code) if location.village else None
                township = self.regions.get(location.township.code) if location.township else None
                grid_id = location.grid_id
            match = self.place_index.match(text=record.text, address=record.address)
            if match is not None:
                estate = match.estate
                if region is None and (match.region is not None or match.township is not None):
                    region, township = match.region, match.township
            placed.append(_Placed(record, region, township, grid_id, estate, lon, lat))
        return placed

    def _triage(self, texts: list[str]) -> list[Any]:
        from shanzhi.triage.predict import triage_texts

        return triage_texts(texts=texts) if texts else []

    def _suggestion(self, placed: _Placed, prediction: Any, *, open_case: bool) -> dict[str, Any]:
        data: dict[str, Any] = prediction.as_dict()
        if open_case and prediction.category in self.category_table:
            # Open cases wait for a dispatcher: give them the route intake would have proposed.
            data.update(self._route(prediction.category, placed))
        return data

    def _route(self, category: str, placed: _Placed) -> dict[str, Any]:
        """route() costs a query; the same category at the same place routes the same way
        within a run, so answers are kept (a bounded number: memory stays flat)."""
        from shanzhi.triage.route import route

        key = (
            category,
            placed.region.pk if placed.region else None,
            placed.township.pk if placed.township else None,
            placed.estate.pk if placed.estate else None,
        )
        answer = self.routes.get(key)
        if answer is None:
            routing = route(
                category=category,
                village=placed.region,
                township=placed.township,
                estate=placed.estate,
                categories=self.category_table,
            )
            answer = {
                "handler": routing.primary.code if routing.primary else None,
                "co_handlers": [h.code for h in routing.co_handlers],
                "unresolved": list(routing.unresolved),
            }
            if len(self.routes) >= ROUTE_CACHE:
                self.routes.clear()
            self.routes[key] = answer
        return {k: list(v) if isinstance(v, list) else v for k, v in answer.items()}

    # --- the transaction ------------------------------------------------------------------------

    def _write(
        self,
        *,
        batch: list[tuple[int, list[Cell]]],
        built: list[tuple[_Placed, Case]],
        refused: list[Refused],
        skipped: int,
        last_id: str,
    ) -> tuple[int, int, list[Refused]]:
        """The batch's one transaction; returns (imported, skipped, refused rows)."""
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=self.job.pk)
            if job.rows_done != self.job.rows_done:
                raise ServiceError(
                    "import_busy",
                    "另一个进程正在导入同一文件(已处理行数在本次运行中发生了变化),本次导入已停止",
                    status=409,
                )
            # Checked again under the lock: another file's import may have committed meanwhile.
            known = set(
                ImportedRow.objects.filter(source_id__in=[p.record.source_id for p, _ in built]).values_list(
                    "source_id", flat=True
                )
            )
            rows = [(p, c) for p, c in built if p.record.source_id not in known]
            cases = [c for _, c in rows]
            numbers = _take_numbers(Counter(timezone.localdate(c.received_at) for c in cases))
            for case in cases:
                case.number = next(numbers[timezone.localdate(case.received_at)])
            states = [state_digest(case_state(c)) for c in cases]  # before insert: no query for assignments
            _insert(Case, cases)
            ids = dict(Case.objects.filter(number__in=[c.number for c in cases]).values_list("number", "pk"))
            for case in cases:
                case.pk = ids[case.number]
                case._state.adding, case._state.db = False, transaction.get_connection().alias
            _insert(
                ImportedRow,
                [
                    ImportedRow(job=job, row=p.record.row, source_id=p.record.source_id, case=c)
                    for p, c in rows
                ],
            )
            _insert(TimelineEvent, [self._event(p, c, job=job) for p, c in rows])
            self.batches += 1
            if self.stop_after is not None and self.batches > self.stop_after:
                self.errors.write(refused)  # the crash comes after the error lines are out, too
                raise ImportInterrupted(f"simulated crash in batch {self.batches}")
            offset = self.errors.write(refused)
            job.rows_done += len(batch)
            job.last_source_id = last_id or job.last_source_id
            job.imported += len(cases)
            skipped += len(known)
            job.skipped += skipped
            job.errors += len(refused)
            job.errors_offset = offset
            job.errors_path = str(self.errors.path) if offset else ""
            job.status = ImportJobStatus.RUNNING
            job.message = ""
            job.path = str(self.source.path.resolve())[:1024]
            job.updated_at = timezone.now()
            job.save()
            audit_append(
                actor=self.actor,
                action="case.import_batch",
                obj=job,
                state={
                    "file_sha256": job.digest,
                    "first_row": batch[0][0],
                    "last_row": batch[-1][0],
                    "rows_done": job.rows_done,
                    "imported": len(cases),
                    "skipped": skipped,
                    "errors": len(refused),
                    "errors_offset": offset,
                    # Each case's digest is the one a per-case audit entry would carry.
                    "cases": [
                        [p.record.source_id, c.number, digest]
                        for (p, c), digest in zip(rows, states, strict=True)
                    ],
                },
            )
        self.errors.committed = offset
        self.job = job
        self.result.job = job
        return len(cases), skipped, refused

    def _case(self, placed: _Placed, prediction: Any) -> Case:
        """The case of a row, still without its number."""
        record = placed.record
        if record.closed_at is None:
            status = CaseStatus.RECEIVED
        elif record.satisfaction:
            status = CaseStatus.EVALUATED
        else:
            status = CaseStatus.CLOSED
        open_case = status == CaseStatus.RECEIVED
        category = self.categories.get(prediction.category)
        return Case(
            channel=Channel.IMPORT,
            status=status,
            text=record.text,
            address=record.address,
            lon=placed.lon,
            lat=placed.lat,
            region=placed.region or placed.township or self.county,
            township=placed.township,
            grid_id=placed.grid_id,
            estate=placed.estate,
            # A closed case keeps triage's category as its category (the cockpit counts by it);
            # an open one waits for a dispatcher to confirm it, as from any other channel.
            category=None if open_case else category,
            created_by=self.user,
            suggested_category=category,
            suggestion_confidence=prediction.confidence,
            suggestion=self._suggestion(placed, prediction, open_case=open_case),
            received_at=record.received_at,
            closed_at=record.closed_at,
            satisfaction=record.satisfaction,
        )

    def _event(self, placed: _Placed, case: Case, *, job: ImportJob) -> TimelineEvent:
        record = placed.record
        return TimelineEvent(
            case=case,
            at=self.now,
            actor=self.label,
            action="import",
            note=f"历史导入:工单编号 {record.source_id}({self.source.path.name} 第 {record.row} 行)",
            data={"source_id": record.source_id, "row": record.row, "job": job.pk},
        )

    def _finish(self) -> None:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=self.job.pk)
            job.status = ImportJobStatus.DONE
            job.finished_at = job.updated_at = timezone.now()
            job.message = ""
            job.save()
            audit_append(
                actor=self.actor,
                action="case.import_finish",
                obj=job,
                state={
                    "file_sha256": job.digest,
                    "rows_done": job.rows_done,
                    "imported": job.imported,
                    "skipped": job.skipped,
                    "errors": job.errors,
                },
            )
        self.job = job
        self.result.job = job


def _duplicate(record: Record, first_row: int) -> Refused:
    return Refused(
        record.row, [(SOURCE_ID, f"工单编号“{record.source_id}”与第 {first_row} 行重复")], record.cells
    )


def _take_numbers(days: Counter[dt.date]) -> dict[dt.date, Iterator[str]]:
    """Case numbers for `days[d]` cases received on each day d, as ranges taken under the same
    row lock as `services._next_number` (days locked in order, so two importers cannot deadlock)."""
    if not days:
        return {}
    ordered = sorted(days)
    locked = {
        s.day: s for s in CaseSequence.objects.select_for_update().filter(day__in=ordered).order_by("day")
    }
    missing = [d for d in ordered if d not in locked]
    if missing:
        CaseSequence.objects.bulk_create([CaseSequence(day=d) for d in missing], ignore_conflicts=True)
        locked = {
            s.day: s for s in CaseSequence.objects.select_for_update().filter(day__in=ordered).order_by("day")
        }
    out: dict[dt.date, Iterator[str]] = {}
    for day in ordered:
        seq = locked[day]
        first = seq.last + 1
        seq.last += days[day]
        out[day] = _numbers(day, first, seq.last)
    CaseSequence.objects.bulk_update(list(locked.values()), ["last"])
    return out


def _numbers(day: dt.date, first: int, last: int) -> Iterator[str]:
    """The numbering scheme of `services._next_number`: SZ + day + five-digit sequence."""
    for n in range(first, last + 1):
        yield f"SZ{day:%Y%m%d}{n:05d}"


# Columns whose Python value is what the database driver takes as it is.
_PLAIN_COLUMNS = frozenset(
    {
        "CharField",
        "TextField",
        "BooleanField",
        "IntegerField",
        "SmallIntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "FloatField",
        "ForeignKey",
        "OneToOneField",
    }
)


def _insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT `objs` with one executemany. The same rows bulk_create would write, without its
    per-value overhead (about 6 µs a column, 40 columns a case, which made it most of the
    import's time): plain columns go through as they are, the rest (times, JSON) through the
    field's own get_db_prep_save. Primary keys are not returned; the caller reads them back."""
    if not objs:
        return
    connection = transaction.get_connection()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))]
    if any(getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED for f in fields):
        # A database default is an expression to compile: leave that model to the ORM.
        model._default_manager.bulk_create(objs)
        return
    qn = connection.ops.quote_name
    # Table and column names come from the model, quoted; the values are parameters.
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    plain = [f.get_internal_type() in _PLAIN_COLUMNS for f in fields]
    stamped = [bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)) for f in fields]
    spec = list(zip(fields, plain, stamped, strict=True))

    def values(obj: models.Model) -> list[Any]:
        out = []
        for f, is_plain, is_stamped in spec:
            value = f.pre_save(obj, True) if is_stamped else getattr(obj, f.attname)
            out.append(value if is_plain else f.get_db_prep_save(value, connection=connection))
        return out

    with connection.cursor() as cursor:
        cursor.executemany(sql, [values(o) for o in objs])
