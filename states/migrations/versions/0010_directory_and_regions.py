"""the directory: what an actor offers (services per role, languages, a contact point, a
website) and the regions it serves besides its own (actor_regions); an actor removed (removed_at) and the
append-only log of directory changes (directory_changes)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('actors') as batch:
        batch.add_column(sa.Column('services', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('languages', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('contact', _text(length=320), nullable=True))
        batch.add_column(sa.Column('website', _text(length=300), nullable=True))
        batch.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'actor_regions',
        sa.Column('actor_id', _text(length=64), nullable=False),
        sa.Column('region', _text(length=64), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id']),
        sa.PrimaryKeyConstraint('actor_id', 'region'),
    )
    op.create_index('ix_actor_regions_region', 'actor_regions', ['region'])
    op.create_table(
        'directory_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', _text(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', _text(length=16), nullable=False),
        sa.Column('by', _text(length=64), nullable=True),
        sa.Column('via', _text(length=16), nullable=False),
        sa.Column('proof', _text(length=100), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_directory_changes_actor_id', 'directory_changes', ['actor_id'])


def downgrade() -> None:
    op.drop_table('directory_changes')
    op.drop_table('actor_regions')
    with op.batch_alter_table('actors') as batch:
        for column in ('removed_at', 'website', 'contact', 'languages', 'services'):
            batch.drop_column(column)
