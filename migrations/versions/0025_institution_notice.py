"""institution notice: the transfer process's tables and the institution notice kinds, joined

Revision ID: 0025_institution_notice
Revises: 0024_institutions, 0024_institution_notice_kinds
Create Date: 2026-12-12

The transfer process's public notice (公示) and its implementation (实施) use the tables of
0024_institutions (``transfer_processes.notice_id``, ``listing_id``, ``contract``, ``remedy``;
``contract_registrations``) and the notice kinds 0024_institution_notice_kinds admits. Both were
written beside each other from 0023; this revision joins them into one head and changes nothing.
"""

from collections.abc import Sequence

revision: str = "0025_institution_notice"
down_revision: str | Sequence[str] | None = ("0024_institutions", "0024_institution_notice_kinds")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
