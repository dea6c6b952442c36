"""the people around the case: family members (family_members), language course groups
(courses, course_members) and exam results (exam_results)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'family_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('relation', _text(length=16), nullable=False),
        sa.Column('given_name', _text(length=200), nullable=False),
        sa.Column('birth_year', sa.Integer(), nullable=True),
        sa.Column('arrives', sa.Date(), nullable=True),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('added_by', _text(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_family_members_case_id', 'family_members', ['case_id'])
    op.create_table(
        'courses',
        sa.Column('id', _text(length=64), nullable=False),
        sa.Column('school_id', _text(length=64), nullable=False),
        sa.Column('level', _text(length=2), nullable=False),
        sa.Column('pace', _text(length=16), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('end', sa.Date(), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=True),
        sa.Column('place', _text(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', _text(length=64), nullable=False),
        sa.Column('proof', _text(length=100), nullable=True),
        sa.ForeignKeyConstraint(['school_id'], ['actors.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_courses_school_id', 'courses', ['school_id'])
    op.create_table(
        'course_members',
        sa.Column('course_id', _text(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('assigned_by', _text(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id']),
        sa.PrimaryKeyConstraint('course_id', 'case_id'),
    )
    op.create_index('ix_course_members_case_id', 'course_members', ['case_id'])
    op.create_table(
        'exam_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('level', _text(length=2), nullable=False),
        sa.Column('exam', _text(length=200), nullable=False),
        sa.Column('taken_on', sa.Date(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', _text(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_exam_results_case_id', 'exam_results', ['case_id'])


def downgrade() -> None:
    op.drop_table('exam_results')
    op.drop_table('course_members')
    op.drop_table('courses')
    op.drop_table('family_members')
