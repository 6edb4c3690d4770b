"""proxies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:21:23.740337
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proxy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("declared_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["holder_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["principal_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proxy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proxy_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proxy_principal_id"), ["principal_id"], unique=False)
        batch_op.create_index(
            "uq_proxy_principal",
            ["session_id", "principal_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("proxy", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_proxy_principal",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_proxy_principal_id"))
        batch_op.drop_index(batch_op.f("ix_proxy_holder_id"))

    op.drop_table("proxy")
