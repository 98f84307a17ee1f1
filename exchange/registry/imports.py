"""Bulk import of achievements from other platforms and institutions: a CSV (UTF-8, with or without a
BOM; GB18030 read when it is not UTF-8) or an xlsx file, its header in Chinese or English.

Every row is checked before anything is written: a file with a bad row is refused as a whole, and a
dry run reports every bad row by its line number (the header is line 1) and reason. A run commits
its rows in chunks, each with the run's last committed line, so an interrupted run continues where
it stopped when the same file of the same source is imported again. Rows are matched to what is
stored by (source, source id): a new id is registered (numbered, an event of the feed), a changed
row becomes a correction event, an unchanged one changes nothing — importing a file twice is a no-op.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.registry.domain import (
    BadRow,
    EventKind,
    ImportRow,
    Origin,
    RegistryRuleBroken,
    Status,
    check_rows,
    header_fields,
    read_row,
)
from exchange.registry.models import Achievement, ImportRun
from exchange.registry.service import RegistryContext, apply_correction, form_of, number_and_publish, record_event

CHUNK = 200
Progress = Callable[[int, int], None]  # (rows done, rows in the file)


def file_rows(filename: str, content: bytes) -> list[tuple[int, list[Any]]]:
    """The file's rows with their line numbers (the header is line 1); blank rows left out."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _xlsx_rows(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise RegistryRuleBroken("the file is neither UTF-8 nor GB18030 text, nor xlsx", field="file") from None
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((reader.line_num, row))
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # imported on use: only an xlsx import needs it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise RegistryRuleBroken("the file is not a readable xlsx workbook", field="file") from None
    sheet = book.worksheets[0]
    rows = []
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = ["" if c is None else c for c in row]
        if any(str(c).strip() for c in cells):
            rows.append((number, cells))
    book.close()
    return rows


def read_file(filename: str, content: bytes) -> list[ImportRow | BadRow]:
    rows = file_rows(filename, content)
    if not rows:
        raise RegistryRuleBroken("the file is empty: a header row and data rows are expected", field="file")
    (_, header), data = rows[0], rows[1:]
    fields = header_fields([str(h) for h in header])
    return [read_row(line, fields, cells) for line, cells in data]


@dataclass
class ImportResult:
    source: str
    rows: int
    bad: list[BadRow] = field(default_factory=list)
    dry_run: bool = False
    run_id: str | None = None
    resumed_from: int = 0  # the line an interrupted run had committed
    created: int = 0
    corrected: int = 0
    unchanged: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.bad)


async def _existing(session: AsyncSession, source: str, ids: Sequence[str]) -> dict[str, Achievement]:
    rows = await session.scalars(
        select(Achievement).where(Achievement.source == source, Achievement.source_id.in_(list(ids)))
    )
    return {a.source_id or "": a for a in rows.all()}


def _outcome(existing: Achievement | None, row: ImportRow) -> str:
    if existing is None:
        return "created"
    if existing.status != Status.REGISTERED.value or form_of(existing) == row.form:
        return "unchanged"  # a withdrawn achievement is not brought back by an import
    return "corrected"


async def _apply(
    session: AsyncSession, ctx: RegistryContext, source: str, rows: Sequence[ImportRow], run: ImportRun, now: Any
) -> None:
    existing = await _existing(session, source, [r.source_id for r in rows])
    for row in rows:
        found = existing.get(row.source_id)
        outcome = _outcome(found, row)
        if outcome == "created":
            achievement = Achievement(
                **row.form, org_id=None, origin=Origin.IMPORT.value, source=source, source_id=row.source_id,
                status=Status.SUBMITTED.value, reason="", submitted_at=now, version=1, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(achievement)
            await session.flush()
            await number_and_publish(session, ctx, achievement, None, now)
            run.created += 1
        elif outcome == "corrected":
            assert found is not None
            apply_correction(found, row.form, now)
            await session.flush()
            await record_event(session, found, EventKind.CORRECTED, f"导入 {source} 第 {row.line} 行更正", now)
            run.corrected += 1
        else:
            run.unchanged += 1
    run.last_line = rows[-1].line
    run.updated_at = now


async def import_file(
    db: Database,
    ctx: RegistryContext,
    clock: Clock,
    *,
    filename: str,
    content: bytes,
    source: str,
    by: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> ImportResult:
    """Check every row; a dry run (or a file with bad rows) writes nothing. Otherwise continue the
    unfinished run of this file and source, or start one, committing ``chunk`` rows at a time."""
    source = source.strip()
    if not source or len(source) > 64:
        raise RegistryRuleBroken("a source is named in 1 to 64 characters", field="source")
    rows = read_file(filename, content)
    result = ImportResult(source=source, rows=len(rows), bad=check_rows(rows), dry_run=dry_run)
    good = [r for r in rows if isinstance(r, ImportRow)]
    if result.refused or dry_run:
        if dry_run and not result.refused:
            async with db.read() as session:
                for start in range(0, len(good), chunk):
                    part = good[start : start + chunk]
                    existing = await _existing(session, source, [r.source_id for r in part])
                    for row in part:
                        outcome = _outcome(existing.get(row.source_id), row)
                        setattr(result, outcome, getattr(result, outcome) + 1)
        return result
    digest = hashlib.sha256(content).hexdigest()

    async def open_run(session: AsyncSession) -> ImportRun:
        run = await session.scalar(
            select(ImportRun)
            .where(ImportRun.source == source, ImportRun.sha256 == digest, ImportRun.status == "running")
            .order_by(ImportRun.created_at.desc())
            .limit(1)
        )
        if run is None:
            now = clock.now()
            run = ImportRun(
                source=source, filename=filename[:200], sha256=digest, total_rows=len(good), last_line=1,
                last_row_line=good[-1].line if good else 1, created=0, corrected=0, unchanged=0, status="running",
                started_by=by[:200], created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(run)
            await session.flush()
        return run

    run = await db.transaction(open_run)
    result.run_id, result.resumed_from = str(run.id), run.last_line if run.last_line > 1 else 0
    todo = [r for r in good if r.line > run.last_line]
    done = len(good) - len(todo)
    if progress:
        progress(done, len(good))
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]

        async def commit_chunk(session: AsyncSession, part: list[ImportRow] = part) -> None:
            current = await session.get(ImportRun, run.id, with_for_update=True)
            assert current is not None
            if current.last_line >= part[-1].line:
                return  # another process committed it meanwhile
            await _apply(session, ctx, source, [r for r in part if r.line > current.last_line], current, clock.now())

        await db.transaction(commit_chunk)
        done += len(part)
        if progress:
            progress(done, len(good))

    async def finish(session: AsyncSession) -> ImportRun:
        current = await session.get(ImportRun, run.id)
        assert current is not None
        current.status, current.updated_at = "done", clock.now()
        return current

    finished = await db.transaction(finish)
    result.created, result.corrected, result.unchanged = finished.created, finished.corrected, finished.unchanged
    return result


async def list_runs(session: AsyncSession, limit: int = 50) -> list[ImportRun]:
    return list((await session.scalars(select(ImportRun).order_by(ImportRun.created_at.desc()).limit(limit))).all())
