"""pulls: pull-request drafts, recorded upstream-debt totals

Revision ID: 0007
Revises: 0006

Tables of reviewbot/adapters/sql/trees/pulls.py. Written beside the outbox's 0006;
whoever merges second re-chains down_revision to the other's revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pull_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subsystem', sa.String(), nullable=False),
        sa.Column('tree', sa.Text(), nullable=False),
        sa.Column('tag', sa.String(), nullable=False),
        sa.Column('base', sa.String(), nullable=False),
        sa.Column('base_commit', sa.String(), nullable=False),
        sa.Column('tip', sa.String(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('transport', sa.String(), nullable=False),
        sa.Column('sender', sa.String(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('request_pull', sa.Text(), nullable=False),
        sa.Column('checks', sa.Text(), nullable=False),
        sa.Column('gitlab', sa.Text(), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_ref', sa.Text(), nullable=True),
        sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('merged_evidence', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pull_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pull_draft_subsystem'), ['subsystem'], unique=False)
        batch_op.create_index(batch_op.f('ix_pull_draft_status'), ['status'], unique=False)
    op.create_table(
        'debt_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tree', sa.String(), nullable=False),
        sa.Column('branch', sa.String(), nullable=False),
        sa.Column('taken', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('debt_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debt_snapshot_tree'), ['tree'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('debt_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debt_snapshot_tree'))
    op.drop_table('debt_snapshot')
    with op.batch_alter_table('pull_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pull_draft_status'))
        batch_op.drop_index(batch_op.f('ix_pull_draft_subsystem'))
    op.drop_table('pull_draft')
