"""polls and ballots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:02:40.605937
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rules", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("ballots_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("electorate_size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_session_id"), ["session_id"], unique=False)

    op.create_table(
        "ballot",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["voter_id"], ["participant.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_poll_id"), ["poll_id"], unique=False)

    op.create_table(
        "voter_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "participant_id", name="uq_register_poll_voter"),
    )
    with op.batch_alter_table("voter_register", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voter_register_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "poll_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("poll_option", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_option_poll_id"), ["poll_id"], unique=False)

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_id", sa.Integer(), nullable=True))
        # Decisions recorded before polls existed were all proposals' show-of-hands votes.
        batch_op.add_column(
            sa.Column(
                "method",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="show_of_hands",
            )
        )
        batch_op.add_column(
            sa.Column(
                "summary",
                sqlmodel.sql.sqltypes.AutoString(length=2000),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("electorate_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("turnout", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quorum_met", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("ballots_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.alter_column("proposal_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint("uq_decision_poll_id", ["poll_id"])
        batch_op.create_foreign_key(
            "fk_decision_poll_id", "poll", ["poll_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint("fk_decision_poll_id", type_="foreignkey")
        batch_op.drop_constraint("uq_decision_poll_id", type_="unique")
        batch_op.alter_column("proposal_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("ballots_sha256")
        batch_op.drop_column("quorum_met")
        batch_op.drop_column("turnout")
        batch_op.drop_column("electorate_size")
        batch_op.drop_column("summary")
        batch_op.drop_column("method")
        batch_op.drop_column("poll_id")

    with op.batch_alter_table("poll_option", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_option_poll_id"))

    op.drop_table("poll_option")
    with op.batch_alter_table("voter_register", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voter_register_participant_id"))

    op.drop_table("voter_register")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_poll_id"))

    op.drop_table("ballot")
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_session_id"))

    op.drop_table("poll")
