"""who took a proxy back: the facilitator, or the member arriving in person

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proxy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("proxy", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
