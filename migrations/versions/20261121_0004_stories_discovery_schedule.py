"""stories: candidates with their decisions; the schedule's error streak and hints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 20:52:42

Articles archived before the schedule existed have no next check: they become due now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_story_candidates_article_id_articles"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["story_sources.id"],
            name=op.f("fk_story_candidates_source_id_story_sources"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_candidates_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_candidates")),
        sa.UniqueConstraint("story_id", "url", name=op.f("uq_story_candidates_story_id_url")),
    )
    with op.batch_alter_table("story_candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_candidates_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_story_candidates_decision"), ["decision"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_streak", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_hint_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE articles SET next_check_at = COALESCE(last_checked_at, first_seen_at) "
        "WHERE state = 'active' AND next_check_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("last_hint_at")
        batch_op.drop_column("error_streak")

    with op.batch_alter_table("story_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_candidates_decision"))
        batch_op.drop_index(batch_op.f("ix_story_candidates_article_id"))

    op.drop_table("story_candidates")
