"""Migration 0024_institution_notice_kinds on both databases, on a database that holds notices:
the institution kinds are admitted and nothing else is; the notices table keeps its rows and
(SQLite) its public-data triggers; the downgrade refuses while an
institution notice exists and, once none does, admits the old kinds only again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from exchange.platform.db import create_engine
from tests.integration.test_instalment_migration import fresh_database, migrate

BEFORE = "0024_institutions"
NOW = datetime(2026, 3, 2, 1, tzinfo=UTC)


async def insert_notice(url: str, kind: str) -> uuid.UUID:
    notice_id = uuid.uuid4()
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO notices (id, kind, subject_type, subject_id, title, status, opens_at, closes_at,"
                    " content, signature, key_id, created_at, end_reason) VALUES (:id, :kind, 'x', :subject,"
                    " '公示', 'open', :now, :now, '{}', 'sig', 'k', :now, '')"
                ),
                {"id": _id(url, notice_id), "kind": kind, "subject": _id(url, uuid.uuid4()), "now": _at(url)},
            )
    finally:
        await engine.dispose()
    return notice_id


def _id(url: str, value: uuid.UUID) -> Any:
    return value.hex if url.startswith("sqlite") else value


def _at(url: str) -> Any:
    return NOW.strftime("%Y-%m-%d %H:%M:%S.%f") if url.startswith("sqlite") else NOW


async def scalar(url: str, sql: str) -> Any:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
async def test_the_institution_kinds_are_admitted_and_the_downgrade_guards_them(name, backends, tmp_path):
    async with fresh_database(name, backends, tmp_path) as url:
        await migrate(url, BEFORE)
        older = await insert_notice(url, "deal_result")
        with pytest.raises(IntegrityError):
            await insert_notice(url, "institution_transfer")

        await migrate(url, "head")
        await insert_notice(url, "distribution_plan")
        await insert_notice(url, "institution_transfer")
        with pytest.raises(IntegrityError):
            await insert_notice(url, "astrology")
        assert await scalar(url, "SELECT count(*) FROM notices") == 3
        if name == "sqlite":
            assert await scalar(url, "PRAGMA integrity_check") == "ok"
            triggers = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notices'"
            assert await scalar(url, triggers) == 3
        version = await scalar(url, "SELECT sum(version) FROM public_data_versions")
        await insert_notice(url, "institution_transfer")
        assert await scalar(url, "SELECT sum(version) FROM public_data_versions") > version

        with pytest.raises(RuntimeError, match="institution notices exist"):
            await migrate(url, BEFORE, down=True)
        assert await scalar(url, "SELECT count(*) FROM notices") == 4
        await scalar(url, "DELETE FROM notices WHERE kind IN ('institution_transfer', 'distribution_plan')")
        await migrate(url, BEFORE, down=True)
        with pytest.raises(IntegrityError):
            await insert_notice(url, "distribution_plan")
        assert await scalar(url, f"SELECT kind FROM notices WHERE id = '{_id(url, older)}'") == "deal_result"
        await migrate(url, "head")
        await insert_notice(url, "distribution_plan")
