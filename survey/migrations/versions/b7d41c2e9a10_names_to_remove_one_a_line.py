"""Names to remove from open answers: one a line (a name may now have several words).

Until now the list was split on spaces, so every stored list is a list of single words.  Each
word goes on its own line, so that a stored "Amina Baraka" keeps removing "Amina" and "Baraka"
separately instead of only the two together.  Nothing a child said is touched.

names to remove one a line

Revision ID: b7d41c2e9a10
Revises: 7c1e5a0d9b21
Create Date: 2026-12-04 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c2e9a10'
down_revision = '7c1e5a0d9b21'
branch_labels = None
depends_on = None

consultation = sa.table('consultation', sa.column('id', sa.Integer), sa.column('screening_deny_list', sa.Text))


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(consultation.c.id, consultation.c.screening_deny_list)
                              .where(consultation.c.screening_deny_list != '')).all()
    for row_id, names in rows:
        one_a_line = "\n".join(word.strip(",;") for word in (names or "").split() if word.strip(",;"))
        if one_a_line != names:
            connection.execute(sa.update(consultation).where(consultation.c.id == row_id)
                               .values(screening_deny_list=one_a_line))


def downgrade():
    # The old reading splits on any space: each word of a longer name is then removed on its own.
    pass
