"""outbox: every mail recorded before it is sent; command mails already obeyed

Revision ID: 0006
Revises: 0005

Tables of reviewbot/adapters/sql/mail/outbox.py (issue 9).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('scope', sa.String(), nullable=False),
        sa.Column('recipient', sa.String(), nullable=False),
        sa.Column('period', sa.String(), nullable=False),
        sa.Column('message_id', sa.String(), nullable=False),
        sa.Column('sender', sa.String(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('state', sa.String(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
        sa.UniqueConstraint('message_id'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for column in ('kind', 'recipient', 'state', 'created'):
            batch_op.create_index(batch_op.f(f'ix_outbox_{column}'), [column], unique=False)
    op.create_table(
        'mail_command',
        sa.Column('fingerprint', sa.String(), nullable=False),
        sa.Column('message_id', sa.String(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('received', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('fingerprint'),
        sa.UniqueConstraint('message_id'),
    )


def downgrade() -> None:
    op.drop_table('mail_command')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for column in ('created', 'state', 'recipient', 'kind'):
            batch_op.drop_index(batch_op.f(f'ix_outbox_{column}'))
    op.drop_table('outbox')
