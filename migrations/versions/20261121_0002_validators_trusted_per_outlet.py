"""validators trusted per outlet: a host whose validators lied stops getting conditional requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:34:35

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validators_trusted", sa.Boolean(), server_default=sa.true(), nullable=False))
    # An outlet is distrusted if any of its articles was.
    op.execute(
        "UPDATE outlets SET validators_trusted = false WHERE id IN "
        "(SELECT outlet_id FROM articles WHERE validators_trusted = false)"
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("validators_trusted")


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validators_trusted", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute(
        "UPDATE articles SET validators_trusted = false WHERE outlet_id IN "
        "(SELECT id FROM outlets WHERE validators_trusted = false)"
    )
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("validators_trusted")
