"""revision intelligence: reverts and A/B tests, suspect captures, sentence actions

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 08:00:00

A capture whose text is an earlier version's is a revert (``articles.current_seq`` points
back); an article flipping between versions gets one ``ab_tests`` row. Captures keep why a
revert or suspect decision was made (``reason``) and their extraction's ``content_hash`` (a
suspect text is confirmed when the next check sees it again). ``sentence_actions`` holds each
version's sentence-level edit actions. Existing rows are left as they are (NULL: no revert,
no reason; versions written before have no sentence actions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on SQLite, JSONB on PostgreSQL (storage.models.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_seq", sa.Integer(), nullable=True))
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "ab_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_flip_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_flip_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverts", sa.Integer(), nullable=False),
        sa.Column("variants", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_ab_tests_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_tests")),
        sa.UniqueConstraint("article_id", name=op.f("uq_ab_tests_article_id")),
    )
    op.create_table(
        "sentence_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("old_seq", sa.Integer(), nullable=False),
        sa.Column("new_seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("old_index", sa.Integer(), nullable=True),
        sa.Column("new_index", sa.Integer(), nullable=True),
        sa.Column("old_sentence", sa.Text(), nullable=True),
        sa.Column("new_sentence", sa.Text(), nullable=True),
        sa.Column("word_diff", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_sentence_actions_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_sentence_actions_version_id_versions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentence_actions")),
    )
    op.create_index(op.f("ix_sentence_actions_article_id"), "sentence_actions", ["article_id"], unique=False)
    op.create_index(op.f("ix_sentence_actions_version_id"), "sentence_actions", ["version_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sentence_actions_version_id"), table_name="sentence_actions")
    op.drop_index(op.f("ix_sentence_actions_article_id"), table_name="sentence_actions")
    op.drop_table("sentence_actions")
    op.drop_table("ab_tests")
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
        batch_op.drop_column("reason")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("current_seq")
