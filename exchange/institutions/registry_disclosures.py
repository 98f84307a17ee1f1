"""What the achievement registry reads of a disclosure (the registry's ``Disclosures`` protocol, wired
by the composition root): the achievement as disclosed, its readiness and its funding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.models import Disclosure


@dataclass(frozen=True)
class DisclosedAchievement:
    org_id: uuid.UUID
    title: str
    summary: str
    field: str
    keywords: list[str]
    maturity: int
    funding: list[tuple[str, str]]  # (funder, else the funding's kind; project number)


class RegistryDisclosures:
    async def disclosure(self, session: AsyncSession, disclosure_id: uuid.UUID) -> Any:
        row = await session.get(Disclosure, disclosure_id)
        if row is None:
            return None
        funding = [
            (str(f.get("funder") or f.get("kind") or ""), str(f.get("project_number") or "")) for f in row.funding or []
        ]
        return DisclosedAchievement(
            row.org_id, row.title, row.summary, row.field, list(row.keywords or []), row.maturity, funding
        )

    async def of_org(self, session: AsyncSession, org_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
        rows = await session.execute(
            select(Disclosure.id, Disclosure.title).where(Disclosure.org_id == org_id).order_by(Disclosure.id.desc())
            .limit(200)
        )  # fmt: skip
        return [(disclosure_id, title) for disclosure_id, title in rows.all()]
