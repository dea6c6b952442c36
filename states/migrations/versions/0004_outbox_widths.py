"""outbox widths: a recipient `role@region` fits, an address with many roles fits; the unused
index on deadlines.next_at goes (the daily check selects by alert_on)

Revision ID: 0004
Revises: 0003
"""

import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)
        batch_op.alter_column('tags', existing_type=sqlmodel.sql.sqltypes.AutoString(length=400),
                              type_=sqlmodel.sql.sqltypes.AutoString(), existing_nullable=False)
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadlines_next_at'))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadlines_next_at'), ['next_at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('tags', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=400), existing_nullable=False)
        batch_op.alter_column('recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=128), existing_nullable=False)
