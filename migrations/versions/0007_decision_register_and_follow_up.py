"""decision register, follow-up, and where a session is held

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 20:13:44.140211
"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
import sqlmodel
from alembic import op

from cocreate.models import GENESIS_HASH
from cocreate.register import seal, sealed_content

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_up",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_table(
        "follow_up_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["written_by_id"], ["facilitator.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follow_up_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_update_decision_id"), ["decision_id"], unique=False
        )

    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("register_length", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "register_head",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default=GENESIS_HASH,
                nullable=False,
            )
        )

    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "place",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                server_default="",
                nullable=False,
            )
        )

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provenance", sa.Text(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("amends_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "prev_hash",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default="",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "entry_hash",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default="",
                nullable=False,
            )
        )
        batch_op.alter_column("session_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_foreign_key("fk_decision_amends_id", "decision", ["amends_id"], ["id"])

    seal_existing_decisions()

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_decision_position", ["project_id", "position"])
        for column in ("provenance", "position", "prev_hash", "entry_hash"):
            batch_op.alter_column(column, server_default=None)


DECISION = sa.table(
    "decision",
    *(
        sa.column(name, type_)
        for name, type_ in [
            ("id", sa.Integer()),
            ("project_id", sa.Integer()),
            ("session_id", sa.Integer()),
            ("proposal_id", sa.Integer()),
            ("poll_id", sa.Integer()),
            ("decided_by_id", sa.Integer()),
            ("proposal_text", sa.String()),
            ("outcome", sa.String()),
            ("votes_for", sa.Integer()),
            ("votes_against", sa.Integer()),
            ("votes_abstain", sa.Integer()),
            ("note", sa.String()),
            ("decided_at", sa.DateTime()),
            ("method", sa.String()),
            ("summary", sa.String()),
            ("electorate_size", sa.Integer()),
            ("turnout", sa.Integer()),
            ("quorum_met", sa.Boolean()),
            ("ballots_sha256", sa.String()),
            ("provenance", sa.Text()),
            ("position", sa.Integer()),
            ("prev_hash", sa.String()),
            ("entry_hash", sa.String()),
        ]
    ),
)
PROJECT = sa.table(
    "project",
    sa.column("id", sa.Integer()),
    sa.column("register_length", sa.Integer()),
    sa.column("register_head", sa.String()),
)


def seal_existing_decisions() -> None:
    """Decisions recorded before the register: each project's, oldest first, become its
    first entries (their provenance was not copied at the time: it stays empty)."""
    bind = op.get_bind()
    rows = (
        bind.execute(
            sa.select(DECISION).order_by(
                DECISION.c.project_id, DECISION.c.decided_at, DECISION.c.id
            )
        )
        .mappings()
        .all()
    )
    heads: dict[int, tuple[int, str]] = {}
    for row in rows:
        position, head = heads.get(row["project_id"], (0, GENESIS_HASH))
        decision = SimpleNamespace(**{**row, "position": position + 1, "prev_hash": head})
        sealed = seal(head, sealed_content(decision, None))
        bind.execute(
            DECISION.update()
            .where(DECISION.c.id == row["id"])
            .values(position=position + 1, prev_hash=head, entry_hash=sealed)
        )
        heads[row["project_id"]] = (position + 1, sealed)
    for project_id, (length, head) in heads.items():
        bind.execute(
            PROJECT.update()
            .where(PROJECT.c.id == project_id)
            .values(register_length=length, register_head=head)
        )


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("place")

    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_column("register_head")
        batch_op.drop_column("register_length")

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint("fk_decision_amends_id", type_="foreignkey")
        batch_op.drop_constraint("uq_decision_position", type_="unique")
        batch_op.alter_column("session_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("position")
        batch_op.drop_column("amends_id")
        batch_op.drop_column("provenance")

    with op.batch_alter_table("follow_up_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_update_decision_id"))

    op.drop_table("follow_up_update")
    op.drop_table("follow_up")
