"""outbox revivals: a dead row brought back by `lotse outbox retry` keeps who did it and the error it
died of (outbox.revivals); a row taken again after its claim expired mid-send counts as maybe sent
twice (outbox.resent)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('resent', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('revivals', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('revivals')
        batch.drop_column('resent')
