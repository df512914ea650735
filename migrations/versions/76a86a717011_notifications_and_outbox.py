"""Notifications, delivery preferences, the e-mail outbox and each user's language.

Reviewed by hand: new tables only, plus users.language with a server default so existing
accounts get Finnish, and its CHECK (batch mode rebuilds the table on SQLite).

Revision ID: 76a86a717011
Revises: d52fc55253a9
Create Date: 2026-11-28 09:43:09.566368

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '76a86a717011'
down_revision = 'd52fc55253a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.CheckConstraint("delivery IN ('immediate', 'daily', 'inbox')", name=op.f('ck_notification_preferences_delivery_valid')),
    sa.CheckConstraint("kind IN ('proposal_made', 'proposal_reminder', 'proposal_accepted', 'proposal_declined', 'proposal_unanswered', 'placement_cancelled', 'placement_starting', 'placement_ending', 'clients_transferred', 'stale_digest', 'account')", name=op.f('ck_notification_preferences_kind_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', name='uq_notification_preferences_user_kind')
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preferences_user_id'), ['user_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_messages_status_valid')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_messages_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject_type', sa.String(length=30), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('client_code', sa.String(length=11), nullable=True),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email', sa.String(length=10), nullable=False),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("email IN ('none', 'pending', 'digest', 'sent')", name=op.f('ck_notifications_email_valid')),
    sa.CheckConstraint("kind IN ('proposal_made', 'proposal_reminder', 'proposal_accepted', 'proposal_declined', 'proposal_unanswered', 'placement_cancelled', 'placement_starting', 'placement_ending', 'clients_transferred', 'stale_digest', 'account')", name=op.f('ck_notifications_kind_valid')),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_notifications_outbox_message_id_outbox_messages')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_email', ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_outbox_message_id'), ['outbox_message_id'], unique=False)
        batch_op.create_index('ix_notifications_kind_subject', ['kind', 'subject_type', 'subject_id'], unique=False)
        batch_op.create_index('ix_notifications_recipient_id_read_at', ['recipient_id', 'read_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='fi', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_language_valid'), "language IN ('fi', 'en')")



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_language_valid'), type_='check')
        batch_op.drop_column('language')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_id_read_at')
        batch_op.drop_index('ix_notifications_kind_subject')
        batch_op.drop_index(batch_op.f('ix_notifications_outbox_message_id'))
        batch_op.drop_index('ix_notifications_email')

    op.drop_table('notifications')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_recipient_id'))
        batch_op.drop_index('ix_outbox_messages_created_at')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_preferences_user_id'))

    op.drop_table('notification_preferences')
