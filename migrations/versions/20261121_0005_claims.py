"""claims: which worker does a due check (token and lease) on articles, sources, candidates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:40:00

Workers of ``palimpsest run --redis`` claim due rows before fetching them (storage.claims).
Existing rows start unclaimed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED_TABLES = ("articles", "story_sources", "story_candidates")


def upgrade() -> None:
    for table in CLAIMED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in CLAIMED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("claimed_until")
            batch_op.drop_column("claim_token")
