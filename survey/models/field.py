"""Field laptops (issue 22): packages, devices, cards, bundles and what was merged from them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.extensions import Model
from survey.models.core import new_uuid, utcnow

# ----------------------------------------------------------------------------- field laptops
# Issue 22: laptops in schools run `sauti serve` on SQLite without internet and hand their data
# to the central server in signed, encrypted bundles (survey/sync/, survey/services/sync/).
# The first four tables live on the central server, the last two on a laptop; both sides have
# them all (one schema).  No table holds anything identifying a child.


class SyncPackage(Model):
    """Central: a field package made for one consultation and one site (and one laptop)."""

    __tablename__ = "sync_package"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    site: so.Mapped[str] = so.mapped_column(sa.String(60))
    made_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    expires_on: so.Mapped[dt.date] = so.mapped_column()
    made_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    # SHA-256 of the enrolment token the laptop shows once to register its device key.
    enrol_hash: so.Mapped[str] = so.mapped_column(sa.String(64))


class SyncDevice(Model):
    """Central: a field laptop's registered signing key (Ed25519), for one package."""

    __tablename__ = "sync_device"

    # The hex of the first 16 bytes of SHA-256 of the public key.
    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    public_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    package_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_package.id", ondelete="CASCADE"), unique=True)
    # active | revoked
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="active")
    registered_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # The newest bundle imported from this device (bundles must come in increasing order).
    last_sequence: so.Mapped[int] = so.mapped_column(default=0)


class FieldCard(Model):
    """Central: a code card assigned to a site, with its code hashes under the site's key.

    The field package carries these hashes (the laptop checks typed codes against them); the
    participant row keeps the central server's own hashes.  ``laptop_id`` is the laptop whose
    bundle first used the card: the central server is the authority, so no other device's
    answers for the card are accepted.
    """

    __tablename__ = "field_card"

    participant_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    site: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    withdrawal_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    laptop_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))


class SyncImport(Model):
    """Central: one bundle imported from a device, with the counts of what it changed."""

    __tablename__ = "sync_import"
    __table_args__ = (sa.UniqueConstraint("laptop_id", "sequence"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    laptop_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_device.id", ondelete="CASCADE"))
    sequence: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    imported_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    counts: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")


class SyncedRecord(Model):
    """Central: a row made from a bundle, by its global id (``device:kind:local id``).

    Concern records, session logs and audit entries have local integer ids on the laptop; this
    table maps each to the row made for it, so the same or an overlapping bundle never makes a
    second one.  (Participants, answers, page saves and assent events carry global ids already.)
    """

    __tablename__ = "synced_record"

    global_id: so.Mapped[str] = so.mapped_column(sa.String(120), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    local_id: so.Mapped[str] = so.mapped_column(sa.String(64))


class SyncUpload(Model):
    """Central: a bundle arriving in chunks (``sauti sync push``), resumable from ``received``."""

    __tablename__ = "sync_upload"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    laptop_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_device.id", ondelete="CASCADE"))
    size: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    received: so.Mapped[int] = so.mapped_column(default=0)
    started_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())


class FieldPackage(Model):
    """Laptop: an imported field package, and where this laptop's hand-over stands."""

    __tablename__ = "field_package"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    central_consultation_id: so.Mapped[int] = so.mapped_column()
    site: so.Mapped[str] = so.mapped_column(sa.String(60))
    central_url: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # The central server's public keys (hex): Ed25519 for signatures, X25519 for sealed boxes.
    central_sign_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    central_box_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The site's key for code hashes (hex), so typed codes can be checked here.
    code_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    expires_on: so.Mapped[dt.date] = so.mapped_column()
    imported_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # The enrolment token, kept only until the central server registered this laptop's key.
    enrol_token: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # The device id (from this laptop's key), and whether the central server registered it.
    laptop_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    registered: so.Mapped[bool] = so.mapped_column(default=False)
    # The newest bundle made, and the newest the central server confirmed with a signed receipt.
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    confirmed: so.Mapped[int] = so.mapped_column(default=0)


class FieldBundle(Model):
    """Laptop: one bundle made here, and what its signed receipt allows this laptop to delete."""

    __tablename__ = "field_bundle"
    __table_args__ = (sa.UniqueConstraint("package_id", "sequence"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    package_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("field_package.id", ondelete="CASCADE"))
    sequence: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    made_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # JSON: [participant, state] of the responses this bundle carried finished (or ended), and
    # the concern records it carried; deleted here ``field_copy_days`` after the receipt (a
    # participant only if still in the state sent: a later withdrawal waits for its bundle).
    finished: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    concerns: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    receipt: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    confirmed_on: so.Mapped[dt.date | None] = so.mapped_column()
    purged: so.Mapped[bool] = so.mapped_column(default=False)
