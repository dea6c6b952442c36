"""costs and funding: cost entries per case or per cohort (costs) and each one's shares per case
or employer by its split key (cost_shares); amounts in euros as whole cents (`amount_cents`, an
integer: exact on SQLite too, where a decimal column goes through a float; `records.Cents`)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'costs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),  # a case's own cost; None: a cohort's
        sa.Column('cohort', _text(length=64), nullable=True),  # the cohort's tag
        sa.Column('incurred_on', sa.Date(), nullable=False),
        sa.Column('category', _text(length=32), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('payer_id', _text(length=64), nullable=False),
        sa.Column('programme', _text(length=64), nullable=True),
        sa.Column('split', _text(length=16), nullable=True),  # per_case, per_employer
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', _text(length=64), nullable=False),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),  # recorded by mistake
        sa.Column('voided_by', _text(length=64), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_costs_case_id', 'costs', ['case_id'])
    op.create_table(
        'cost_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cost_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('employer_id', _text(length=64), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['cost_id'], ['costs.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_cost_shares_cost_id', 'cost_shares', ['cost_id'])
    op.create_index('ix_cost_shares_case_id', 'cost_shares', ['case_id'])


def downgrade() -> None:
    op.drop_table('cost_shares')
    op.drop_table('costs')
