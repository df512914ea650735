"""Survey rounds: rounds, one response per organisation, answers per opening, the snapshot
rows a closed round keeps, and the two notification kinds that invite and remind hosts.

Revision ID: 8c91d39cabb4
Revises: 3e7b91c4d5a2
Create Date: 2026-11-28 12:38:39.882200

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c91d39cabb4'
down_revision = '3e7b91c4d5a2'
branch_labels = None
depends_on = None

OLD_KINDS = (
    "proposal_made", "proposal_reminder", "proposal_accepted", "proposal_declined", "proposal_unanswered",
    "placement_cancelled", "placement_starting", "placement_ending", "clients_transferred", "stale_digest", "account",
    "queue_place_free",
)
NEW_KINDS = OLD_KINDS + ("round_invitation", "round_reminder")
KIND_TABLES = ("notifications", "notification_preferences")


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _set_kinds(kinds):
    """Replace the CHECK of the notification kinds (batch mode rebuilds the table on SQLite)."""
    for table in KIND_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind_valid"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind_valid"), _kinds(kinds))


def upgrade():
    op.create_table('survey_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('municipalities', sa.String(length=500), nullable=False),
    sa.Column('opening_types', sa.String(length=500), nullable=False),
    sa.Column('organisation_ids', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('opening', 'open', 'closed')", name=op.f('ck_survey_rounds_status_valid')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_survey_rounds_period_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_rounds_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_rounds'))
    )
    with op.batch_alter_table('survey_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_survey_rounds_reference_date', ['reference_date'], unique=False)

    op.create_table('round_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('outside_groups', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('not_started', 'in_progress', 'submitted')", name=op.f('ck_round_responses_status_valid')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_round_responses_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_round_responses_round_id_survey_rounds')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_round_responses_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_responses')),
    sa.UniqueConstraint('round_id', 'organisation_id', name='uq_round_responses_round_organisation')
    )
    with op.batch_alter_table('round_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_responses_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_responses_round_id'), ['round_id'], unique=False)

    op.create_table('round_snapshot_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('age_band', sa.String(length=10), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_round_snapshot_groups_round_id_survey_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_snapshot_groups'))
    )
    with op.batch_alter_table('round_snapshot_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_snapshot_groups_round_id'), ['round_id'], unique=False)

    op.create_table('round_snapshot_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('opening_type', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('places_total', sa.Integer(), nullable=False),
    sa.Column('places_external', sa.Integer(), nullable=False),
    sa.Column('participants_registry', sa.Integer(), nullable=False),
    sa.Column('participants_outside', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'paused', 'closed')", name=op.f('ck_round_snapshot_rows_status_valid')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_round_snapshot_rows_round_id_survey_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_snapshot_rows'))
    )
    with op.batch_alter_table('round_snapshot_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_snapshot_rows_round_id'), ['round_id'], unique=False)

    op.create_table('round_response_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=False),
    sa.Column('places_total', sa.Integer(), nullable=False),
    sa.Column('places_external', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('participants_outside', sa.Integer(), nullable=True),
    sa.CheckConstraint("answer IN ('pending', 'confirmed', 'corrected', 'closed')", name=op.f('ck_round_response_lines_answer_valid')),
    sa.CheckConstraint("status IN ('open', 'paused', 'closed')", name=op.f('ck_round_response_lines_status_valid')),
    sa.CheckConstraint('participants_outside IS NULL OR participants_outside >= 0', name=op.f('ck_round_response_lines_outside_non_negative')),
    sa.CheckConstraint('places_total >= 0 AND places_external >= 0', name=op.f('ck_round_response_lines_places_non_negative')),
    sa.ForeignKeyConstraint(['opening_id'], ['openings.id'], name=op.f('fk_round_response_lines_opening_id_openings')),
    sa.ForeignKeyConstraint(['response_id'], ['round_responses.id'], name=op.f('fk_round_response_lines_response_id_round_responses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_response_lines')),
    sa.UniqueConstraint('response_id', 'opening_id', name='uq_round_response_lines_response_opening')
    )
    with op.batch_alter_table('round_response_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_response_lines_opening_id'), ['opening_id'], unique=False)

    _set_kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN ('round_invitation', 'round_reminder')")
    op.execute("DELETE FROM notification_preferences WHERE kind IN ('round_invitation', 'round_reminder')")
    _set_kinds(OLD_KINDS)
    with op.batch_alter_table('round_response_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_response_lines_opening_id'))

    op.drop_table('round_response_lines')
    with op.batch_alter_table('round_snapshot_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_snapshot_rows_round_id'))

    op.drop_table('round_snapshot_rows')
    with op.batch_alter_table('round_snapshot_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_snapshot_groups_round_id'))

    op.drop_table('round_snapshot_groups')
    with op.batch_alter_table('round_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_responses_round_id'))
        batch_op.drop_index(batch_op.f('ix_round_responses_organisation_id'))

    op.drop_table('round_responses')
    with op.batch_alter_table('survey_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_rounds_reference_date')

    op.drop_table('survey_rounds')
