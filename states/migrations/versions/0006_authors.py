"""authors and the desk: how each change's author proved who they are (history.proof), names
folded for search, the uses of answer and sign-in links, and the desk's sign-ins and sessions

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from lotse.states.names import fold

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('history') as batch:
        batch.add_column(sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('given_key', sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=False, server_default=''))
        batch.add_column(sa.Column('family_key', sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=False, server_default=''))
        batch.create_index('ix_cases_given_key', ['given_key'])
        batch.create_index('ix_cases_family_key', ['family_key'])
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('given_name', sa.String),
                     sa.column('family_name', sa.String), sa.column('given_key', sa.String),
                     sa.column('family_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(cases.c.id, cases.c.given_name, cases.c.family_name)).all()
    if rows:
        connection.execute(
            cases.update().where(cases.c.id == sa.bindparam('case_id')),
            [{'case_id': r.id, 'given_key': fold(r.given_name), 'family_key': fold(r.family_name)}
             for r in rows],
        )
    op.create_table('link_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('history_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_link_uses_link_id', 'link_uses', ['link_id'])
    op.create_table('desk_sign_ins',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_desk_sign_ins_actor_id', 'desk_sign_ins', ['actor_id'])
    op.create_table('desk_sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sign_in_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_desk_sessions_actor_id', 'desk_sessions', ['actor_id'])


def downgrade() -> None:
    op.drop_table('desk_sessions')
    op.drop_table('desk_sign_ins')
    op.drop_table('link_uses')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_family_key')
        batch.drop_index('ix_cases_given_key')
        batch.drop_column('family_key')
        batch.drop_column('given_key')
    with op.batch_alter_table('history') as batch:
        batch.drop_column('proof')
