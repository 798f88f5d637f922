"""raw_codec: raw mail stored as-is or zlib, per row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:37:53.784827

Every row written by 0001 is zlib-compressed, hence the server default. New
rows name their codec ("identity" by default, see SqlStore).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('duplicate', 'message', 'quarantine')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('raw_codec', sa.String(), server_default='zlib', nullable=False))


def downgrade() -> None:
    # 0001 reads every raw column as zlib: compress the rows stored as-is first.
    conn = op.get_bind()
    for table in TABLES:
        t = sa.table(table, sa.column('id', sa.Integer()), sa.column('raw', sa.LargeBinary()),
                     sa.column('raw_codec', sa.String()))
        rows = conn.execute(sa.select(t.c.id, t.c.raw).where(t.c.raw_codec == 'identity')).all()
        for row_id, raw in rows:
            conn.execute(sa.update(t).where(t.c.id == row_id).values(
                raw=zlib.compress(bytes(raw), 1)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('raw_codec')
