"""CHECK constraints on every state and decision column (issue 21).

The values are those of the enums in survey/states.py (and consent.states.State,
consent.permission.CardState), written out here so that this migration stays as it is when an
enum later gains a value (that change comes with its own migration).  The columns keep their
VARCHAR type and length; SQLite gets the constraints through a table copy (batch mode).

Revision ID: e4b7c9a2d150
Revises: 55664a4e8062
Create Date: 2026-12-04 22:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b7c9a2d150'
down_revision = '55664a4e8062'
branch_labels = None
depends_on = None

# table -> column -> allowed values
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    'consultation': {'state': ('draft', 'open', 'closed', 'archived')},
    'participant': {
        'state': ('issued', 'assented', 'answering', 'completed', 'withdrawn', 'declined', 'expired'),
        'permission': ('issued', 'permission_seen', 'withheld'),
    },
    'facilitation_session': {'state': ('open', 'closed')},
    'signal': {'status': ('open', 'acknowledged', 'resolved')},
    'concern_flag': {'status': ('open', 'reviewed')},
    'checklist_answer': {'status': ('yes', 'partly', 'no')},
    'influence_entry': {'decision': ('pending', 'accepted', 'partly', 'rejected')},
    'feedback_sheet': {'state': ('draft', 'released')},
}


def upgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                allowed = ", ".join(f"'{value}'" for value in values)
                batch_op.create_check_constraint(op.f(f'ck_{table}_{column}'), f'{column} IN ({allowed})')


def downgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
