"""trees: branch tips of watched trees, and which commits applied which postings

Revision ID: 0004
Revises: 0003

Tables of reviewbot/adapters/sql/trees/applied.py. Dates are UTC like everywhere else
(AwareDateTime returns them aware).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'tree_tip',
        sa.Column('tree', sa.String(), nullable=False),
        sa.Column('branch', sa.String(), nullable=False),
        sa.Column('sha', sa.String(), nullable=False),
        sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tree', 'branch'),
    )
    op.create_table(
        'tree_applied',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tree', sa.String(), nullable=False),
        sa.Column('branch', sa.String(), nullable=False),
        sa.Column('sha', sa.String(), nullable=False),
        sa.Column('message_id', sa.String(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('patch_idx', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(), nullable=False),
        sa.Column('fuzzy', sa.Boolean(), nullable=False),
        sa.Column('commit_date', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tree', 'sha', 'message_id'),
    )
    with op.batch_alter_table('tree_applied', schema=None) as batch_op:
        for column in ('sha', 'message_id', 'series_id'):
            batch_op.create_index(batch_op.f(f'ix_tree_applied_{column}'), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tree_applied', schema=None) as batch_op:
        for column in ('series_id', 'message_id', 'sha'):
            batch_op.drop_index(batch_op.f(f'ix_tree_applied_{column}'))
    op.drop_table('tree_applied')
    op.drop_table('tree_tip')
