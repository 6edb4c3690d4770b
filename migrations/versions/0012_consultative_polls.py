"""consultative polls: their result is shown, no decision is recorded

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch would copy the poll table, and dropping the old copy
    # would cascade to the ballots, receipts and options that refer to it.
    op.add_column(
        "poll",
        sa.Column("consultative", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("poll", "consultative")  # SQLite 3.35+ drops a column in place
