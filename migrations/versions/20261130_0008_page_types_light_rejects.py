"""page types and light rejects: candidates' texts outside versions; links on versions

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30 05:00:00

A story's candidate is no longer stored as a version before it is judged: what its capture
said is kept in ``candidate_texts`` until it joins (then it becomes version 1) or is turned
down (then it stays there, light, out of the export). Versions keep the links the article
makes, so a story it joins later can follow them. Existing rows are left as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on SQLite, JSONB on PostgreSQL (storage.models.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "candidate_texts",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extraction", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_candidate_texts_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["captures.id"], name=op.f("fk_candidate_texts_capture_id_captures"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_candidate_texts")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("links", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("links")
    op.drop_table("candidate_texts")
