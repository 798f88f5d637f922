"""initial schema: messages, quarantine, cursors, series

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 09:01:55.001911

Dates are stored as UTC (naive on SQLite, timestamptz on PostgreSQL); the
AwareDateTime type in reviewbot/adapters/sql/schema/tables.py returns them aware.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('duplicate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=False),
    sa.Column('list_name', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('origin', sa.String(), nullable=False),
    sa.Column('received', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('duplicate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_message_id'), ['message_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=False),
    sa.Column('list_name', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('origin', sa.String(), nullable=False),
    sa.Column('received', sa.DateTime(timezone=True), nullable=True),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('from_email', sa.String(), nullable=False),
    sa.Column('parsed', sa.Text(), nullable=False),
    sa.Column('codec', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_date'), ['date'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=True),
    sa.Column('list_name', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('origin', sa.String(), nullable=False),
    sa.Column('received', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_message_id'), ['message_id'], unique=False)

    op.create_table('series',
    sa.Column('series_id', sa.String(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('author_name', sa.String(), nullable=False),
    sa.Column('author_email', sa.String(), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cover_message_id', sa.String(), nullable=True),
    sa.Column('missing', sa.String(), nullable=False),
    sa.Column('revisions', sa.Text(), nullable=False),
    sa.Column('superseded_by', sa.String(), nullable=True),
    sa.Column('revision_link', sa.String(), nullable=True),
    sa.Column('change_id', sa.String(), nullable=True),
    sa.Column('is_rfc', sa.Boolean(), nullable=False),
    sa.Column('is_resend', sa.Boolean(), nullable=False),
    sa.Column('is_autosel', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.String(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('patch_count', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('series_id')
    )
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_author_email'), ['author_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_superseded_by'), ['superseded_by'], unique=False)

    op.create_table('series_member',
    sa.Column('message_id', sa.String(), nullable=False),
    sa.Column('series_id', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('series_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_member_series_id'), ['series_id'], unique=False)

    op.create_table('series_patch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.String(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('patch_id', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('series_patch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_patch_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_patch_series_id'), ['series_id'], unique=False)

    op.create_table('series_trailer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.String(), nullable=False),
    sa.Column('patch_idx', sa.Integer(), nullable=False),
    sa.Column('pos', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('qualifier', sa.String(), nullable=True),
    sa.Column('source', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('series_trailer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_trailer_series_id'), ['series_id'], unique=False)

    op.create_table('source_cursor',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('source_cursor')
    with op.batch_alter_table('series_trailer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_trailer_series_id'))

    op.drop_table('series_trailer')
    with op.batch_alter_table('series_patch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_patch_series_id'))
        batch_op.drop_index(batch_op.f('ix_series_patch_message_id'))

    op.drop_table('series_patch')
    with op.batch_alter_table('series_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_member_series_id'))

    op.drop_table('series_member')
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_superseded_by'))
        batch_op.drop_index(batch_op.f('ix_series_state'))
        batch_op.drop_index(batch_op.f('ix_series_date'))
        batch_op.drop_index(batch_op.f('ix_series_author_email'))

    op.drop_table('series')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_message_id'))

    op.drop_table('quarantine')
    op.drop_table('meta')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_date'))

    op.drop_table('message')
    with op.batch_alter_table('duplicate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_message_id'))

    op.drop_table('duplicate')
