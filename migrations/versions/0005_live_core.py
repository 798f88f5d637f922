"""live core: thread components, series with their stored standing, raw mail by reference

Revision ID: 0005
Revises: 0004

Tables of reviewbot/adapters/sql/{tables,seriestables}.py. The series tables of
0001/0003 were derived data and are dropped; the new ones are rebuilt by the
next refresh. Stored messages keep their raw bytes but lose their parsed form
(now compressed, with new lookup columns): the migration marks the database
`reparse_needed`, and the next command that opens it re-derives every message
from its raw bytes before anything else (reviewbot/commands/db.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_DERIVED = ('series_trailer', 'series_patch', 'series_member', 'series_route',
                'series_unowned', 'series')


def upgrade() -> None:
    for table in _OLD_DERIVED:
        op.drop_table(table)
    op.execute("DELETE FROM person_alias")
    op.execute("DELETE FROM meta WHERE key IN ('assembly_stale', 'routing_stamp')")
    had_mail = op.get_bind().execute(sa.text("SELECT 1 FROM message LIMIT 1")).first()
    with op.batch_alter_table('message') as b:
        b.drop_column('subject')
        b.drop_column('from_email')
        b.drop_column('parsed')
        b.alter_column('raw', existing_type=sa.LargeBinary(), nullable=True)
        b.add_column(sa.Column('parsed', sa.LargeBinary(), nullable=False,
                               server_default=sa.text("''")))
        b.add_column(sa.Column('comp', sa.Integer(), nullable=True))
        b.add_column(sa.Column('series', sa.Integer(), nullable=True))
        b.add_column(sa.Column('patch_id', sa.String(), nullable=True))
        b.add_column(sa.Column('subject_key', sa.BigInteger(), nullable=True))
        b.create_index('ix_message_comp', ['comp'])
        b.create_index('ix_message_series', ['series'])
    op.create_index('ix_message_patch_id', 'message', ['patch_id'],
                    sqlite_where=sa.text('patch_id IS NOT NULL'),
                    postgresql_where=sa.text('patch_id IS NOT NULL'))
    op.create_index('ix_message_subject_key', 'message', ['subject_key'],
                    sqlite_where=sa.text('subject_key IS NOT NULL'),
                    postgresql_where=sa.text('subject_key IS NOT NULL'))
    for table in ('duplicate', 'quarantine'):
        with op.batch_alter_table(table) as b:
            b.alter_column('raw', existing_type=sa.LargeBinary(), nullable=True)
    op.create_table(
        'raw_location',
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'component',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('gen', sa.Integer(), nullable=False),
        sa.Column('dirty', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_component_dirty', 'component', ['id'], sqlite_where=sa.text('dirty'),
                    postgresql_where=sa.text('dirty'))
    op.create_table(
        'thread_key',
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('comp', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_thread_key_comp', 'thread_key', ['comp'])
    op.create_table(
        'series',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series_id', sa.String(), nullable=False),
        sa.Column('comp', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('patch_count', sa.Integer(), nullable=False),
        sa.Column('author_name', sa.String(), nullable=False),
        sa.Column('author_email', sa.String(), nullable=False),
        sa.Column('date', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_rfc', sa.Boolean(), nullable=False),
        sa.Column('superseded_by', sa.String(), nullable=True),
        sa.Column('doc', sa.LargeBinary(), nullable=False),
        sa.Column('files_hash', sa.String(), nullable=False),
        sa.Column('route_stamp', sa.String(), nullable=False),
        sa.Column('routes', sa.Text(), nullable=False),
        sa.Column('policy', sa.String(), nullable=False),
        sa.Column('ignored', sa.String(), nullable=True),
        sa.Column('state', sa.String(), nullable=False),
        sa.Column('turn', sa.String(), nullable=False),
        sa.Column('can_open', sa.Boolean(), nullable=False),
        sa.Column('posted_us', sa.BigInteger(), nullable=False),
        sa.Column('last_event_us', sa.BigInteger(), nullable=False),
        sa.Column('first_review_us', sa.BigInteger(), nullable=True),
        sa.Column('applied_us', sa.BigInteger(), nullable=True),
        sa.Column('standing', sa.Text(), nullable=True),
        sa.Column('actors', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('series_id'),
    )
    for column in ('comp', 'author_email', 'date', 'state', 'can_open'):
        op.create_index(f'ix_series_{column}', 'series', [column])
    op.create_table(
        'series_section',
        sa.Column('section', sa.String(), nullable=False),
        sa.Column('series', sa.Integer(), nullable=False),
        sa.Column('is_taker', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('section', 'series'),
    )
    op.create_index('ix_series_section_series', 'series_section', ['series'])
    op.create_table(
        'subsystem',
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('lists', sa.Text(), nullable=False),
        sa.Column('maintainers', sa.Text(), nullable=False),
        sa.Column('reviewers', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'person',
        sa.Column('name_key', sa.String(), nullable=False),
        sa.Column('address', sa.String(), nullable=False),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name_key', 'address'),
    )
    if had_mail:
        op.execute("INSERT INTO meta (key, value) VALUES ('reparse_needed', '1')")


def downgrade() -> None:
    raise NotImplementedError("0005 drops derived data and re-encodes mail: restore a backup")
