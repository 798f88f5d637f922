"""component ids are never reused (SQLite AUTOINCREMENT)

Revision ID: 0009
Revises: 0008

SQLite hands a deleted highest rowid to the next insert. A merge deletes the
components it absorbs, so a new component could take the id of one that a
refresh had just computed, and that refresh's results (for the old messages)
were then stored over the new component's, losing its series. The component
table is rebuilt with AUTOINCREMENT, keeping its rows. PostgreSQL's sequence
never reuses ids: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.drop_index('ix_component_dirty', table_name='component')
    op.rename_table('component', 'component_old')
    op.create_table(
        'component',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('gen', sa.Integer(), nullable=False),
        sa.Column('dirty', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=autoincrement,
    )
    op.execute('INSERT INTO component (id, size, gen, dirty)'
               ' SELECT id, size, gen, dirty FROM component_old')
    op.drop_table('component_old')
    op.create_index('ix_component_dirty', 'component', ['id'], sqlite_where=sa.text('dirty'),
                    postgresql_where=sa.text('dirty'))


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
