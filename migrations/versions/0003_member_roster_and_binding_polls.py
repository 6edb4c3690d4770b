"""member roster and binding polls

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:16:00.950417
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("proxy_cap", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["facilitator.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id"),
    )
    op.create_table(
        "college",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("weight_percent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_college_name"),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("college_id", sa.Integer(), nullable=True),
        sa.Column("voting_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["college_id"], ["college.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "number", name="uq_member_number"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_voting_code"), ["voting_code"], unique=True)

    op.create_table(
        "poll_elector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("college_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "member_id", name="uq_elector"),
    )
    with op.batch_alter_table("poll_elector", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_elector_member_id"), ["member_id"], unique=False)

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "uq_participant_member",
            ["session_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        )
        batch_op.create_foreign_key(
            "fk_participant_member_id", "member", ["member_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("poll", schema=None) as batch_op:
        # Polls made before the roster existed were all consultative.
        batch_op.add_column(
            sa.Column("binding", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("quorum_met", sa.Boolean(), nullable=True))

    with op.batch_alter_table("voter_register", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_register_poll_voter"), type_="unique")
        batch_op.create_index(
            "uq_register_member",
            ["poll_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_register_participant",
            ["poll_id", "participant_id"],
            unique=True,
            sqlite_where=sa.text("member_id IS NULL"),
            postgresql_where=sa.text("member_id IS NULL"),
        )
        batch_op.create_foreign_key(
            "fk_register_member_id", "member", ["member_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("voter_register", schema=None) as batch_op:
        batch_op.drop_constraint("fk_register_member_id", type_="foreignkey")
        batch_op.drop_index(
            "uq_register_participant",
            sqlite_where=sa.text("member_id IS NULL"),
            postgresql_where=sa.text("member_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_register_member",
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_register_poll_voter"), ["poll_id", "participant_id"]
        )
        batch_op.drop_column("member_id")

    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_column("quorum_met")
        batch_op.drop_column("binding")

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_constraint("fk_participant_member_id", type_="foreignkey")
        batch_op.drop_index(
            "uq_participant_member",
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        )
        batch_op.drop_column("member_id")

    with op.batch_alter_table("poll_elector", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_elector_member_id"))

    op.drop_table("poll_elector")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_voting_code"))

    op.drop_table("member")
    op.drop_table("college")
    op.drop_table("organisation")
