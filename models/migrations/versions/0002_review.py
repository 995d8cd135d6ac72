"""Review app: users, overrides, comments, review marks, disputes, acknowledgements, queue state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:52:51.485301
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['managers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_index(op.f('ix_users_manager_id'), 'users', ['manager_id'], unique=False)
    op.create_table('call_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at_s', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_call_comments_call_id'), 'call_comments', ['call_id'], unique=False)
    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'user_id')
    )
    op.create_index(op.f('ix_acknowledgements_call_id'), 'acknowledgements', ['call_id'], unique=False)
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_disputes_call_id'), 'disputes', ['call_id'], unique=False)
    op.create_table('item_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_item_overrides_call_id'), 'item_overrides', ['call_id'], unique=False)
    op.create_index('ix_item_overrides_item', 'item_overrides', ['assessment_id', 'item_id'], unique=False)
    op.create_table('review_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_review_marks_assessment_id'), 'review_marks', ['assessment_id'], unique=False)
    op.create_index(op.f('ix_review_marks_call_id'), 'review_marks', ['call_id'], unique=False)
    op.create_table('review_states',
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('critical_failed', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('low_score', sa.Boolean(), nullable=False),
    sa.Column('open_disputes', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('auto_score', sa.Float(), nullable=False),
    sa.Column('talk_ratio', sa.Float(), nullable=True),
    sa.Column('effective_score', sa.Float(), nullable=False),
    sa.Column('effective_passed', sa.Boolean(), nullable=False),
    sa.Column('reviewed', sa.Boolean(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.Column('items_decided', sa.Integer(), nullable=False),
    sa.Column('items_passed', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_outcome', sa.String(length=16), nullable=True),
    sa.Column('order_amount', sa.Float(), nullable=True),
    sa.Column('call_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['managers.id'], ),
    sa.PrimaryKeyConstraint('call_id')
    )
    op.create_index(op.f('ix_review_states_assessment_id'), 'review_states', ['assessment_id'], unique=False)
    op.create_index('ix_review_states_queue', 'review_states', ['reviewed', sa.text('priority DESC'), 'effective_score'], unique=False)
    op.create_index(op.f('ix_review_states_started_at'), 'review_states', ['started_at'], unique=False)
    op.create_index(op.f('ix_review_states_call_updated_at'), 'review_states', ['call_updated_at'], unique=False)
    op.create_index('ix_review_states_manager_started', 'review_states', ['manager_id', 'started_at'], unique=False)
    op.create_index('ix_calls_manager_started', 'calls', ['manager_id', 'started_at'], unique=False)
    op.create_index('ix_calls_updated_at', 'calls', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_calls_updated_at', table_name='calls')
    op.drop_index('ix_calls_manager_started', table_name='calls')
    for table in ('review_states', 'review_marks', 'item_overrides', 'disputes', 'acknowledgements', 'call_comments', 'users'):
        op.drop_table(table)
