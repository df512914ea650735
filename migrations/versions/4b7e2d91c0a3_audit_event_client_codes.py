"""One audit event per listing (audit_events.client_codes); indexes for the map data's version.

Revision ID: 4b7e2d91c0a3
Revises: 8c91d39cabb4
Create Date: 2026-11-28 12:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7e2d91c0a3'
down_revision = '8c91d39cabb4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_codes', sa.Text(), nullable=True))
    # The map's marker data is answered "not modified" from these alone (no table scan).
    op.create_index('ix_sites_updated_at_version', 'sites', ['updated_at', 'version'], unique=False)
    op.create_index('ix_openings_updated_at_version', 'openings', ['updated_at', 'version'], unique=False)
    op.create_index('ix_openings_last_confirmed_at', 'openings', ['last_confirmed_at'], unique=False)


def downgrade():
    op.drop_index('ix_openings_last_confirmed_at', table_name='openings')
    op.drop_index('ix_openings_updated_at_version', table_name='openings')
    op.drop_index('ix_sites_updated_at_version', table_name='sites')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('client_codes')
