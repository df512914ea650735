"""Service paths: plans (with their history) and waiting lists; a notice kind for a freed place

Revision ID: 872e80b95924
Revises: cf4506138770
Create Date: 2026-11-28 12:38:32.630291

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '872e80b95924'
down_revision = 'cf4506138770'
branch_labels = None
depends_on = None


OLD_KINDS = "kind IN ('proposal_made', 'proposal_reminder', 'proposal_accepted', 'proposal_declined', 'proposal_unanswered', 'placement_cancelled', 'placement_starting', 'placement_ending', 'clients_transferred', 'stale_digest', 'account')"
NEW_KINDS = "kind IN ('proposal_made', 'proposal_reminder', 'proposal_accepted', 'proposal_declined', 'proposal_unanswered', 'placement_cancelled', 'placement_starting', 'placement_ending', 'clients_transferred', 'stale_digest', 'account', 'queue_place_free')"
KIND_TABLES = ("notifications", "notification_preferences")


def _kinds(check):
    for table in KIND_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind_valid"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind_valid"), check)


def upgrade():
    op.create_table('plan_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('responsible_worker_id', sa.Integer(), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('next_step_on', sa.Date(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_plan_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['responsible_worker_id'], ['users.id'], name=op.f('fk_plan_entries_responsible_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_entries'))
    )
    with op.batch_alter_table('plan_entries', schema=None) as batch_op:
        batch_op.create_index('ix_plan_entries_client_id_id', ['client_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_entries_responsible_worker_id'), ['responsible_worker_id'], unique=False)

    op.create_table('queue_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seen_position', sa.Integer(), nullable=True),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('left_reason', sa.String(length=10), nullable=True),
    sa.CheckConstraint("(status = 'left') = (left_at IS NOT NULL)", name=op.f('ck_queue_entries_left_at_matches_status')),
    sa.CheckConstraint("left_reason IN ('placed', 'removed', 'closed', 'archived')", name=op.f('ck_queue_entries_left_reason_valid')),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'left')", name=op.f('ck_queue_entries_status_valid')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_queue_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_queue_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['opening_id'], ['openings.id'], name=op.f('fk_queue_entries_opening_id_openings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_entries'))
    )
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.create_index('ix_queue_entries_client_id_status', ['client_id', 'status'], unique=False)
        batch_op.create_index('ix_queue_entries_opening_id_status', ['opening_id', 'status'], unique=False)

    _kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'queue_place_free'")
    op.execute("DELETE FROM notification_preferences WHERE kind = 'queue_place_free'")
    _kinds(OLD_KINDS)
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_entries_opening_id_status')
        batch_op.drop_index('ix_queue_entries_client_id_status')

    op.drop_table('queue_entries')
    with op.batch_alter_table('plan_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_entries_responsible_worker_id'))
        batch_op.drop_index('ix_plan_entries_client_id_id')

    op.drop_table('plan_entries')
