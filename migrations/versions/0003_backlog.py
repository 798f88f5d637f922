"""backlog: series routing, unowned files, manual actions, person aliases

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'series_route',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('section', sa.String(), nullable=False),
        sa.Column('is_taker', sa.Boolean(), nullable=False),
        sa.Column('lists', sa.Text(), nullable=False),
        sa.Column('maintainers', sa.Text(), nullable=False),
        sa.Column('reviewers', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_series_route_series_id', 'series_route', ['series_id'])
    op.create_index('ix_series_route_section', 'series_route', ['section'])
    op.create_table(
        'series_unowned',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_series_unowned_series_id', 'series_unowned', ['series_id'])
    op.create_table(
        'series_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(), nullable=True),
        sa.Column('until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('target', sa.String(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_series_action_series_id', 'series_action', ['series_id'])
    op.create_table(
        'person_alias',
        sa.Column('address', sa.String(), nullable=False),
        sa.Column('canonical', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('address'),
    )


def downgrade() -> None:
    for table in ('person_alias', 'series_action', 'series_unowned', 'series_route'):
        op.drop_table(table)
