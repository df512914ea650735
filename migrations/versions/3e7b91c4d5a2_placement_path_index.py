"""An index that reads each client's placements in order, for path transitions (outcomes).

Revision ID: 3e7b91c4d5a2
Revises: 872e80b95924
Create Date: 2026-11-28 13:00:00

The outcomes page orders every client's accepted placements by start date (a window over
the placements, docs/rules.md §19.4). With (client_id, start_date, id, status, opening_id)
the database reads them from this index in order, without sorting or visiting the table.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3e7b91c4d5a2'
down_revision = '872e80b95924'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index(
            'ix_placements_client_id_start_date',
            ['client_id', 'start_date', 'id', 'status', 'opening_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_index('ix_placements_client_id_start_date')
