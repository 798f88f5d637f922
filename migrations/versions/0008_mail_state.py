"""mail state: opt-outs, digest counts, email commands done, the review index

Revision ID: 0008
Revises: 0007

Tables of reviewbot/adapters/sql/mail/state.py (issue 9). The review index is
written by the refresh, so every component is marked dirty here: the first
refresh after the upgrade fills it (once; the results are otherwise unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'mail_optout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('via', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('address', 'series_id'),
    )
    with op.batch_alter_table('mail_optout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_optout_address'), ['address'], unique=False)
    op.create_table(
        'digest_log',
        sa.Column('subsystem', sa.String(), nullable=False),
        sa.Column('period', sa.String(), nullable=False),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.Column('series', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('subsystem', 'period'),
    )
    op.create_table(
        'mail_command_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('verb', sa.String(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('mail_command_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_command_log_message_id'), ['message_id'],
                              unique=False)
    op.create_table(
        'review_file',
        sa.Column('path', sa.String(), nullable=False),
        sa.Column('series', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('path', 'series'),
    )
    with op.batch_alter_table('review_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_file_series'), ['series'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_file_series_id'), ['series_id'],
                              unique=False)
    op.create_table(
        'review_given',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('reviewer', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('message_id', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('review_given', schema=None) as batch_op:
        for column in ('series', 'reviewer', 'at'):
            batch_op.create_index(batch_op.f(f'ix_review_given_{column}'), [column],
                                  unique=False)
    # The index is filled by the refresh: let the next one redo every component.
    op.execute(sa.text("UPDATE component SET gen = gen + 1, dirty = true"))


def downgrade() -> None:
    with op.batch_alter_table('review_given', schema=None) as batch_op:
        for column in ('at', 'reviewer', 'series'):
            batch_op.drop_index(batch_op.f(f'ix_review_given_{column}'))
    op.drop_table('review_given')
    with op.batch_alter_table('review_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_file_series_id'))
        batch_op.drop_index(batch_op.f('ix_review_file_series'))
    op.drop_table('review_file')
    with op.batch_alter_table('mail_command_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_command_log_message_id'))
    op.drop_table('mail_command_log')
    op.drop_table('digest_log')
    with op.batch_alter_table('mail_optout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_optout_address'))
    op.drop_table('mail_optout')
