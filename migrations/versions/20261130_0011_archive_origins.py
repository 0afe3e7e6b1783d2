"""archive origins: captures imported from WARC files and Wayback servers

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 08:00:00

A capture another archive made (``palimpsest import``, ``palimpsest backfill``) records where it
came from (``origin``: the archive's name, ``origin_url``: the capture's address there) and a
key unique per captured record (``origin_key``), so importing the same record again adds
nothing. Palimpsest's own fetches leave the three NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("origin_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("origin_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_captures_origin_key"), ["origin_key"])


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_constraint(batch.f("uq_captures_origin_key"), type_="unique")
        batch.drop_column("origin_key")
        batch.drop_column("origin_url")
        batch.drop_column("origin")
