"""export cursor: versions.txid, the inserting transaction's id on PostgreSQL (snapshot cursors)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:10:00

Existing rows keep txid NULL: the exporter treats them as visible to every snapshot (they
predate cursors), so a full export includes them and no cursor ever delivers them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_versions_txid"), ["txid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_txid"))
        batch_op.drop_column("txid")
