"""Files attached to a questionnaire version (ODK's form attachments): the choice lists that come
from a CSV or XML file, uploaded in the console after the form (see instruments.attachments)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.extensions import Model
from survey.models.core import utcnow


class InstrumentAttachment(Model):
    """One uploaded file of a stored instrument version: its rows as JSON (each row a dict of
    column -> text, kept as text whatever it starts with), its SHA-256 and who uploaded it."""

    __tablename__ = "instrument_attachment"
    __table_args__ = (sa.UniqueConstraint("instrument_version_id", "filename"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    instrument_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("instrument_version.id", ondelete="CASCADE"), index=True
    )
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    rows_json: so.Mapped[str] = so.mapped_column(sa.Text)
    row_count: so.Mapped[int] = so.mapped_column(default=0)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    uploaded_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    uploaded_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
