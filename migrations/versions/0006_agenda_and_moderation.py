"""agenda and moderation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:00:16.710614
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "facilitation_script",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["facilitator.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("facilitation_script", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_facilitation_script_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("prompt", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("auto_close", sa.Boolean(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("live_results", sa.Boolean(), nullable=False),
        sa.Column("revealed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("timer_total_s", sa.Integer(), nullable=True),
        sa.Column("timer_elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("timer_running_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_session_id"), ["session_id"], unique=False)

    op.create_table(
        "proposal_need",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("proposal_id", "need_id"),
    )
    op.create_table(
        "proposal_reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("reaction", sa.String(length=10), nullable=False),
        sa.Column("reacted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "participant_id", name="uq_reaction"),
    )
    with op.batch_alter_table("proposal_reaction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_reaction_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "proposal_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("replaced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proposal_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_revision_proposal_id"), ["proposal_id"], unique=False
        )

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="idea", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("pinned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("edited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_proposal_merged_into_id",
            "proposal",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_step_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("premoderation", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("locked_at")
        batch_op.drop_column("premoderation")
        batch_op.drop_column("current_step_id")

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint("fk_proposal_merged_into_id", type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("pinned_at")
        batch_op.drop_column("pending")
        batch_op.drop_column("kind")

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("removed_at")

    with op.batch_alter_table("proposal_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_revision_proposal_id"))

    op.drop_table("proposal_revision")
    with op.batch_alter_table("proposal_reaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_reaction_participant_id"))

    op.drop_table("proposal_reaction")
    op.drop_table("proposal_need")
    with op.batch_alter_table("step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_session_id"))

    op.drop_table("step")
    with op.batch_alter_table("facilitation_script", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facilitation_script_owner_id"))

    op.drop_table("facilitation_script")
