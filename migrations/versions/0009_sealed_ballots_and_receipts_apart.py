"""sealed ballots while a secret poll is open; receipts apart from ballots

Secret polls' ballots are sealed while the poll is open (``sealed_ballot``) and written
in the order of their content when it closes. Receipts move to a table of their own
(``ballot_receipt``): a receipt says that a ballot was counted, never which one.

Ballots already stored are rewritten in the order of their content, without their
receipts, and what the old rows leave in the files is cleared: on SQLite, freed pages
are overwritten with zeros (``secure_delete``) and the WAL is emptied after the upgrade;
on PostgreSQL, ``VACUUM FULL`` rewrites the ballot table without its dead row versions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ballot_table(name: str, *, receipt: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        *(
            [sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False)]
            if receipt
            else []
        ),
        sa.Column("voter_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["voter_id"], ["participant.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="ballot_pkey"),
        *([sa.UniqueConstraint("receipt")] if receipt else []),
        sqlite_with_rowid=False,
    )


def _rewrite_ballots(*, receipt: bool, order: str) -> None:
    """The ballot table made anew (with or without receipts), its rows in ``order``."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Pages freed by the old table are overwritten with zeros, not left as they were.
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_poll_id"))
    op.rename_table("ballot", "ballot_old")
    if not sqlite:
        op.execute("ALTER TABLE ballot_old RENAME CONSTRAINT ballot_pkey TO ballot_old_pkey")
    _ballot_table("ballot", receipt=receipt)
    columns = "id, poll_id, content, voter_id"
    if receipt:
        op.execute(
            f"INSERT INTO ballot ({columns}, receipt) SELECT {columns},"  # noqa: S608
            f" upper(substr(md5(random()::text), 1, 12)) FROM ballot_old ORDER BY {order}"
            if not sqlite
            else f"INSERT INTO ballot ({columns}, receipt) SELECT {columns},"  # noqa: S608
            f" upper(hex(randomblob(6))) FROM ballot_old ORDER BY {order}"
        )
    else:
        op.execute(
            f"INSERT INTO ballot ({columns}) SELECT {columns} FROM ballot_old"  # noqa: S608
            f" ORDER BY {order}"
        )
    op.drop_table("ballot_old")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_poll_id"), ["poll_id"], unique=False)
    with op.get_context().autocommit_block():
        if sqlite:
            op.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            op.execute("VACUUM FULL ballot")


def upgrade() -> None:
    op.create_table(
        "sealed_ballot",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("sealed_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sealed_ballot_poll_id"), ["poll_id"], unique=False)
    op.create_table(
        "ballot_receipt",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "code"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO ballot_receipt (poll_id, code)"
        " SELECT poll_id, receipt FROM ballot ORDER BY poll_id, receipt"
    )
    _rewrite_ballots(receipt=False, order="poll_id, content, id")


def downgrade() -> None:
    # Receipts were never paired with ballots again: each ballot gets a new one, and a
    # sealed ballot cannot be opened here (the key is the server's), so none may be left.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM sealed_ballot")).scalar():
        raise RuntimeError("close the open secret polls before downgrading below 0009")
    _rewrite_ballots(receipt=True, order="poll_id, content, id")
    op.drop_table("ballot_receipt")
    with op.batch_alter_table("sealed_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_ballot_poll_id"))
    op.drop_table("sealed_ballot")
